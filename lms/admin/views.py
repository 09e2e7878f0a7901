"""Administration pages: people, roles, merge, countries and authorities, the audit log. Admins only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from lms.admin import queries, sections, services
from lms.admin.forms import (
    AppointFocalPointForm,
    AuditFilterForm,
    AuthorityForm,
    CountryForm,
    GrantRoleForm,
    MergeForm,
    NewPersonForm,
    PeopleFilterForm,
    PersonForm,
    ReasonForm,
)
from lms.admin.person_sections import person_sections
from lms.auth.access import allow
from lms.auth.models import Role, User
from lms.auth.services import find_user_by_email
from lms.auth.user_references import linked_row_counts
from lms.csv_export import csv_stream
from lms.extensions import db
from lms.i18n import current_language
from lms.orgs import services as orgs_services
from lms.orgs.models import Authority, Country
from lms.orgs.queries import country_choices
from lms.request_input import database_id, parse_day, refuse_unusable_filters
from lms.unit_of_work import on_refusal, refusals_into

bp = Blueprint("admin", __name__, url_prefix="/admin")
_BUILT_IN_SECTIONS = (sections.certificates_section,)  # imported for its registration


def _authority_choices(include_retired: bool = True) -> list[SelectChoice]:
    language = current_language()
    rows = db.session.execute(
        select(Authority, Country)
        .join(Country, Authority.country_code == Country.code)
        .order_by(Authority.name)
    ).all()
    choices = [
        SelectChoice(
            str(authority.id),
            authority.name + (f" ({_('retired')})" if authority.is_retired else ""),
            optgroup=country.localized_name(language),
        )
        for authority, country in rows
        if include_retired or not authority.is_retired
    ]
    return sorted(choices, key=lambda choice: choice.optgroup or "")


def _int_or_none(value: str | None) -> int | None:
    return database_id(value)


def _person_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _authority_or_404(authority_id: int) -> Authority:
    return db.session.get(Authority, authority_id) or abort(404)


# Where a refused POST goes back to (lms.unit_of_work.on_refusal): the message is flashed there.


def _person_page(user_id: int, **_other: int) -> str:
    return url_for("admin.person", user_id=user_id)


def _authority_page(authority_id: int, **_other: int) -> str:
    return url_for("admin.authority", authority_id=authority_id)


def _authorities_page() -> str:
    return url_for("admin.authorities")


def _change_and_go_back(
    change: Callable[[], object], success: str, back: str, form: FlaskForm | None = None
) -> WerkzeugResponse:
    """The skeleton of a confirmed button (a POST with its CSRF token, or ``form`` when it asks for more):
    make one change, say so and go back. A refusal is flashed and goes back too (the view's @on_refusal),
    and the unit of work writes nothing of it."""
    if not (form or FlaskForm()).validate_on_submit():
        abort(400)
    change()
    flash(success, "success")
    return redirect(back)


# --- People ---------------------------------------------------------------------------------------


@bp.route("/people")
@allow(Role.ADMIN)
def people() -> str:
    form = PeopleFilterForm(request.args)
    form.country.choices = [SelectChoice("", _("Any country")), *country_choices(current_language())]
    form.authority.choices = [SelectChoice("", _("Any authority")), *_authority_choices()]
    form.validate()
    filters = queries.PeopleFilter(
        q=(form.q.data or "").strip() if not form.q.errors else "",
        country=form.country.data or "" if not form.country.errors else "",
        authority_id=_int_or_none(form.authority.data) if not form.authority.errors else None,
        role=form.role.data or "" if not form.role.errors else "",
        status=form.status.data or "" if not form.status.errors else "",
    )
    page = queries.people_page(filters, page=request.args.get("page", 1, type=int))
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("admin/people.html", form=form, page=page, args=args)


def _fill_person_choices(form: PersonForm) -> None:
    form.country_code.choices = [SelectChoice("", _("No country")), *country_choices(current_language())]
    form.authority_id.choices = [SelectChoice("", _("No authority")), *_authority_choices()]


def _person_data(form: PersonForm) -> services.PersonData:
    return services.PersonData(
        email=form.email.data or "",
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        patronymic=form.patronymic.data,
        native_name=form.native_name.data,
        sex=form.sex.data,
        position=form.position.data,
        country_code=form.country_code.data,
        authority_id=_int_or_none(form.authority_id.data),
        preferred_language=form.preferred_language.data,
        timezone=form.timezone.data,
    )


def _person_form_page(form: PersonForm, user: User | None) -> tuple[str, int]:
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/person_form.html", form=form, user=user), status


@bp.route("/people/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_person() -> tuple[str, int] | WerkzeugResponse:
    form = NewPersonForm()
    _fill_person_choices(form)
    if form.validate_on_submit():
        with refusals_into(form):
            user = services.create_person(
                _person_data(form), form.password.data or "", tuple(form.roles.data or ()), current_user.id
            )
            flash(_("The account of %(name)s is created.", name=user.full_name), "success")
            return redirect(url_for("admin.person", user_id=user.id))
    return _person_form_page(form, None)


@bp.route("/people/<int:user_id>")
@allow(Role.ADMIN)
def person(user_id: int) -> str:
    user = _person_or_404(user_id)
    grant_form = GrantRoleForm()
    grant_form.authority_id.choices = [SelectChoice("", _("—")), *_authority_choices(include_retired=False)]
    merged_into = db.session.get(User, user.merged_into_id) if user.merged_into_id else None
    return render_template(
        "admin/person.html",
        user=user,
        merged_into=merged_into,
        enrolments=queries.person_enrolments(user.id),
        sections=person_sections(user.id),
        linked=linked_row_counts(user.id, skip=frozenset({"user_role.user_id"})),
        activity=queries.person_activity(user.id),
        grant_form=grant_form,
        reason_form=ReasonForm(),
        action_form=FlaskForm(),
        language=current_language(),
    )


@bp.route("/people/<int:user_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_person(user_id: int) -> tuple[str, int] | WerkzeugResponse:
    user = _person_or_404(user_id)
    form = PersonForm(obj=user)
    _fill_person_choices(form)
    if request.method == "GET":
        form.authority_id.data = str(user.authority_id or "")
    if form.validate_on_submit():
        with refusals_into(form):
            services.update_person(user, _person_data(form), current_user.id)
            flash(_("The profile is saved."), "success")
            return redirect(url_for("admin.person", user_id=user.id))
    return _person_form_page(form, user)


@bp.route("/people/<int:user_id>/roles", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_person_page)
def grant_role(user_id: int) -> WerkzeugResponse:
    user = _person_or_404(user_id)
    form = GrantRoleForm()
    form.authority_id.choices = [SelectChoice("", "—"), *_authority_choices()]
    if not form.validate_on_submit():
        flash(_("Choose a role."), "error")
        return redirect(_person_page(user_id))
    services.grant_role(user, form.role.data or "", current_user.id, _int_or_none(form.authority_id.data))
    flash(_("The role is granted."), "success")
    return redirect(_person_page(user_id))


@bp.route("/people/<int:user_id>/roles/<int:role_id>/remove", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_person_page)
def remove_role(user_id: int, role_id: int) -> WerkzeugResponse:
    user = _person_or_404(user_id)
    return _change_and_go_back(
        lambda: services.remove_role(user, role_id, current_user.id),
        _("The role is removed."),
        _person_page(user_id),
    )


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_person_page)
def deactivate(user_id: int) -> WerkzeugResponse:
    user = _person_or_404(user_id)
    form = ReasonForm()
    return _change_and_go_back(
        lambda: services.deactivate_person(user, current_user.id, form.reason.data),
        _("%(name)s is deactivated and can no longer sign in.", name=user.full_name),
        _person_page(user_id),
        form,
    )


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_person_page)
def reactivate(user_id: int) -> WerkzeugResponse:
    user = _person_or_404(user_id)
    return _change_and_go_back(
        lambda: services.reactivate_person(user, current_user.id),
        _("%(name)s is active again.", name=user.full_name),
        _person_page(user_id),
    )


def _merge_page(form: MergeForm, kept: User, removed: User | None, problems: list[str]) -> tuple[str, int]:
    other = removed if removed is not None and removed.id != kept.id else None
    return render_template(
        "admin/merge.html",
        form=form,
        kept=kept,
        removed=other,
        removed_linked=linked_row_counts(removed.id, skip=frozenset({"user_role.user_id"}))
        if removed
        else {},
        problems=problems,
    ), (422 if form.form_errors else 200)


@bp.route("/people/<int:user_id>/merge", methods=["GET", "POST"])
@allow(Role.ADMIN)
def merge(user_id: int) -> tuple[str, int] | WerkzeugResponse:
    kept = _person_or_404(user_id)
    form = MergeForm(request.form if request.method == "POST" else request.args)
    removed_id = database_id(form.removed_id.data)
    removed = db.session.get(User, removed_id) if removed_id else None
    problems: list[str] = []
    if removed is not None and removed.id != kept.id:
        problems = services.merge_clashes(kept, removed)
    if request.method == "POST" and form.validate_on_submit():
        if removed is None:
            form.form_errors.append(_("No account has that number."))
        else:
            with refusals_into(form):
                moved = services.merge_people(kept, removed, current_user.id, form.reason.data)
                count = sum(moved.values())
                flash(_("The accounts are merged: %(count)s record(s) moved.", count=count), "success")
                return redirect(_person_page(kept.id))
    return _merge_page(form, kept, removed, problems)


# --- Countries, authorities and focal points -----------------------------------------------------


@bp.route("/authorities")
@allow(Role.ADMIN)
def authorities() -> str:
    form = AuthorityForm()
    form.country_code.choices = country_choices(current_language())
    return render_template(
        "admin/authorities.html",
        overview=queries.authorities_overview(),
        form=form,
        country_form=CountryForm(),
        action_form=FlaskForm(),
        language=current_language(),
    )


@bp.route("/authorities/new", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_authorities_page)
def new_authority() -> WerkzeugResponse:
    form = AuthorityForm()
    form.country_code.choices = country_choices(current_language())
    if not form.validate_on_submit():
        flash(_("Fill in the code, name, kind and country."), "error")
        return redirect(_authorities_page())
    authority = orgs_services.create_authority(
        form.code.data or "", form.name.data or "", form.kind.data or "", form.country_code.data or "",
        current_user.id,
    )  # fmt: skip
    flash(_("%(name)s is added.", name=authority.name), "success")
    return redirect(_authority_page(authority.id))


@bp.route("/countries/new", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_authorities_page)
def new_country() -> WerkzeugResponse:
    form = CountryForm()
    if not form.validate_on_submit():
        flash(_("A country needs a two-letter code and a name."), "error")
        return redirect(_authorities_page())
    country = orgs_services.create_country(form.code.data or "", form.name.data or "", current_user.id)
    flash(_("%(name)s is added.", name=country.name), "success")
    return redirect(_authorities_page())


def _authority_form_page(item: Authority, form: AuthorityForm) -> tuple[str, int]:
    focal_points = [db.session.get(User, user_id) for user_id in services.focal_point_user_ids(item.id)]
    return render_template(
        "admin/authority.html",
        authority=item,
        form=form,
        appoint_form=AppointFocalPointForm(),
        action_form=FlaskForm(),
        focal_points=[user for user in focal_points if user is not None],
    ), (422 if form.errors or form.form_errors else 200)


@bp.route("/authorities/<int:authority_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def authority(authority_id: int) -> tuple[str, int] | WerkzeugResponse:
    item = _authority_or_404(authority_id)
    form = AuthorityForm(obj=item)
    form.country_code.choices = country_choices(current_language())
    if form.validate_on_submit():
        with refusals_into(form):
            orgs_services.update_authority(
                item,
                form.name.data or "",
                form.kind.data or "",
                form.country_code.data or "",
                current_user.id,
            )
            flash(_("The authority is saved."), "success")
            return redirect(_authority_page(item.id))
    return _authority_form_page(item, form)


def _set_authority_retired(authority_id: int, retired: bool) -> WerkzeugResponse:
    """Retire an authority or reinstate it: one button each, the same walk."""
    item = _authority_or_404(authority_id)
    if retired:
        change = services.retire_authority
        success = _("%(name)s is retired; its history and reports stay.", name=item.name)
    else:
        change = orgs_services.reinstate_authority
        success = _("%(name)s is active again.", name=item.name)
    return _change_and_go_back(lambda: change(item, current_user.id), success, _authority_page(authority_id))


@bp.route("/authorities/<int:authority_id>/retire", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_authority_page)
def retire_authority(authority_id: int) -> WerkzeugResponse:
    return _set_authority_retired(authority_id, retired=True)


@bp.route("/authorities/<int:authority_id>/reinstate", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_authority_page)
def reinstate_authority(authority_id: int) -> WerkzeugResponse:
    return _set_authority_retired(authority_id, retired=False)


@bp.route("/authorities/<int:authority_id>/focal-points", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_authority_page)
def appoint_focal_point(authority_id: int) -> WerkzeugResponse:
    item = _authority_or_404(authority_id)
    form = AppointFocalPointForm()
    if not form.validate_on_submit():
        flash(_("Enter the email address of the person to appoint."), "error")
        return redirect(_authority_page(authority_id))
    person = find_user_by_email(form.email.data or "")
    if person is None:
        flash(_("No account uses %(email)s.", email=form.email.data), "error")
        return redirect(_authority_page(authority_id))
    services.appoint_focal_point(person.id, item, current_user.id)
    message = _("%(name)s is now a focal point of %(authority)s.", name=person.full_name, authority=item.name)
    flash(message, "success")
    return redirect(_authority_page(authority_id))


@bp.route("/authorities/<int:authority_id>/focal-points/<int:user_id>/remove", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_authority_page)
def remove_focal_point(authority_id: int, user_id: int) -> WerkzeugResponse:
    item = _authority_or_404(authority_id)
    return _change_and_go_back(
        lambda: services.remove_focal_point(user_id, item, current_user.id),
        _("The focal point is removed."),
        _authority_page(authority_id),
    )


@bp.route("/reference-data/resync", methods=["POST"])
@allow(Role.ADMIN)
def resync_reference_data() -> WerkzeugResponse:
    if not FlaskForm().validate_on_submit():
        abort(400)
    result = orgs_services.resync_reference_data(current_user.id)
    flash(
        _("Reference data re-synced: %(c)s countries and %(a)s authorities added, %(u)s updated.",
          c=result.countries_added, a=result.authorities_added, u=result.updated),
        "success",
    )  # fmt: skip
    return redirect(_authorities_page())


# --- Audit log ------------------------------------------------------------------------------------


def _day(value: str | None) -> datetime | None:
    day = parse_day(value)  # the form says what is wrong with a day it cannot use
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def _audit_filter(form: AuditFilterForm) -> queries.AuditFilter:
    until = _day(form.until.data)
    return queries.AuditFilter(
        action=form.action.data or "",
        actor=form.actor.data or "",
        subject_type=form.subject_type.data or "",
        subject_id=form.subject_id.data or "",
        since=_day(form.since.data),
        until=until + timedelta(days=1) if until else None,
    )


@bp.route("/audit")
@allow(Role.ADMIN)
def audit() -> tuple[str, int]:
    form = AuditFilterForm(request.args)
    form.validate()  # a day it cannot use is shown as the field's error (and answered 400)
    lines, total, pages = queries.audit_page(_audit_filter(form), page=request.args.get("page", 1, type=int))
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "admin/audit.html", form=form, lines=lines, total=total, pages=pages,
        page=min(max(1, request.args.get("page", 1, type=int)), pages), args=args,
    ), (400 if form.errors else 200)  # fmt: skip


AUDIT_HEADER = (
    "id", "at", "actor_id", "actor", "action", "subject_type", "subject_id", "before", "after", "reason",
    "ip_address", "hash",
)  # fmt: skip


def _audit_row(line: queries.AuditLine) -> tuple[object, ...]:
    record = line.record
    return (
        record.id, record.at.isoformat(), record.actor_id, line.actor_email, record.action,
        record.subject_type, record.subject_id, record.before, record.after, record.reason,
        record.ip_address, record.hash,
    )  # fmt: skip


@bp.route("/audit.csv")
@allow(Role.ADMIN)
def audit_csv() -> Response:
    form = AuditFilterForm(request.args)
    form.validate()
    refuse_unusable_filters(form)
    filters = _audit_filter(form)
    rows = (_audit_row(line) for line in queries.audit_lines(filters))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(csv_stream(AUDIT_HEADER, rows)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )

"""Administration of people: create, edit, roles, deactivate/reactivate, merge. Every action is audited.

Services flush and raise LmsError; the views commit once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import UniqueConstraint, and_, exists, func, select, update
from sqlalchemy.orm import aliased

from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.auth.password_policy import check_new_password
from lms.auth.passwords import hash_password
from lms.auth.profile import ProfileChange, check_profile, clean, write_profile
from lms.auth.services import end_sessions, find_user_by_email, normalise_email
from lms.auth.signals import person_merged
from lms.auth.user_references import UserReference, user_references
from lms.db import utcnow
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment
from lms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.extensions import db
from lms.orgs import services as orgs_services
from lms.orgs.models import Authority

PLAIN_ROLES = (Role.TRAINEE, Role.TRAINER, Role.ADMIN)
PROFILE_FIELDS = (
    "email", "given_name", "family_name", "patronymic", "native_name", "sex", "position",
    "country_code", "authority_id", "preferred_language", "timezone",
)  # fmt: skip


def person_view(user: User) -> dict[str, Any]:
    """What the audit trail stores about a person before and after a change."""
    view: dict[str, Any] = {name: getattr(user, name) for name in PROFILE_FIELDS}
    view["active"] = user.active
    view["roles"] = sorted(
        f"{r.role}@{r.authority_id}" if r.authority_id else str(r.role) for r in user.roles
    )
    return view


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def get_person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such person."))
    return user


@dataclass(frozen=True)
class PersonData:
    email: str
    given_name: str
    family_name: str
    patronymic: str | None = None
    native_name: str | None = None
    sex: str | None = None
    position: str | None = None
    country_code: str | None = None
    authority_id: int | None = None
    preferred_language: str | None = None
    timezone: str | None = None


def _profile(data: PersonData) -> ProfileChange:
    return ProfileChange(
        given_name=data.given_name, family_name=data.family_name, patronymic=data.patronymic,
        native_name=data.native_name, preferred_language=data.preferred_language, timezone=data.timezone,
        position=data.position,
    )  # fmt: skip


def _apply(user: User, data: PersonData) -> None:
    email = normalise_email(data.email)
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        raise Conflict(_("Another account already uses %(email)s.", email=email))
    profile = _profile(data)
    check_profile(profile, own=False)
    country_code = clean(data.country_code)
    authority_id = data.authority_id or None
    if authority_id is not None:
        authority = db.session.get(Authority, authority_id)
        if authority is None:
            raise ValidationFailed(_("Choose an authority from the list."))
        if country_code and authority.country_code != country_code:
            raise ValidationFailed(_("Choose an authority of the selected country."))
        if authority.is_retired and authority_id != user.authority_id:
            raise ValidationFailed(_("This authority is retired and takes no new staff."))
        country_code = authority.country_code
    user.email = email
    write_profile(user, profile, own=False)  # the fields the person can also change themselves
    user.sex = clean(data.sex)
    user.country_code = country_code
    user.authority_id = authority_id


def create_person(data: PersonData, password: str, roles: tuple[str, ...], actor_id: int) -> User:
    """An admin creates an account (nomination, import by hand). The admin vouches for the address,
    so it counts as confirmed; the admin passes the first password on."""
    if len(password) < 10:
        raise ValidationFailed(_("The first password must have at least 10 characters."))
    check_new_password(password, data.email, data.given_name, data.family_name)
    user = User(email="", password_hash=hash_password(password), given_name="", family_name="")
    _apply(user, data)
    user.email_confirmed_at = utcnow()
    for role in roles:
        if role not in PLAIN_ROLES:
            raise ValidationFailed(_("Appoint focal points from the person's page or the authority's page."))
        user.roles.append(UserRole(role=role))
    db.session.add(user)
    db.session.flush()
    record_event("admin.person_create", "user", user.id, actor_id=actor_id, after=person_view(user))
    return user


def update_person(user: User, data: PersonData, actor_id: int) -> User:
    before = person_view(user)
    old_email = user.email
    _apply(user, data)
    if normalise_email(old_email) != user.email:
        # A new address was not confirmed by its owner; the admin typed it, so the admin vouches.
        user.email_confirmed_at = utcnow()
    db.session.flush()
    changed_before, changed_after = _diff(before, person_view(user))
    if changed_after:
        record_event("admin.person_update", "user", user.id, actor_id=actor_id,
                     before=changed_before, after=changed_after)  # fmt: skip
    return user


def active_admin_ids() -> set[int]:
    return set(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN, User.active.is_(True))
        )
    )


def _refuse_last_admin(user: User) -> None:
    if user.active and user.has_role(Role.ADMIN) and active_admin_ids() <= {user.id}:
        raise Forbidden(
            _("%(name)s is the last active admin; appoint another admin first.", name=user.full_name)
        )


def grant_role(user: User, role: str, actor_id: int, authority_id: int | None = None) -> None:
    if role == Role.FOCAL_POINT:
        authority = db.session.get(Authority, authority_id) if authority_id else None
        if authority is None:
            raise ValidationFailed(_("Choose the authority the focal point acts for."))
        appoint_focal_point(user.id, authority, actor_id)
        return
    if role not in PLAIN_ROLES:
        raise ValidationFailed(_("Choose a role."))
    if not user.active:
        raise ValidationFailed(_("Reactivate the person before giving them a role."))
    if user.has_role(role):
        raise Conflict(_("%(name)s already has this role.", name=user.full_name))
    before = sorted(user.role_names)
    user.roles.append(UserRole(role=role))
    db.session.flush()
    record_event("admin.role_grant", "user", user.id, actor_id=actor_id,
                 before={"roles": before}, after={"roles": sorted(user.role_names)})  # fmt: skip


def remove_role(user: User, role_id: int, actor_id: int) -> None:
    role = next((r for r in user.roles if r.id == role_id), None)
    if role is None:
        raise NotFound(_("This person does not hold that role."))
    if role.role == Role.FOCAL_POINT and role.authority is not None:
        remove_focal_point(user.id, role.authority, actor_id)
        return
    if role.role == Role.ADMIN:
        _refuse_last_admin(user)
    before = sorted(user.role_names)
    user.roles.remove(role)
    db.session.flush()
    record_event("admin.role_remove", "user", user.id, actor_id=actor_id,
                 before={"roles": before}, after={"roles": sorted(user.role_names)})  # fmt: skip


def deactivate_person(user: User, actor_id: int, reason: str | None = None) -> None:
    """The person can no longer sign in (open sessions end too); every record of theirs stays."""
    if not user.active:
        raise Conflict(_("This account is already deactivated."))
    if user.id == actor_id:
        raise Forbidden(_("You cannot deactivate your own account."))
    _refuse_last_admin(user)
    user.active = False
    user.deactivated_at = utcnow()
    end_sessions(user)  # a later reactivation must not bring the old sessions back
    db.session.flush()
    record_event("admin.person_deactivate", "user", user.id, actor_id=actor_id,
                 before={"active": True}, after={"active": False}, reason=reason or None)  # fmt: skip


def reactivate_person(user: User, actor_id: int) -> None:
    if user.active:
        raise Conflict(_("This account is active."))
    if user.merged_into_id is not None:
        raise Conflict(_("This account was merged into another one and stays closed."))
    user.active = True
    user.deactivated_at = None
    db.session.flush()
    record_event("admin.person_reactivate", "user", user.id, actor_id=actor_id,
                 before={"active": False}, after={"active": True})  # fmt: skip


# --- Merging two accounts of one person ---------------------------------------------------------
#
# Extension point: every column with a foreign key to user.id is moved from the removed account to
# the kept one, found from the metadata, so tables added by later features (quiz attempts,
# certificates...) move without any change here. Columns that must not move are listed in
# MERGE_SKIP; a table that needs its own rule registers a handler with `register_merge_handler`
# (the handler moves or settles that column's rows itself and returns how many it moved).

MERGE_SKIP = {
    "audit_record.actor_id",  # the audit trail is hash-chained: history is never rewritten
    "user.merged_into_id",
    "academy_settings.updated_by_id",  # who last saved the settings; harmless to keep
}
MergeHandler = Callable[[User, User], int]
MERGE_HANDLERS: dict[str, MergeHandler] = {}


def register_merge_handler(key: str) -> Callable[[MergeHandler], MergeHandler]:
    """Decorate a function (kept, removed) -> moved rows to own the merge of column 'table.column'."""

    def decorate(handler: MergeHandler) -> MergeHandler:
        MERGE_HANDLERS[key] = handler
        return handler

    return decorate


@register_merge_handler("user_role.user_id")
def _merge_roles(kept: User, removed: User) -> int:
    """Roles are unioned: the kept account gets what it lacked; duplicates of the removed one go."""
    held = {(r.role, r.authority_id) for r in kept.roles}
    moved = 0
    for role in list(removed.roles):
        removed.roles.remove(role)
        if (role.role, role.authority_id) not in held:
            kept.roles.append(
                UserRole(role=role.role, authority_id=role.authority_id, granted_at=role.granted_at)
            )
            held.add((role.role, role.authority_id))
            moved += 1
    db.session.flush()
    return moved


@register_merge_handler("email_confirmation.user_id")
def _merge_confirmations(kept: User, removed: User) -> int:
    return 0  # links confirm the removed account's own address; they stay with it (and are dead)


def _unique_column_sets(reference: UserReference) -> list[list[Any]]:
    """The other columns of each unique constraint or unique index that includes the reference."""
    table, column = reference.table, reference.column
    sets: list[list[Any]] = []
    candidates = [c.columns for c in table.constraints if isinstance(c, UniqueConstraint)]
    candidates += [index.columns for index in table.indexes if index.unique]
    if column.unique:
        sets.append([])
    for columns in candidates:
        names = [c.name for c in columns]
        if column.name in names:
            sets.append([c for c in columns if c.name != column.name])
    return sets


def merge_clashes(kept: User, removed: User) -> list[str]:
    """Rows that could not move without breaking a unique rule (e.g. both accounts hold a certificate
    of the same course run). Empty when the merge can go ahead."""
    problems: list[str] = []
    for reference in user_references():
        if reference.key in MERGE_SKIP or reference.key in MERGE_HANDLERS:
            continue
        for other_columns in _unique_column_sets(reference):
            mine = reference.table.alias("removed_rows")
            theirs = reference.table.alias("kept_rows")
            match = [theirs.c[reference.column.name] == kept.id]
            match += [theirs.c[c.name] == mine.c[c.name] for c in other_columns]
            clash = db.session.scalar(
                select(func.count())
                .select_from(mine)
                .where(mine.c[reference.column.name] == removed.id, exists().where(and_(*match)))
            )
            if clash:
                problems.append(
                    _("%(count)s %(table)s record(s) exist on both accounts for the same %(what)s.",
                      count=clash, table=reference.table.name,
                      what=", ".join(c.name for c in other_columns) or reference.column.name)
                )  # fmt: skip
    problems.extend(_enrolment_clashes(kept, removed))
    return problems


def _enrolment_clashes(kept: User, removed: User) -> list[str]:
    """Two live enrolments in the same course would double-count the person in reports."""
    mine, theirs = aliased(Enrolment), aliased(Enrolment)
    my_run, their_run = aliased(CourseRun), aliased(CourseRun)
    titles = db.session.scalars(
        select(my_run.title)
        .select_from(mine)
        .join(my_run, mine.run_id == my_run.id)
        .join(theirs, theirs.user_id == kept.id)
        .join(their_run, theirs.run_id == their_run.id)
        .where(
            mine.user_id == removed.id,
            mine.status.in_(ACTIVE_STATUSES),
            theirs.status.in_(ACTIVE_STATUSES),
            my_run.course_id == their_run.course_id,
        )
        .distinct()
    ).all()
    return [
        _("Both accounts are enrolled in %(course)s; withdraw one of the enrolments first.", course=title)
        for title in titles
    ]


def merge_people(kept: User, removed: User, actor_id: int, reason: str | None = None) -> dict[str, int]:
    """Move everything of `removed` to `kept`; `removed` stays as a deactivated, merged record."""
    if kept.id == removed.id:
        raise ValidationFailed(_("Choose two different accounts."))
    if removed.merged_into_id is not None or kept.merged_into_id is not None:
        raise Conflict(_("One of these accounts was already merged."))
    if removed.id == actor_id:
        raise Forbidden(_("You cannot merge away the account you are signed in with."))
    if not kept.active:
        raise Conflict(_("Reactivate the account you keep before merging into it."))
    problems = merge_clashes(kept, removed)
    if problems:
        raise Conflict(_("The accounts cannot be merged: %(problems)s", problems=" ".join(problems)))
    moved: dict[str, int] = {}
    for reference in user_references():
        if reference.key in MERGE_SKIP:
            continue
        handler = MERGE_HANDLERS.get(reference.key)
        if handler is not None:
            count = handler(kept, removed)
        else:
            result = db.session.execute(
                update(reference.table)
                .where(reference.column == removed.id)
                .values({reference.column.name: kept.id})
            )
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult has rowcount
        if count:
            moved[reference.key] = count
    # Bulk updates bypassed the identity map, and the session listeners that keep derived rows true: the
    # indicator facts answer `person_merged` below (lms.reports.facts).
    db.session.expire_all()
    kept = get_person(kept.id)
    removed = get_person(removed.id)
    was_active = removed.active
    removed.active = False
    removed.deactivated_at = removed.deactivated_at or utcnow()
    removed.merged_into_id = kept.id
    end_sessions(removed)
    if kept.email_confirmed_at is None and removed.email_confirmed_at is not None:
        kept.email_confirmed_at = removed.email_confirmed_at
    db.session.flush()
    record_event(
        "admin.person_merge", "user", kept.id, actor_id=actor_id,
        before={"kept": kept.id, "removed": removed.id, "removed_email": removed.email,
                "removed_active": was_active},
        after={"moved": moved, "removed_merged_into": kept.id},
        reason=reason or None,
    )  # fmt: skip
    person_merged.send(kept, removed=removed, moved=moved, actor_id=actor_id)
    return moved


# --- Focal points: auth's UserRole rows bound to an orgs authority, so they live here, above both ---


def focal_point_user_ids(authority_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(UserRole.user_id).where(
                UserRole.role == Role.FOCAL_POINT, UserRole.authority_id == authority_id
            )
        )
    )


def retire_authority(authority: Authority, actor_id: int | None) -> Authority:
    """Retire an authority (orgs) once no focal point acts for it any more."""
    if not authority.is_retired and focal_point_user_ids(authority.id):
        raise Conflict(_("Remove this authority's focal points before retiring it."))
    return orgs_services.retire_authority(authority, actor_id)


def appoint_focal_point(user_id: int, authority: Authority, actor_id: int | None) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such person."))
    if authority.is_retired:
        raise ValidationFailed(_("A focal point cannot act for a retired authority."))
    if not user.active:
        raise ValidationFailed(_("A deactivated person cannot be a focal point."))
    if authority.id in user.focal_point_authority_ids():
        raise Conflict(_("%(name)s is already a focal point of %(authority)s.", name=user.full_name,
                         authority=authority.name))  # fmt: skip
    before = sorted(user.role_names)
    user.roles.append(UserRole(role=Role.FOCAL_POINT, authority_id=authority.id))
    db.session.flush()
    record_event("orgs.focal_point_appoint", "user", user.id, actor_id=actor_id,
                 before={"roles": before, "authority_id": None},
                 after={"roles": sorted(user.role_names), "authority_id": authority.id,
                        "authority": authority.name})  # fmt: skip


def remove_focal_point(user_id: int, authority: Authority, actor_id: int | None) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such person."))
    role = next(
        (r for r in user.roles if r.role == Role.FOCAL_POINT and r.authority_id == authority.id), None
    )
    if role is None:
        raise NotFound(_("%(name)s is not a focal point of %(authority)s.", name=user.full_name,
                         authority=authority.name))  # fmt: skip
    user.roles.remove(role)
    db.session.flush()
    record_event("orgs.focal_point_remove", "user", user.id, actor_id=actor_id,
                 before={"role": Role.FOCAL_POINT.value, "authority_id": authority.id,
                         "authority": authority.name},
                 after={"roles": sorted(user.role_names)})  # fmt: skip

"""Administration of people: list, search, person page, create, edit, roles, deactivate, merge."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import event, select

from lms.admin import queries, services
from lms.audit.models import AuditRecord
from lms.audit.services import verify_audit_chain
from lms.auth.models import Role, User
from lms.auth.services import authenticate
from lms.courses.models import Course
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment, LessonCompletion
from lms.errors import Conflict, Forbidden, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority
from lms.settings.services import clear_settings_cache
from tests.conftest import TEST_PASSWORD, login

MakeUser = Callable[..., User]


@pytest.fixture(autouse=True)
def _fresh_settings(app: Flask) -> Iterator[None]:
    yield
    clear_settings_cache()


def audit_records(action: str) -> list[AuditRecord]:
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


# --- Access ----------------------------------------------------------------------------------------


def admin_routes(app: Flask) -> list[Any]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("admin.", "settings.")) and rule.endpoint != "settings.logo"
    ]


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER, Role.FOCAL_POINT])
def test_a_non_admin_reaches_no_admin_page_or_action(
    app: Flask, client: FlaskClient, make_user: MakeUser, role: str
) -> None:
    login(client, make_user(role))
    target = make_user()
    assert len(admin_routes(app)) >= 20
    for rule in admin_routes(app):
        values = {name: target.id for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 403, (rule.endpoint, method)
    assert db.session.get(User, target.id).active


def test_an_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/people")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- Search, filter, paginate -----------------------------------------------------------------------


@pytest.fixture
def people(make_user: MakeUser, make_authority: Callable[..., Authority]) -> dict[str, User]:
    ua = make_authority("UA", name="State Border Guard Service of Ukraine")
    jo = make_authority("JO", name="Residency and Borders Department")
    return {
        "olena": make_user(authority=ua, given_name="Olena", family_name="Koval", patronymic="Mykolaivna",
                           native_name="Олена Миколаївна Коваль", email="olena@dpsu.example"),
        "leila": make_user(authority=jo, given_name="Leila", family_name="Haddad", native_name="ليلى حداد",
                           email="leila@psd.example"),
        "trainer": make_user(Role.TRAINER, authority=ua, given_name="Tomasz", family_name="Nowak"),
        "admin": make_user(Role.ADMIN, authority=ua, given_name="Marta", family_name="Admin"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("коваль", {"olena"}),
        ("КОВАЛЬ", {"olena"}),  # SQLite lower() folds ASCII only: search_name is folded in Python
        ("Олена Миколаївна", {"olena"}),
        ("حداد", {"leila"}),
        ("KOVAL", {"olena"}),
        ("PSD.example", {"leila"}),
        ("100%", set()),  # LIKE wildcards are escaped
    ],
)
def test_search_finds_names_in_any_script_and_emails(
    people: dict[str, User], term: str, expected: set[str]
) -> None:
    page = queries.people_page(queries.PeopleFilter(q=term))
    found = {name for name, user in people.items() if user.id in {row.user.id for row in page.rows}}
    assert found == expected


def test_filters_by_country_authority_role_and_status(people: dict[str, User]) -> None:
    def ids(**filters: Any) -> set[int]:
        return {row.user.id for row in queries.people_page(queries.PeopleFilter(**filters)).rows}

    assert ids(country="JO") == {people["leila"].id}
    assert ids(authority_id=people["olena"].authority_id) == {
        people["olena"].id, people["trainer"].id, people["admin"].id,
    }  # fmt: skip
    assert ids(role=Role.TRAINER) == {people["trainer"].id}
    people["leila"].active = False
    db.session.commit()
    assert ids(status="deactivated") == {people["leila"].id}
    assert people["leila"].id not in ids(status="active")


def test_the_people_page_shows_a_cyrillic_search_and_paginates(
    client: FlaskClient, people: dict[str, User], make_user: MakeUser
) -> None:
    login(client, people["admin"])
    html = client.get("/admin/people", query_string={"q": "КОВАЛЬ"}).get_data(as_text=True)
    assert "Олена Миколаївна Коваль" in html
    assert "Haddad" not in html
    for n in range(30):
        make_user(family_name=f"Zed{n:02d}")
    first = client.get("/admin/people").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = client.get("/admin/people", query_string={"page": 2}).get_data(as_text=True)
    assert "Zed29" in second and "Zed29" not in first


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def count_queries(client: FlaskClient, url: str) -> int:
    client.get(url)  # warm caches (the academy settings) so both sizes start alike
    db.session.expunge_all()  # a real request starts with an empty session
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return counter.count


def test_the_people_list_makes_no_per_row_queries(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority]
) -> None:
    admin = make_user(Role.ADMIN)
    login(client, admin)
    for _ in range(3):
        make_user(Role.FOCAL_POINT, authority=make_authority("GE"))
    small = count_queries(client, "/admin/people")
    for n in range(20):
        make_user(Role.FOCAL_POINT, Role.TRAINEE, authority=make_authority("MD"), native_name=f"Ион {n}")
    large = count_queries(client, "/admin/people")
    assert large == small
    assert small <= 8


# --- The person page ---------------------------------------------------------------------------------


def test_the_person_page_shows_profile_roles_enrolments_and_activity(
    client: FlaskClient, make_user: MakeUser, demo_course: Course
) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(native_name="Олена Коваль", position="Senior inspector")
    enrolment_self_service.self_enrol(person, enrolment_runs.ensure_default_run(demo_course))
    services.grant_role(person, Role.TRAINER, admin.id)
    db.session.commit()
    login(client, admin)
    html = client.get(f"/admin/people/{person.id}").get_data(as_text=True)
    assert "Олена Коваль" in html
    assert "Senior inspector" in html
    assert person.authority.name in html
    assert demo_course.title in html
    assert "admin.role_grant" in html
    assert "enrolment.user_id" in html  # the generic "records that refer to this person"
    assert "<h2>Certificates</h2>" in html
    assert client.get("/admin/people/999999").status_code == 404


# --- Create and edit -----------------------------------------------------------------------------


def test_an_admin_creates_a_person_who_can_sign_in(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority]
) -> None:
    admin = make_user(Role.ADMIN)
    authority = make_authority("KZ")
    login(client, admin)
    response = client.post(
        "/admin/people/new",
        data={
            "given_name": "Aigerim", "family_name": "Nurlanova", "native_name": "Айгерим Нурланова",
            "email": "Aigerim@Border.example", "country_code": "KZ", "authority_id": str(authority.id),
            "password": "first password 123", "roles": ["trainee", "trainer"],
        },
    )  # fmt: skip
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.email == "aigerim@border.example"))
    assert created is not None
    assert created.role_names == {"trainee", "trainer"}
    assert created.email_confirmed_at is not None
    assert created.search_name.startswith("aigerim")
    [record] = audit_records("admin.person_create")
    assert record.actor_id == admin.id and record.after["email"] == "aigerim@border.example"
    duplicate = client.post(
        "/admin/people/new",
        data={"given_name": "A", "family_name": "B", "email": "aigerim@border.example",
              "password": "first password 123", "roles": ["trainee"]},
    )  # fmt: skip
    assert duplicate.status_code == 422
    assert "already uses" in duplicate.get_data(as_text=True)


def test_an_admin_edits_a_profile_and_the_audit_keeps_before_and_after(
    client: FlaskClient, make_user: MakeUser
) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(given_name="Andriy", family_name="Shevchenko", email="andriy@dpsu.example")
    login(client, admin)
    assert client.get(f"/admin/people/{person.id}/edit").status_code == 200
    response = client.post(
        f"/admin/people/{person.id}/edit",
        data={"given_name": "Andrii", "family_name": "Shevchenko", "native_name": "Андрій Шевченко",
              "email": person.email, "authority_id": str(person.authority_id), "position": "Major"},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(person)
    assert person.given_name == "Andrii"
    assert "андрій шевченко" in person.search_name
    [record] = audit_records("admin.person_update")
    assert record.actor_id == admin.id
    assert record.before["given_name"] == "Andriy" and record.after["given_name"] == "Andrii"
    assert "family_name" not in record.after  # only what changed


# --- Roles --------------------------------------------------------------------------------------------


def test_granting_and_removing_roles_is_audited(make_user: MakeUser) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user()
    services.grant_role(person, Role.TRAINER, admin.id)
    assert person.role_names == {"trainee", "trainer"}
    with pytest.raises(Conflict):
        services.grant_role(person, Role.TRAINER, admin.id)
    focal_authority = person.authority
    services.grant_role(person, Role.FOCAL_POINT, admin.id, authority_id=focal_authority.id)
    assert person.focal_point_authority_ids() == {focal_authority.id}
    trainer_role = next(r for r in person.roles if r.role == Role.TRAINER)
    services.remove_role(person, trainer_role.id, admin.id)
    assert person.role_names == {"trainee", "focal_point"}
    actions = [r.action for r in db.session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert actions == ["admin.role_grant", "orgs.focal_point_appoint", "admin.role_remove"]
    assert verify_audit_chain() == []


def test_an_admin_cannot_remove_the_last_admin(client: FlaskClient, make_user: MakeUser) -> None:
    admin = make_user(Role.ADMIN)
    role = next(r for r in admin.roles if r.role == Role.ADMIN)
    with pytest.raises(Forbidden, match="last active admin"):
        services.remove_role(admin, role.id, admin.id)
    login(client, admin)
    response = client.post(f"/admin/people/{admin.id}/roles/{role.id}/remove", follow_redirects=True)
    assert "last active admin" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).has_role(Role.ADMIN)
    other = make_user(Role.ADMIN)
    services.remove_role(admin, role.id, other.id)  # with a second admin it is allowed
    assert not admin.has_role(Role.ADMIN)


def test_the_last_admin_cannot_be_deactivated(make_user: MakeUser) -> None:
    admin = make_user(Role.ADMIN)
    second = make_user(Role.ADMIN)
    services.deactivate_person(second, admin.id)
    with pytest.raises(Forbidden, match="last active admin"):
        services.deactivate_person(admin, second.id)  # a deactivated admin does not count
    with pytest.raises(Forbidden):
        services.deactivate_person(admin, admin.id)


# --- Deactivate and reactivate -----------------------------------------------------------------------


def switch_client() -> None:
    """The test's app context is shared by every request, so Flask-Login's per-context user cache
    must be dropped when another browser (client) takes over."""
    g.pop("_login_user", None)


def test_a_deactivated_person_cannot_sign_in_and_loses_nothing(
    app: Flask, client: FlaskClient, make_user: MakeUser, demo_course: Course
) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(native_name="Олена Коваль")
    enrolment_self_service.self_enrol(person, enrolment_runs.ensure_default_run(demo_course))
    db.session.commit()
    person_client = app.test_client()
    login(person_client, person)
    assert person_client.get("/dashboard").status_code == 200

    switch_client()
    login(client, admin)
    response = client.post(f"/admin/people/{person.id}/deactivate", data={"reason": "left the service"})
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.active is False and person.deactivated_at is not None
    [record] = audit_records("admin.person_deactivate")
    assert (record.actor_id, record.before, record.after, record.reason) == (
        admin.id, {"active": True}, {"active": False}, "left the service",
    )  # fmt: skip

    # the open session ends, and signing in again is refused
    switch_client()
    assert person_client.get("/dashboard").headers["Location"].startswith("/login")
    switch_client()
    refused = app.test_client().post("/login", data={"email": person.email, "password": TEST_PASSWORD})
    assert refused.status_code == 401
    assert authenticate(person.email, TEST_PASSWORD) is None
    # nothing of the record is lost
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == person.id)) is not None
    assert person.native_name == "Олена Коваль"

    switch_client()
    client.post(f"/admin/people/{person.id}/reactivate")
    db.session.expire_all()
    assert db.session.get(User, person.id).active
    assert audit_records("admin.person_reactivate")
    assert authenticate(person.email, TEST_PASSWORD) is not None


# --- Merge -----------------------------------------------------------------------------------------


def _enrol_with_progress(user: User, course: Course, lessons: int) -> Enrolment:
    enrolment = enrolment_self_service.self_enrol(user, enrolment_runs.ensure_default_run(course))
    ordered = [lesson for module in course.modules for lesson in module.lessons if lesson.is_published]
    for lesson in ordered[:lessons]:
        enrolment_completion.complete_lesson(enrolment, lesson)
    return enrolment


def test_merge_moves_enrolments_with_their_progress_and_is_audited(
    client: FlaskClient, make_user: MakeUser, demo_course: Course
) -> None:
    admin = make_user(Role.ADMIN)
    kept = make_user(given_name="Olena", family_name="Koval", email="olena@dpsu.example")
    removed = make_user(Role.TRAINER, given_name="Olena", family_name="Koval", email="olena.k@gmail.example")
    enrolment = _enrol_with_progress(removed, demo_course, 2)
    db.session.commit()
    login(client, admin)
    preview = client.get(f"/admin/people/{kept.id}/merge", query_string={"removed_id": removed.id})
    assert "enrolment.user_id" in preview.get_data(as_text=True)
    response = client.post(
        f"/admin/people/{kept.id}/merge", data={"removed_id": removed.id, "reason": "duplicate"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Enrolment, enrolment.id)
    assert moved.user_id == kept.id
    completions = db.session.scalars(
        select(LessonCompletion).where(LessonCompletion.enrolment_id == enrolment.id)
    )
    assert len(list(completions)) == 2
    kept, removed = db.session.get(User, kept.id), db.session.get(User, removed.id)
    assert kept.role_names == {"trainee", "trainer"}
    assert removed.active is False and removed.merged_into_id == kept.id
    assert removed.email == "olena.k@gmail.example"  # the merged record stays, closed
    [record] = audit_records("admin.person_merge")
    assert record.actor_id == admin.id and record.reason == "duplicate"
    assert record.after["moved"]["enrolment.user_id"] == 1
    assert record.before["removed_email"] == "olena.k@gmail.example"
    assert verify_audit_chain() == []


def test_merge_refuses_two_live_enrolments_in_one_course(make_user: MakeUser, demo_course: Course) -> None:
    admin = make_user(Role.ADMIN)
    kept, removed = make_user(), make_user()
    _enrol_with_progress(kept, demo_course, 1)
    _enrol_with_progress(removed, demo_course, 1)
    with pytest.raises(Conflict, match="Both accounts are enrolled"):
        services.merge_people(kept, removed, admin.id)
    with pytest.raises(ValidationFailed):
        services.merge_people(kept, kept, admin.id)
    with pytest.raises(Forbidden):
        services.merge_people(kept, admin, admin.id)


@pytest.fixture
def later_feature_table(app: Flask) -> Iterator[Any]:
    """A table another feature might add later, with a unique rule on (user_id, badge)."""
    from sqlalchemy import Column, ForeignKey, Integer, String, Table, UniqueConstraint

    table = Table(
        "test_badge", db.metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("user.id")),
        Column("badge", String(20)),
        UniqueConstraint("user_id", "badge"),
    )  # fmt: skip
    table.create(db.engine)
    yield table
    db.session.rollback()
    table.drop(db.engine)
    db.metadata.remove(table)


def test_merge_moves_rows_of_tables_added_later_and_refuses_unique_clashes(
    make_user: MakeUser, later_feature_table: Any
) -> None:
    admin = make_user(Role.ADMIN)
    kept, removed = make_user(), make_user()
    db.session.execute(
        later_feature_table.insert(),
        [{"user_id": kept.id, "badge": "gold"}, {"user_id": removed.id, "badge": "gold"},
         {"user_id": removed.id, "badge": "silver"}],
    )  # fmt: skip
    with pytest.raises(Conflict, match="test_badge"):
        services.merge_people(kept, removed, admin.id)
    db.session.execute(later_feature_table.delete().where(later_feature_table.c.badge == "gold"))
    moved = services.merge_people(kept, removed, admin.id)
    assert moved["test_badge.user_id"] == 1
    owners = db.session.execute(select(later_feature_table.c.user_id)).scalars().all()
    assert owners == [kept.id]

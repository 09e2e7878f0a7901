"""One unit of work per request (lms/unit_of_work.py): commit once after the view, roll back on any error,
domain errors answered in one place."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth.access import PUBLIC, allow
from lms.auth.models import Role, User
from lms.content import cli as content_cli
from lms.courses.models import Course
from lms.errors import Conflict
from lms.extensions import db
from lms.orgs.models import Country
from lms.unit_of_work import on_refusal, refusals_into, unit_of_work


class _Form:
    def __init__(self) -> None:
        self.form_errors: list[str] = []


def _countries() -> int:
    return db.session.scalar(select(func.count()).select_from(Country)) or 0


@pytest.fixture
def uow_app(make_app: Callable[..., Flask], tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    app = make_app(TESTING=True, INSTANCE_PATH=str(tmp_path), SECRET_KEY="x", WTF_CSRF_ENABLED=False)

    def add(code: str) -> None:
        db.session.add(Country(code=code, name=f"Land {code}"))
        db.session.flush()

    @allow(PUBLIC)
    def writes() -> str:
        add("XA")
        return "ok"

    @allow(PUBLIC)
    @on_refusal(lambda: url_for("refused_back"))
    def refused() -> str:
        add("XB")
        raise Conflict("Taken already.")

    @allow(PUBLIC)
    def refused_plain() -> str:
        add("XC")
        raise Conflict("Taken already.")

    @allow(PUBLIC)
    def broken() -> str:
        add("XD")
        raise RuntimeError("a bug")

    @allow(PUBLIC)
    def form_refused() -> tuple[str, int]:
        form = _Form()
        with refusals_into(form):
            add("XE")
            raise Conflict("Not allowed here.")
        return ",".join(form.form_errors), 422

    @allow(PUBLIC)
    def get_writes() -> str:
        add("XF")
        return "ok"

    @allow(PUBLIC)
    def refused_back() -> str:
        return "back"

    app.add_url_rule("/uow/writes", "writes", writes, methods=["POST"])
    app.add_url_rule("/uow/refused", "refused", refused, methods=["POST"])
    app.add_url_rule("/uow/refused-plain", "refused_plain", refused_plain, methods=["POST"])
    app.add_url_rule("/uow/broken", "broken", broken, methods=["POST"])
    app.add_url_rule("/uow/form", "form_refused", form_refused, methods=["POST"])
    app.add_url_rule("/uow/get-writes", "get_writes", get_writes)
    app.add_url_rule("/uow/back", "refused_back", refused_back)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _codes(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Country.code).where(Country.code.like("X%"))))


def test_a_view_that_returns_is_committed_once_after_it(uow_app: Flask) -> None:
    assert uow_app.test_client().post("/uow/writes").status_code == 200
    assert _codes(uow_app) == {"XA"}


def test_a_refused_form_post_flashes_and_goes_back_with_nothing_written(uow_app: Flask) -> None:
    client = uow_app.test_client()
    response = client.post("/uow/refused")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/uow/back")
    with client.session_transaction() as session:
        assert ("error", "Taken already.") in session["_flashes"]
    assert _codes(uow_app) == set()


def test_a_refusal_without_a_way_back_is_an_error_page_with_its_status(uow_app: Flask) -> None:
    response = uow_app.test_client().post("/uow/refused-plain")
    assert response.status_code == 409
    assert b"Taken already." in response.data
    assert _codes(uow_app) == set()


def test_a_bug_rolls_everything_back(uow_app: Flask) -> None:
    assert uow_app.test_client().post("/uow/broken").status_code == 500
    assert _codes(uow_app) == set()


def test_a_refusal_shown_on_the_form_rolls_back_and_keeps_the_message(uow_app: Flask) -> None:
    response = uow_app.test_client().post("/uow/form")
    assert response.status_code == 422
    assert response.data == b"Not allowed here."
    assert _codes(uow_app) == set()


def test_a_get_never_writes(uow_app: Flask) -> None:
    assert uow_app.test_client().get("/uow/get-writes").status_code == 200
    assert _codes(uow_app) == set()


def test_jobs_and_commands_use_the_same_unit(uow_app: Flask) -> None:
    with uow_app.app_context():
        with pytest.raises(RuntimeError), unit_of_work():
            db.session.add(Country(code="XG", name="Land XG"))
            raise RuntimeError("stop")
        with unit_of_work():
            db.session.add(Country(code="XH", name="Land XH"))
    assert _codes(uow_app) == {"XH"}


def test_a_command_that_fails_half_way_leaves_nothing_written(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`flask lms content sync` writes the first course, then fails on the second: its unit of work
    rolls the first back too (a command without one leaves it in the session, ready for the next commit)."""
    runs: list[object] = []

    def fail_on_the_second(course: object) -> None:
        runs.append(course)
        if len(runs) == 2:
            raise RuntimeError("the disk went away")

    monkeypatch.setattr(content_cli, "ensure_default_run", fail_on_the_second)
    result = app.test_cli_runner().invoke(args=["lms", "content", "sync"])
    assert isinstance(result.exception, RuntimeError), result.output
    assert len(runs) == 2
    db.session.commit()  # whatever the command left in the session would be kept now
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_grant_admin_commits_the_role_with_its_audit_record_and_refuses_an_unknown_email(
    app: Flask, make_user: Callable[..., User]
) -> None:
    person = make_user(email="first.admin@agency.test")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["lms", "admin", "grant-admin", "nobody@agency.test"])
    assert refused.exit_code == 1 and "no account uses" in refused.output
    result = runner.invoke(args=["lms", "admin", "grant-admin", "first.admin@agency.test"])
    assert result.exit_code == 0, result.output
    db.session.rollback()  # only what the command committed is left
    db.session.refresh(person)
    assert Role.ADMIN in person.role_names
    grants = select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "admin.role_grant")
    assert db.session.scalar(grants) == 1

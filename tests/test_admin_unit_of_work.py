"""The admin, settings and reports views run in the request's unit of work (lms/unit_of_work.py, issue 19):
a change commits once, after the view; a refusal is flashed where the view came from and writes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms.auth.models import Role, User
from lms.errors import Conflict
from lms.extensions import db
from lms.orgs import services as orgs
from lms.orgs.models import Authority, Country
from tests.conftest import login

MakeUser = Callable[..., User]
ROOT = Path(__file__).resolve().parents[1]
VIEW_FILES = ("lms/admin/views.py", "lms/settings/views.py", "lms/reports/views.py")


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """One entry per commit of any session while the test runs."""
    seen: list[int] = []

    def count(_session: Session) -> None:
        seen.append(1)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


@pytest.mark.parametrize("path", VIEW_FILES)
def test_the_views_leave_transactions_and_refusals_to_the_unit_of_work(path: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.findall(r"commit\(\)|rollback\(\)|except LmsError", source) == []


def test_retiring_and_reinstating_commit_once_after_the_view(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority], commits: list[int]
) -> None:
    authority = make_authority("KZ")
    login(client, make_user(Role.ADMIN))
    for action, retired, message in (("retire", True, "is retired"), ("reinstate", False, "is active again")):
        commits.clear()
        response = client.post(f"/admin/authorities/{authority.id}/{action}")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/admin/authorities/{authority.id}")
        assert len(commits) == 1
        db.session.expire_all()
        assert db.session.get(Authority, authority.id).is_retired is retired
        with client.session_transaction() as session:
            assert [kind for kind, text in session["_flashes"] if message in text] == ["success"]


def test_a_refused_change_is_flashed_back_and_writes_nothing(
    client: FlaskClient,
    make_user: MakeUser,
    make_authority: Callable[..., Authority],
    commits: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authority = make_authority("KG")
    login(client, make_user(Role.ADMIN))

    def half_then_refuse(item: Authority, actor_id: int | None) -> None:
        db.session.add(Country(code="XZ", name="Half-written", names={}, groups=[]))
        db.session.flush()
        raise Conflict("Refused on purpose.")

    monkeypatch.setattr(orgs, "retire_authority", half_then_refuse)
    commits.clear()
    response = client.post(f"/admin/authorities/{authority.id}/retire")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/authorities/{authority.id}")
    with client.session_transaction() as session:
        assert ("error", "Refused on purpose.") in session["_flashes"]
    assert commits == []
    db.session.rollback()
    assert db.session.scalar(select(Country).where(Country.code == "XZ")) is None


def test_saving_the_settings_commits_once_and_a_refusal_keeps_the_form(
    client: FlaskClient, make_user: MakeUser, commits: list[int]
) -> None:
    login(client, make_user(Role.ADMIN))
    data = {
        "academy_name": "Academy of the Steppe",
        "contact_email": "",
        "default_language": "en",
        "registration_policy": "closed",
        "allowed_email_domains": "",
        "public_base_url": "https://lms.example.org",
        "mail_sender": "Academy <no-reply@example.org>",
    }
    commits.clear()
    assert client.post("/admin/settings", data=data).status_code == 302
    assert len(commits) == 1
    commits.clear()
    refused = client.post("/admin/settings", data={**data, "academy_name": "Kept", "mail_sender": "nobody"})
    assert refused.status_code == 422
    assert "Kept" in refused.get_data(as_text=True)
    assert commits == []

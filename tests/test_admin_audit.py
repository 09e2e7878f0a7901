"""The audit log viewer and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask.testing import FlaskClient

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.csv_export import csv_bytes, neutralise
from lms.extensions import db
from tests.conftest import login


def test_spreadsheet_formulas_are_neutralised() -> None:
    assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("Коваль") == "Коваль"
    assert neutralise(None) == ""
    assert neutralise({"name": "Олена"}) == '{"name": "Олена"}'
    assert csv_bytes(("x", "y"), [("a,b", 1)]) == '\ufeffx,y\r\n"a,b",1\r\n'.encode()


def test_the_audit_log_filters_and_exports_csv(client: FlaskClient, make_user: Callable[..., User]) -> None:
    admin = make_user(Role.ADMIN, email="marta@academy.example")
    record_event("admin.person_update", "user", 7, actor_id=admin.id,
                 before={"given_name": "Olena"}, after={"given_name": "=Олена"})  # fmt: skip
    record_event("orgs.authority_create", "authority", 3, actor_id=None, after={"name": "Border Police"})
    db.session.commit()
    login(client, admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "admin.person_update" in html and "orgs.authority_create" in html
    filtered = client.get("/admin/audit", query_string={"action": "orgs."}).get_data(as_text=True)
    assert "orgs.authority_create" in filtered and "admin.person_update" not in filtered
    by_actor = client.get("/admin/audit", query_string={"actor": "marta@"}).get_data(as_text=True)
    assert "admin.person_update" in by_actor and "orgs.authority_create" not in by_actor
    future = client.get("/admin/audit", query_string={"since": "2999-01-01"}).get_data(as_text=True)
    assert "No records match" in future

    response = client.get("/admin/audit.csv", query_string={"subject_type": "user"})
    assert response.mimetype == "text/csv"  # the one CSV writer (lms.csv_export): BOM, UTF-8
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert rows[0][:5] == ["id", "at", "actor_id", "actor", "action"]
    rows = [r for r in rows if r[4] != "auth.sign_in"]  # the admin's own sign-in is audited too (issue 9)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["actor"] == "marta@academy.example"
    assert row["before"] == '{"given_name": "Olena"}'
    assert row["after"] == '{"given_name": "=Олена"}'  # JSON starts with "{": no formula risk

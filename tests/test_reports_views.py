"""Report pages: who may see what, the numbers on the page, exports, and a fixed number of queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.extensions import db
from tests.conftest import _TEST_PASSWORD_HASH, login
from tests.reports_support import World, add_trainees, build_world


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(_TEST_PASSWORD_HASH)


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


# --- access ------------------------------------------------------------------------------------------


def test_each_report_is_for_its_roles_only(
    app: Flask, world: World, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    trainee = signed_in(app, world.people["p1"])
    run = f"/reports/runs/{world.r1.id}"
    for url in ("/reports/", run, f"{run}/export", "/reports/authority", "/reports/indicators",
                "/reports/indicators/export", "/reports/indicators/enrolments"):  # fmt: skip
        assert trainee.get(url).status_code == 403, url

    trainer = signed_in(app, make_trainer(world.course))
    assert trainer.get("/reports/").status_code == 200
    assert trainer.get(f"/reports/runs/{world.r1.id}").status_code == 200
    assert trainer.get("/reports/indicators").status_code == 403
    assert trainer.get("/reports/authority").status_code == 403
    assert trainer.get("/reports/runs/987654").status_code == 404

    admin = signed_in(app, make_user(Role.ADMIN))
    assert admin.get("/reports/indicators").status_code == 200
    assert admin.get(f"/reports/runs/{world.r1.id}").status_code == 200
    assert admin.get("/reports/authority").status_code == 403

    anonymous = app.test_client().get("/reports/indicators")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_the_trainer_of_another_course_sees_none_of_its_runs(
    app: Flask, world: World, make_trainer: Callable[..., User]
) -> None:
    """Issue 18: any trainer could read any run's report and its export (names, emails, scores)."""
    other_course = Course(slug="other-course", title="Other course")
    db.session.add(other_course)
    db.session.commit()
    outsider = signed_in(app, make_trainer(other_course))
    run = f"/reports/runs/{world.r1.id}"
    for url in (run, f"{run}/export", f"{run}/export?format=xlsx", f"{run}?view=stuck&days=7"):
        response = outsider.get(url)
        assert response.status_code == 403, url
        assert "Person p1" not in response.get_data(as_text=True), url
    assert "R1 self-paced" not in outsider.get("/reports/").get_data(as_text=True)
    own = signed_in(app, make_trainer(world.course))
    assert "R1 self-paced" in own.get("/reports/").get_data(as_text=True)


def test_focal_point_sees_their_authority_only(
    app: Flask, world: World, make_user: Callable[..., User]
) -> None:
    focal = signed_in(app, make_user(Role.FOCAL_POINT, authority=world.a1))
    page = focal.get("/reports/authority").get_data(as_text=True)
    assert "Person p1" in page and "Person p2" in page
    assert "Person p3" not in page and "Person p4" not in page  # staff of A2
    # Asking for the other authority by URL shows nothing of it.
    assert focal.get(f"/reports/authority?authority={world.a2.id}").status_code == 403
    assert focal.get(f"/reports/authority/export?authority={world.a2.id}").status_code == 403
    exported = focal.get("/reports/authority/export").get_data(as_text=True)
    assert "Person p1" in exported and "Person p4" not in exported
    assert focal.get(f"/reports/runs/{world.r1.id}").status_code == 403
    assert focal.get("/reports/indicators").status_code == 403


# --- trainer report ---------------------------------------------------------------------------------


def test_run_report_rows_filters_sorting_and_stuck_view(
    app: Flask, world: World, make_trainer: Callable[..., User]
) -> None:
    client = signed_in(app, make_trainer(world.course))
    page = client.get(f"/reports/runs/{world.r1.id}").get_data(as_text=True)
    assert "Person p1" in page and "Person p2" in page and "Person p3" in page
    assert "Person p4" not in page  # R2 only
    assert "2 / 4" in page and "50%" in page  # p2: 2 of 4 lessons
    assert "85%" in page  # p1's best final attempt (75, then 85)
    assert "Mar 10, 2026" in page  # p1's completion date, locale-formatted (issue 8)

    by_progress = client.get(f"/reports/runs/{world.r1.id}?sort=progress&order=desc").get_data(as_text=True)
    assert by_progress.index("Person p1") < by_progress.index("Person p2") < by_progress.index("Person p3")
    sneaky = client.get(f"/reports/runs/{world.r1.id}?sort=email);drop table user;--")
    assert sneaky.status_code == 200  # not an allowed key: the default order is used

    completed = client.get(f"/reports/runs/{world.r1.id}?status=completed").get_data(as_text=True)
    assert "Person p1" in completed and "Person p2" not in completed
    moldova = client.get(f"/reports/runs/{world.r1.id}?country=MD").get_data(as_text=True)
    assert "Person p3" in moldova and "Person p1" not in moldova
    a2 = client.get(f"/reports/runs/{world.r1.id}?authority={world.a2.id}").get_data(as_text=True)
    assert "Person p3" in a2 and "Person p2" not in a2

    stuck = client.get(f"/reports/runs/{world.r1.id}?view=stuck&days=7").get_data(as_text=True)
    assert "Person p2" in stuck  # enrolled, last activity in March 2026
    assert "Person p1" not in stuck and "Person p3" not in stuck  # completed / withdrawn
    assert "stuck" in stuck


def test_run_report_export_is_csv_with_bom_and_no_formulas(
    app: Flask, world: World, make_trainer: Callable[..., User]
) -> None:
    world.people["p2"].given_name = '=HYPERLINK("http://evil")'
    world.people["p2"].family_name = "@SUM(A1)"
    db.session.commit()
    client = signed_in(app, make_trainer(world.course))
    response = client.get(f"/reports/runs/{world.r1.id}/export?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "enrolment_id"
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'@SUM(A1), =HYPERLINK("http://evil")' in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    xlsx = client.get(f"/reports/runs/{world.r1.id}/export?format=xlsx")
    assert xlsx.data[:2] == b"PK"


# --- admin indicator report ----------------------------------------------------------------------------


def test_indicator_page_shows_numbers_definitions_and_charts(
    app: Flask, world: World, make_user: Callable[..., User]
) -> None:
    client = signed_in(app, make_user(Role.ADMIN))
    page = client.get("/reports/indicators").get_data(as_text=True)
    assert "all required (published) lesson done" not in page
    assert "every required (published) lesson done and the final assessment passed" in page
    assert "divided by 8" in page
    # three charts of the enrolments, one of the trainings (participant-days per period)
    assert page.count("<svg") == 4 and page.count("<title id=") == 4
    assert "75.0%" in page  # completion rate of the total
    assert "Moldova" in page and "Border Police of Moldova" in page
    suppressed = client.get("/reports/indicators?suppress=y&threshold=2").get_data(as_text=True)
    assert "&lt;2" in suppressed
    exported = client.get("/reports/indicators/export?suppress=y&threshold=2").get_data(as_text=True)
    assert "<2" in exported
    facts = client.get("/reports/indicators/enrolments").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(facts)))) == 1 + 4  # header + the enrolments in scope


# --- queries: constant counts ----------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_data(app: Flask, world: World, make_user: Callable[..., User]) -> None:
    admin = signed_in(app, make_user(Role.ADMIN, Role.TRAINER))
    focal = signed_in(app, make_user(Role.FOCAL_POINT, authority=world.a1))
    urls = [
        (admin, "/reports/"),
        (admin, f"/reports/runs/{world.r1.id}"),
        (admin, f"/reports/runs/{world.r1.id}?view=stuck&days=3&sort=progress"),
        (admin, "/reports/indicators"),
        (admin, f"/reports/indicators?course={world.course.id}&suppress=y"),
        (focal, "/reports/authority"),
        (trainee_client := signed_in(app, world.people["p2"]), "/dashboard"),
    ]

    def counts() -> list[int]:
        result = []
        for client, url in urls:
            db.session.expire_all()  # the tests share the request's session: start each page cold
            with counted() as statements:
                assert client.get(url).status_code == 200, url
            result.append(len([s for s in statements if s.split()[0] not in {"BEGIN", "COMMIT", "ROLLBACK"}]))
        return result

    counts()  # warm-up: per-process caches (settings) fill on the first request
    small = counts()
    add_trainees(world, 60, _TEST_PASSWORD_HASH)  # more than a page of rows
    assert counts() == small
    assert trainee_client is not None

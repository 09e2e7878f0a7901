"""Survey results pages (lms/surveys/views/results.py): who may see them, the minimum group of five on the
page and in the downloads, free text shown inert, odd ids and filters, Arabic right to left, a fixed
number of queries, and axe on the run's results page in English and Arabic."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import event

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.surveys.models import RunSurvey
from tests.a11y_support import axe_violations, describe
from tests.conftest import browser_sign_in, login
from tests.survey_results_support import (
    attach,
    end_of_course_form,
    follow_up_form,
    make_course,
    make_run,
    relevant_answers,
    respond,
)

SCRIPT = "<script>alert(1)</script>"
MARKDOWN = "**bold** and [a link](javascript:alert(1))"


@dataclass
class Scene:
    course: Course
    run: CourseRun
    attached: RunSurvey
    trainer: User


def _scene(make_trainer: Callable[..., User], answers: int) -> Scene:
    course = make_course()
    run = make_run(course)
    attached = attach(run, end_of_course_form())
    attach(run, follow_up_form())
    comments = [SCRIPT, MARKDOWN, "Useful", "More practice", "Good trainers"]
    for given in relevant_answers([5, 4, 2, 5, 3, 4, 4, 5][:answers], comments):
        respond(attached, given)
    db.session.commit()
    return Scene(course, run, attached, make_trainer(course))


@pytest.fixture
def scene(app: Flask, make_trainer: Callable[..., User]) -> Scene:
    return _scene(make_trainer, 5)


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def _urls(scene: Scene) -> list[str]:
    run, course = scene.run.id, scene.course.id
    return [f"/surveys/results/runs/{run}", f"/surveys/results/runs/{run}/export?format=csv",
            f"/surveys/results/courses/{course}", f"/surveys/results/courses/{course}/over-time",
            f"/surveys/results/courses/{course}/export?format=xlsx"]  # fmt: skip


def test_only_admins_and_the_course_trainers_see_results(
    app: Flask, scene: Scene, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    other_trainer = make_trainer(make_course("Another course"))
    refused = [make_user(Role.TRAINEE), make_user(Role.FOCAL_POINT), other_trainer]
    for url in _urls(scene):
        assert app.test_client().get(url).status_code == 302, url  # anonymous: to the sign-in page
        for person in refused:
            assert _client(app, person).get(url).status_code == 403, (url, person.roles)
        for person in (scene.trainer, make_user(Role.ADMIN)):
            assert _client(app, person).get(url).status_code == 200, url


def test_odd_ids_and_filters_never_answer_500(
    app: Flask, scene: Scene, make_user: Callable[..., User]
) -> None:
    admin = _client(app, make_user(Role.ADMIN))
    for url in ("/surveys/results/runs/999999", "/surveys/results/runs/99999999999999999999",
                "/surveys/results/courses/0", "/surveys/results/courses/2147483648/over-time",
                "/surveys/results/runs/999999/export", "/surveys/results/courses/999999/export"):  # fmt: skip
        assert admin.get(url).status_code == 404, url
    course = scene.course.id
    assert admin.get(f"/surveys/results/courses/{course}?kind=nope&language=xx").status_code == 400
    assert admin.get(f"/surveys/results/courses/{course}/over-time?period=decade").status_code == 400
    assert admin.get(f"/surveys/results/courses/{course}/export?kind=nope").status_code == 400
    assert admin.get(f"/surveys/results/runs/{scene.run.id}/export?format=pdf").status_code == 400


def test_five_responses_show_figures_and_inert_free_text(app: Flask, scene: Scene) -> None:
    page = _client(app, scene.trainer).get(f"/surveys/results/runs/{scene.run.id}").get_data(as_text=True)
    assert "The course was relevant to my work" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and SCRIPT not in page
    assert "**bold** and [a link](javascript:alert(1))" in page and "<strong>bold" not in page
    assert 'href="javascript' not in page
    assert "3.8" in page  # mean of 5, 4, 2, 5, 3
    assert "60.0%" in page  # 4-5 of 5: three of five
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page


def test_four_responses_show_not_enough_everywhere(
    app: Flask, make_trainer: Callable[..., User], make_user: Callable[..., User]
) -> None:
    scene = _scene(make_trainer, 4)
    client = _client(app, scene.trainer)
    for url in (f"/surveys/results/runs/{scene.run.id}", f"/surveys/results/courses/{scene.course.id}",
                f"/surveys/results/courses/{scene.course.id}/over-time"):  # fmt: skip
        page = client.get(url).get_data(as_text=True)
        assert "Not enough responses" in page, url
        assert "alert(1)" not in page and "Useful" not in page and "3.5" not in page, url
    exported = client.get(f"/surveys/results/runs/{scene.run.id}/export?format=csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    result_values = {
        r["value"] for r in rows if r["measure"] not in ("invited", "answered", "response_rate_percent")
    }
    assert result_values == {"not enough responses"}
    workbook = load_workbook(
        io.BytesIO(client.get(f"/surveys/results/courses/{scene.course.id}/export?format=xlsx").data)
    )
    values = [row[7] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert values and set(values) == {"not enough responses"}


def test_downloads_with_five_responses_hold_the_figures(app: Flask, scene: Scene) -> None:
    client = _client(app, scene.trainer)
    text = client.get(f"/surveys/results/runs/{scene.run.id}/export").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    means = {r["item_key"]: r["value"] for r in rows if r["measure"] == "mean"}
    assert means["relevant"] == "3.8"
    texts = {r["value"] for r in rows if r["measure"] == "text"}
    assert "'**bold** and [a link](javascript:alert(1))" not in texts and MARKDOWN in texts
    book = load_workbook(
        io.BytesIO(client.get(f"/surveys/results/runs/{scene.run.id}/export?format=xlsx").data)
    )
    cells = [row for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert ("end_of_course", str(scene.run.id), "relevant") == cells[2][:3]
    assert any(row[5] == "mean" and row[7] == 3.8 for row in cells)


def test_arabic_page_reads_right_to_left(app: Flask, scene: Scene) -> None:
    scene.trainer.preferred_language = "ar"
    db.session.commit()
    page = _client(app, scene.trainer).get(f"/surveys/results/runs/{scene.run.id}").get_data(as_text=True)
    assert 'dir="rtl"' in page and 'lang="ar"' in page
    assert "كانت الدورة مفيدة" in page  # the prompt in Arabic


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        if not str(args[2]).startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_fixed_number_of_queries(app: Flask, scene: Scene) -> None:
    client = _client(app, scene.trainer)
    urls = [f"/surveys/results/runs/{scene.run.id}", f"/surveys/results/courses/{scene.course.id}"]
    before = []
    for url in urls:
        db.session.commit()  # as in a fresh request: nothing of the test's rows kept in the session
        with counted() as statements:
            assert client.get(url).status_code == 200
        before.append(len(statements))
    second = make_run(scene.course)
    attached = attach(second, end_of_course_form())
    for given in relevant_answers([4] * 30, ["x"] * 30):
        respond(attached, given)
    db.session.commit()
    after = []
    for url in urls:
        db.session.commit()
        with counted() as statements:
            assert client.get(url).status_code == 200
        after.append(len(statements))
    assert after == before


@pytest.mark.browser
def test_no_axe_violation_on_the_results_page(page: Any, live_server: str, scene: Scene) -> None:
    browser_sign_in(page, live_server, scene.trainer)
    found = {}
    for language in ("en", "ar"):
        page.context.request.post(f"{live_server}/language", form={"language": language, "next": "/"})
        page.goto(f"{live_server}/surveys/results/runs/{scene.run.id}")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
        if violations := axe_violations(page, contrast=language == "en"):
            found[language] = violations
    assert not found, describe(found)

"""What people tripped over in a real browser (issue 18): the admin's bulk certificate issue, the
indicator report's charts and tables, tables and cards on phones, the admin menu."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrolment import services as enrolment_services
from lms.enrolment.models import EnrolmentMethod
from lms.extensions import db
from lms.orgs.models import Authority
from tests.conftest import _TEST_PASSWORD_HASH, TEST_PASSWORD
from tests.conftest_mail import job_queue
from tests.enrolment_support import make_course, make_run
from tests.reports_support import build_world
from tests.test_certificates import complete_course, tiny_course

__all__ = ["tiny_course"]  # the fixture, shared with test_certificates


def sign_in(page: Any, base: str, user: User) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/dashboard")


# --- Completed, not issued: one person out of several -------------------------------------------


@pytest.mark.browser
def test_admin_issues_a_certificate_to_one_person_of_the_list(
    app: Flask, live_server: str, page: Any, make_user: Callable[..., User], tiny_course: Course
) -> None:
    """Every checkbox carried `required` (DataRequired's flag), so the browser refused the form
    unless all of them were ticked."""
    run = enrolment_services.ensure_default_run(tiny_course)
    run.certificate_issuance = "approval"
    db.session.commit()
    people = [
        make_user(Role.TRAINEE, given_name=name, family_name="Tester") for name in ("Ada", "Ben", "Cleo")
    ]
    for person in people:
        complete_course(person, tiny_course)
    admin = make_user(Role.ADMIN)
    sign_in(page, live_server, admin)
    page.goto(f"{live_server}/admin/certificates/pending")

    with job_queue(app) as jobs:
        page.get_by_label("Ben Tester", exact=False).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Issue certificates to the selected people").click()
        jobs.run()  # the issue may be a background job (one per certificate)
    issued = db.session.scalars(select(Certificate.user_id)).all()
    assert issued == [people[1].id]
    page.goto(f"{live_server}/admin/certificates/pending")
    listed = page.locator("main form").inner_text()
    assert "Ada Tester" in listed and "Cleo Tester" in listed and "Ben Tester" not in listed
    assert page.locator("input[type=checkbox][required]").count() == 0

    # none ticked: the server says so (the browser no longer stops the form)
    page.get_by_role("button", name="Issue certificates to the selected people").click()
    assert "Choose at least one person." in page.locator(".error-summary").inner_text()
    assert db.session.scalar(select(db.func.count(Certificate.id))) == 1


# --- Approving when the authority's quota is full ---------------------------------------------------


@pytest.mark.browser
def test_approval_says_the_authoritys_quota_is_why_someone_waits(
    live_server: str, page: Any, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    """'Enrolled: 0. Waiting list: 1.' while the run showed free seats: the admin was not told that the
    authority had used its quota."""
    ukraine = make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")
    course = make_course()
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=10, quotas={ukraine.id: 1})
    focal = make_user(Role.FOCAL_POINT, authority=ukraine)
    first, second = make_user(authority=ukraine), make_user(authority=ukraine, given_name="Second")
    enrolment_services.approve(enrolment_services.nominate(focal, run, first, "front line"), focal)
    enrolment_services.nominate(focal, run, second, "front line")
    db.session.commit()
    run_id = run.id

    sign_in(page, live_server, make_user(Role.ADMIN))
    page.goto(f"{live_server}/admin/course-runs/{run_id}")
    page.get_by_label(f"Select {second.full_name}").check()
    page.get_by_role("button", name="Approve selected").click()
    flashes = page.locator(".flashes").inner_text()
    assert "Enrolled: 0. Waiting list: 1." in flashes
    assert "State Border Guard Service of Ukraine has used its quota of 1 seat(s) in this run" in flashes


# --- A focal point's nomination list ----------------------------------------------------------------


@pytest.mark.browser
def test_a_focal_point_is_not_offered_herself_to_nominate(
    live_server: str, page: Any, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    ukraine = make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")
    run = make_run(make_course(), EnrolmentMethod.NOMINATION)
    focal = make_user(Role.FOCAL_POINT, authority=ukraine, given_name="Iryna", family_name="Bondarenko")
    colleague = make_user(authority=ukraine, given_name="Olena", family_name="Koval")
    db.session.commit()
    run_id = run.id

    sign_in(page, live_server, focal)
    page.goto(f"{live_server}/authority/runs/{run_id}/nominate")
    labels = page.locator("#nominate-existing label.checkbox").all_inner_texts()
    assert any(colleague.full_name in label for label in labels), labels
    assert not any(focal.full_name in label for label in labels), labels


# --- The indicator report: its own CSP, readable charts on a phone, tables that fit a desktop ---------

CHART_FONT_SIZES = """() => [...document.querySelectorAll('svg.chart text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * t.closest('svg').getScreenCTM().a)"""


def open_indicators(page: Any, base: str, width: int, make_user: Callable[..., User]) -> list[str]:
    """Signed in as an admin, the report at this width; returns the console's CSP errors."""
    page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, base, make_user(Role.ADMIN))
    page.goto(f"{base}/reports/indicators")
    page.wait_for_load_state("load")
    return errors


@pytest.mark.browser
def test_indicator_charts_obey_the_csp_and_stay_readable_on_a_phone(
    live_server: str, page: Any, make_user: Callable[..., User]
) -> None:
    """The charts' inline style="max-width:…" was refused by the app's own style-src 'self' (three console
    errors), and a 640-unit drawing shrunk to a phone's width wrote its labels at ~5 px."""
    build_world(_TEST_PASSWORD_HASH, extra_trainees=6)
    errors = open_indicators(page, live_server, 390, make_user)
    assert errors == []
    sizes = page.evaluate(CHART_FONT_SIZES)
    assert len(sizes) > 6 and min(sizes) >= 10, sizes
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    # the chart sections stand apart from each other
    boxes = [block.bounding_box() for block in page.locator(".chart-block").all()]
    assert len(boxes) == 3
    for above, below in itertools.pairwise(boxes):
        assert below["y"] - (above["y"] + above["height"]) >= 8, boxes


@pytest.mark.browser
def test_indicator_tables_fit_a_desktop_without_scrolling(
    live_server: str, page: Any, make_user: Callable[..., User]
) -> None:
    build_world(_TEST_PASSWORD_HASH, extra_trainees=6)
    open_indicators(page, live_server, 1280, make_user)
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.indicator-table')]
            .map(t => t.closest('.table-scroll'))
            .filter(box => box.scrollWidth > box.clientWidth + 1)
            .map(box => box.querySelector('caption').textContent)"""
    )
    assert overflowing == []
    sizes = page.evaluate(CHART_FONT_SIZES)
    assert min(sizes) >= 12 and max(sizes) <= 18, sizes  # not shrunk, not blown up either

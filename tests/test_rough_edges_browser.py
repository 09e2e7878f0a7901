"""What people tripped over in a real browser (issue 18): the admin's bulk certificate issue, the
indicator report's charts and tables, tables and cards on phones, the admin menu."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.courses.models import Course, Lesson
from lms.enrolment import nominations as enrolment_nominations
from lms.enrolment import runs as enrolment_runs
from lms.enrolment.models import EnrolmentMethod
from lms.extensions import db
from lms.orgs.models import Authority
from lms.reports.charts import Bar, horizontal_bars
from tests.a11y_support import choose_language, load_academy
from tests.a11y_support import sign_in as academy_sign_in
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
    run = enrolment_runs.ensure_default_run(tiny_course)
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
    enrolment_nominations.approve(enrolment_nominations.nominate(focal, run, first, "front line"), focal)
    enrolment_nominations.nominate(focal, run, second, "front line")
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
    assert len(boxes) == 4  # by country, authority, sex; the trainings (issue 20)
    for above, below in itertools.pairwise(boxes):
        assert below["y"] - (above["y"] + above["height"]) >= 8, boxes
    # every label and number inside its drawing, in Arabic too (its digits run wider): none cut off
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/reports/indicators")
        outside = page.evaluate(
            """() => [...document.querySelectorAll('svg.chart text')].filter(t => {
                const box = t.getBBox(), width = t.closest('svg').viewBox.baseVal.width;
                return box.x < 0 || box.x + box.width > width; }).map(t => t.textContent)"""
        )
        assert outside == [], (language, outside)


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


# --- Phones: tables that scroll say so, cards of a row are equally tall -------------------------------

SCROLL_SIGN = """(box) => {
    const style = getComputedStyle(box);
    return style.backgroundImage.includes('radial-gradient') && style.backgroundAttachment.includes('local');
}"""


@pytest.mark.browser
def test_phone_tables_show_they_scroll_and_cards_line_up(app: Flask, live_server: str, browser: Any) -> None:
    """My certificates hid its download column (and in Arabic cut the status badge) with no sign that the
    table scrolls; a lesson's table squeezed to one word a line; cards of one row had unequal heights."""
    load_academy()
    lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.slug == "four-tier-access-control"))
    for language in ("en", "ar"):
        context = browser.new_context(viewport={"width": 390, "height": 900}, service_workers="block")
        page = context.new_page()
        page.set_default_timeout(10_000)
        academy_sign_in(page, live_server, "trainee")
        choose_language(page, live_server, language)

        page.goto(f"{live_server}/certificates")
        box = page.locator(".table-scroll").first
        assert box.evaluate("b => b.scrollWidth > b.clientWidth + 1")  # a phone is too narrow for it
        assert box.evaluate(SCROLL_SIGN), "no shadow at the edge that hides columns"
        # what a holder comes for is in view without scrolling the table: its state and the PDF
        in_view = """(element) => { const r = element.getBoundingClientRect();
            const box = element.closest('.table-scroll').getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right; }"""
        assert page.locator(".my-certificates a[href$='.pdf']").first.evaluate(in_view)
        assert page.locator(".my-certificates .badge").first.evaluate(in_view)
        course_cell = page.locator(".table-scroll tbody td").first
        assert course_cell.evaluate("td => td.getBoundingClientRect().width") >= 140  # not a word a line

        page.goto(f"{live_server}/courses/ibm-foundations/lessons/{lesson_id}")
        table = page.locator(".lesson-body table").first
        assert table.evaluate(SCROLL_SIGN)
        widths = (
            table.locator("tbody tr")
            .first.locator("td")
            .evaluate_all("cells => cells.map(c => c.getBoundingClientRect().width)")
        )
        assert min(widths) >= 120, widths
        context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    academy_sign_in(page, live_server, "trainee")
    for path in ("/", "/dashboard"):
        page.goto(f"{live_server}{path}")
        heights = page.locator(".card-grid > .card").evaluate_all(
            """cards => cards.map(c => [Math.round(c.getBoundingClientRect().top),
                                        Math.round(c.getBoundingClientRect().height)])"""
        )
        rows: dict[int, set[int]] = {}
        for top, height in heights:
            rows.setdefault(top, set()).add(height)
        assert len(heights) >= 2 and all(len(row) == 1 for row in rows.values()), (path, heights)
    context.close()


# --- The admin menu: grouped, usable with the keyboard and without script ----------------------------


@pytest.mark.browser
@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_admin_menu_is_one_row_with_a_group_opened_by_keyboard(
    live_server: str, browser: Any, make_user: Callable[..., User], script: bool
) -> None:
    """Thirteen links wrapped to two rows at 1280 px: the admin pages are one group now."""
    admin = make_user(Role.ADMIN)
    db.session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=script)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, admin)
    bar = page.locator(".nav-bar .main-nav > ul")
    tops = bar.locator(":scope > li").evaluate_all(
        "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1 and len(tops) <= 8, tops  # one row

    people = bar.get_by_role("link", name="People", exact=True)
    expect(people).not_to_be_visible()
    bar.locator("summary", has_text="Administration").focus()
    page.keyboard.press("Enter")
    expect(people).to_be_visible()
    page.keyboard.press("Tab")  # the group's first link
    assert page.evaluate("() => document.activeElement.closest('.nav-bar details') !== null")
    if script:  # Escape closes the group and returns to its summary (app.js)
        page.keyboard.press("Escape")
        expect(people).not_to_be_visible()
        assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
        page.keyboard.press("Enter")
    people.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/people")
    # the page's own group says where we are
    assert bar.locator("details:has(a[aria-current=page]) > summary").inner_text().strip() == "Administration"

    page.set_viewport_size({"width": 390, "height": 900})
    page.locator("details.nav-menu > summary").click()
    menu = page.locator("details.nav-menu .main-nav")
    menu.locator("summary", has_text="Administration").click()
    menu.get_by_role("link", name="Authorities", exact=True).click()
    page.wait_for_url(f"{live_server}/admin/authorities")
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_full_bar_keeps_its_number_inside_the_chart(live_server: str, page: Any, language: str) -> None:
    """A 100 % bar's "100.0%" ran past the drawing's right edge and was cut off (in the app's fonts)."""
    bars = [Bar("Bosnia and Herzegovina", 100.0, "100.0%"), Bar("Moldova", 42.9, "42.9%")]
    svg = horizontal_bars("c", "Completion rate by country", "d", bars, maximum=100.0)
    direction = "rtl" if language == "ar" else "ltr"
    page.set_content(
        f'<!doctype html><html lang="{language}" dir="{direction}"><head>'
        f'<link rel="stylesheet" href="{live_server}/static/css/app.css"></head><body>{svg}</body></html>'
    )
    outside = page.evaluate(
        """() => [...document.querySelectorAll('svg text')].filter(t => {
            const box = t.getBBox(), width = t.closest('svg').viewBox.baseVal.width;
            return box.x < 0 || box.x + box.width > width; }).map(t => t.textContent)"""
    )
    assert outside == []

"""The "Select all" box of the lists of people an admin or a focal point acts on at once
(lms/static/js/app.js): it ticks and clears every box of its group that can be changed, shows "some" while
part is ticked, is never sent itself, and leaves a box that cannot be chosen (someone already in the run)
alone."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from lms.enrolment.models import CourseRun
from lms.extensions import db
from tests.a11y_support import choose_language, load_academy, sign_in

pytestmark = pytest.mark.browser


def _state(page: Any, group: str) -> dict[str, Any]:
    return page.evaluate(
        """(group) => {
            const all = document.querySelector(group + ' .select-all input');
            const boxes = [...document.querySelectorAll(group + ' input[type=checkbox]')]
                .filter(b => b !== all);
            return {all: all.checked, some: all.indeterminate, label: all.parentElement.textContent.trim(),
                    ticked: boxes.filter(b => b.checked).length,
                    enabled: boxes.filter(b => !b.disabled).length,
                    disabled_ticked: boxes.filter(b => b.disabled && b.checked).length};
        }""",
        group,
    )


def test_select_all_on_the_certificates_waiting_for_an_admin(page: Any, live_server: str) -> None:
    load_academy()
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/certificates/pending")
    group = "main fieldset[data-select-all]"
    boxes = page.locator(f"{group} .checkbox-list input[type=checkbox]")
    count = boxes.count()
    assert count >= 2  # the demo cohort's completed, not issued
    assert _state(page, group) == {"all": False, "some": False, "label": f"Select all ({count})", "ticked": 0,
                                   "enabled": count, "disabled_ticked": 0}  # fmt: skip
    boxes.first.check()  # one ticked: "some"
    state = _state(page, group)
    assert (state["all"], state["some"], state["ticked"]) == (False, True, 1)
    page.locator(f"{group} .select-all input").check()  # all
    state = _state(page, group)
    assert (state["all"], state["some"], state["ticked"]) == (True, False, count)
    page.locator(f"{group} .select-all input").uncheck()  # none
    state = _state(page, group)
    assert (state["all"], state["some"], state["ticked"]) == (False, False, 0)
    for index in range(count):  # all, one by one: the box follows
        boxes.nth(index).check()
    assert _state(page, group)["all"] is True

    with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/admin/certificates/pending")
    ) as sent:
        page.locator("main form button[type=submit]").click()
    fields = parse_qs(sent.value.post_data or "")
    assert len(fields["enrolments"]) == count
    assert set(fields) - {"csrf_token"} == {"enrolments"}  # the select-all box sends nothing
    page.wait_for_load_state()


def test_select_all_leaves_people_already_in_the_run_alone_in_arabic(page: Any, live_server: str) -> None:
    load_academy()
    run_ids = list(db.session.scalars(select(CourseRun.id).order_by(CourseRun.id)))
    sign_in(page, live_server, "focal_point")
    choose_language(page, live_server, "ar")
    group = "#nominate-existing fieldset[data-select-all]"
    for run_id in run_ids:  # a run the focal point may nominate for, with some of the staff already in it
        response = page.goto(f"{live_server}/authority/runs/{run_id}/nominate")
        if response is None or response.status != 200 or not page.locator(f"{group} .select-all").count():
            continue
        if page.locator(f"{group} input[type=checkbox]:disabled").count():
            break
    else:
        pytest.fail("no demo run has staff both in it and free to nominate")
    assert page.locator("html").get_attribute("dir") == "rtl"
    enabled = _state(page, group)["enabled"]
    page.locator(f"{group} .select-all input").check()
    state = _state(page, group)
    assert state["label"] == f"تحديد الكل ({enabled})"
    assert (state["all"], state["ticked"], state["disabled_ticked"]) == (True, enabled, 0)
    page.go_back()
    page.go_forward()  # the boxes the browser restores, and the select-all box with them
    state = _state(page, group)
    assert state["all"] is (state["ticked"] == enabled)

"""The admin's menu bar is one row at 1280 px in every language (issue 18). Grouping the admin pages made it
one row in English, but the demo admin (also a trainer: quiz results, sessions, authoring, reports) still got
two rows in French and Russian, whose words are longer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.a11y_support import choose_language, load_academy
from tests.a11y_support import sign_in as academy_sign_in

pytestmark = pytest.mark.browser


def test_admin_menu_is_one_row_at_1280_in_every_language(live_server: str, browser: Any) -> None:
    load_academy()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(10_000)
    academy_sign_in(page, live_server, "admin")
    rows: dict[str, list[int]] = {}
    for language in ("en", "fr", "ru", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/admin/settings")
        assert page.locator("html").get_attribute("lang") == language
        tops = page.locator(".nav-bar .main-nav > ul > li").evaluate_all(
            "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
        )
        assert len(tops) == 8, tops  # seven pages and the Administration group
        rows[language] = sorted(set(tops))
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
    assert all(len(tops) == 1 for tops in rows.values()), rows

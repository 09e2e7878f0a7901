"""Shared by the accessibility, keyboard, page-weight and offline browser tests (issue 11).

`academy`: the demo academy of `make run` (reference data, every course in courses/, demo people and
progress) loaded into the test database. `sign_in` and `choose_language` drive a Playwright page.
`axe_violations` runs the vendored axe-core (tests/vendor/axe.min.js) against the open page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lms.content.loader import load_all
from lms.content.services import sync_course
from lms.demo.load import load_demo_data
from lms.demo.services import DEMO_PASSWORD
from lms.enrolment.runs import ensure_default_run
from lms.extensions import db
from lms.orgs.services import load_reference_data

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AXE_SOURCE = (PROJECT_ROOT / "tests" / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# WCAG 2.0/2.1 A and AA, plus axe's best practices that matter here (landmarks, one h1, headings order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

ROLE_EMAILS = {
    "trainee": "trainee@academy.test",
    "focal_point": "focal.ua@academy.test",
    "trainer": "trainer@academy.test",
    "admin": "admin@academy.test",
}


def load_academy() -> None:
    load_reference_data()
    specs, problems = load_all(PROJECT_ROOT / "courses")
    assert not problems, problems
    for spec in specs:
        ensure_default_run(sync_course(spec).course)
    db.session.commit()
    load_demo_data()
    db.session.commit()


def sign_in(page: Any, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", ROLE_EMAILS[role])
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{role} could not sign in"


def choose_language(page: Any, base: str, language: str) -> None:
    response = page.context.request.post(f"{base}/language", form={"language": language, "next": "/"})
    assert response.ok


def axe_violations(page: Any, contrast: bool = True) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)  # evaluated through the DevTools protocol: the page's CSP does not apply
    result = page.evaluate(
        """async ([tags, contrast]) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'], rules: {'color-contrast': {enabled: contrast}}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        [AXE_TAGS, contrast],
    )
    return list(result)


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, violations in found.items():
        for violation in violations:
            lines.append(f"{where}: {violation['id']} ({violation['impact']}) {violation['help']}")
            lines.extend(f"    {node}" for node in violation["nodes"])
    return "\n".join(lines)

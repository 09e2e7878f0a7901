"""Screenshots of the main pages for docs/screenshots/ (`make screenshots`; docs/design.md).

Builds a throw-away demo academy in a temporary folder (as `make setup` does: reference data, the course
folders, the demo people), serves it on a free local port, signs in once as each role and writes
`<page>-<lang>-<desktop|phone>.png` (full page, 1280 and 360 px wide) in English, Russian, French and
Arabic, plus `menu-open-<lang>-phone.png` (the phone menu opened with the keyboard). Each PNG is reduced
to 256 colours with Pillow. Pages that scroll sideways at phone width are listed at the end (and make the
exit status 1): at 360 px only tables may scroll, inside their own container.

    .venv/bin/python -m tests.screenshots [--out DIR] [--languages en,ar] [--widths phone] [--pages quiz]
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
LANGUAGES = ("en", "ru", "fr", "ar")
WIDTHS = {"desktop": 1280, "phone": 360}
PASSWORD = "academy-demo-2026"  # the documented demo password (lms/demo/services.py, README)
PEOPLE = {
    "trainee": "trainee@academy.test",
    "focal_point": "focal.ua@academy.test",
    "trainer": "trainer@academy.test",
    "admin": "admin@academy.test",
}
COURSE = "ibm-foundations"  # in all four languages
QUIZ = "final-assessment"
# An attempt keeps the language it was drawn in and the final assessment allows three: each language
# gets its own trainee for the quiz pages, studying the course in that language (made here, not in the demo).
QUIZ_TAKERS = {
    "en": ("Amira", "Mansour", None),
    "ru": ("Dmitri", "Sokolov", "Дмитрий Соколов"),
    "fr": ("Karim", "Benali", None),
    "ar": ("Youssef", "Khalil", "يوسف خليل"),
}


@dataclass(frozen=True)
class Shot:
    name: str
    role: str  # "anonymous", a key of PEOPLE, or "quiz_taker" (the one of the language)
    path: str
    prepare: Callable[[Any], None] | None = None  # run on the loaded page before the picture


def start_attempt(page: Any) -> None:
    """The quiz page itself: start the attempt, or resume the one already open."""
    page.locator("form[action$='/start'] button[type=submit]").click()
    page.wait_for_url("**/quiz-attempts/**")


def shots(facts: dict[str, Any]) -> list[Shot]:
    course, lesson = f"/courses/{COURSE}", facts["lesson_id"]
    authoring = f"/authoring/courses/{facts['course_id']}"
    return [
        Shot("login", "anonymous", "/login"),
        Shot("register", "anonymous", "/register"),
        Shot("verify", "anonymous", f"/verify/{facts['certificate']}"),
        Shot("catalogue", "trainee", "/"),
        Shot("dashboard", "trainee", "/dashboard"),
        Shot("course", "trainee", course),
        Shot("lesson", "trainee", f"{course}/lessons/{lesson}"),
        # The attempt first: the overview then shows it in progress in every picture, not only the first.
        Shot("quiz", "quiz_taker", f"{course}/quizzes/{QUIZ}", start_attempt),
        Shot("quiz-overview", "quiz_taker", f"{course}/quizzes/{QUIZ}"),
        Shot("certificates", "trainee", "/certificates"),
        Shot("runs", "trainee", "/runs"),
        Shot("account", "trainee", "/account"),
        Shot("focal-point-authority", "focal_point", "/authority"),
        Shot("authoring", "trainer", "/authoring/"),
        Shot("authoring-course", "trainer", authoring),
        Shot("authoring-lesson", "trainer", f"{authoring}/lessons/{facts['lesson_slug']}"),
        Shot("trainer-quizzes", "trainer", "/trainer/quizzes"),
        Shot("reports", "trainer", "/reports/"),
        Shot("reports-run", "trainer", f"/reports/runs/{facts['run_id']}"),
        Shot("reports-indicators", "admin", "/reports/indicators"),
        Shot("admin-people", "admin", "/admin/people"),
        Shot("admin-authorities", "admin", "/admin/authorities"),
        Shot("admin-course-runs", "admin", "/admin/course-runs"),
        Shot("admin-certificates", "admin", "/admin/certificates"),
        Shot("admin-audit", "admin", "/admin/audit"),
        Shot("admin-settings", "admin", "/admin/settings"),
    ]


# --- the demo academy ------------------------------------------------------------------------------------


def demo_app(instance: Path) -> Flask:
    from lms import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'lms.sqlite'}",
            "SECRET_KEY": "screenshots-only",
            "MAIL_BACKEND": "file",
            # a demo on 127.0.0.1 issues certificates, as `make run` lets it (LMS_ALLOW_LOOPBACK_ISSUER)
            "ALLOW_LOOPBACK_ISSUER": True,
        }
    )
    from lms.extensions import db

    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    for command in (["orgs", "load"], ["content", "sync"], ["demo", "load"]):
        with app.app_context():
            result = runner.invoke(args=["lms", *command])
        if result.exit_code != 0:
            raise SystemExit(
                f"flask lms {' '.join(command)} failed:\n{result.output}{result.exception or ''}"
            )
    return app


def quiz_taker_email(language: str) -> str:
    return f"quiz-{language}@academy.test"


def add_quiz_takers(app: Flask) -> None:
    from lms.auth.services import Registration, register_user
    from lms.courses.models import Course
    from lms.db import utcnow
    from lms.enrolment import completion as enrolment_completion
    from lms.enrolment import runs as enrolment_runs
    from lms.enrolment import self_service as enrolment_self_service
    from lms.extensions import db
    from lms.orgs.models import Authority

    with app.app_context():
        authority = db.session.scalar(select(Authority).where(Authority.code == "ua-sbgs"))
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        assert authority is not None and course is not None
        run = enrolment_runs.ensure_default_run(course)
        lessons = [lesson for module in course.modules for lesson in module.lessons]
        for language, (given, family, native) in QUIZ_TAKERS.items():
            user = register_user(
                Registration(
                    email=quiz_taker_email(language),
                    password=PASSWORD,
                    given_name=given,
                    family_name=family,
                    patronymic=None,
                    native_name=native,
                    country_code=authority.country_code,
                    authority_id=authority.id,
                    preferred_language=language,
                )
            )
            user.email_confirmed_at = utcnow()
            enrolment = enrolment_self_service.self_enrol(user, run, language=language)
            for lesson in lessons[:3]:
                enrolment_completion.complete_lesson(enrolment, lesson)
        db.session.commit()


def demo_facts(app: Flask) -> dict[str, Any]:
    from lms.certificates import codes
    from lms.certificates.models import Certificate, CertificateStatus
    from lms.courses.models import Course
    from lms.enrolment.runs import default_run
    from lms.extensions import db

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        assert course is not None, f"the demo course {COURSE} is missing"
        lesson = course.modules[0].lessons[1]
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.status == CertificateStatus.ACTIVE).order_by(Certificate.id)
        )
        assert certificate is not None, "the demo has no certificate in force"
        run_id = default_run(course.id)
        assert run_id is not None, f"the demo course {COURSE} has no open run"
        return {
            "run_id": run_id.id,
            "course_id": course.id,
            "lesson_id": lesson.id,
            "lesson_slug": lesson.slug,
            "certificate": codes.grouped(certificate.code),
        }


def use_language(app: Flask, language: str) -> None:
    """Every demo person reads the interface in `language`; the trainee also studies the course in it."""
    from lms.auth.models import User
    from lms.courses.models import Course
    from lms.enrolment import self_service as enrolment_self_service
    from lms.extensions import db

    with app.app_context():
        for email in PEOPLE.values():
            user = db.session.scalar(select(User).where(User.email == email))
            assert user is not None, f"demo person {email} is missing"
            user.preferred_language = language
        trainee = db.session.scalar(select(User).where(User.email == PEOPLE["trainee"]))
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        assert trainee is not None and course is not None
        enrolment = enrolment_self_service.active_enrolment(trainee.id, course.id)
        if enrolment is not None and enrolment.language != language:
            enrolment_self_service.change_study_language(enrolment, language, actor_id=trainee.id)
        db.session.commit()


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


# --- the browser -----------------------------------------------------------------------------------------


def signed_in_states(browser: Any, base: str) -> dict[str, Any]:
    """Sign in once per person (sign-in attempts are rate-limited) and reuse the cookies."""
    states: dict[str, Any] = {"anonymous": None}
    people = {**PEOPLE, **{f"quiz_taker:{code}": quiz_taker_email(code) for code in QUIZ_TAKERS}}
    for role, email in people.items():
        context = browser.new_context(service_workers="block")
        page = context.new_page()
        page.goto(f"{base}/login")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{base}/dashboard")
        states[role] = context.storage_state()
        context.close()
    return states


def save_reduced(png: bytes, target: Path) -> None:
    """256 colours, no dithering: flat interface colours stay flat and the file is about 60 % smaller."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, dither=Image.Dither.NONE).save(target, optimize=True)


def scrolls_sideways(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"))


def open_phone_menu(page: Any) -> None:
    """The phone menu, opened as a keyboard user does: Tab to its summary, press Enter."""
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('details.nav-menu > summary')"):
            page.keyboard.press("Enter")
            return
    raise AssertionError("the phone menu was never reached with Tab")


def take(
    browser: Any,
    base: str,
    states: dict[str, Any],
    plan: list[Shot],
    language: str,
    width_name: str,
    out: Path,
    overflowing: list[str],
) -> None:
    for role in dict.fromkeys(shot.role for shot in plan):
        context = browser.new_context(
            viewport={"width": WIDTHS[width_name], "height": 900},
            locale=language,  # anonymous pages follow Accept-Language; signed-in ones the preference
            service_workers="block",
            storage_state=states[f"{role}:{language}" if role == "quiz_taker" else role],
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            for shot in (s for s in plan if s.role == role):
                page.goto(f"{base}{shot.path}")
                if shot.prepare is not None:
                    shot.prepare(page)
                page.wait_for_load_state("load")
                direction = page.locator("html").get_attribute("dir")
                lang = page.locator("html").get_attribute("lang")
                if lang != language or direction != ("rtl" if language == "ar" else "ltr"):
                    raise AssertionError(f"{shot.name}: lang={lang} dir={direction}, wanted {language}")
                name = f"{shot.name}-{language}-{width_name}.png"
                if width_name == "phone" and scrolls_sideways(page):
                    overflowing.append(name)
                save_reduced(page.screenshot(full_page=True), out / name)
                print(name, flush=True)
            if width_name == "phone" and role == "trainee":
                page.goto(f"{base}/dashboard")
                open_phone_menu(page)
                save_reduced(page.screenshot(), out / f"menu-open-{language}-phone.png")
        finally:
            context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--widths", default=",".join(WIDTHS))
    parser.add_argument("--pages", default="", help="only these page names (comma-separated)")
    args = parser.parse_args(argv)
    languages = [code for code in args.languages.split(",") if code]
    widths = [name for name in args.widths.split(",") if name]
    wanted = {name for name in args.pages.split(",") if name}
    unknown = (set(languages) - set(LANGUAGES)) | (set(widths) - set(WIDTHS))
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if not Path(CHROMIUM).exists():
        parser.error("Debian's chromium is not installed (make chromium)")
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    overflowing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lms-screenshots-") as tmp:
        app = demo_app(Path(tmp))
        add_quiz_takers(app)
        for noisy in ("werkzeug", "lms.request"):  # one line per picture is enough
            logging.getLogger(noisy).setLevel(logging.WARNING)
        plan = [shot for shot in shots(demo_facts(app)) if not wanted or shot.name in wanted]
        with served(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                states = signed_in_states(browser, base)
                for language in languages:
                    use_language(app, language)
                    for width_name in widths:
                        take(browser, base, states, plan, language, width_name, args.out, overflowing)
            finally:
                browser.close()
    if overflowing:
        print("Scrolls sideways at 360 px:", *overflowing, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

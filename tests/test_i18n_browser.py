"""The four languages in a real browser, at desktop (1280) and phone (360) width: the pages a trainee
sees, right to left in Arabic, the switcher, the progress bar's direction, and the certificate PDF.

Screenshots go to a temporary folder; set LMS_SCREENSHOT_DIR=docs/screenshots to refresh the committed
ones (docs/multilingual.md).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from PIL import Image

from lms.auth.models import Role, User
from lms.certificates import codes
from lms.certificates import rendering as certificate_rendering
from lms.certificates import services as certificate_services
from lms.certificates import storage as certificate_storage
from lms.courses.models import Course
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db
from tests.conftest import TEST_PASSWORD

WIDTHS = {"desktop": 1280, "phone": 360}
STUDY_LANGUAGE = {"en": "en", "ru": "ru", "fr": "fr", "ar": "ar"}
NAMES = {
    "en": ("Amira", "Mansour", None),
    "ru": ("Olena", "Koval", "Олена Коваль"),
    "fr": ("Karim", "Benali", None),
    "ar": ("Leila", "Haddad", "ليلى حداد"),
}
ACCENT = (0x0D, 0x7A, 0x5F)  # --color-accent: the filled part of a progress bar


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LMS_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def filled_side(png: bytes) -> str:
    """'start-left' or 'start-right': where the accent-coloured fill of a progress bar begins."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    columns = [
        x
        for x in range(width)
        if any(
            sum(abs(a - b) for a, b in zip(image.getpixel((x, y)), ACCENT, strict=True)) < 60
            for y in range(height)
        )
    ]
    assert columns, "no filled part found"
    return "start-left" if min(columns) < width - 1 - max(columns) else "start-right"


def prepare_trainee(
    language: str, course: Course, make_user: Callable[..., User], admin: User
) -> tuple[User, str]:
    given, family, native = NAMES[language]
    trainee = make_user(
        Role.TRAINEE, given_name=given, family_name=family, native_name=native, preferred_language=language
    )
    run = enrolment_runs.ensure_default_run(course)
    enrolment = enrolment_self_service.self_enrol(trainee, run, language=STUDY_LANGUAGE[language])
    lessons = [lesson for module in course.modules for lesson in module.lessons]
    for lesson in lessons[:3]:
        enrolment_completion.complete_lesson(enrolment, lesson)
    # A certificate to show: issued by an admin with a reason, as the final quiz is not taken here.
    certificate = certificate_services.issue_manually(
        trainee.email, run.id, admin.id, "Screenshots of issue 8"
    )
    db.session.commit()
    certificate_rendering.store_pdf(certificate.id)  # the job's work after the commit
    return trainee, certificate.code


def sign_in(page: Any, live_server: str, user: User) -> None:
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.browser
def test_every_language_at_desktop_and_phone_width(
    browser: Any,
    live_server: str,
    demo_course: Course,
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    folder = screenshot_dir(tmp_path)
    admin = make_user(Role.ADMIN)
    lesson = demo_course.modules[0].lessons[1]
    for language in ("en", "ru", "fr", "ar"):
        db.session.rollback()  # end this thread's read snapshot: the server wrote meanwhile (SQLite)
        trainee, code = prepare_trainee(language, demo_course, make_user, admin)
        pages = {
            "catalogue": "/",
            "lesson": f"/courses/{demo_course.slug}/lessons/{lesson.id}",
            "quiz": f"/courses/{demo_course.slug}/quizzes/final-assessment",
            "dashboard": "/dashboard",
            "verify": f"/verify/{codes.grouped(code)}",
            "certificates": "/certificates",
        }
        for width_name, width in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
            page = context.new_page()
            page.set_default_timeout(10_000)
            try:
                sign_in(page, live_server, trainee)
                for name, path in pages.items():
                    page.goto(f"{live_server}{path}")
                    if name == "quiz":  # start (or resume) an attempt: the question page itself
                        page.locator("form[action$='/start'] button[type=submit]").click()
                        page.wait_for_url("**/quiz-attempts/**")
                    html_element = page.locator("html")
                    assert html_element.get_attribute("lang") == language
                    assert html_element.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
                    page.screenshot(path=str(folder / f"{name}-{language}-{width_name}.png"), full_page=True)
                    if name == "lesson":
                        bar = page.locator(".lesson-aside progress").screenshot()
                        assert filled_side(bar) == ("start-right" if language == "ar" else "start-left")
            finally:
                context.close()
        certificate_pdf(code, folder / f"certificate-{language}.png")


def certificate_pdf(code: str, target: Path) -> None:
    from sqlalchemy import select

    from lms.certificates.models import Certificate

    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    assert certificate is not None
    document = pypdfium2.PdfDocument(str(certificate_storage.pdf_path(certificate)))
    try:
        document[0].render(scale=1.4).to_pil().save(target)
    finally:
        document.close()


@pytest.mark.browser
def test_switching_language_in_the_browser_keeps_the_page(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    trainee = make_user(Role.TRAINEE)
    db.session.commit()
    sign_in(page, live_server, trainee)
    page.goto(f"{live_server}/courses/{demo_course.slug}")
    page.locator("#language-select").select_option("ar")
    page.locator(".language-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/courses/{demo_course.slug}"
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#language-select").select_option("ru")
    page.locator(".language-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/courses/{demo_course.slug}"
    assert page.locator("html").get_attribute("lang") == "ru"

"""A trainee finishes the IBM foundations course in Arabic (lessons and final quiz) and gets an Arabic
certificate, with an English version too; the PDFs embed fonts that cover Arabic and Cyrillic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates import codes
from lms.certificates import rendering as certificate_rendering
from lms.certificates import services as certificate_services
from lms.certificates import storage as certificate_storage
from lms.certificates.models import Certificate
from lms.content.loader import load_course
from lms.courses.models import Course
from lms.courses.translation_status import question_lacks
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from tests.test_quiz_attempts import right_answers

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARABIC_NAME = "ليلى حداد"


pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def test_the_demo_course_is_complete_in_english_russian_arabic_and_french() -> None:
    spec, problems = load_course(PROJECT_ROOT / "courses" / "ibm-foundations")
    assert not problems and spec is not None
    folder = PROJECT_ROOT / "courses" / "ibm-foundations"
    lessons = sorted(p for p in (folder / "modules").rglob("*.md") if p.name.count(".") == 1)
    assert len(lessons) == 9
    for lesson in lessons:
        for language in ("ru", "ar", "fr"):
            translated = lesson.with_suffix(f".{language}.md")
            assert translated.exists(), translated
            assert len(translated.read_text(encoding="utf-8")) > 0.5 * len(lesson.read_text(encoding="utf-8"))
    bank = yaml.safe_load((folder / "banks" / "core.yml").read_text(encoding="utf-8"))
    for question in bank["questions"]:
        for language in ("ru", "ar", "fr"):
            assert not question_lacks(question, language, "en"), question["id"]
    course = yaml.safe_load((folder / "course.yml").read_text(encoding="utf-8"))
    for module in course["modules"]:
        assert module.get("title_ru") and module.get("title_ar") and module.get("title_fr"), module["slug"]
    for language in ("ru", "ar", "fr"):
        assert course["translations"][language]["title"]
        assert len(course["translations"][language]["learning_outcomes"]) == len(course["learning_outcomes"])


def _pdf_fonts(reader: PdfReader) -> list[dict[str, Any]]:
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            fonts.append(
                {
                    "name": str(font.get("/BaseFont")),
                    "embedded": bool(descriptor)
                    and any(
                        key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
                    ),
                    "to_unicode": "/ToUnicode" in font,
                }
            )
    return fonts


def assert_pdf_has_no_missing_glyphs(path: Path, *expected: str) -> str:
    """Every font embedded (nothing substituted by the reader), text extracts fully: no U+FFFD, and
    DejaVu — which covers Latin, Cyrillic and Arabic — is the face used."""
    reader = PdfReader(str(path))
    text = reader.pages[0].extract_text()
    assert "\ufffd" not in text
    for part in expected:
        assert part in text, (part, text[:400])
    fonts = _pdf_fonts(reader)
    assert fonts and all(font["embedded"] for font in fonts), fonts
    assert all(font["to_unicode"] for font in fonts), fonts
    assert all("DejaVu" in font["name"] for font in fonts), fonts
    return text


def test_a_trainee_finishes_the_course_in_arabic_and_gets_an_arabic_certificate(
    app: Flask, demo_course: Course, make_user: Callable[..., User], login_as: Callable[[User], FlaskClient]
) -> None:
    trainee = make_user(
        Role.TRAINEE,
        given_name="Leila",
        family_name="Haddad",
        native_name=ARABIC_NAME,
        preferred_language="ar",
    )
    client = login_as(trainee)
    run = enrolment_runs.default_run(demo_course.id)
    assert run is not None
    course_page = client.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in course_page
    assert "الإدارة المتكاملة للحدود: الأسس" in course_page  # the catalogue language shows the Arabic title
    assert client.post(f"/runs/{run.id}/enrol", data={"language": "ar"}).status_code == 302
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert enrolment is not None and enrolment.language == "ar"

    for module in demo_course.modules:
        for lesson in module.lessons:
            html = client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").get_data(as_text=True)
            assert f"<h1>{lesson.title_in('ar')}</h1>" in html
            assert 'lang="ar" dir="rtl"' in html
            assert client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete").status_code == 302

    overview = client.get(f"/courses/{demo_course.slug}/quizzes/final-assessment").get_data(as_text=True)
    assert "التقييم النهائي" in overview
    response = client.post(f"/courses/{demo_course.slug}/quizzes/final-assessment/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    attempt = db.session.get(QuizAttempt, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert attempt is not None and attempt.language == "ar"
    page = client.get(f"/quiz-attempts/{attempt.id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "السؤال 1" in page  # the UI's own words, in Arabic
    bank = yaml.safe_load(
        (PROJECT_ROOT / "courses" / "ibm-foundations" / "banks" / "core.yml").read_text("utf-8")
    )
    prompts = [q["prompt"] for q in bank["questions"] if "prompt" in q]  # a cloze text is cut by inputs
    shown = [p["ar"] for p in prompts if p["ar"] in page]
    assert len(shown) >= 11, shown  # the twelve drawn questions, in Arabic (one may be the cloze)
    assert not [p["en"] for p in prompts if p["en"] in page]
    result = client.post(
        f"/quiz-attempts/{attempt.id}",
        data={**right_answers(attempt), "action": "submit"},
        follow_redirects=True,
    )
    assert result.status_code == 200
    db.session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.COMPLETED

    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None and certificate.language == "ar"
    assert certificate.course_title == "الإدارة المتكاملة للحدود: الأسس"

    with client.get(f"/certificates/{certificate.code}.pdf") as arabic_pdf:
        assert arabic_pdf.status_code == 200
    text = assert_pdf_has_no_missing_glyphs(
        certificate_storage.pdf_path(certificate),
        "شهادة إتمام",
        "تُمنح هذه الشهادة إلى",  # wording that fits any holder (issue 23)
        ARABIC_NAME,
        "Leila Haddad",
        "الإدارة المتكاملة للحدود: الأسس",
        codes.grouped(certificate.code),
    )
    assert "Certificate of completion" not in text

    with client.get(f"/certificates/{certificate.code}/english.pdf") as english:
        assert english.status_code == 200 and english.mimetype == "application/pdf"
    assert_pdf_has_no_missing_glyphs(
        certificate_storage.english_pdf_path(certificate),
        "Certificate of completion",
        "Integrated Border Management: foundations",
        ARABIC_NAME,  # the name in the holder's own script stays on the English version
        codes.grouped(certificate.code),
    )
    mine = client.get("/certificates").get_data(as_text=True)
    assert f"/certificates/{certificate.code}/english.pdf" in mine
    verify = client.get(f"/verify/{codes.grouped(certificate.code)}").get_data(as_text=True)
    assert "سارية." in verify


def test_a_russian_certificate_with_a_cyrillic_name_has_no_missing_glyphs(
    app: Flask, demo_course: Course, make_user: Callable[..., User]
) -> None:
    trainee = make_user(Role.TRAINEE, native_name="Олена Миколаївна Коваль")
    admin = make_user(Role.ADMIN)
    run = enrolment_runs.ensure_default_run(demo_course)
    enrolment = enrolment_self_service.self_enrol(trainee, run, language="ru")
    for module in demo_course.modules:
        for lesson in module.lessons:
            enrolment_completion.complete_lesson(enrolment, lesson)
    # The final quiz is the completion rule; an admin's manual issue (with a reason) skips it here.
    certificate = certificate_services.issue_manually(
        trainee.email, run.id, admin.id, "Test: Russian wording"
    )
    db.session.commit()
    certificate_rendering.store_pdf(certificate.id)  # the job's work after the commit
    assert certificate.language == "ru"
    assert_pdf_has_no_missing_glyphs(
        certificate_storage.pdf_path(certificate),
        "Сертификат о прохождении обучения",
        "Олена Миколаївна Коваль",
        "Комплексное управление границами: основы",
    )

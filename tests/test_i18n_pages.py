"""Every main page in every language (issue 8): no English UI text left, Arabic right to left, the
switcher keeps the page, locale formatting, the study-language switch, translation status, mails."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from lms.auth.account import issue_email_confirmation
from lms.auth.models import Role, User
from lms.config import LANGUAGES
from lms.courses.models import Course
from lms.courses.translation_status import LessonTexts, QuestionTexts, translation_status
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.i18n import isolate, localized_date, localized_number, localized_percent
from lms.notifications.models import OutgoingMail
from lms.security.password_reset import request_password_reset

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OTHER_LANGUAGES = [code for code in LANGUAGES if code != "en"]


pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


class _VisibleText(HTMLParser):
    """Text a person sees or hears: text nodes and read attributes, minus <script>/<style>, and minus
    course content (marked with the study language in `lang`) which is the author's, not the UI's."""

    SKIP = {"script", "style", "title"}  # <title> repeats the h1, often course content
    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self, ui_language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ui_language = ui_language
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        hidden = tag in self.SKIP or (lang is not None and tag != "html" and lang != self.ui_language)
        if not self._hidden() and not hidden:
            for name in ("title", "alt", "aria-label", "placeholder"):
                if values.get(name):
                    self.parts.append(str(values[name]))
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str, language: str) -> str:
    parser = _VisibleText(language)
    parser.feed(html)
    return "\n".join(parser.parts)


def english_ui_strings(language: str) -> list[str]:
    """Catalogue messages that must not appear in English on a page in ``language``: several words,
    no placeholders, and translated to something else."""
    with (PROJECT_ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    found = []
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple) or "%" in message.id:
            continue
        if len(message.id.split()) < 2 or message.string == message.id:
            continue
        found.append(message.id)
    return found


def assert_translated(html: str, language: str, page: str) -> None:
    text = visible_text(html, language)
    leftovers = [message for message in english_ui_strings(language) if message in text]
    assert not leftovers, f"{page} in {language} shows English UI text: {leftovers[:5]}"


def choose_language(client: FlaskClient, language: str, next_path: str = "/") -> None:
    response = client.post("/language", data={"language": language, "next": next_path})
    assert response.status_code == 302


@pytest.fixture
def trainee(make_user: Callable[..., User]) -> User:
    return make_user(Role.TRAINEE, given_name="Leila", family_name="Haddad", native_name="ليلى حداد")


@pytest.fixture
def enrolled_client(
    login_as: Callable[[User], FlaskClient], trainee: User, demo_course: Course
) -> FlaskClient:
    client = login_as(trainee)
    run = enrolment_runs.default_run(demo_course.id)
    assert run is not None
    assert client.post(f"/runs/{run.id}/enrol", data={"language": "en"}).status_code == 302
    client.get("/dashboard")  # shows (and so consumes) the English "you are enrolled" message
    return client


def main_pages(course: Course) -> list[str]:
    lesson = course.modules[0].lessons[0]
    return [
        "/",
        f"/courses/{course.slug}",
        f"/courses/{course.slug}/lessons/{lesson.id}",
        f"/courses/{course.slug}/quizzes/final-assessment",
        "/dashboard",
        "/certificates",
        "/verify",
        "/verify/AAAA-AAAA-AAAA",
        "/runs",
        "/account",
    ]


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_main_page_renders_fully_translated(
    enrolled_client: FlaskClient, demo_course: Course, language: str
) -> None:
    choose_language(enrolled_client, language)
    for path in main_pages(demo_course):
        response = enrolled_client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        html = response.get_data(as_text=True)
        assert f'<html lang="{language}"' in html, path
        assert_translated(html, language, path)


def test_the_leak_check_would_catch_an_english_page(enrolled_client: FlaskClient) -> None:
    html = enrolled_client.get("/dashboard").get_data(as_text=True)  # English: the UI's own words
    with pytest.raises(AssertionError):
        assert_translated(html, "ru", "/dashboard")


def test_arabic_pages_are_right_to_left(
    client: FlaskClient, enrolled_client: FlaskClient, demo_course: Course
) -> None:
    choose_language(client, "ar")
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)
    choose_language(enrolled_client, "ar")
    for path in main_pages(demo_course):
        html = enrolled_client.get(path).get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in html, path
    choose_language(enrolled_client, "fr")
    assert '<html lang="fr" dir="ltr">' in enrolled_client.get("/").get_data(as_text=True)


def test_names_and_addresses_are_isolated_in_arabic(enrolled_client: FlaskClient, trainee: User) -> None:
    choose_language(enrolled_client, "ar")
    html = enrolled_client.get("/dashboard").get_data(as_text=True)
    assert f"<bdi>{trainee.full_name}</bdi>" in html
    assert str(isolate("a@b.test")) == '<bdi dir="auto">a@b.test</bdi>'


def test_switcher_returns_to_the_same_page_and_works_without_javascript(
    client: FlaskClient, demo_course: Course
) -> None:
    page = f"/courses/{demo_course.slug}"
    html = client.get(page).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/language"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert f'name="next" value="{page}"' in form.group(1)
    assert 'type="submit"' in form.group(1)  # a plain form post: no script needed
    response = client.post("/language", data={"language": "ru", "next": page})
    assert response.status_code == 302 and response.headers["Location"] == page
    assert '<html lang="ru"' in client.get(page).get_data(as_text=True)
    with_query = "/?q=border"
    assert (
        client.post("/language", data={"language": "fr", "next": with_query}).headers["Location"]
        == with_query
    )


def test_switcher_refuses_to_send_people_elsewhere(client: FlaskClient) -> None:
    response = client.post("/language", data={"language": "ar", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_language_choice_order(
    client: FlaskClient, login_as: Callable[[User], FlaskClient], make_user
) -> None:  # type: ignore[no-untyped-def]
    # Nothing known: the browser's Accept-Language, else English.
    assert '<html lang="fr"' in client.get("/", headers={"Accept-Language": "fr-CH, en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    # A signed-in user's saved preference beats the browser.
    user = make_user(Role.TRAINEE, preferred_language="ru")
    signed_in = login_as(user)
    assert '<html lang="ru"' in signed_in.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    # The switcher saves the choice as the preference.
    choose_language(signed_in, "ar")
    db.session.refresh(user)
    assert user.preferred_language == "ar"


def test_locale_formatting_of_dates_numbers_and_percentages(app: Flask) -> None:
    moment = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("en"):
            assert localized_percent(87.5, 1) == "87.5%"
            assert localized_number(1234.5, 1) == "1,234.5"
            assert localized_date(date(2026, 3, 5)) == "Mar 5, 2026"
        with force_locale("fr"):
            assert localized_percent(87.5, 1).replace("\u202f", " ").replace("\xa0", " ") == "87,5 %"
            assert localized_date(date(2026, 3, 5)) == "5 mars 2026"
        with force_locale("ru"):
            assert localized_number(1234.5, 1).replace("\xa0", " ") == "1 234,5"
            assert localized_date(moment).startswith("5 мар")  # no user: the academy zone, UTC
        with force_locale("ar"):
            assert "مارس" in localized_date(moment, "long")
            assert "87" in localized_percent(87, 0)


def test_times_are_shown_in_the_users_time_zone(
    app: Flask, make_user: Callable[..., User], login_as: Callable[[User], FlaskClient]
) -> None:
    from flask_babel import format_datetime

    user = make_user(Role.TRAINEE, timezone="Asia/Tbilisi")
    client = login_as(user)
    client.get("/")
    with app.test_request_context():
        from flask_login import login_user

        login_user(user)
        with force_locale("en"):
            assert format_datetime(datetime(2026, 3, 5, 23, 30, tzinfo=UTC), "HH:mm") == "03:30"


def test_dashboard_percent_follows_the_locale(enrolled_client: FlaskClient, demo_course: Course) -> None:
    lesson = demo_course.modules[0].lessons[0]
    enrolled_client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete")
    choose_language(enrolled_client, "fr")
    html = enrolled_client.get("/dashboard").get_data(as_text=True)
    assert re.search(r"\d+[\u202f\xa0]%", html), "French puts a narrow space before %"


def test_trainee_switches_the_study_language_of_a_course(
    enrolled_client: FlaskClient, demo_course: Course, trainee: User
) -> None:
    lesson = demo_course.modules[0].lessons[0]
    page = enrolled_client.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    assert 'name="language"' in page and "/study-language" in page
    response = enrolled_client.post(f"/courses/{demo_course.slug}/study-language", data={"language": "ar"})
    assert response.status_code == 302
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert enrolment is not None and enrolment.language == "ar"
    html = enrolled_client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").get_data(as_text=True)
    assert "ما المقصود بالإدارة المتكاملة للحدود" in html
    assert 'lang="ar" dir="rtl"' in html
    # A language the course does not have is refused, and nothing changes.
    enrolled_client.post(f"/courses/{demo_course.slug}/study-language", data={"language": "de"})
    db.session.refresh(enrolment)
    assert enrolment.language == "ar"
    with pytest.raises(ValidationFailed):
        enrolment_self_service.change_study_language(enrolment, "de", actor_id=trainee.id)
    assert enrolment_self_service.change_study_language(enrolment, "fr", actor_id=trainee.id) is True


def test_translation_status_is_for_trainers_and_shows_each_language(
    client: FlaskClient,
    login_as: Callable[[User], FlaskClient],
    make_user,
    make_trainer,
    demo_course: Course,  # type: ignore[no-untyped-def]
) -> None:
    trainee_client = login_as(make_user(Role.TRAINEE))
    assert trainee_client.get(f"/courses/{demo_course.slug}/translations").status_code == 403
    trainee_client.post("/logout")
    other_course = Course(slug="other-course", title="Other course")
    db.session.add(other_course)
    db.session.commit()
    outsider = login_as(make_trainer(other_course))  # issue 18: only the course's own trainers
    assert outsider.get(f"/courses/{demo_course.slug}/translations").status_code == 403
    assert "Translation status" not in outsider.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    outsider.post("/logout")
    trainer = login_as(make_trainer(demo_course))
    assert "Translation status" in trainer.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    html = trainer.get(f"/courses/{demo_course.slug}/translations").get_data(as_text=True)
    for language in ("ru", "fr", "ar"):  # the demo course is complete in all four languages
        section = html.split(f'id="language-{language}"')[1].split("</section>")[0]
        assert "Complete" in section, language


def test_translation_status_lists_what_each_language_lacks() -> None:
    lessons = [
        LessonTexts(1, "Module", "Lesson one", frozenset({"en", "ru", "ar"})),
        LessonTexts(2, "Module", "Lesson two", frozenset({"en", "ru"})),
    ]
    questions = [
        QuestionTexts(
            "q-all",
            {"prompt": {"en": "?", "ru": "?", "ar": "?"}, "choices": [{"text": {"en": "a", "ru": "а"}}]},
        ),
        QuestionTexts("q-once", {"prompt": "Written once"}),
        QuestionTexts("q-ok", {"prompt": {"en": "?", "ru": "?", "ar": "?", "fr": "?"}}),
    ]
    statuses = {
        s.language: s
        for s in translation_status(
            primary="en",
            course_translations={"ru": {"title": "Т", "summary": "С"}, "ar": {"title": "ع"}},
            has_outcomes=False,
            module_titles=[("Module", {"ru": "Модуль"})],
            lessons=lessons,
            questions=questions,
            quiz_titles=[("Final", {"ru": "Итог", "ar": "نهائي", "fr": "Final"})],
        )
    }
    assert list(statuses) == ["ru", "fr", "ar"]
    assert statuses["ru"].lessons == [] and statuses["ru"].course_fields == []
    assert statuses["ru"].questions == ["q-once"]
    assert [lesson.lesson_id for lesson in statuses["ar"].lessons] == [2]
    assert statuses["ar"].course_fields == ["summary"] and statuses["ar"].modules == ["Module"]
    assert statuses["ar"].questions == ["q-all", "q-once"]  # a choice text lacks Arabic
    assert len(statuses["fr"].lessons) == 2 and statuses["fr"].quizzes == []
    assert not statuses["fr"].complete


def test_confirmation_and_reset_mails_are_in_the_recipients_language(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TRAINEE, preferred_language="ar", email_confirmed_at=None)
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        issue_email_confirmation(user)
        request_password_reset(user.email)
    db.session.commit()
    mails = list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == user.email)))
    assert {mail.language for mail in mails} == {"ar"}
    subjects = {mail.subject for mail in mails}
    assert "أكِّد بريدك الإلكتروني" in subjects
    assert "إعادة تعيين كلمة المرور" in subjects
    assert all("مرحبًا" in mail.body for mail in mails)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_page_without_parameters_is_translated_for_an_admin(
    app: Flask,
    login_as: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
    demo_course: Course,
    language: str,
) -> None:
    """Every GET route that takes no parameter, seen by an admin who is also a trainer and a focal point."""
    admin = make_user(Role.ADMIN, Role.TRAINER, Role.FOCAL_POINT)
    client = login_as(admin)
    choose_language(client, language)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.rule.startswith("/static"):
            continue
        if rule.rule in ("/logout", "/healthz", "/readyz", "/metrics"):
            continue
        response = client.get(rule.rule)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()
            continue
        html = response.get_data(as_text=True)
        direction = "rtl" if language == "ar" else "ltr"
        assert f'<html lang="{language}" dir="{direction}">' in html, rule.rule
        assert_translated(html, language, rule.rule)
        checked += 1
    assert checked >= 15, checked


def test_templates_follow_a_forced_locale_and_come_back(app: Flask) -> None:
    """lms.i18n.current_translations keeps the catalogue per request: a mail or certificate rendered in
    another language inside the same request must not keep the page's catalogue, nor leave its own."""
    template = app.jinja_env.from_string("{{ _('My courses') }}")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert template.render() == "My courses"
        with force_locale("ru"):
            assert template.render() == "Мои курсы"
            with force_locale("ar"):
                assert template.render() != "Мои курсы" and template.render() != "My courses"
            assert template.render() == "Мои курсы"
        assert template.render() == "My courses"

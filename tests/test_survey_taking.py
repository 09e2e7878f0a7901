"""Answering a survey (issue 21): the page, its refusals (twice, closed, not open, missing or impossible
answers: nothing written), only the invited person, Arabic right to left, axe in English and Arabic."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.errors import Conflict
from lms.extensions import db
from lms.surveys import answering, services
from lms.surveys.answer_rules import TEXT_LIMIT
from lms.surveys.answering import AnswersRefused, submit_response
from lms.surveys.models import RunSurvey, SurveyAnswer, SurveyForm, SurveyInvitation, SurveyResponse
from tests.conftest import browser_sign_in, login
from tests.survey_support import GOOD_ANSWERS, complete, invitation_of, make_run_with_surveys

FORM_ANSWERS = {
    "item-relevance": "4",
    "item-overall": "9",
    "item-format": "in_person",
    "item-topics": ["law", "practice"],
    "item-comment": "Clear and practical.",
}


def responses() -> int:
    return int(db.session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


def answers() -> int:
    return int(db.session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0)


def invitation_form_id(invitation: SurveyInvitation) -> int:
    run_survey = db.session.get(RunSurvey, invitation.run_survey_id)
    assert run_survey is not None
    return run_survey.form_id


@pytest.fixture
def invited(app: Flask, make_user: Callable[..., User]) -> tuple[User, SurveyInvitation]:
    run = make_run_with_surveys()
    trainee = make_user()
    invitation = invitation_of(complete(trainee, run))
    assert invitation is not None
    return trainee, invitation


def test_the_page_shows_the_form_and_what_is_anonymous_and_a_submission_thanks(
    client: FlaskClient, invited: tuple[User, SurveyInvitation]
) -> None:
    trainee, invitation = invited
    form = db.session.get(SurveyForm, invitation_form_id(invitation))
    form.intro = {"en": "A **few** questions. <script>alert(1)</script>"}  # type: ignore[union-attr]
    db.session.commit()
    login(client, trainee)
    dashboard = html.unescape(client.get("/dashboard").get_data(as_text=True))
    assert f"/surveys/{invitation.id}" in dashboard and "Surveys to answer" in dashboard
    page = html.unescape(client.get(f"/surveys/{invitation.id}").get_data(as_text=True))
    assert "How was the course?" in page and "It was relevant." in page
    assert "Your answers are stored without your name" in page
    assert "results are shown only for groups of five or more" in page.lower()
    assert page.count('type="radio" name="item-overall"') == 11  # 0 to 10
    assert page.count('name="item-relevance"') == 5 and "Strongly agree" in page
    raw = client.get(f"/surveys/{invitation.id}").get_data(as_text=True)
    assert "A <strong>few</strong> questions." in raw and "<script>alert" not in raw  # Markdown, inert
    assert "<legend" in page and f'maxlength="{TEXT_LIMIT}"' in page
    response = client.post(f"/surveys/{invitation.id}", data=FORM_ANSWERS)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/surveys/{invitation.id}/thanks"
    )
    thanks = client.get(f"/surveys/{invitation.id}/thanks").get_data(as_text=True)
    assert "Thank you" in thanks
    db.session.rollback()
    assert responses() == 1 and answers() == 5
    stored = {a.item_key: a for a in db.session.scalars(select(SurveyAnswer))}
    assert stored["topics"].choices == ["law", "practice"] and stored["overall"].number == 9
    assert f"/surveys/{invitation.id}" not in client.get("/dashboard").get_data(as_text=True)


def test_a_second_submission_is_refused_and_writes_nothing(
    client: FlaskClient, invited: tuple[User, SurveyInvitation]
) -> None:
    trainee, invitation = invited
    login(client, trainee)
    assert client.post(f"/surveys/{invitation.id}", data=FORM_ANSWERS).status_code == 302
    again = client.post(f"/surveys/{invitation.id}", data={**FORM_ANSWERS, "item-overall": "2"})
    assert again.status_code == 409
    assert "already answered" in html.unescape(again.get_data(as_text=True))
    db.session.rollback()
    assert responses() == 1
    with pytest.raises(Conflict):
        submit_response(db.session.get(SurveyInvitation, invitation.id), GOOD_ANSWERS, "en")  # type: ignore[arg-type]


def test_of_two_tabs_the_conditional_update_lets_one_through(
    invited: tuple[User, SurveyInvitation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second tab read the invitation unanswered before the first committed: its check passes, and
    the UPDATE of answered_on (which finds the row answered) refuses it."""
    _trainee, invitation = invited
    submit_response(invitation, GOOD_ANSWERS, "en")
    set_committed_value(invitation, "answered_on", None)  # what the second tab had read
    monkeypatch.setattr(answering, "refuse_unless_open", lambda _invitation: None)
    with pytest.raises(Conflict):
        submit_response(invitation, GOOD_ANSWERS, "en")
    assert responses() == 1


def test_a_missing_required_answer_is_refused_with_the_answers_kept_and_nothing_written(
    client: FlaskClient, invited: tuple[User, SurveyInvitation]
) -> None:
    trainee, invitation = invited
    login(client, trainee)
    partial = {k: v for k, v in FORM_ANSWERS.items() if k != "item-format"}
    response = client.post(f"/surveys/{invitation.id}", data=partial)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert (
        "Please answer this question." in page and 'aria-invalid="true"' not in page.split("item-format")[0]
    )
    assert "Clear and practical." in page  # what was typed is kept
    db.session.rollback()
    assert responses() == 0 and answers() == 0
    assert db.session.get(SurveyInvitation, invitation.id).answered_on is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("relevance", 6, "scale"),
        ("relevance", "x", "scale"),
        ("overall", -1, "scale"),
        ("overall", 11, "scale"),
        ("format", "by_pigeon", "offered"),
        ("format", ["online", "in_person"], "offered"),
        ("topics", ["law", "gossip"], "offered"),
        ("comment", "x" * (TEXT_LIMIT + 1), "characters"),
    ],
)
def test_impossible_answers_are_refused_and_nothing_is_written(
    invited: tuple[User, SurveyInvitation], key: str, value: Any, message: str
) -> None:
    _trainee, invitation = invited
    with pytest.raises(AnswersRefused) as refused:
        submit_response(invitation, {**GOOD_ANSWERS, key: value}, "en")
    assert message in refused.value.problems[key]
    db.session.rollback()
    assert responses() == 0 and db.session.get(SurveyInvitation, invitation.id).answered_on is None  # type: ignore[union-attr]


def test_a_closed_or_not_yet_open_survey_says_so_and_refuses(
    client: FlaskClient, invited: tuple[User, SurveyInvitation]
) -> None:
    trainee, invitation = invited
    invitation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    login(client, trainee)
    page = client.get(f"/surveys/{invitation.id}")
    assert page.status_code == 200 and "Survey closed" in page.get_data(as_text=True)
    assert client.post(f"/surveys/{invitation.id}", data=FORM_ANSWERS).status_code == 409
    invitation = db.session.get(SurveyInvitation, invitation.id)  # type: ignore[assignment]
    invitation.opens_at = utcnow() + timedelta(days=2)
    invitation.closes_at = utcnow() + timedelta(days=30)
    db.session.commit()
    assert "Not open yet" in client.get(f"/surveys/{invitation.id}").get_data(as_text=True)
    assert client.post(f"/surveys/{invitation.id}", data=FORM_ANSWERS).status_code == 409
    db.session.rollback()
    assert responses() == 0


def test_only_the_invited_person_sees_the_survey(
    client: FlaskClient, invited: tuple[User, SurveyInvitation], make_user: Callable[..., User]
) -> None:
    _trainee, invitation = invited
    anonymous = client.get(f"/surveys/{invitation.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for other in (make_user(), make_user(Role.ADMIN), make_user(Role.TRAINER), make_user(Role.FOCAL_POINT)):
        login(client, other)
        assert client.get(f"/surveys/{invitation.id}").status_code == 404
        assert client.post(f"/surveys/{invitation.id}", data=FORM_ANSWERS).status_code == 404
        assert client.get(f"/surveys/{invitation.id}/thanks").status_code == 404
        client.post("/logout")
    db.session.rollback()
    assert responses() == 0


@pytest.mark.parametrize(
    "path",
    ["/surveys/0", "/surveys/99999999999999999999", "/surveys/-1", "/surveys/abc", "/surveys/7/thanks"],
)
def test_odd_ids_are_not_found(
    client: FlaskClient, invited: tuple[User, SurveyInvitation], path: str
) -> None:
    login(client, invited[0])
    assert client.get(path).status_code == 404


def test_the_page_in_arabic_is_right_to_left_with_the_arabic_texts(
    client: FlaskClient, invited: tuple[User, SurveyInvitation]
) -> None:
    trainee, invitation = invited
    login(client, trainee)
    client.post("/language", data={"language": "ar", "next": "/"})
    page = client.get(f"/surveys/{invitation.id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "كيف كانت الدورة؟" in page and "كانت ذات صلة." in page
    assert 'lang="ar" dir="auto"' in page
    client.post(f"/surveys/{invitation.id}", data=FORM_ANSWERS)
    db.session.rollback()
    assert db.session.scalar(select(SurveyResponse.language)) == "ar"


def test_admin_attaches_forms_to_a_run_and_bad_values_change_nothing(
    client: FlaskClient, app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys()
    before = services.current_settings(run.id)
    login(client, make_user(Role.ADMIN))
    page = client.get(f"/admin/course-runs/{run.id}/surveys")
    assert page.status_code == 200 and "How was the course?" in page.get_data(as_text=True)
    assert f"/admin/course-runs/{run.id}/surveys" in client.get(f"/admin/course-runs/{run.id}").get_data(
        as_text=True
    )
    good = {
        "end_form_id": str(before.end_form_id),
        "open_days": "21",
        "reminder_days": "5",
        "required_for_certificate": "y",
    }
    assert client.post(f"/admin/course-runs/{run.id}/surveys", data=good).status_code == 302
    db.session.rollback()
    saved = services.current_settings(run.id)
    assert (saved.open_days, saved.reminder_days, saved.required_for_certificate) == (21, 5, True)
    for bad in (
        {**good, "open_days": "0"},
        {**good, "reminder_days": "40"},
        {**good, "end_form_id": "999999"},
        {**good, "end_form_id": "abc"},
        {
            **good,
            "follow_up_form_id": str(before.end_form_id),
            "follow_up_months": "3",
        },  # not a follow-up form
        {**good, "end_form_id": "", "required_for_certificate": "y"},
    ):
        response = client.post(f"/admin/course-runs/{run.id}/surveys", data=bad)
        assert response.status_code in (409, 422), bad
        db.session.rollback()
        assert services.current_settings(run.id) == saved
    assert client.get("/admin/course-runs/99999999999999999999/surveys").status_code == 404
    client.post("/logout")
    login(client, make_user())
    assert client.get(f"/admin/course-runs/{run.id}/surveys").status_code == 403


@pytest.mark.browser
def test_axe_finds_nothing_on_the_survey_page_in_english_and_arabic(
    page: Any, live_server: str, invited: tuple[User, SurveyInvitation], make_user: Callable[..., User]
) -> None:
    from tests.a11y_support import axe_violations, choose_language, describe

    trainee, invitation = invited
    admin = make_user(Role.ADMIN)
    run_id = db.session.get(RunSurvey, invitation.run_survey_id).run_id  # type: ignore[union-attr]
    db.session.commit()  # the test holds no transaction while the browser's requests write
    browser_sign_in(page, live_server, trainee)
    found = {}
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/surveys/{invitation.id}")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
        found[f"{language} survey"] = axe_violations(page, contrast=language == "en")
        page.locator("main form button[type=submit]").click()  # nothing chosen: the errors
        page.wait_for_load_state()
        found[f"{language} survey with errors"] = axe_violations(page, contrast=language == "en")
        page.goto(f"{live_server}/dashboard")  # the surveys to answer
        assert page.locator(f"a[href='/surveys/{invitation.id}']").count() == 1
        found[f"{language} dashboard"] = axe_violations(page, contrast=language == "en")
    page.set_viewport_size({"width": 360, "height": 800})  # a phone, in Arabic: nothing wider than the screen
    page.goto(f"{live_server}/surveys/{invitation.id}")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.check("input[name=item-relevance][value='4']")
    page.check("input[name=item-overall][value='7']")
    page.check("input[name=item-format][value='online']")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/thanks")
    found["ar thanks"] = axe_violations(page, contrast=False)
    page.context.clear_cookies()  # the admin's page of the run's surveys, in both languages
    browser_sign_in(page, live_server, admin)
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/admin/course-runs/{run_id}/surveys")
        found[f"{language} run surveys"] = axe_violations(page, contrast=language == "en")
    found = {where: v for where, v in found.items() if v}
    assert not found, describe(found)

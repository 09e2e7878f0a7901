"""The optional rule of a run (issue 21): the certificate after the end-of-course survey. Off: issued on
completion as before; on: not issued until the survey is answered, then by the run's issuance rule."""

from __future__ import annotations

import html
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.auth.models import User
from lms.certificates import services as certificate_services
from lms.certificates.models import Certificate, IssuanceRule
from lms.db import utcnow
from lms.extensions import db
from lms.surveys.answering import submit_response
from lms.surveys.invitations import invite
from lms.surveys.models import RunSurvey, SurveyKind
from tests.conftest import login
from tests.survey_support import GOOD_ANSWERS, complete, invitation_of, make_run_with_surveys


def certificates_of(user: User) -> int:
    return int(
        db.session.scalar(select(func.count()).select_from(Certificate).where(Certificate.user_id == user.id))
        or 0
    )


def test_rule_off_the_certificate_is_issued_on_completion(app: Flask, make_user: Callable[..., User]) -> None:
    run = make_run_with_surveys(required_for_certificate=False)
    trainee = make_user()
    enrolment = complete(trainee, run)
    assert certificates_of(trainee) == 1
    invitation = invitation_of(enrolment)
    assert invitation is not None and invitation.answered_on is None  # asked, but nothing waits for it


def test_rule_on_the_certificate_waits_for_the_survey_and_the_pages_say_so(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys(required_for_certificate=True)
    trainee = make_user()
    enrolment = complete(trainee, run)
    assert certificates_of(trainee) == 0
    invitation = invitation_of(enrolment)
    assert invitation is not None
    login(client, trainee)
    for page in ("/dashboard", "/certificates"):
        text = html.unescape(client.get(page).get_data(as_text=True))
        assert "Answer the survey to receive your certificate." in text, page
        assert f"/surveys/{invitation.id}" in text, page
    response = client.post(
        f"/surveys/{invitation.id}",
        data={"item-relevance": "5", "item-overall": "10", "item-format": "online"},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert certificates_of(trainee) == 1
    text = html.unescape(client.get("/certificates").get_data(as_text=True))
    assert "Answer the survey to receive your certificate." not in text


def test_rule_on_with_approval_the_answer_leaves_the_issue_to_an_admin(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys(required_for_certificate=True)
    certificate_services.set_issuance_rule(run, IssuanceRule.APPROVAL, None)
    db.session.commit()
    trainee = make_user()
    invitation = invitation_of(complete(trainee, run))
    assert invitation is not None
    submit_response(invitation, GOOD_ANSWERS, "en")
    db.session.commit()
    assert certificates_of(trainee) == 0  # the admin's "completed, not issued" list, as for any approval run


def test_answering_the_follow_up_issues_nothing(app: Flask, make_user: Callable[..., User]) -> None:
    """Only the survey the certificate waited for issues it: a follow-up answer never does."""
    run = make_run_with_surveys(required_for_certificate=True, follow_up_months=1)
    trainee = make_user()
    enrolment = complete(trainee, run)
    follow_up = db.session.scalar(
        select(RunSurvey).where(RunSurvey.run_id == run.id, RunSurvey.kind == SurveyKind.FOLLOW_UP)
    )
    assert follow_up is not None
    invite(follow_up, enrolment.id, utcnow())
    db.session.commit()
    follow_up_invitation = invitation_of(enrolment, SurveyKind.FOLLOW_UP)
    assert follow_up_invitation is not None
    submit_response(follow_up_invitation, GOOD_ANSWERS, "en")
    db.session.commit()
    assert certificates_of(trainee) == 0

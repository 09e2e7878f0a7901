"""Who is asked to answer a run's surveys, when, and the mail that asks them (issue 21): the end-of-course
invitation on completion (or after the last session), the follow-up job exactly once (twice run, an
exception half way, a killed run), one reminder, closed invitations left alone."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.errors import Conflict
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.sessions.models import TrainingSession
from lms.surveys import invitations, services
from lms.surveys.answering import submit_response
from lms.surveys.models import SurveyInvitation
from lms.unit_of_work import unit_of_work
from tests.survey_support import GOOD_ANSWERS, complete, invitation_of, make_run_with_surveys


def mails(kind: str, recipient: str | None = None) -> int:
    query = select(func.count()).select_from(OutgoingMail).where(OutgoingMail.kind == kind)
    if recipient is not None:
        query = query.where(OutgoingMail.recipient == recipient)
    return int(db.session.scalar(query) or 0)


def close_to(moment: datetime, expected: datetime) -> bool:
    return abs((moment - expected).total_seconds()) < 60


def test_completing_opens_the_end_of_course_survey_and_mails_the_invitation_once(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys(open_days=20)
    trainee = make_user(preferred_language="fr")
    enrolment = complete(trainee, run)
    invitation = invitation_of(enrolment)
    assert invitation is not None
    assert close_to(invitation.opens_at, utcnow())
    assert invitation.closes_at - invitation.opens_at == timedelta(days=20)
    assert invitation.sent_at is not None and invitation.answered_on is None
    assert mails("survey_invitation", trainee.email) == 1
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.kind == "survey_invitation"))
    assert mail is not None and mail.language == "fr"
    assert f"/surveys/{invitation.id}" in mail.body
    with unit_of_work():
        invitations.send_due()  # the job finds nothing more to send
    assert mails("survey_invitation") == 1


def test_a_run_without_surveys_invites_nobody(app: Flask, make_user: Callable[..., User]) -> None:
    run = make_run_with_surveys()
    with unit_of_work():
        services.attach_surveys(run, services.RunSurveySettings(), actor_id=None)
    enrolment = complete(make_user(), run)
    assert invitation_of(enrolment) is None
    assert mails("survey_invitation") == 0


def _session(run_id: int, ends_at: datetime, *, cancelled: bool = False) -> None:
    db.session.add(
        TrainingSession(
            run_id=run_id,
            title="Day",
            starts_at=ends_at - timedelta(hours=3),
            ends_at=ends_at,
            uid=f"{secrets.token_hex(8)}@test",
            check_in_secret=secrets.token_hex(16),
            cancelled_at=utcnow() if cancelled else None,
        )
    )
    db.session.commit()


def test_with_sessions_the_survey_opens_when_the_last_session_that_takes_place_ends(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys()
    last_end = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    _session(run.id, utcnow() - timedelta(days=1))
    _session(run.id, last_end)
    _session(run.id, utcnow() + timedelta(days=9), cancelled=True)  # cancelled: does not count
    trainee = make_user()
    invitation = invitation_of(complete(trainee, run))
    assert invitation is not None
    assert invitation.opens_at == last_end
    assert invitation.closes_at == last_end + timedelta(days=30)
    assert invitation.sent_at is None and mails("survey_invitation") == 0  # not open: not mailed yet
    with unit_of_work():
        assert invitations.send_due(utcnow() + timedelta(days=1)).invited == 0
    with unit_of_work():
        assert invitations.send_due(last_end + timedelta(hours=1)).invited == 1
    with unit_of_work():
        assert invitations.send_due(last_end + timedelta(hours=2)).invited == 0
    assert mails("survey_invitation", trainee.email) == 1


@pytest.fixture
def follow_up_cohort(make_user: Callable[..., User]) -> tuple[Any, list[User]]:
    """A run with a three-month follow-up; three people who completed four months ago, one last week."""
    run = make_run_with_surveys(follow_up_months=3)
    people = [make_user() for _ in range(4)]
    for index, person in enumerate(people):
        enrolment = complete(person, run)
        enrolment.completed_at = utcnow() - (timedelta(days=7) if index == 3 else timedelta(days=125))
    db.session.commit()
    return run, people


def test_the_follow_up_is_created_and_mailed_exactly_once_however_often_the_job_runs(
    app: Flask, follow_up_cohort: tuple[Any, list[User]]
) -> None:
    _run, people = follow_up_cohort
    with unit_of_work():
        first = invitations.send_due()
    assert (first.created, first.invited) == (3, 3)
    with unit_of_work():
        second = invitations.send_due()
    assert (second.created, second.invited) == (0, 0)
    for person in people[:3]:
        assert mails("survey_invitation", person.email) == 2  # end-of-course + follow-up
    assert mails("survey_invitation", people[3].email) == 1  # completed last week: no follow-up yet
    follow_ups = db.session.scalar(
        select(func.count()).select_from(SurveyInvitation).where(SurveyInvitation.closes_at > utcnow())
    )
    assert follow_ups == 4 + 3


def test_an_exception_half_way_mails_nobody_twice(
    app: Flask, follow_up_cohort: tuple[Any, list[User]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _run, people = follow_up_cohort
    real = invitations.queue_survey_mail
    calls = {"n": 0}

    def failing_second(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("mail template broke for this one")
        real(*args, **kwargs)

    monkeypatch.setattr(invitations, "queue_survey_mail", failing_second)
    with unit_of_work():
        outcome = invitations.send_due()
    assert (outcome.invited, outcome.failed) == (2, 1)  # the failed one is left for the next run
    monkeypatch.setattr(invitations, "queue_survey_mail", real)
    with unit_of_work():
        assert invitations.send_due().invited == 1
    with unit_of_work():
        assert invitations.send_due().invited == 0
    for person in people[:3]:
        assert mails("survey_invitation", person.email) == 2


def test_a_job_killed_before_its_commit_leaves_nothing_and_the_next_run_mails_once(
    app: Flask, follow_up_cohort: tuple[Any, list[User]]
) -> None:
    _run, people = follow_up_cohort
    with pytest.raises(KeyboardInterrupt), unit_of_work():
        invitations.send_due()
        raise KeyboardInterrupt  # the worker stopped before the commit
    assert mails("survey_invitation") == 4  # only the end-of-course mails of the completions
    with unit_of_work():
        assert invitations.send_due().invited == 3
    for person in people[:3]:
        assert mails("survey_invitation", person.email) == 2


def test_one_reminder_to_those_who_have_not_answered_and_none_after_closing(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys(open_days=14, reminder_days=5)
    silent, answering, late = make_user(), make_user(), make_user()
    for person in (silent, answering, late):
        complete(person, run)
    answered = invitation_of(_enrolment(answering))
    assert answered is not None
    submit_response(answered, GOOD_ANSWERS, "en")
    db.session.commit()
    with unit_of_work():
        assert invitations.send_due(utcnow() + timedelta(days=4)).reminded == 0  # too early
    with unit_of_work():
        assert invitations.send_due(utcnow() + timedelta(days=6)).reminded == 2
    with unit_of_work():
        assert invitations.send_due(utcnow() + timedelta(days=7)).reminded == 0  # once
    assert mails("survey_reminder", silent.email) == 1
    assert mails("survey_reminder", answering.email) == 0
    with unit_of_work():
        outcome = invitations.send_due(utcnow() + timedelta(days=15))  # closed: left alone
    assert (outcome.invited, outcome.reminded) == (0, 0)


def _enrolment(user: User) -> Enrolment:
    return db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))


def test_a_closed_invitation_is_refused_and_changes_nothing(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run_with_surveys()
    invitation = invitation_of(complete(make_user(), run))
    assert invitation is not None
    invitation.opens_at = utcnow() - timedelta(days=40)
    invitation.closes_at = utcnow() - timedelta(days=10)
    db.session.commit()
    with pytest.raises(Conflict, match="closed"):
        submit_response(invitation, GOOD_ANSWERS, "en")
    db.session.rollback()
    assert db.session.get(SurveyInvitation, invitation.id).answered_on is None  # type: ignore[union-attr]


def test_a_form_that_has_invited_someone_keeps_it(app: Flask, make_user: Callable[..., User]) -> None:
    run = make_run_with_surveys()
    complete(make_user(), run)
    current = services.current_settings(run.id)
    with pytest.raises(Conflict):
        services.attach_surveys(run, services.RunSurveySettings(open_days=10), actor_id=None)
    db.session.rollback()
    changed = services.RunSurveySettings(end_form_id=current.end_form_id, open_days=10, reminder_days=3)
    assert services.attach_surveys(run, changed, actor_id=None)
    assert services.current_settings(run.id).open_days == 10


def test_the_command_does_what_the_job_does(app: Flask, follow_up_cohort: tuple[Any, list[User]]) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lms", "surveys", "send-due"])
    assert first.exit_code == 0 and "3 follow-up invitation(s) created, 3 invitation(s)" in first.output
    again = runner.invoke(args=["lms", "surveys", "send-due"])
    assert "0 follow-up invitation(s) created, 0 invitation(s)" in again.output

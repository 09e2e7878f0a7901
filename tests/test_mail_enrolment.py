"""Enrolment mail through a real SMTP server (aiosmtpd): each step's message arrives after the commit,
and a failed send loses nothing: the enrolment stays, the message stays pending and is retried."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment.models import Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.extensions import db
from lms.notifications.models import MailStatus, OutgoingMail
from tests.conftest_mail import Inbox, free_port, smtp_server
from tests.enrolment_support import UserClient, make_course, make_run


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    with smtp_server(app) as inbox:
        yield inbox


def signed_in(app: Flask, user: User) -> UserClient:
    db.session.rollback()  # end the test's read snapshot before the request writes
    return UserClient(app, user)


def test_each_step_mails_the_trainee(app: Flask, make_user: Callable[..., User], smtp_inbox: Inbox) -> None:
    course = make_course()
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=1, title="Document checks — March cohort")
    focal = make_user(Role.FOCAL_POINT)
    admin = make_user(Role.ADMIN)
    anna, boris, clara = (
        make_user(authority=focal.authority, given_name=n) for n in ("Anna", "Boris", "Clara")
    )
    run_id = run.id

    focal_client = signed_in(app, focal)
    response = focal_client.post(
        f"/authority/runs/{run_id}/nominate",
        data={
            "existing-user_ids": [anna.id, boris.id, clara.id],
            "existing-justification": "Front-line staff",
        },
    )
    assert response.status_code == 302
    for person in (anna, boris, clara):
        assert smtp_inbox.subjects(person.email) == [
            "You have been nominated for Document checks — March cohort"
        ]
    body = Inbox.body(smtp_inbox.to(anna.email)[0])
    assert focal.full_name in body and "Document checks — March cohort" in body

    db.session.rollback()
    ids = {e.user_id: e.id for e in db.session.scalars(select(Enrolment).where(Enrolment.run_id == run_id))}
    admin_client = signed_in(app, admin)
    admin_client.post(
        f"/admin/course-runs/{run_id}/decide",
        data={"enrolment_ids": [ids[anna.id], ids[boris.id]], "approve": "1"},
    )
    assert (
        smtp_inbox.subjects(anna.email)[-1] == "Approved: you are enrolled in Document checks — March cohort"
    )
    assert (
        smtp_inbox.subjects(boris.email)[-1]
        == "Approved: you are on the waiting list for Document checks — March cohort"
    )
    admin_client.post(
        f"/admin/course-runs/{run_id}/decide",
        data={"enrolment_ids": [ids[clara.id]], "reject": "1", "reason": "Prerequisite course missing"},
    )
    rejection = smtp_inbox.to(clara.email)[-1]
    assert rejection["Subject"] == "Not approved: Document checks — March cohort"
    assert "Prerequisite course missing" in Inbox.body(rejection)

    anna_client = signed_in(app, anna)
    assert (
        anna_client.post(f"/enrolments/{ids[anna.id]}/withdraw", data={"reason": "Posted abroad"}).status_code
        == 302
    )
    assert (
        smtp_inbox.subjects(boris.email)[-1]
        == "A seat is free: you are enrolled in Document checks — March cohort"
    )

    db.session.rollback()
    course_run = db.session.get(type(run), run_id)
    course_run.starts_on = utcnow().date() + timedelta(days=3)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["lms", "enrolment", "remind-run-start", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "reminders queued: 1" in result.output
    assert smtp_inbox.subjects(boris.email)[-1] == "Document checks — March cohort starts soon"
    again = app.test_cli_runner().invoke(args=["lms", "enrolment", "remind-run-start"])
    assert "reminders queued: 0" in again.output  # once per run


def test_a_failed_send_keeps_the_change_and_is_retried(
    app: Flask, make_user: Callable[..., User], smtp_inbox: Inbox
) -> None:
    course = make_course()
    run = make_run(course, EnrolmentMethod.NOMINATION)
    focal = make_user(Role.FOCAL_POINT)
    trainee = make_user(authority=focal.authority)
    run_id, trainee_id = run.id, trainee.id
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there: the send fails
    try:
        response = signed_in(app, focal).post(
            f"/authority/runs/{run_id}/nominate",
            data={"existing-user_ids": [trainee_id], "existing-justification": "Needed"},
        )
    finally:
        app.config["MAIL_PORT"] = working_port
    assert response.status_code == 302
    db.session.rollback()
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee_id))
    assert enrolment is not None and enrolment.status == EnrolmentStatus.NOMINATED
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.recipient == trainee.email))
    assert mail is not None and mail.status == MailStatus.PENDING and mail.attempts == 1 and mail.last_error
    assert smtp_inbox.messages == []

    mail.next_attempt_at = utcnow() - timedelta(seconds=1)  # the retry delay has passed
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["lms", "mail", "send"])
    assert "sent: 1" in result.output, result.output
    assert smtp_inbox.subjects(trainee.email) == [f"You have been nominated for {run.title}"]

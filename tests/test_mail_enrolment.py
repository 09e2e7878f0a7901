"""Enrolment mail through a real SMTP server (aiosmtpd). The request writes the message and, after its
commit, enqueues the mail job; the job (run here the way the worker runs it) sends it. A slow or down
mail server never delays or fails the request; the job retries, and the sweep catches the rest."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.extensions import db
from lms.jobs.models import JobFailure
from lms.notifications.models import MailStatus, OutgoingMail
from tests.conftest_mail import Inbox, JobQueue, job_queue, smtp_server
from tests.enrolment_support import UserClient, make_course, make_run


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    with smtp_server(app, run_jobs_at_once=False) as inbox:
        yield inbox


@pytest.fixture
def jobs(app: Flask) -> Iterator[JobQueue]:
    with job_queue(app) as queued:
        yield queued


def signed_in(app: Flask, user: User) -> UserClient:
    db.session.rollback()  # end the test's read snapshot before the request writes
    return UserClient(app, user)


def test_each_step_mails_the_trainee(
    app: Flask, make_user: Callable[..., User], smtp_inbox: Inbox, jobs: JobQueue
) -> None:
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
    assert smtp_inbox.messages == []  # the request only queued the job
    assert jobs.names() == ["deliver_mail"]  # one job for the three messages of this request
    assert jobs.run() == 1
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
    jobs.run()
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
    jobs.run()
    rejection = smtp_inbox.to(clara.email)[-1]
    assert rejection["Subject"] == "Not approved: Document checks — March cohort"
    assert "Prerequisite course missing" in Inbox.body(rejection)

    anna_client = signed_in(app, anna)
    assert (
        anna_client.post(f"/enrolments/{ids[anna.id]}/withdraw", data={"reason": "Posted abroad"}).status_code
        == 302
    )
    jobs.run()
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
    assert jobs.names() == [] and jobs.scheduled() == []  # every job done, no retry pending
    assert all(m.attempts == 1 for m in db.session.scalars(select(OutgoingMail)))  # each sent once


class SilentServer:
    """Accepts connections and never says a word: a mail server that hangs."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])

    def close(self) -> None:
        self.socket.close()


def nominate(app: Flask, focal: User, run_id: int, trainee_id: int) -> tuple[int, float]:
    client = signed_in(app, focal)
    started = time.monotonic()
    response = client.post(
        f"/authority/runs/{run_id}/nominate",
        data={"existing-user_ids": [trainee_id], "existing-justification": "Needed"},
    )
    return response.status_code, time.monotonic() - started


def nomination_run_with_people(make_user: Callable[..., User]) -> tuple[CourseRun, User, User]:
    """A nomination run, a focal point, and a trainee of the focal point's authority."""
    run = make_run(make_course(), EnrolmentMethod.NOMINATION)
    focal = make_user(Role.FOCAL_POINT)
    return run, focal, make_user(authority=focal.authority)


def test_with_the_mail_server_down_the_request_succeeds_and_the_job_retries_until_it_is_back(
    app: Flask, make_user: Callable[..., User], smtp_inbox: Inbox, jobs: JobQueue
) -> None:
    run, focal, trainee = nomination_run_with_people(make_user)
    run_id, trainee_id, trainee_email, run_title = run.id, trainee.id, trainee.email, run.title
    working_port, silent = app.config["MAIL_PORT"], SilentServer()
    app.config.update(MAIL_PORT=silent.port, MAIL_TIMEOUT=2)  # the server hangs until the timeout
    try:
        status, seconds = nominate(app, focal, run_id, trainee_id)
        assert status == 302
        assert seconds < 1.5, seconds  # the page did not wait for the mail server (timeout 2 s)
        db.session.rollback()
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee_id))
        assert enrolment is not None and enrolment.status == EnrolmentStatus.NOMINATED
        mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.recipient == trainee_email))
        assert mail is not None and (mail.status, mail.attempts) == (MailStatus.PENDING, 0)  # not tried yet

        started = time.monotonic()
        assert jobs.run() == 1  # the worker's try: it waits for the server, not the request
        assert time.monotonic() - started >= 1.5
        db.session.refresh(mail)
        assert (mail.status, mail.attempts) == (MailStatus.PENDING, 1) and mail.last_error
        (retry,) = jobs.scheduled()  # the job comes back when the message's backoff ends
        assert retry.name.endswith("deliver_mail") and retry.eta is not None
        assert abs(retry.eta.replace(tzinfo=UTC) - mail.next_attempt_at) < timedelta(seconds=1)  # naive UTC
        assert mail.next_attempt_at - utcnow() > timedelta(seconds=50)  # 1 minute after the first try
        assert jobs.run() == 0  # not before its time
    finally:
        app.config["MAIL_PORT"] = working_port
        app.config.pop("MAIL_TIMEOUT")  # back to the default
        silent.close()

    # The mail server is back; a minute later the retry runs and the message arrives, once.
    mail.next_attempt_at = utcnow() - timedelta(seconds=1)  # the backoff has passed
    db.session.commit()
    assert jobs.run(at=datetime.now(UTC) + timedelta(minutes=2)) == 1
    assert smtp_inbox.subjects(trainee_email) == [f"You have been nominated for {run_title}"]
    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    assert jobs.names() == [] and jobs.scheduled() == []
    assert db.session.scalar(select(JobFailure.id)) is None


def test_with_no_worker_the_sweep_sends_the_mail_and_the_late_job_sends_nothing_twice(
    app: Flask, make_user: Callable[..., User], smtp_inbox: Inbox, jobs: JobQueue
) -> None:
    run, focal, trainee = nomination_run_with_people(make_user)
    trainee_email, run_title = trainee.email, run.title
    assert nominate(app, focal, run.id, trainee.id)[0] == 302
    assert jobs.names() == ["deliver_mail"]  # queued, but no worker runs it

    # What cron runs every minute where no worker is kept (README, "Deploying").
    result = app.test_cli_runner().invoke(args=["lms", "mail", "send"])
    assert "sent: 1" in result.output, result.output
    assert smtp_inbox.subjects(trainee_email) == [f"You have been nominated for {run_title}"]

    assert jobs.run() == 1  # the worker starts at last: the job finds the message sent
    assert len(smtp_inbox.messages) == 1
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.recipient == trainee_email))
    assert mail is not None and (mail.status, mail.attempts) == (MailStatus.SENT, 1)

"""Issue 18, item 6: a sent mail's secrets do not stay readable in outgoing_mail. The body is kept while
the message may still be sent (a failed try is retried with it) and emptied once it is sent or given up
on. Real SMTP (aiosmtpd), the job worker's path (send_due_mail)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from lms.auth.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.notifications.models import MailStatus, OutgoingMail
from lms.notifications.services import send_due_mail
from tests.conftest_mail import Inbox, JobQueue, free_port, job_queue, smtp_server
from tests.test_auth import registration_form

RESET_LINK = re.compile(r"/reset-password/([A-Za-z0-9_-]+)")
CONFIRM_LINK = re.compile(r"/confirm-email/([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    with smtp_server(app, run_jobs_at_once=False) as inbox:
        yield inbox


@pytest.fixture
def jobs(app: Flask) -> Iterator[JobQueue]:
    with job_queue(app) as queued:
        yield queued


def stored_text() -> str:
    """Every column of every outgoing_mail row, as text: what a database dump or backup shows."""
    db.session.rollback()
    rows = db.session.execute(select(OutgoingMail.__table__)).all()
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


def due_now() -> None:
    """The backoff of a failed try has passed."""
    db.session.execute(update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_sent_reset_link_is_not_kept_but_a_failed_try_keeps_it_for_the_retry(
    app: Flask,
    make_user: Callable[..., User],
    smtp_inbox: Inbox,
    jobs: JobQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = make_user()
    assert app.test_client().post("/forgot-password", data={"email": user.email}).status_code == 302
    match = RESET_LINK.search(stored_text())
    assert match is not None  # pending: the text is needed to send it
    token = match.group(1)

    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nobody listens: the try fails
    try:
        assert send_due_mail() == (0, 1)
    finally:
        app.config["MAIL_PORT"] = working_port
    mail = db.session.scalar(select(OutgoingMail))
    assert mail is not None and mail.status == MailStatus.PENDING and mail.attempts == 1
    assert token in mail.body  # kept for the retry

    due_now()
    assert send_due_mail() == (1, 0)
    [message] = smtp_inbox.to(user.email)
    assert token in Inbox.body(message)  # the person got the link...
    text = stored_text()
    assert token not in text and "reset-password" not in text  # ...and the database no longer holds it
    mail = db.session.scalar(select(OutgoingMail))
    assert mail is not None
    assert (mail.status, mail.recipient, mail.kind, mail.body) == (
        MailStatus.SENT,
        user.email,
        "password_reset",
        "",
    )
    assert mail.subject and mail.sent_at is not None  # what the outbox shows stays

    # The link still works: only the mail's copy is gone (the reset row holds a hash). Opening it does
    # not write the token into the request log either.
    client = app.test_client()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="lms.request"):
        assert client.get(f"/reset-password/{token}").status_code == 200
    [logged] = [record for record in caplog.records if record.name == "lms.request"]
    assert logged.path == "/reset-password/[token]"  # type: ignore[attr-defined]
    assert all(token not in str(value) for value in vars(logged).values())


def test_confirmation_mail_sent_by_the_job_and_mail_given_up_on_keep_no_text(
    app: Flask, make_authority, smtp_inbox: Inbox, jobs: JobQueue
) -> None:
    client = app.test_client()
    assert client.post("/register", data=registration_form(make_authority("UA"))).status_code == 302
    match = CONFIRM_LINK.search(stored_text())
    assert match is not None
    jobs.run()  # the mail job the request enqueued after its commit
    assert CONFIRM_LINK.search(Inbox.body(smtp_inbox.messages[0])) is not None
    assert match.group(1) not in stored_text()

    # A message given up on after the last try is never sent: its text goes too.
    db.session.add(
        OutgoingMail(recipient="x@agency.test", subject="s", body="secret-link", kind="password_reset")
    )
    db.session.commit()
    saved = app.config["MAIL_PORT"], app.config["MAIL_MAX_ATTEMPTS"]
    app.config.update(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=1)
    try:
        assert send_due_mail() == (0, 1)
    finally:
        app.config["MAIL_PORT"], app.config["MAIL_MAX_ATTEMPTS"] = saved
    assert "secret-link" not in stored_text()
    assert db.session.scalar(
        select(OutgoingMail.status).where(OutgoingMail.recipient == "x@agency.test")
    ) == (MailStatus.FAILED)


def test_mail_sent_before_the_upgrade_is_cleared_by_the_cli(app: Flask) -> None:
    db.session.add_all(
        [
            OutgoingMail(recipient="a@agency.test", subject="s", body="old-secret", status=MailStatus.SENT),
            OutgoingMail(recipient="b@agency.test", subject="s", body="still-to-send"),
        ]
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["lms", "mail", "clear-sent"])
    assert result.exit_code == 0, result.output
    assert "cleared: 1" in result.output
    text = stored_text()
    assert "old-secret" not in text and "still-to-send" in text

"""Background jobs: bulk certificate issue, mail retries, expiry reminders, worker restarts."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from huey.storage import SqliteStorage
from pypdf import PdfReader
from sqlalchemy import func, select, update

from lms.auth.models import Role, User
from lms.certificates import codes
from lms.certificates import services as certificate_services
from lms.certificates import storage as certificate_storage
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.jobs import queue, services, tasks
from lms.jobs.expiry import reminder_kind, reminder_tier
from lms.jobs.models import JobFailure
from lms.notifications.models import MailStatus, OutgoingMail
from lms.notifications.services import queue_mail, send_due_mail
from lms.orgs.models import Authority
from tests.conftest import login
from tests.conftest_mail import Inbox, free_port, job_queue, smtp_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# --- pure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "tier"),
    [(90, None), (60, None), (59.5, 60), (31, 60), (29, 30), (8, 30), (6.9, 7), (0.1, 7), (-1, None)],
)
def test_reminder_tier(days_left: float, tier: int | None) -> None:
    assert reminder_tier(NOW + timedelta(days=days_left), NOW) == tier


def test_reminder_kind_fits_the_mail_kind_column() -> None:
    assert len(reminder_kind(60, 10**12)) <= 40


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def memory_queue(app: Flask) -> Iterator[None]:
    """The real task functions on an in-memory queue, executed step by step by the test."""
    with job_queue(app):
        yield


def drain(threads: int = 1) -> None:
    """What a worker does: take the next job and run it, until the queue is empty."""

    def work() -> None:
        while (task := queue.huey.dequeue()) is not None:
            queue.huey.execute(task)

    runners = [threading.Thread(target=work) for _ in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    db.session.rollback()  # the test's own session: read what the jobs committed, not an old snapshot


def completed_enrolments(course: Course, authority: Authority, count: int) -> list[int]:
    run = db.session.scalar(select(CourseRun).where(CourseRun.course_id == course.id))
    assert run is not None
    run.certificate_issuance = "approval"  # nothing issued on completion: the bulk job does it
    users = [
        User(
            email=f"bulk{n}@agency.test", password_hash="-", given_name="Bulk", family_name=f"Trainee {n}",
            country_code=authority.country_code, authority_id=authority.id, email_confirmed_at=utcnow(),
        )
        for n in range(count)
    ]  # fmt: skip
    db.session.add_all(users)
    db.session.flush()
    enrolments = [
        Enrolment(run_id=run.id, user_id=user.id, status=EnrolmentStatus.COMPLETED, completed_at=utcnow())
        for user in users
    ]
    db.session.add_all(enrolments)
    db.session.commit()
    return [enrolment.id for enrolment in enrolments]


# --- certificates ----------------------------------------------------------------------------


def test_bulk_issue_of_200_certificates_in_the_background(
    app: Flask, memory_queue: None, demo_course: Course, make_authority: Callable[..., Authority]
) -> None:
    """The queue, the jobs, the signing, the rendering and the files at scale: each job renders its
    certificate through the normal certificate code (WeasyPrint), and every stored PDF opens and
    carries its own code. About 0.1 s a certificate here, so the test takes some 25 s."""
    ids = completed_enrolments(demo_course, make_authority(), 200)
    assert tasks.enqueue_bulk_issue(ids, actor_id=None) == 200
    assert queue.huey.pending_count() == 200
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0  # nothing inline

    drain(threads=2 if db.engine.dialect.name == "postgresql" else 1)  # SQLite: one writer at a time

    assert queue.huey.pending_count() == 0
    assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 0
    certificates = db.session.scalars(select(Certificate)).all()
    assert len(certificates) == 200
    assert {c.enrolment_id for c in certificates} == set(ids)
    for certificate in certificates:
        path = certificate_storage.pdf_path(certificate)
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256  # the file the row describes
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1, certificate.code
        assert codes.grouped(certificate.code) in reader.pages[0].extract_text(), certificate.code

    # Running the same jobs again (a restarted worker) changes nothing: no second certificate, and
    # no PDF rendered or written twice (an issued PDF is opened with O_EXCL, a rewrite would fail).
    tasks.enqueue_bulk_issue(ids[:5], actor_id=None)
    drain()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 200
    assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 0


def test_status_list_regeneration_job_signs_the_list(app: Flask, memory_queue: None) -> None:
    tasks.regenerate_status_list()
    drain()
    document = services.regenerate_status_list()
    assert "BitstringStatusListCredential" in document["type"]  # type: ignore[operator]
    assert document["proof"]  # signed


# --- mail ------------------------------------------------------------------------------------


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    with smtp_server(app, run_jobs_at_once=False) as inbox:
        yield inbox


def run_retries_now() -> int:
    """Let the backoff pass: every pending message is due and every scheduled job's time has come."""
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.status == MailStatus.PENDING)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # Huey keeps naive UTC
    retries = queue.huey.read_schedule(later)
    for retry in retries:
        queue.huey.execute(retry, timestamp=later)
    db.session.rollback()  # end the test session's read snapshot
    return len(retries)


def test_a_failing_mail_job_is_retried_then_succeeds(
    app: Flask, memory_queue: None, smtp_inbox: Inbox
) -> None:
    live_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens: the first attempt fails
    mail = queue_mail("trainee@agency.test", "Your certificate", "Hello")
    db.session.commit()

    tasks.deliver_mail([mail.id])
    drain()
    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == (MailStatus.PENDING, 1)
    assert mail.last_error
    (retry,) = queue.huey.scheduled()  # Huey put the job back for a retry...
    assert retry.eta is not None  # ...at the end of the message's backoff (1 minute after a first failure)
    assert abs(retry.eta.replace(tzinfo=UTC) - mail.next_attempt_at) < timedelta(seconds=1)
    assert timedelta(seconds=50) < mail.next_attempt_at - utcnow() <= timedelta(minutes=1)
    assert retry.retries == 3  # waiting for the mail does not use the job's retries (kept for other errors)

    app.config["MAIL_PORT"] = live_port  # the server is back
    assert run_retries_now() == 1
    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    assert smtp_inbox.subjects("trainee@agency.test") == ["Your certificate"]
    assert queue.huey.scheduled_count() == 0 and queue.huey.pending_count() == 0
    assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 0


def test_mail_that_keeps_failing_backs_off_then_is_visible_to_admins(
    app: Flask, client: FlaskClient, memory_queue: None, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    app.config.update(MAIL_BACKEND="smtp", MAIL_PORT=free_port())
    try:
        mail = queue_mail("trainee@agency.test", "Never arrives", "Body")
        db.session.commit()
        tasks.deliver_mail([mail.id])
        drain()
        backoff = []
        for _ in range(app.config["MAIL_MAX_ATTEMPTS"] - 1):
            db.session.refresh(mail)
            backoff.append(round((mail.next_attempt_at - utcnow()).total_seconds() / 60))
            assert mail.status == MailStatus.PENDING
            assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 0  # not final yet
            assert run_retries_now() == 1
    finally:
        app.config.update(MAIL_BACKEND="file", MAIL_PORT=25)
    assert backoff == [1, 5, 30, 120]  # minutes after the 1st, 2nd, 3rd and 4th try
    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, app.config["MAIL_MAX_ATTEMPTS"])
    assert queue.huey.scheduled_count() == 0 and queue.huey.pending_count() == 0  # the job gave up too
    failure = db.session.scalars(select(JobFailure)).one()
    assert failure.task_name.endswith("deliver_mail")
    assert "MailNotSent" in failure.error
    result = app.test_cli_runner().invoke(args=["lms", "jobs", "failures"])
    assert "deliver_mail" in result.output and "MailNotSent" in result.output
    login(client, admin)
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert "MailNotSent" in html  # the job...
    assert "trainee@agency.test" in html and "Never arrives" in html  # ...and the message itself


def test_concurrent_senders_send_each_message_once(app: Flask, smtp_inbox: Inbox) -> None:
    """The request's job, the sweep and `flask lms mail send` may meet on one message: each try is
    claimed first, so nothing goes out twice and each message counts one attempt."""
    for n in range(30):
        queue_mail(f"person{n}@agency.test", f"Message {n}", "x")
    db.session.commit()
    outcomes: list[tuple[int, int]] = []

    def sender() -> None:
        with app.app_context():
            outcomes.append(send_due_mail(limit=100))

    senders = [threading.Thread(target=sender) for _ in range(3)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    db.session.rollback()
    assert sum(sent for sent, _failed in outcomes) == 30
    assert sorted(smtp_inbox.subjects()) == sorted(f"Message {n}" for n in range(30))
    mails = db.session.scalars(select(OutgoingMail)).all()
    assert {(m.status, m.attempts) for m in mails} == {(MailStatus.SENT, 1)}


def test_due_mail_sweeper_sends_pending_mail(app: Flask, memory_queue: None, smtp_inbox: Inbox) -> None:
    queue_mail("a@agency.test", "One", "x")
    queue_mail("b@agency.test", "Two", "x")
    db.session.commit()
    tasks.send_due_mail_every_minute.call_local()
    assert sorted(smtp_inbox.subjects()) == ["One", "Two"]


# --- expiry reminders ------------------------------------------------------------------------


def test_expiry_reminders_go_to_the_holder_and_focal_points_once_per_tier(
    app: Flask, demo_course: Course, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    authority = make_authority()
    holder = make_user(authority=authority)
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    make_user(Role.FOCAL_POINT)  # another authority's focal point: not told
    (enrolment_id,) = [e for e in completed_enrolments(demo_course, authority, 1)]
    enrolment = db.session.get(Enrolment, enrolment_id)
    assert enrolment is not None
    enrolment.user_id = holder.id
    db.session.flush()
    certificate = certificate_services.issue_for_enrolment(enrolment, actor_id=None, method="approved")  # type: ignore[arg-type]
    certificate.valid_until = utcnow() + timedelta(days=45)
    db.session.commit()

    assert services.queue_expiry_reminders() == 2
    db.session.commit()
    assert services.queue_expiry_reminders() == 0  # same tier: nothing twice
    certificate.valid_until = utcnow() + timedelta(days=5)
    db.session.commit()
    assert services.queue_expiry_reminders() == 2  # the 7-day tier
    db.session.commit()

    mails = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.kind != "certificate_issued").order_by(OutgoingMail.id)
    ).all()
    assert [(m.recipient, m.kind) for m in mails] == [
        (holder.email, reminder_kind(60, certificate.id)),
        (focal.email, reminder_kind(60, certificate.id)),
        (holder.email, reminder_kind(7, certificate.id)),
        (focal.email, reminder_kind(7, certificate.id)),
    ]
    assert certificate.code in mails[0].body and holder.full_name in mails[1].body


# --- the real worker process, stopped mid-queue ----------------------------------------------


def start_worker(app: Flask, queue_file: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        FLASK_APP="lms",
        LMS_INSTANCE_PATH=app.instance_path,
        LMS_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        LMS_SECRET_KEY=app.config["SECRET_KEY"],
        LMS_JOBS_SQLITE_PATH=str(queue_file),
        LMS_LOG_REQUESTS="false",
        LMS_PUBLIC_BASE_URL="https://academy.example.org",  # production: never a loopback issuer
    )
    env.pop("LMS_REDIS_URL", None)
    with (queue_file.parent / "worker.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "lms", "jobs", "worker", "--workers", "1"],
            env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def certificate_count() -> int:
    db.session.rollback()  # a fresh snapshot of what the worker committed
    return int(db.session.scalar(select(func.count()).select_from(Certificate)) or 0)


def wait_for(condition: Callable[[], bool], timeout: float, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None:
            raise AssertionError(f"worker exited with {worker.returncode}; see worker.log")
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def jobs_in_hand() -> list[str]:
    return [key for key in queue.huey.storage.result_items() if key.startswith(queue.IN_HAND_PREFIX + ":")]


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(signal.SIGTERM, id="SIGTERM"),  # what systemd, docker and `make run` send
        pytest.param(signal.SIGKILL, id="SIGKILL"),  # kill -9, the OOM killer, docker after its grace period
    ],
)
def test_restarting_the_worker_mid_queue_loses_nothing(
    app: Flask,
    tmp_path: Path,
    demo_course: Course,
    make_authority: Callable[..., Authority],
    stop: signal.Signals,
) -> None:
    queue_file = tmp_path / "jobs.sqlite"
    saved_storage = queue.huey.storage
    queue.huey.storage = SqliteStorage(queue.QUEUE_NAME, filename=str(queue_file))
    try:
        ids = completed_enrolments(demo_course, make_authority(), 12)
        tasks.enqueue_bulk_issue(ids, actor_id=None)

        worker = start_worker(app, queue_file)
        if stop == signal.SIGTERM:
            wait_for(lambda: certificate_count() >= 3, 60, worker)
            worker.send_signal(stop)
            assert worker.wait(timeout=30) == 0  # the job in hand finished, the rest stayed queued
        else:
            wait_for(lambda: certificate_count() >= 3 and bool(jobs_in_hand()), 60, worker)
            worker.send_signal(stop)  # mid-job: no handler runs, the job in hand is not put back
            assert worker.wait(timeout=30) == -signal.SIGKILL
        stopped_at = certificate_count()
        assert stopped_at < 12, "the queue was not stopped midway; make the test queue longer"
        # The rest waited in the queue; what the killed worker had in hand is recorded beside it
        # (one more when the kill came after the job's commit but before it was marked done).
        in_hand = jobs_in_hand()
        # Only the certificate jobs: a periodic job the worker queued at a minute's turn may wait beside them.
        waiting = [task for task in queue.huey.pending() if task.name.endswith("issue_certificate")]
        assert len(waiting) + len(in_hand) in (12 - stopped_at, 12 - stopped_at + 1)

        worker = start_worker(app, queue_file)
        try:
            wait_for(lambda: certificate_count() == 12 and queue.huey.pending_count() == 0, 60, worker)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        assert jobs_in_hand() == []
        if in_hand:
            assert "was in hand when worker" in (queue_file.parent / "worker.log").read_text()
    finally:
        queue.huey.storage = saved_storage
    certificates = db.session.scalars(select(Certificate)).all()
    assert sorted(c.enrolment_id for c in certificates) == sorted(ids)  # each once, none lost
    assert all(certificate_storage.pdf_path(c).exists() for c in certificates)
    assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 0


# --- the admins' page ------------------------------------------------------------------------


def test_admins_see_failed_jobs_and_failed_mail(
    app: Flask, client: FlaskClient, memory_queue: None, make_user: Callable[..., User]
) -> None:
    db.session.add(JobFailure(task_id="t-1", task_name="lms.jobs.tasks.deliver_mail", arguments="([7],)",
                              error="MailNotSent: 1 of 1 messages not sent"))  # fmt: skip
    mail = queue_mail("lost@agency.test", "Never arrived", "x")
    mail.status, mail.attempts, mail.last_error = MailStatus.FAILED, 5, "550 mailbox unavailable"
    db.session.commit()
    tasks.regenerate_status_list()  # one job waiting

    trainee = make_user()
    admin = make_user(Role.ADMIN)
    login(client, trainee)
    assert client.get("/admin/jobs").status_code == 403
    client.post("/logout")
    login(client, admin)
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert "Waiting: 1." in html
    assert "lms.jobs.tasks.deliver_mail" in html and "MailNotSent" in html
    assert "lost@agency.test" in html and "550 mailbox unavailable" in html

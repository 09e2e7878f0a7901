"""The CSV import at scale (issue 18): checked without the write lock, written in one short transaction,
large files as a background job with a progress page, files over the bounds refused whole.

A 4,000-row file used to hold SQLite's write lock for 46 s while every trainee's write failed with
"database is locked". ``test_20000_rows_while_trainees_keep_writing`` imports 20,000 rows while trainees
complete lessons through the app and others enrol in another run, and asserts that every one of their
requests succeeded and the import is complete and consistent (run it on SQLite and PostgreSQL). It
prints how long the import took; nothing here asserts a duration.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.audit.services import verify_audit_chain
from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.db import writing_transactions
from lms.enrolment import (
    admission,
    bulk_import,
    import_plan,
    import_snapshot,
    import_write,
    nominations,
    runs,
    self_service,
)
from lms.enrolment.csv_import import parse_csv
from lms.enrolment.mail import MailKind, enrolment_mail, enrolment_mails
from lms.enrolment.models import (
    CourseRun,
    Enrolment,
    EnrolmentImport,
    EnrolmentMethod,
    EnrolmentStatus,
    ImportStatus,
)
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.orgs.models import Authority
from lms.reports import facts
from tests.conftest_mail import JobQueue, job_queue
from tests.enrolment_support import UserClient, make_course, make_run

HEADER = "email,given_name,family_name,native_name,country,authority,position,sex,birth_year_band,language"
LANGUAGES = ("", "ru", "fr", "ar")


def trainee_csv(count: int, authority: str = "ua-sbgs", start: int = 0) -> bytes:
    lines = [HEADER]
    for n in range(start, start + count):
        lines.append(
            f"trainee{n}@dpsu.example.org,Olha{n},Tkachenko,Ольга Ткаченко,UA,{authority},Inspector,"
            f"female,1990-1999,{LANGUAGES[n % len(LANGUAGES)]}"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def ua(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")


@pytest.fixture
def course(app: Flask) -> Course:
    return make_course(lessons=3)


@pytest.fixture
def memory_jobs(app: Flask) -> Iterator[JobQueue]:
    with job_queue(app) as jobs:
        yield jobs


def count(model: Any, *conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


# --- The write: one transaction, the same records as one person at a time ---------------------------


def test_bulk_mail_is_what_each_single_message_would_be(app: Flask, course, ua, make_user) -> None:
    """The import writes each message once per language and puts each person in: the same text."""
    focal = make_user(Role.FOCAL_POINT, authority=ua, given_name="Iryna", family_name="Koval")
    run = make_run(course, EnrolmentMethod.NOMINATION)
    people = [
        make_user(authority=ua, given_name=f"Name{n}", family_name="Ткаченко", preferred_language=language)
        for n, language in enumerate(("ru", "ar", None, "fr", "ru"))
    ]
    with app.test_request_context():
        for kind in (MailKind.NOMINATION_RECEIVED, MailKind.APPROVED):
            assert enrolment_mails(kind, people, run, actor=focal) == [
                enrolment_mail(kind, person, run, actor=focal) for person in people
            ]


def test_enrolling_keeps_the_audit_chain_the_facts_and_the_seats_true(
    app: Flask, course, ua, make_user
) -> None:
    admin = make_user(Role.ADMIN)
    existing = make_user(authority=ua, email="trainee1@dpsu.example.org", given_name="Old", sex="male")
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=60)
    report = bulk_import.import_trainees(
        admin, run, parse_csv(trainee_csv(60)), import_snapshot.ImportMode.ENROL, "Cohort", dry_run=False
    )
    assert report.written and not report.problems
    assert [o.account for o in report.outcomes].count("updated") == 1
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.ENROLLED) == 60
    person = db.session.get(User, existing.id)
    assert person is not None and person.given_name == "Olha1" and person.sex == "female"
    assert "olha1" in person.search_name
    assert verify_audit_chain() == []
    assert count(AuditRecord, AuditRecord.action == "user.created_by_focal_point") == 59
    assert count(AuditRecord, AuditRecord.action == "user.updated_by_import") == 1
    assert count(AuditRecord, AuditRecord.action == "enrolment.enrolled") == 60
    assert count(OutgoingMail) == 60
    with db.engine.connect() as connection:
        assert facts.differences(connection) == set()  # the places' facts were written with them
    new = db.session.scalar(select(User).where(User.email == "trainee2@dpsu.example.org"))
    assert new is not None and new.role_names == {Role.TRAINEE} and new.password_hash.startswith("!unset:")
    # The seats were counted in file order: a run one seat short refuses the last row, and nothing is written.
    full = make_run(course, EnrolmentMethod.NOMINATION, seats=2)
    short = bulk_import.import_trainees(
        admin,
        full,
        parse_csv(trainee_csv(3, start=100)),
        import_snapshot.ImportMode.ENROL,
        "x",
        dry_run=False,
    )
    assert not short.written and [p.row for p in short.problems] == [4]
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == full.id) == 0


def test_a_change_between_the_check_and_the_write_is_seen(
    app: Flask, course, ua, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone nominates a person of the file while it is being checked: the write, under the lock,
    sees that what the plan read has changed, checks again, and reports the row; nothing is written."""
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    other_focal = make_user(Role.FOCAL_POINT, authority=ua)
    person = make_user(authority=ua, email="trainee1@dpsu.example.org")
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id, person_id, other_id = run.id, person.id, other_focal.id
    prepare, calls = bulk_import.prepare_write, []

    def prepare_then_someone_nominates(plan: import_plan.ImportPlan) -> import_write.PreparedWrite:
        calls.append(plan)
        if len(calls) == 1:
            in_other_session(
                app,
                lambda: nominations.nominate(
                    db.session.get(User, other_id),
                    db.session.get(CourseRun, run_id),
                    db.session.get(User, person_id),
                    "Needed first",
                ),
            )
        return prepare(plan)

    monkeypatch.setattr(bulk_import, "prepare_write", prepare_then_someone_nominates)
    report = bulk_import.import_trainees(
        focal, run, parse_csv(trainee_csv(3)), import_snapshot.ImportMode.NOMINATE, "Cohort", dry_run=False
    )
    assert len(calls) == 1  # planned again: the second plan found the problem, so nothing was prepared
    assert not report.written and [p.row for p in report.problems] == [3]
    assert "already has a place" in report.problems[0].message
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == run_id) == 1  # the other focal point's nomination only


def test_ids_taken_meanwhile_are_chosen_again(
    app: Flask, course, ua, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: the new rows' ids are chosen before the lock (with a margin above the highest, none
    here); someone enrolling in another run meanwhile takes one, so the write prepares again.
    PostgreSQL's ids come from the sequences: no retry."""
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    walk_in = make_user(authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    open_run = make_run(course, EnrolmentMethod.OPEN)
    open_run_id, walk_in_id = open_run.id, walk_in.id
    prepare, calls = bulk_import.prepare_write, []

    def prepare_then_someone_enrols(plan: import_plan.ImportPlan) -> import_write.PreparedWrite:
        prepared = prepare(plan)
        calls.append(prepared)
        if len(calls) == 1:
            in_other_session(
                app,
                lambda: self_service.self_enrol(
                    db.session.get(User, walk_in_id), db.session.get(CourseRun, open_run_id)
                ),
            )
        return prepared

    monkeypatch.setattr(bulk_import, "prepare_write", prepare_then_someone_enrols)
    monkeypatch.setattr(import_write, "ID_MARGIN", 0)
    report = bulk_import.import_trainees(
        focal, run, parse_csv(trainee_csv(5)), import_snapshot.ImportMode.NOMINATE, "Cohort", dry_run=False
    )
    assert report.written and not report.problems
    if db.engine.dialect.name == "sqlite":
        assert len(calls) == 2
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == run.id) == 5
    assert verify_audit_chain() == []


def in_other_session(app: Flask, change: Callable[[], object]) -> None:
    """A change committed by someone else (another thread: its own connection and transaction)."""
    failures: list[BaseException] = []

    def work() -> None:
        with app.app_context(), writing_transactions():
            try:
                change()
                db.session.commit()
            except BaseException as error:  # reported to the test below
                failures.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert not failures, failures


# --- Bounds ---------------------------------------------------------------------------------------------


def upload(client: UserClient, run_id: int, content: bytes, button: str = "run_import") -> Any:
    return client.post(
        f"/runs/{run_id}/import",
        data={
            "file": (io.BytesIO(content), "staff.csv"),
            "mode": "nominate",
            "justification": "Spring cohort",
            button: "1",
        },
        content_type="multipart/form-data",
    )


def test_a_file_over_the_bounds_is_refused_whole(
    app: Flask, course, ua, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id = run.id
    client = UserClient(app, focal)
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_MAX_ROWS", 3)
    too_many = upload(client, run_id, trainee_csv(4))
    text = too_many.get_data(as_text=True)
    assert too_many.status_code == 422
    assert "The file has 4 rows; at most 3 can be imported at once" in text and "Nothing was imported" in text
    assert upload(client, run_id, trainee_csv(4), button="check").status_code == 422  # a dry run too
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_MAX_ROWS", 20_000)
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_MAX_BYTES", 1024)
    too_large = upload(client, run_id, trainee_csv(20))
    assert too_large.status_code == 422 and "The file is too large" in too_large.get_data(as_text=True)
    db.session.rollback()
    assert count(Enrolment) == 0 and count(User, User.email.like("trainee%")) == 0
    assert upload(client, run_id, trainee_csv(3)).status_code == 200  # within the bounds: imported
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == run_id) == 3


# --- Large files: a job, and its page ---------------------------------------------------------------------


def test_a_large_file_runs_as_a_job_whose_page_follows_it(
    app: Flask, course, ua, make_user, make_authority, memory_jobs: JobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id = run.id
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_JOB_ROWS", 10)
    client = UserClient(app, focal)

    started = upload(client, run_id, trainee_csv(25))
    assert started.status_code == 303
    page_url = started.headers["Location"]
    assert memory_jobs.names() == ["import_trainees"]
    waiting = client.get(page_url)
    assert waiting.status_code == 200 and waiting.headers["Refresh"]  # reloads itself, script or not
    assert "Waiting for the background worker" in waiting.get_data(as_text=True)
    db.session.rollback()
    assert count(Enrolment) == 0

    progress: list[tuple[int, int]] = []
    record = bulk_import._record

    def watch(import_id: int, **values: Any) -> None:
        if "rows_checked" in values:
            progress.append((values["rows_checked"], values.get("rows_total", 0)))
        record(import_id, **values)

    monkeypatch.setattr(bulk_import, "_record", watch)
    monkeypatch.setattr("lms.enrolment.csv_import.PROGRESS_EVERY", 10)
    memory_jobs.run()
    assert progress[-1] == (25, 25) and (10, 25) in progress  # the page showed the rows as they were read
    done = client.get(page_url)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "Refresh" not in done.headers
    assert "Imported 25 row(s)." in text and "New accounts: 25" in text
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == run_id, Enrolment.status == EnrolmentStatus.NOMINATED) == 25
    job = db.session.scalar(select(EnrolmentImport))
    assert job is not None and job.status == ImportStatus.DONE and job.data is None  # the file is dropped
    assert memory_jobs.names() == []  # the mail went to the mail job (batches), which ran too
    assert count(OutgoingMail) == 25

    # A broken large file imports no row, and its page lists the problems.
    broken = trainee_csv(24, start=100) + b"not-an-email,A,B,,UA,ua-sbgs,,,,\n"
    memory_jobs.run()
    failed_url = upload(client, run_id, broken).headers["Location"]
    memory_jobs.run()
    failed = client.get(failed_url).get_data(as_text=True)
    assert "Problems: nothing was written" in failed and "Row 26" in failed
    db.session.rollback()
    assert count(Enrolment, Enrolment.run_id == run_id) == 25

    # Only the person who started an import (and admins) may follow it.
    other_authority = make_authority("GE", code="ge-bp")
    outsider = UserClient(app, make_user(Role.FOCAL_POINT, authority=other_authority))
    assert outsider.get(page_url).status_code == 403
    colleague = UserClient(app, make_user(Role.FOCAL_POINT, authority=ua))
    assert colleague.get(page_url).status_code == 403
    assert UserClient(app, make_user(Role.ADMIN)).get(page_url).status_code == 200
    assert UserClient(app, make_user()).get(page_url).status_code == 403  # a trainee: not the route's role
    other_run = make_run(course, EnrolmentMethod.NOMINATION)
    assert client.get(page_url.replace(f"/runs/{run_id}/", f"/runs/{other_run.id}/")).status_code == 404


def test_a_large_dry_run_writes_nothing_and_says_what_would_happen(
    app: Flask, course, ua, make_user, memory_jobs: JobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_JOB_ROWS", 10)
    client = UserClient(app, focal)
    page_url = upload(client, run.id, trainee_csv(12), button="check").headers["Location"]
    memory_jobs.run()
    text = client.get(page_url).get_data(as_text=True)
    assert "Dry run: this is what would happen" in text and "New accounts: 12" in text
    db.session.rollback()
    assert count(Enrolment) == 0 and count(OutgoingMail) == 0


# --- 20,000 rows while trainees write ------------------------------------------------------------------


class Writers:
    """Trainees completing lessons through the app, and others enrolling in an open run through the
    services, in threads, until stopped; every failure is kept."""

    def __init__(self, app: Flask, course: Course, trainees: list[User], walk_ins: list[User], run_id: int):
        self.app, self.stop, self.lock = app, threading.Event(), threading.Lock()
        self.errors: list[str] = []
        self.enrolled = 0
        self.done: list[tuple[float, float]] = []  # (start, end) of each write
        lesson_ids = [lesson.id for module in course.modules for lesson in module.lessons]
        self.threads = [
            threading.Thread(target=self.complete_lessons, args=(UserClient(app, t), course.slug, lesson_ids))
            for t in trainees
        ]
        self.threads.append(threading.Thread(target=self.enrol, args=([w.id for w in walk_ins], run_id)))

    def record(self, started: float, error: str | None) -> None:
        with self.lock:
            if error:
                self.errors.append(error)
            else:
                self.done.append((started, time.monotonic()))

    def complete_lessons(self, client: UserClient, slug: str, lesson_ids: list[int]) -> None:
        n = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                response = client.post(f"/courses/{slug}/lessons/{lesson_ids[n % len(lesson_ids)]}/complete")
                ok = response.status_code == 302
                self.record(started, None if ok else f"lesson completion: {response.status_code}")
            except Exception as error:  # "database is locked" surfaces here (TESTING propagates it)
                self.record(started, f"lesson completion: {error!r}")
            n += 1

    def enrol(self, user_ids: list[int], run_id: int) -> None:
        for user_id in user_ids:
            if self.stop.is_set():
                return
            started = time.monotonic()
            with self.app.app_context(), writing_transactions():
                try:
                    user, run = db.session.get(User, user_id), db.session.get(CourseRun, run_id)
                    assert user is not None and run is not None
                    self_service.self_enrol(user, run)
                    db.session.commit()
                    self.record(started, None)
                    self.enrolled += 1
                except Exception as error:
                    self.record(started, f"self-enrolment: {error!r}")
                finally:
                    db.session.remove()
            time.sleep(0.05)

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def test_20000_rows_while_trainees_keep_writing(
    app: Flask, course, ua, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=None)
    open_run = make_run(course, EnrolmentMethod.OPEN, seats=None)
    trainees = [make_user(authority=ua) for _ in range(3)]
    for trainee in trainees:
        self_service.join_open_run(trainee, runs.default_run(course.id) or runs.ensure_default_run(course))
    walk_ins = [make_user(authority=ua) for _ in range(100)]
    db.session.commit()
    run_id, open_run_id = run.id, open_run.id
    data = trainee_csv(20_000)

    locked: list[float] = []  # when the import's writing transaction got the lock (each try)
    lock_run = admission.lock_run

    def timed_lock(run_id: int) -> CourseRun:
        course_run = lock_run(run_id)
        if threading.current_thread() is threading.main_thread():  # the import's, not a walk-in's
            locked.append(time.monotonic())
        return course_run

    monkeypatch.setattr(admission, "lock_run", timed_lock)
    with Writers(app, course, trainees, walk_ins, open_run_id) as writers:
        time.sleep(0.5)  # the trainees are at work before the file arrives
        started = time.monotonic()
        report = bulk_import.import_trainees(
            focal, run, parse_csv(data), import_snapshot.ImportMode.NOMINATE, "Spring cohort", dry_run=False
        )
        committed = time.monotonic()
    held = committed - locked[-1]
    print(
        f"\n20,000 rows: {committed - started:.1f} s in all, the write lock held {held:.2f} s (to the "
        f"commit); {len(writers.done)} trainee writes meanwhile, {len(writers.errors)} failed"
    )
    assert writers.errors == []
    assert report.written and not report.problems and len(report.outcomes) == 20_000
    # Trainees wrote while the import wrote (their writes waited for its short transaction, none failed).
    assert any(begin < committed and end > locked[-1] for begin, end in writers.done)
    db.session.rollback()
    assert (
        count(Enrolment, Enrolment.run_id == run_id, Enrolment.status == EnrolmentStatus.NOMINATED) == 20_000
    )
    assert count(User, User.email.like("trainee%@dpsu.example.org")) == 20_000
    assert count(OutgoingMail, OutgoingMail.kind == MailKind.NOMINATION_RECEIVED) == 20_000
    assert count(Enrolment, Enrolment.run_id == open_run_id) == writers.enrolled
    assert verify_audit_chain() == []
    with db.engine.connect() as connection:
        assert facts.differences(connection) == set()


@pytest.mark.browser
def test_the_progress_page_follows_the_job_without_script(
    browser: Any, live_server: str, app: Flask, course, ua, make_user, memory_jobs: JobQueue, monkeypatch
) -> None:
    """Script off: the focal point uploads a large file, lands on its page, and the page reloads itself
    (the Refresh header) until the job has imported the file."""
    from tests.conftest import TEST_PASSWORD

    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    email, run_id = focal.email, run.id
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_JOB_ROWS", 5)
    db.session.close()
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/dashboard")
        page.goto(f"{live_server}/runs/{run_id}/import")
        page.get_by_label("CSV file").set_input_files(
            {"name": "staff.csv", "mimeType": "text/csv", "buffer": trainee_csv(12)}
        )
        page.get_by_label("Justification").fill("Spring cohort")
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Waiting for the background worker").wait_for()
        assert "/imports/" in page.url
        memory_jobs.run()  # the worker takes the job
        page.get_by_text("Imported 12 row(s).").wait_for()  # no click: the page reloaded itself
        assert page.get_by_text("New accounts: 12").is_visible()
    finally:
        context.close()

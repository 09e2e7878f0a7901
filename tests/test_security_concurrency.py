"""Several processes hammer quiz submission, seat approval and certificate issue (issue 9).

Each process builds its own app and connection pool (as gunicorn workers do) on a database of this
test's own: a SQLite file in a temporary folder, and a PostgreSQL database ``lms_sec_<random>`` when
LMS_TEST_DATABASE_URL is set (the main suite owns ``test``). Exact counts afterwards: no lost
update, no duplicate.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from lms import create_app
from lms.extensions import db

PROCESSES = 4


def _app(url: str, instance: str) -> Any:
    return create_app(
        {"TESTING": True, "INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "sec-conc",
         "LOG_REQUESTS": False}
    )  # fmt: skip


def _worker(url: str, instance: str, ids: dict[str, list[int]], start: Any, results: Any) -> None:
    """One process: wait for the others, then try every write; report what it was told succeeded."""
    import traceback

    try:
        results.put(("ok", os.getpid(), _work(url, instance, ids, start)))
    except BaseException:
        results.put(("error", os.getpid(), traceback.format_exc()))


def _work(url: str, instance: str, ids: dict[str, list[int]], start: Any) -> dict[str, list[Any]]:
    from sqlalchemy.exc import IntegrityError, OperationalError

    from lms.auth.models import User
    from lms.certificates import services as certificates
    from lms.certificates.models import IssueMethod
    from lms.db import writing_transactions
    from lms.enrolment import nominations as enrolment_nominations
    from lms.enrolment.models import Enrolment
    from lms.errors import LmsError
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import Quiz

    app = _app(url, instance)
    told: dict[str, list[Any]] = {"quiz": [], "seat": [], "certificate": []}
    with app.app_context():
        start.wait(timeout=120)
        work = [
            (kind, item)
            for kind in ("quiz", "seat", "certificate")
            for item in ids[kind] * (3 if kind == "quiz" else 1)
        ]
        for kind, item in work:
            told_ok = told[kind]
            with writing_transactions():
                try:
                    if kind == "quiz":
                        enrolment_row = db.session.get(Enrolment, item)
                        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "final-assessment"))
                        attempt, _new = quizzes.start_attempt(enrolment_row, quiz)
                        db.session.commit()
                        submitted = quizzes.submit_attempt(attempt, {})
                        number = submitted.number
                        db.session.commit()
                        told_ok.append(number)
                    elif kind == "seat":
                        row = db.session.get(Enrolment, item)
                        admin = db.session.scalar(select(User).where(User.email == "admin@sec.test"))
                        enrolment_nominations.approve(
                            row, admin, when_full=enrolment_nominations.WhenFull.REFUSE
                        )
                        db.session.commit()
                        told_ok.append(item)
                    else:
                        row = db.session.get(Enrolment, item)
                        certificate = certificates.issue_for_enrolment(
                            row, actor_id=None, method=IssueMethod.APPROVED
                        )
                        code = certificate.code
                        db.session.commit()
                        told_ok.append(code)
                except (LmsError, IntegrityError, OperationalError):
                    db.session.rollback()
    return told


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("LMS_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'concurrency.sqlite'}"
        return
    parsed = make_url(base)
    name = f"lms_sec_{secrets.token_hex(4)}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(url: str, instance: str) -> dict[str, list[int]]:
    from lms.auth.models import Role, User, UserRole
    from lms.auth.passwords import hash_password
    from lms.certificates.models import IssuanceRule
    from lms.content.loader import load_course
    from lms.content.services import sync_course
    from lms.db import utcnow
    from lms.enrolment import completion as enrolment_completion
    from lms.enrolment import nominations as enrolment_nominations
    from lms.enrolment import runs as enrolment_runs
    from lms.enrolment import self_service as enrolment_self_service
    from lms.enrolment.models import EnrolmentMethod
    from lms.orgs.models import Authority, Country
    from tests.conftest import PROJECT_ROOT
    from tests.enrolment_support import make_course, make_run

    app = _app(url, instance)
    with app.app_context():
        db.create_all()
        db.session.add(Country(code="UA", name="Ukraine", names={}, groups=[]))
        authority = Authority(code="ua-sec", name="Border Guard", kind="border_guard", country_code="UA")
        db.session.add(authority)
        db.session.flush()
        password = hash_password("not used in this test")

        def person(email: str, *roles: str) -> User:
            user = User(email=email, password_hash=password, given_name="G", family_name="F",
                        country_code="UA",
                        authority_id=authority.id, email_confirmed_at=utcnow())  # fmt: skip
            user.roles = [
                UserRole(role=r, authority_id=authority.id if r == Role.FOCAL_POINT else None) for r in roles
            ]
            db.session.add(user)
            db.session.flush()
            return user

        admin = person("admin@sec.test", Role.ADMIN)
        focal = person("focal@sec.test", Role.FOCAL_POINT)
        spec, problems = load_course(PROJECT_ROOT / "courses" / "ibm-foundations")
        assert spec is not None and not problems
        course = sync_course(spec).course
        run = enrolment_runs.ensure_default_run(course)
        quiz_enrolments = []
        for n in range(2):
            learner = enrolment_self_service.self_enrol(
                person(f"quiz{n}@sec.test", Role.TRAINEE), run, language="en"
            )
            for module in course.modules:
                for lesson in module.lessons:
                    enrolment_completion.complete_lesson(learner, lesson)
            quiz_enrolments.append(learner.id)
        db.session.commit()
        seat_run = make_run(make_course("seats"), EnrolmentMethod.NOMINATION, seats=2)
        nominations = [
            enrolment_nominations.nominate(
                focal, seat_run, person(f"nominee{n}@sec.test", Role.TRAINEE), "needed"
            ).id
            for n in range(6)
        ]
        certificate_course = make_course("certificates")
        certificate_run = enrolment_runs.ensure_default_run(certificate_course)
        certificate_run.certificate_issuance = IssuanceRule.APPROVAL
        db.session.commit()
        completed = []
        for n in range(2):
            learner = enrolment_self_service.self_enrol(
                person(f"cert{n}@sec.test", Role.TRAINEE), certificate_run
            )
            for module in certificate_course.modules:
                for lesson in module.lessons:
                    enrolment_completion.complete_lesson(learner, lesson)
            completed.append(learner.id)
        db.session.commit()
        assert admin.id and nominations
        db.session.remove()
        db.engine.dispose()
    return {"quiz": quiz_enrolments, "seat": nominations, "certificate": completed}


def test_processes_hammering_writes_lose_nothing_and_duplicate_nothing(
    own_database: str, tmp_path: Path
) -> None:
    instance = str(tmp_path / "instance")
    ids = _prepare(own_database, instance)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    # every process tries every write: three attempts per quiz enrolment (3 allowed), every seat
    # approval (2 seats for 6 nominations), every certificate
    processes = [
        context.Process(target=_worker, args=(own_database, instance, ids, start, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [report[2] for report in reports if report[0] == "error"]
    assert errors == []

    told: dict[str, list[Any]] = {"quiz": [], "seat": [], "certificate": []}
    for _status, _pid, ok in reports:
        for kind, values in ok.items():
            told[kind].extend(values)

    from lms.certificates.models import Certificate, CertificateStatus
    from lms.enrolment.models import Enrolment, EnrolmentStatus
    from lms.quizzes.models import AttemptStatus, QuizAttempt

    app = _app(own_database, instance)
    with app.app_context():
        attempts = db.session.execute(
            select(QuizAttempt.enrolment_id, QuizAttempt.number, QuizAttempt.status).where(
                QuizAttempt.enrolment_id.in_(ids["quiz"])
            )
        ).all()
        # three allowed per enrolment: exactly 2 x 3 attempts, numbered 1..3, each submitted once
        assert sorted((e, n) for e, n, _s in attempts) == sorted(
            (e, n) for e in ids["quiz"] for n in (1, 2, 3)
        )
        assert {s for _e, _n, s in attempts} == {AttemptStatus.SUBMITTED}
        assert len(told["quiz"]) == 6  # every acknowledged submission is there, and no other

        enrolled = db.session.scalars(
            select(Enrolment.id).where(
                Enrolment.id.in_(ids["seat"]), Enrolment.status == EnrolmentStatus.ENROLLED
            )
        ).all()
        assert len(enrolled) == 2 and sorted(told["seat"]) == sorted(enrolled)

        active = db.session.scalars(
            select(Certificate.code).where(Certificate.enrolment_id.in_(ids["certificate"]),
                                           Certificate.status == CertificateStatus.ACTIVE)
        ).all()  # fmt: skip
        assert len(active) == 2 and sorted(told["certificate"]) == sorted(active)
        serials = db.session.scalar(select(func.count(func.distinct(Certificate.status_index))))
        assert serials == db.session.scalar(select(func.count(Certificate.id)))
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()
        db.engine.dispose()

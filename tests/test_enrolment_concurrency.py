"""Two admins approving at the same moment never over-fill a run.

Real parallelism: threads, each with its own app context and database session, against the file
SQLite database of the test app (writing transactions start with BEGIN IMMEDIATE). On PostgreSQL the
same test exercises SELECT ... FOR UPDATE on the run row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.db import writing_transactions
from lms.enrolment import nominations, self_service
from lms.enrolment.models import Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.errors import LmsError
from lms.extensions import db
from tests.enrolment_support import make_course, make_run


def run_in_parallel(app: Flask, jobs: list[Callable[[], None]]) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(job: Callable[[], None]) -> None:
        # Outside a request, code that reads then writes opts in to BEGIN IMMEDIATE (as the CLI does).
        with app.app_context(), writing_transactions():
            barrier.wait()
            try:
                job()
                db.session.commit()
                result = "ok"
            except LmsError as error:
                db.session.rollback()
                result = type(error).__name__
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def seat_holders(run_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.run_id == run_id,
            Enrolment.status.in_((EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)),
        )
    )


def test_racing_approvals_for_the_last_seat(app: Flask, make_user: Callable[..., User]) -> None:
    course = make_course()
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=1)
    admins = [make_user(Role.ADMIN) for _ in range(2)]
    focal = make_user(Role.FOCAL_POINT)
    nominees = [make_user(authority=focal.authority) for _ in range(2)]
    ids = [nominations.nominate(focal, run, person, "needed").id for person in nominees]
    db.session.commit()
    run_id, admin_ids = run.id, [a.id for a in admins]
    db.session.close()  # the test's own session must not hold the write lock while the threads race

    def approver(enrolment_id: int, admin_id: int) -> Callable[[], None]:
        def job() -> None:
            enrolment = db.session.get(Enrolment, enrolment_id)
            admin = db.session.get(User, admin_id)
            assert enrolment is not None and admin is not None
            nominations.approve(enrolment, admin, when_full=nominations.WhenFull.REFUSE)

        return job

    outcomes = run_in_parallel(app, [approver(ids[0], admin_ids[0]), approver(ids[1], admin_ids[1])])
    assert sorted(outcomes) == ["SeatsFull", "ok"]
    assert seat_holders(run_id) == 1


def test_many_racing_self_enrolments_fill_exactly_and_queue_the_rest(app: Flask, make_user) -> None:
    course = make_course()
    run = make_run(course, EnrolmentMethod.OPEN, seats=3)
    people = [make_user() for _ in range(8)]
    run_id, user_ids = run.id, [p.id for p in people]
    db.session.close()

    def enroller(user_id: int) -> Callable[[], None]:
        def job() -> None:
            user = db.session.get(User, user_id)
            course_run = db.session.get(type(run), run_id)
            assert user is not None and course_run is not None
            self_service.self_enrol(user, course_run)

        return job

    outcomes = run_in_parallel(app, [enroller(user_id) for user_id in user_ids])
    assert outcomes == ["ok"] * 8
    assert seat_holders(run_id) == 3
    positions = sorted(
        db.session.scalars(
            select(Enrolment.waiting_position).where(
                Enrolment.run_id == run_id, Enrolment.status == EnrolmentStatus.WAITING
            )
        )
    )
    assert positions == [1, 2, 3, 4, 5]

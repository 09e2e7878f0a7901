"""Realistic synthetic data for the benchmark: `flask lms bench generate --size S|M|L`.

Rows are built in Python and written with bulk inserts (Core insert() with a list of parameter sets:
executemany, in chunks), with ids assigned here so nothing has to be read back; ORM objects are used
only for the handful of reference rows. L (100k trainees, 600 runs, ~1,000,000 lesson completions,
~200,000 quiz attempts) takes minutes, not hours.

The real courses from courses/ are synced too, and the benchmark's own accounts are enrolled in one of
them, so the lesson page and the quiz the benchmark submits are real pages with real content.
A manifest (bench.json in the instance folder) tells the runner which accounts and URLs to use.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Table, event, func, insert, select

from bench.sessions_data import pick_session_runs, write_sessions
from lms.auth.models import Role, User, UserRole
from lms.auth.passwords import hash_password
from lms.auth.search_name import person_search_name
from lms.authoring.models import CourseTrainer
from lms.authoring.trainers import assign_trainer
from lms.certificates.models import Certificate
from lms.content.loader import load_all
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import CourseRun, Enrolment, LessonCompletion
from lms.enrolment.runs import ensure_default_run
from lms.enrolment.self_service import join_open_run
from lms.extensions import db
from lms.orgs.models import Authority
from lms.orgs.services import load_reference_data
from lms.quizzes.models import Quiz, QuizAttempt, QuizRole, QuizSlot
from lms.reports import facts

BENCH_PASSWORD = "bench-password-123"  # noqa: S105 — a documented password of synthetic bench accounts
CHUNK = 5000
LESSONS_PER_COURSE = 12  # 3 modules x 4 lessons


@dataclass(frozen=True)
class Size:
    trainees: int
    runs: int
    courses: int
    completions: int
    attempts: int


SIZES = {
    "S": Size(trainees=1_000, runs=30, courses=6, completions=10_000, attempts=2_000),
    "M": Size(trainees=10_000, runs=120, courses=12, completions=100_000, attempts=20_000),
    "L": Size(trainees=100_000, runs=600, courses=20, completions=1_000_000, attempts=200_000),
    # Issue 22: ten times L (10M lesson completions, 2M enrolments), to see what grows with the academy.
    "XL": Size(trainees=1_000_000, runs=6_000, courses=40, completions=10_000_000, attempts=2_000_000),
}

SEXES = ("female", "male", "male", "undisclosed")
BANDS = ("1960-1969", "1970-1979", "1980-1989", "1980-1989", "1990-1999", "1990-1999", "2000-or-later", None)
GIVEN = (
    "Olena",
    "Ivan",
    "Aigerim",
    "Nikoloz",
    "Fatima",
    "Youssef",
    "Ana",
    "Dmitri",
    "Leila",
    "Marek",
    "Sara",
)
FAMILY = ("Koval", "Petrov", "Nurlanova", "Beridze", "El Amrani", "Haddad", "Popescu", "Novak", "Aliyev")
MODALITIES = ("self_paced", "online_scheduled", "in_person", "blended")
BENCH_TRAINEES = 64


def _chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(table: Table, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    for batch in _chunks(rows):
        db.session.execute(insert(table), batch)
        count += len(batch)
    return count


def _next_id(model: Any) -> int:
    return int(db.session.scalar(select(func.max(model.id))) or 0) + 1


def _log(message: str) -> None:
    print(message, flush=True)  # CLI progress


def generate(size_name: str, instance: Path, seed: int = 7) -> dict[str, Any]:
    size = SIZES[size_name]
    rng = random.Random(seed)  # noqa: S311 — synthetic data, not security
    started = datetime.now(UTC)
    _fast_sqlite_writes()

    # Reference data and the real courses (ORM, few rows).
    load_reference_data()
    specs, problems = load_all(Path(current_app.config["COURSES_DIR"]))
    if problems:
        raise RuntimeError(f"course files have problems: {problems[:3]}")
    real_courses = []
    for spec in specs:
        course = sync_course(spec).course
        ensure_default_run(course)
        real_courses.append(course)
    db.session.commit()
    authorities = list(db.session.execute(select(Authority.id, Authority.country_code)).all())
    if not authorities:
        raise RuntimeError("no authorities: reference data did not load")
    password_hash = hash_password(BENCH_PASSWORD)
    now = datetime.now(UTC)

    # Synthetic courses with modules, lessons and quizzes (ORM: a few hundred rows).
    courses: list[tuple[int, list[int], dict[str, int], int]] = []
    for c in range(size.courses):
        course = Course(
            slug=f"bench-course-{c + 1}",
            title=f"Synthetic course {c + 1}: border management topic",
            summary="Generated for the benchmark.",
            notional_hours=rng.choice((8, 16, 24, 40)),
            language="en",
        )
        db.session.add(course)
        lessons: list[Lesson] = []
        for m in range(3):
            module = Module(course=course, slug=f"m{m + 1}", title=f"Module {m + 1}", position=m + 1)
            db.session.add(module)
            for n in range(LESSONS_PER_COURSE // 3):
                lesson = Lesson(
                    module=module,
                    slug=f"l{n + 1}",
                    title=f"Lesson {m + 1}.{n + 1}",
                    body_md="Synthetic text.",
                    body_html="<p>Synthetic text.</p>",
                    minutes=10,
                    position=n + 1,
                )
                db.session.add(lesson)
                lessons.append(lesson)
        db.session.flush()
        quizzes = {}
        for position, role in enumerate((QuizRole.PRE_TEST, QuizRole.POST_TEST, QuizRole.FINAL)):
            quiz = Quiz(course_id=course.id, slug=role.value, title=role.value, role=role, position=position)
            db.session.add(quiz)
            db.session.flush()
            quizzes[role.value] = quiz.id
        courses.append((course.id, [lesson.id for lesson in lessons], quizzes, course.notional_hours or 0))
    db.session.commit()

    # Runs: spread over two years, on the synthetic courses.
    run_id = _next_id(CourseRun)
    runs: list[tuple[int, int, date, date]] = []  # id, course index, start, end
    run_rows = []
    first_day = date(now.year - 2, 1, 1)
    for r in range(size.runs):
        course_index = r % len(courses)
        start = first_day + timedelta(days=rng.randrange(0, 700))
        end = start + timedelta(days=rng.choice((30, 60, 90)))
        run_rows.append(
            dict(
                id=run_id,
                course_id=courses[course_index][0],
                title=f"Run {r + 1} ({start:%b %Y})",
                modality=rng.choice(MODALITIES),
                language="en",
                starts_on=start,
                ends_on=end,
                enrolment_opens_on=start - timedelta(days=30),
                enrolment_closes_on=end,
                enrolment_method="open",
                is_default=False,
                certificate_issuance="automatic",
                open_to_all=True,
                created_at=now,
                updated_at=now,
            )
        )
        runs.append((run_id, course_index, start, end))
        run_id += 1
    bulk_insert(CourseRun.__table__, run_rows)
    _log(f"runs: {len(run_rows)}")
    # Runs with sessions (issue 20): their own generator, so the rest of the data set is unchanged.
    session_rng = random.Random(seed + 1)  # noqa: S311 — synthetic data, not security
    session_runs = pick_session_runs(session_rng, run_rows)
    session_places: dict[int, list[int]] = {r.run_id: [] for r in session_runs}

    # People.
    user_id = _next_id(User)
    people: list[tuple[int, int]] = []  # (user id, authority id)

    def person_rows() -> Iterator[dict[str, Any]]:
        nonlocal user_id
        for n in range(size.trainees):
            authority_id, country = authorities[rng.randrange(len(authorities))]
            given, family = rng.choice(GIVEN), f"{rng.choice(FAMILY)} {n}"
            email = f"trainee{n}@bench.test"
            people.append((user_id, authority_id))
            yield dict(
                id=user_id,
                email=email,
                password_hash=password_hash,
                given_name=given,
                family_name=family,
                sex=rng.choice(SEXES),
                birth_year_band=rng.choice(BANDS),
                country_code=country,
                authority_id=authority_id,
                active=True,
                created_at=now,
                updated_at=now,
                email_confirmed_at=now,
                search_name=person_search_name(given, family, email),
            )
            user_id += 1

    bulk_insert(User.__table__, person_rows())
    bulk_insert(
        UserRole.__table__, (dict(user_id=uid, role=Role.TRAINEE.value, granted_at=now) for uid, _ in people)
    )
    _log(f"trainees: {len(people)}")

    # Enrolments, lesson completions, quiz attempts, certificates.
    enrolment_id = _next_id(Enrolment)
    attempt_id = _next_id(QuizAttempt)
    certificate_id = _next_id(Certificate)
    status_index = int(db.session.scalar(select(func.max(Certificate.status_index))) or 0) + 1
    target_enrolments = max(size.completions // 5, size.trainees)
    completions: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    enrolments: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    counts = {"enrolments": 0, "completions": 0, "attempts": 0, "certificates": 0}

    def flush_children(final: bool = False) -> None:
        """Parents first: once any list is full, write the enrolments, then what points at them."""
        full = len(enrolments) >= CHUNK or len(completions) >= 4 * CHUNK or len(attempts) >= CHUNK
        if not (final or full or len(certificates) >= CHUNK):
            return
        counts["enrolments"] += bulk_insert(Enrolment.__table__, enrolments)
        counts["completions"] += bulk_insert(LessonCompletion.__table__, completions)
        counts["attempts"] += bulk_insert(QuizAttempt.__table__, attempts)
        counts["certificates"] += bulk_insert(Certificate.__table__, certificates)
        for rows in (enrolments, completions, attempts, certificates):
            rows.clear()

    attempt_share = size.attempts / target_enrolments  # ~1 attempt per enrolment on L
    made = 0
    while made < target_enrolments:
        uid, authority_id = people[made % len(people)] if made < len(people) else rng.choice(people)
        rid, course_index, start, end = runs[rng.randrange(len(runs))]
        if (uid, rid) in seen:
            continue
        seen.add((uid, rid))
        _course_id, lesson_ids, quizzes, hours = courses[course_index]
        roll = rng.random()
        status = "completed" if roll < 0.27 else ("withdrawn" if roll > 0.92 else "enrolled")
        enrolled_at = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=rng.randrange(0, 24 * 20)
        )
        if status == "completed":
            done = LESSONS_PER_COURSE
        elif status == "withdrawn":
            done = rng.randrange(0, 3)
        else:
            done = rng.randrange(0, 7)
        moment = enrolled_at
        for lesson_id in lesson_ids[:done]:
            moment += timedelta(minutes=rng.randrange(20, 60 * 24 * 3))
            completions.append(dict(enrolment_id=enrolment_id, lesson_id=lesson_id, completed_at=moment))
        completed_at = moment + timedelta(hours=1) if status == "completed" else None
        enrolments.append(
            dict(
                id=enrolment_id,
                run_id=rid,
                user_id=uid,
                status=status,
                language="en",
                enrolled_at=enrolled_at,
                completed_at=completed_at,
                last_activity_at=moment,
                authority_id=authority_id,
                created_at=enrolled_at,
            )
        )
        if rng.random() < attempt_share * 0.45:  # pre-test
            attempts.append(
                _attempt(attempt_id, enrolment_id, quizzes["pre_test"], 1, rng.uniform(20, 70), enrolled_at)
            )
            attempt_id += 1
        if done >= 6 and rng.random() < attempt_share:  # post-test
            score = rng.uniform(45, 100)
            attempts.append(_attempt(attempt_id, enrolment_id, quizzes["post_test"], 1, score, moment))
            attempt_id += 1
        if status == "completed":
            attempts.append(
                _attempt(attempt_id, enrolment_id, quizzes["final"], 1, rng.uniform(70, 100), moment)
            )
            attempt_id += 1
            revoked = rng.random() < 0.01
            certificates.append(
                dict(
                    id=certificate_id,
                    code=f"B{certificate_id:09d}",
                    status_index=status_index,
                    credential_uuid=f"00000000-0000-4000-8000-{certificate_id:012d}",
                    user_id=uid,
                    run_id=rid,
                    enrolment_id=enrolment_id,
                    status="revoked" if revoked else "active",
                    method="automatic",
                    issued_at=completed_at,
                    holder_name="Synthetic person",
                    course_title="Synthetic course",
                    notional_hours=hours,
                    learning_outcomes=[],
                    run_title="run",
                    run_starts_on=start,
                    run_ends_on=end,
                    modality="self_paced",
                    language="en",
                    issuer_name="Academy LMS bench",
                    credential={},
                    pdf_file="none.pdf",
                    pdf_sha256="0" * 64,
                    revoked_at=completed_at if revoked else None,
                    revocation_reason_public=False,
                )
            )
            certificate_id += 1
            status_index += 1
        if rid in session_places and status != "withdrawn":
            session_places[rid].append(enrolment_id)
        enrolment_id += 1
        made += 1
        flush_children()
        if made % 50_000 == 0:
            _log(f"enrolments: {made}")
    flush_children(final=True)
    counts.update(write_sessions(session_rng, session_runs, session_places, now, bulk_insert))
    db.session.commit()
    _advance_postgresql_sequences()
    _log(f"{counts}")
    # The bulk inserts bypassed the ORM, so the indicator facts (lms.reports.facts) are built in one go.
    _log(f"indicator facts: {facts.rebuild(db.session.connection())}")
    if db.session.connection().dialect.name == "postgresql":
        db.session.connection().exec_driver_sql("ANALYZE")  # the planner's statistics after the bulk load
    db.session.commit()

    manifest = _bench_accounts(real_courses, password_hash, authorities, now)
    report_run_id = _busiest_run()
    _assign_report_trainer(manifest, report_run_id)
    manifest.update(
        size=size_name,
        counts=counts | {"trainees": len(people), "runs": len(runs)},
        seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        report_run_id=report_run_id,
    )
    db.session.commit()
    (instance / "bench.json").write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def _fast_sqlite_writes() -> None:
    """A throw-away bench file needs no durability while it is generated: no fsync per commit, a big page
    cache, temporary indexes in memory. Set on this process's new connections only (SQLite refuses to
    change them inside a transaction); the server opens its own with the app's PRAGMAs."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    db.session.remove()
    engine.dispose()


def _advance_postgresql_sequences() -> None:
    """Bulk rows carry explicit ids; PostgreSQL's id sequences must then move past them, or the next
    ORM insert (the bench accounts, a trainee signing up) collides with an existing id."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        # Integer ids the database numbers only (a text id, like survey_response's, has no sequence).
        if "id" not in table.c or table.autoincrement_column is not table.c.id:
            continue
        # Table names come from our own metadata, never from input.
        statement = (
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
        )
        connection.exec_driver_sql(statement)
    db.session.commit()


def _attempt(
    attempt_id: int, enrolment_id: int, quiz_id: int, number: int, percent: float, at: datetime
) -> dict[str, Any]:
    return dict(
        id=attempt_id,
        enrolment_id=enrolment_id,
        quiz_id=quiz_id,
        number=number,
        status="submitted",
        language="en",
        started_at=at,
        submitted_at=at + timedelta(minutes=12),
        score=round(percent / 10, 1),
        max_score=10.0,
        percent=round(percent, 1),
        passed=percent >= 70,
    )


def _assign_report_trainer(manifest: dict[str, Any], run_id: int) -> None:
    """The run report answers only a trainer assigned to the run's course (course_trainer; any other
    trainer gets 403, issue 18): the bench admin assigns the bench trainer to it, as an admin would."""
    run = db.session.get(CourseRun, run_id)
    if run is None:
        return
    admin = db.session.scalar(select(User).where(User.email == manifest["admin"]))
    trainer = db.session.scalar(select(User).where(User.email == manifest["trainer"]))
    if admin is None or trainer is None:
        raise RuntimeError("the bench accounts are missing")
    assigned = select(CourseTrainer.id).where(
        CourseTrainer.course_id == run.course_id, CourseTrainer.user_id == trainer.id
    )
    if db.session.scalar(assigned) is None:
        assign_trainer(admin, run.course, trainer)


def _busiest_run() -> int:
    return int(
        db.session.scalar(
            select(Enrolment.run_id).group_by(Enrolment.run_id).order_by(func.count().desc()).limit(1)
        )
        or 0
    )


def practice_quiz_like(template: Quiz, slug: str, title: str) -> Quiz:
    """A practice quiz of the template's course that draws as the template does, with unlimited attempts
    (so that a client can start and submit as often as a run lasts); not yet added to the session."""
    quiz = Quiz(
        course_id=template.course_id,
        slug=slug,
        title=title,
        role=QuizRole.PRACTICE,
        position=99,
        pass_mark=0,
        attempts_allowed=None,
        grading_method="highest",
        review=template.review,
    )
    quiz.slots = [
        QuizSlot(
            position=s.position,
            question_id=s.question_id,
            bank_id=s.bank_id,
            tag=s.tag,
            draw_count=s.draw_count,
        )
        for s in template.slots
    ]
    return quiz


def _bench_accounts(
    real_courses: list[Course], password_hash: str, authorities: list[Any], now: datetime
) -> dict[str, Any]:
    """The accounts the runner signs in as, enrolled in a real course with a practice quiz that allows
    unlimited attempts (so every client can start and submit as often as the run lasts)."""
    course = next((c for c in real_courses if c.slug == "ibm-foundations"), real_courses[0])
    run = ensure_default_run(course)
    template = db.session.scalar(
        select(Quiz).where(Quiz.course_id == course.id, Quiz.role == QuizRole.POST_TEST)
    )
    practice = db.session.scalar(
        select(Quiz).where(Quiz.course_id == course.id, Quiz.slug == "bench-practice")
    )
    if practice is None and template is not None:
        practice = practice_quiz_like(template, "bench-practice", "Benchmark practice quiz")
        db.session.add(practice)
    # The focal point acts for the authority with the most staff (the heaviest focal report).
    busiest = db.session.execute(
        select(User.authority_id, func.count())
        .where(User.authority_id.is_not(None))
        .group_by(User.authority_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    focal_authority = busiest[0] if busiest else authorities[0][0]
    authority = db.session.get(Authority, focal_authority)
    if authority is None:
        raise RuntimeError("no authority for the bench accounts")

    def account(email: str, *roles: str) -> User:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                password_hash=password_hash,
                given_name="Bench",
                family_name=email.split("@")[0],
                country_code=authority.country_code,
                authority_id=authority.id,
                email_confirmed_at=now,
                sex="female",
                birth_year_band="1980-1989",
            )
            for role in roles:
                user.roles.append(
                    UserRole(role=role, authority_id=authority.id if role == Role.FOCAL_POINT else None)
                )
            db.session.add(user)
            db.session.flush()
        return user

    trainees = []
    for n in range(BENCH_TRAINEES):
        user = account(f"bench-trainee-{n}@bench.test", Role.TRAINEE)
        if (
            db.session.scalar(
                select(Enrolment.id).where(Enrolment.user_id == user.id, Enrolment.run_id == run.id)
            )
            is None
        ):
            join_open_run(user, run, "en")
            for other in real_courses:  # a dashboard with a few courses on it, like a real trainee's
                if other.id != course.id:
                    join_open_run(user, ensure_default_run(other), "en")
        trainees.append(user.email)
    account("bench-trainer@bench.test", Role.TRAINER)
    account("bench-focal@bench.test", Role.FOCAL_POINT)
    account("bench-admin@bench.test", Role.ADMIN)
    lessons = list(
        db.session.scalars(
            select(Lesson.id)
            .join(Module, Module.id == Lesson.module_id)
            .where(Module.course_id == course.id, Lesson.is_published.is_(True))
            .order_by(Module.position, Lesson.position)
        )
    )
    db.session.flush()
    return {
        "password": BENCH_PASSWORD,
        "trainees": trainees,
        "trainer": "bench-trainer@bench.test",
        "focal_point": "bench-focal@bench.test",
        "admin": "bench-admin@bench.test",
        "course_slug": course.slug,
        "lesson_ids": lessons,
        "quiz_slug": practice.slug if practice else None,
    }

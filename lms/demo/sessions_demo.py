"""Demo runs with sessions (issue 20): a three-day workshop in Chisinau that took place, a weekly live
online class under way, and a blended run about to start.

Replayed through the same services an organiser and a trainer use (runs, sessions, the register, quizzes),
so completion and the automatic certificates follow their normal path; the workshop's enrolment
timestamps are then moved back to the days it took place, as lms/demo/cohort.py does for its runs.
Development only; idempotent (nothing happens when the runs exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from random import Random

from sqlalchemy import select

from lms.auth.models import User
from lms.auth.services import find_user_by_email
from lms.courses.models import Course
from lms.db import utcnow
from lms.demo.cohort import _take
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentEvent,
    EnrolmentMethod,
    Modality,
)
from lms.errors import LmsError
from lms.extensions import db
from lms.quizzes.models import Quiz, QuizRole
from lms.sessions.attendance import record_attendance
from lms.sessions.models import TrainingSession
from lms.sessions.scheduling import local_span
from lms.sessions.services import SessionData, schedule_session

WORKSHOP = "Document fraud: first-line workshop, Chisinau"
WEEKLY = "Vulnerable persons referral: weekly live class"
BLENDED = "IBM foundations: blended course with a workshop in Tbilisi"

CHISINAU_VENUE = {
    "venue_name": "Hotel Codru, conference hall",
    "venue_address": "str. 31 August 1989, 127",
    "venue_city": "Chișinău",
    "venue_country": "MD",
}
TBILISI_VENUE = {
    "venue_name": "Border Police Training Centre, hall 2",
    "venue_address": "Vazha-Pshavela Ave. 10",
    "venue_city": "Tbilisi",
    "venue_country": "GE",
}
MEETING = "https://meet.academy.test/vulnerable-persons-weekly"

WORKSHOP_PEOPLE = ("ion.rusu", "elena.ceban", "nino.kapanadze", "levan.gelashvili", "armen.petrosyan",
                   "gunel.aliyeva", "aleksandra.lis", "emre.yildiz")  # fmt: skip
WEEKLY_PEOPLE = ("trainee", "mykola.tkachenko", "omar.khalil", "sami.trabelsi", "gunel.aliyeva")
BLENDED_PEOPLE = ("bekzod.rakhimov", "aleksandra.lis", "salma.benali", "giorgi.beridze", "emre.yildiz")


def load_demo_sessions() -> int:
    """Create the three runs with their sessions and people, and give the older demo runs (services.py,
    cohort.py) sessions where their modality has them; returns the number of sessions written."""
    admin, trainer = find_user_by_email("admin@academy.test"), find_user_by_email("trainer@academy.test")
    if admin is None or trainer is None:
        return 0
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    needed = ("document-fraud-first-line", "vulnerable-persons-referral", "ibm-foundations")
    if any(slug not in courses for slug in needed):
        return 0
    written = 0
    if db.session.scalar(select(CourseRun.id).where(CourseRun.title == WORKSHOP).limit(1)) is None:
        rng = Random(2020)  # noqa: S311  # demo marks, not secrets
        written += _workshop(admin, trainer, courses["document-fraud-first-line"], rng)
        written += _weekly(admin, trainer, courses["vulnerable-persons-referral"], rng)
        written += _blended(admin, trainer, courses["ibm-foundations"])
    written += _older_runs(trainer)
    db.session.flush()
    return written


# --- The older demo runs (lms/demo/services.py, lms/demo/cohort.py) -----------------------------------------
# Each gets sessions once: a run that has any is left alone (idempotent). The self-paced cohort has none:
# a self-paced run has no sitting by definition.

SPRING_ONLINE = "Vulnerable persons referral — online cohort, spring"
CHISINAU_BLENDED = "IBM foundations — blended, Chișinău"
KYIV_IN_PERSON = "Detecting document fraud — Kyiv, in person"
SUMMER_ONLINE = "IBM foundations — online cohort, summer"
KYIV_VENUE = {
    "venue_name": "State Border Guard Service, training hall 1",
    "venue_address": "Volodymyrska St. 26",
    "venue_city": "Kyiv",
    "venue_country": "UA",
}
BORYSPIL = {
    "venue_name": "Boryspil airport, border checkpoint",
    "venue_city": "Boryspil",
    "venue_country": "UA",
}
SPRING_MEETING = "https://meet.academy.test/vulnerable-persons-spring"
SUMMER_MEETING = "https://meet.academy.test/ibm-foundations-summer"


def _older_runs(trainer: User) -> int:
    runs = {
        run.title: run
        for run in db.session.scalars(
            select(CourseRun).where(
                CourseRun.title.in_((SPRING_ONLINE, CHISINAU_BLENDED, KYIV_IN_PERSON, SUMMER_ONLINE))
            )
        )
    }
    with_sessions = set(db.session.scalars(select(TrainingSession.run_id).where(
        TrainingSession.run_id.in_([run.id for run in runs.values()]))))  # fmt: skip
    makers = {SPRING_ONLINE: _spring_online, CHISINAU_BLENDED: _chisinau_blended,
              KYIV_IN_PERSON: _kyiv_in_person, SUMMER_ONLINE: _summer_online}  # fmt: skip
    written = 0
    for title, make in makers.items():
        run = runs.get(title)
        if run is not None and run.id not in with_sessions and run.starts_on is not None:
            written += make(run, trainer)
    return written


def _spring_online(run: CourseRun, trainer: User) -> int:
    """Four weekly live classes from the run's first day (online, times in Vienna)."""
    assert run.starts_on is not None  # noqa: S101  # checked by the caller
    for week in range(4):
        _session(run, trainer, f"Live class {week + 1}: referral in practice",
                 run.starts_on + timedelta(weeks=week), time(14), time(15, 30), "Europe/Vienna",
                 format="online", meeting_url=SPRING_MEETING)  # fmt: skip
    return 4


def _chisinau_blended(run: CourseRun, trainer: User) -> int:
    """Two workshop days in Chisinau two weeks into the run; the second is hybrid (in the room or online)."""
    assert run.starts_on is not None  # noqa: S101
    day = run.starts_on + timedelta(days=14)
    _session(run, trainer, "Workshop day 1: IBM pillars in practice", day, time(9, 30), time(17),
             "Europe/Chisinau", agenda_md="Exercises in groups on the four tiers of access control.",
             **CHISINAU_VENUE)  # fmt: skip
    _session(run, trainer, "Workshop day 2: inter-agency cooperation (hybrid)", day + timedelta(days=1),
             time(9, 30), time(13), "Europe/Chisinau", format="hybrid", meeting_url=SUMMER_MEETING,
             **CHISINAU_VENUE)  # fmt: skip
    return 2


def _kyiv_in_person(run: CourseRun, trainer: User) -> int:
    """Two days in a Kyiv training hall and, between them, a night at the airport's checkpoint across
    midnight (one session from 21:00 to 01:00)."""
    assert run.starts_on is not None  # noqa: S101
    first = run.starts_on
    _session(run, trainer, "Day 1: security features and forgery types", first, time(9), time(17),
             "Europe/Kyiv", capacity=12, **KYIV_VENUE)  # fmt: skip
    _session(run, trainer, "Night shift observation at the checkpoint", first, time(21), time(1),
             "Europe/Kyiv", capacity=6, **BORYSPIL)  # fmt: skip
    _session(run, trainer, "Day 2: practical checks with UV and loupe", first + timedelta(days=1), time(10),
             time(17), "Europe/Kyiv", capacity=12, **KYIV_VENUE)  # fmt: skip
    return 3


def _summer_online(run: CourseRun, trainer: User) -> int:
    """A monthly live Q&A over the past cohort's weeks, with the check-ins of those who held a place."""
    assert run.starts_on is not None  # noqa: S101
    active = Enrolment.status.in_(ACTIVE_STATUSES)
    places = list(
        db.session.scalars(select(Enrolment).where(Enrolment.run_id == run.id, active).order_by(Enrolment.id))
    )
    count = 0
    for month in range(4):
        day = run.starts_on + timedelta(weeks=4 * month + 1)
        session = _session(
            run, trainer, f"Live Q&A {month + 1}", day, time(11), time(12), "Europe/Vienna",
            format="online", meeting_url=SUMMER_MEETING,
        )  # fmt: skip
        count += 1
        for index, enrolment in enumerate(places):
            if (index + month) % 5:  # four in five attend each one
                record_attendance(session, enrolment, "present", source="check_in", actor_id=None)
    return count


def _run(
    admin: User, course: Course, title: str, modality: str, starts: date, ends: date, **rule: object
) -> CourseRun:
    data = enrolment_runs.RunData(
        course_id=course.id, title=title, modality=modality, language="en", starts_on=starts, ends_on=ends,
        enrolment_opens_on=None, enrolment_closes_on=None, seats_total=30,
        enrolment_method=EnrolmentMethod.OPEN, open_to_all=True, **rule,  # type: ignore[arg-type]
    )  # fmt: skip
    return enrolment_runs.save_run(admin, None, data)


def _people(run: CourseRun, names: Sequence[str]) -> list[Enrolment]:
    """Enrol whoever of these demo people can take a place (anyone studying the course is left out)."""
    places = []
    for name in names:
        user = find_user_by_email(f"{name}@academy.test")
        if user is None:
            continue
        try:
            with db.session.begin_nested():
                places.append(enrolment_self_service.self_enrol(user, run, language=user.preferred_language))
        except LmsError:
            continue
    return places


def _session(run: CourseRun, trainer: User, title: str, day: date, start: time, end: time, zone: str,
             **place: object) -> TrainingSession:  # fmt: skip
    """An end before the start is the next day, as on the form (scheduling.local_span)."""
    starts_local, ends_local = local_span(day, start, end)
    data = SessionData(
        title=title, starts_local=starts_local, ends_local=ends_local,
        timezone=zone, trainer_ids=frozenset({trainer.id}), **place,  # type: ignore[arg-type]
    )  # fmt: skip
    return schedule_session(run, data, actor_id=trainer.id)


def _workshop(admin: User, trainer: User, course: Course, rng: Random) -> int:
    """Three days in Chisinau five weeks ago: 80% of the session time and the final assessment; lessons
    not required. Most attend enough and are certified automatically; two missed too much."""
    today = utcnow().date()
    run = _run(
        admin,
        course,
        WORKSHOP,
        Modality.IN_PERSON,
        today,
        today + timedelta(days=2),
        completion_requires_lessons=False,
        min_attendance_percent=80,
    )
    places = _people(run, WORKSHOP_PEOPLE)
    first = today - timedelta(days=35)
    enrolment_runs.save_run(admin, run, _dates(run, first, first + timedelta(days=2)))
    sessions = []
    agenda = (
        "1. Security features of travel documents\n2. Forgery types\n3. Practical checks with UV and loupe"
    )
    for offset in range(3):
        day = first + timedelta(days=offset)
        sessions.append(
            _session(
                run,
                trainer,
                f"Day {offset + 1}, morning",
                day,
                time(9),
                time(12, 30),
                "Europe/Chisinau",
                agenda_md=agenda,
                capacity=24,
                **CHISINAU_VENUE,
            )
        )
        sessions.append(
            _session(
                run,
                trainer,
                f"Day {offset + 1}, afternoon",
                day,
                time(13, 30),
                time(17),
                "Europe/Chisinau",
                capacity=24,
                **CHISINAU_VENUE,
            )
        )
    final = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.role == QuizRole.FINAL))
    for index, enrolment in enumerate(places):
        for number, session in enumerate(sessions):
            _mark(session, enrolment, trainer, index, number)
        if final is not None:
            for _attempt in range(final.attempts_allowed or 3):
                if _take(enrolment, final, 0.9, rng).passed:
                    break
    for enrolment in places:
        _move_to(
            enrolment,
            datetime.combine(first, time(7), tzinfo=UTC) - timedelta(days=10),
            datetime.combine(first + timedelta(days=2), time(15), tzinfo=UTC),
        )
    return len(sessions)


def _mark(session: TrainingSession, enrolment: Enrolment, trainer: User, person: int, number: int) -> None:
    """Partial attendance: most present; one person late every morning, one absent on the second day."""
    if person == 1 and number % 2 == 0:
        record_attendance(session, enrolment, "late", minutes=150, source="roll_call", actor_id=trainer.id)
    elif person in (3, 6) and number in (2, 3):
        record_attendance(session, enrolment, "absent", source="roll_call", actor_id=trainer.id)
    elif person == 4 and number == 5:
        record_attendance(session, enrolment, "left_early", minutes=90, source="sheet", actor_id=trainer.id)
    else:
        record_attendance(session, enrolment, "present", source="roll_call", actor_id=trainer.id)


def _weekly(admin: User, trainer: User, course: Course, rng: Random) -> int:
    """Eight weekly online sessions, three of them past (with attendance), five to come."""
    today = utcnow().date()
    first = today - timedelta(days=today.weekday() - 2 + 21)  # the Wednesday three weeks ago
    run = _run(
        admin,
        course,
        WEEKLY,
        Modality.ONLINE_SCHEDULED,
        first,
        first + timedelta(weeks=8),
        min_attendance_percent=75,
    )
    places = _people(run, WEEKLY_PEOPLE)
    count = 0
    for week in range(8):
        day = first + timedelta(weeks=week)
        session = _session(
            run,
            trainer,
            f"Week {week + 1}: live class",
            day,
            time(10),
            time(11, 30),
            "Europe/Vienna",
            format="online",
            meeting_url=MEETING,
        )
        count += 1
        if session.ends_at < utcnow():
            for enrolment in places:
                status = "present" if rng.random() < 0.85 else "absent"
                record_attendance(session, enrolment, status, source="check_in", actor_id=None)
    return count


def _blended(admin: User, trainer: User, course: Course) -> int:
    """Lessons online first, a one-day workshop in Tbilisi (attendance required), then the final test."""
    today = utcnow().date()
    run = _run(
        admin,
        course,
        BLENDED,
        Modality.BLENDED,
        today + timedelta(days=7),
        today + timedelta(days=42),
        min_attendance_percent=100,
    )
    places = _people(run, BLENDED_PEOPLE)
    lessons = [
        lesson
        for module in course.modules
        if module.is_published
        for lesson in module.lessons
        if lesson.is_published
    ]
    for done, enrolment in zip((3, 1, 0), places, strict=False):
        for lesson in lessons[:done]:
            enrolment_completion.complete_lesson(enrolment, lesson)
    day = today + timedelta(days=28)
    _session(
        run,
        trainer,
        "Workshop: risk analysis at the green border",
        day,
        time(9),
        time(17),
        "Asia/Tbilisi",
        agenda_md="Case studies in groups; the final assessment opens after this day.",
        **TBILISI_VENUE,
    )
    return 1


def _dates(run: CourseRun, starts: date, ends: date) -> enrolment_runs.RunData:
    return enrolment_runs.RunData(
        course_id=run.course_id, title=run.title, modality=run.modality, language=run.language,
        starts_on=starts, ends_on=ends, enrolment_opens_on=starts - timedelta(days=30),
        enrolment_closes_on=starts - timedelta(days=3), seats_total=run.seats_total,
        enrolment_method=run.enrolment_method, open_to_all=True,
        completion_requires_lessons=run.completion_requires_lessons,
        min_attendance_percent=run.min_attendance_percent,
    )  # fmt: skip


def _move_to(enrolment: Enrolment, joined: datetime, finished: datetime) -> None:
    """The workshop's places as they were: joined before it, completed on its last day."""
    enrolment.enrolled_at = enrolment.created_at = joined
    if enrolment.completed_at is not None:
        enrolment.completed_at = finished
    enrolment.last_activity_at = finished
    for event in db.session.scalars(
        select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == enrolment.id)
    ):
        event.at = finished if event.action == "completed" else joined

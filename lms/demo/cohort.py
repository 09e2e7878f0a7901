"""A finished cohort for the demo: two runs that ended months ago, so that the reports have history.

Without it the indicator report, its charts and the donor export are empty after `make run` (the
other demo people are still part-way through). The history is replayed through the same services a
trainee and an admin use (enrol, read every lesson, take the pre-test, the post-test and the final
assessment, issue certificates on approval), then each enrolment's own timestamps are moved back to
the weeks the run took place. The audit log keeps the real time it was written: it is a record of
what the system did, not of the story.

Development only, like the rest of lms.demo; idempotent (nothing happens when the runs exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from random import Random
from typing import Any

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.auth.services import find_user_by_email
from lms.certificates import services as certificates
from lms.courses.models import Course
from lms.db import utcnow
from lms.demo.services import DemoPerson, ensure_demo_person
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import nominations as enrolment_nominations
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import (
    CourseRun,
    Enrolment,
    EnrolmentEvent,
    EnrolmentMethod,
    LessonCompletion,
    Modality,
)
from lms.extensions import db
from lms.quizzes import services as quizzes
from lms.quizzes.models import Quiz, QuizAttempt

# Finished, unfinished and withdrawn people, in the proportions an academy sees.
COMPLETED, STUCK, WITHDRAWN = "completed", "stuck", "withdrawn"


@dataclass(frozen=True)
class CohortMember:
    email: str
    given_name: str
    family_name: str
    authority_code: str
    sex: str | None
    birth_year_band: str | None
    native_name: str | None = None
    language: str | None = None


COHORT = (
    CohortMember("mykola.tkachenko@academy.test", "Mykola", "Tkachenko", "ua-sbgs", "male", "1980-1989",
                 "Микола Ткаченко", "ru"),
    CohortMember("natalia.kravets@academy.test", "Natalia", "Kravets", "ua-sbgs", "female", "1990-1999",
                 "Наталія Кравець", "ru"),
    CohortMember("serhii.moroz@academy.test", "Serhii", "Moroz", "ua-sms", "male", "1970-1979",
                 "Сергій Мороз", "ru"),
    CohortMember("ion.rusu@academy.test", "Ion", "Rusu", "md-gibp", "male", "1990-1999"),
    CohortMember("elena.ceban@academy.test", "Elena", "Ceban", "md-bma", "female", "1980-1989"),
    CohortMember("nino.kapanadze@academy.test", "Nino", "Kapanadze", "ge-bp", "female", "1990-1999",
                 "ნინო კაპანაძე"),
    CohortMember("levan.gelashvili@academy.test", "Levan", "Gelashvili", "ge-psda", "male", "1980-1989",
                 "ლევან გელაშვილი"),
    CohortMember("armen.petrosyan@academy.test", "Armen", "Petrosyan", "am-bgt", "male", "1970-1979",
                 "Արմեն Պետրոսյան", "ru"),
    CohortMember("gunel.aliyeva@academy.test", "Günel", "Aliyeva", "az-sbs", "female", "1990-1999"),
    CohortMember("daniyar.seitkali@academy.test", "Daniyar", "Seitkali", "kz-bs", "male", "1990-1999",
                 "Данияр Сейткали", "ru"),
    CohortMember("aizhan.toktogulova@academy.test", "Aizhan", "Toktogulova", "kg-bs", "female", "2000-2009",
                 "Айжан Токтогулова", "ru"),
    CohortMember("bekzod.rakhimov@academy.test", "Bekzod", "Rakhimov", "uz-bt", "male", None,
                 "Bekzod Rahimov", "ru"),
    CohortMember("omar.khalil@academy.test", "Omar", "Khalil", "jo-rbd", "male", "1980-1989",
                 "عمر خليل", "ar"),
    CohortMember("rania.mansour@academy.test", "Rania", "Mansour", "jo-psd", "female", "1990-1999",
                 "رانيا منصور", "ar"),
    CohortMember("sami.trabelsi@academy.test", "Sami", "Trabelsi", "tn-gn", "male", "1980-1989",
                 "سامي الطرابلسي", "fr"),
    CohortMember("salma.benali@academy.test", "Salma", "Benali", "ma-dgsn", "female", "1990-1999",
                 "سلمى بنعلي", "fr"),
    CohortMember("emre.yildiz@academy.test", "Emre", "Yıldız", "tr-pmm", None, "1980-1989"),
    CohortMember("aleksandra.lis@academy.test", "Aleksandra", "Lis", "pl-sg", "female", "1970-1979"),
)  # fmt: skip


@dataclass(frozen=True)
class PastRun:
    course_slug: str
    title: str
    modality: str
    starts: int  # days before today
    weeks: int
    members: tuple[tuple[str, str], ...]  # (email, outcome)


def _members(
    completed: tuple[int, ...], stuck: tuple[int, ...] = (), withdrawn: tuple[int, ...] = ()
) -> tuple[tuple[str, str], ...]:
    """(email, outcome) for the people of COHORT at these positions."""
    outcomes = [(i, COMPLETED) for i in completed] + [(i, STUCK) for i in stuck]
    outcomes += [(i, WITHDRAWN) for i in withdrawn]
    return tuple((COHORT[i].email, outcome) for i, outcome in outcomes)


PAST_RUNS = (
    PastRun(
        "ibm-foundations", "IBM foundations — online cohort, summer", Modality.ONLINE_SCHEDULED,
        starts=180, weeks=16,
        members=_members(completed=(0, 1, 3, 4, 5, 7, 8, 9, 12, 13, 14, 16), stuck=(2, 10), withdrawn=(15,)),
    ),
    PastRun(
        "vulnerable-persons-referral", "Vulnerable persons referral — self-paced, autumn",
        Modality.SELF_PACED, starts=100, weeks=10,
        members=_members(completed=(1, 6, 11, 13, 15, 17), stuck=(9,)),
    ),
)  # fmt: skip
CERTIFIED = 4  # per run: the admin has approved the first four; the rest wait in "completed, not issued"


def load_demo_cohort() -> int:
    """Create the past runs and their people; returns the number of enrolments written."""
    admin = find_user_by_email("admin@academy.test")
    if admin is None:
        return 0
    titles = [past.title for past in PAST_RUNS]
    if db.session.scalar(select(CourseRun.id).where(CourseRun.title.in_(titles)).limit(1)) is not None:
        return 0
    people = {member.email: _person(member) for member in COHORT}
    rng = Random(2026)  # noqa: S311  # demo answers, not secrets
    written = 0
    for past in PAST_RUNS:
        course = db.session.scalar(select(Course).where(Course.slug == past.course_slug))
        if course is None:
            continue
        run = _open_run(admin, course, past)
        completed: list[Enrolment] = []
        for email, outcome in past.members:
            enrolment = _study(people[email], run, course, outcome, rng)
            if enrolment.status == "completed":
                completed.append(enrolment)
            written += 1
        _close_run(admin, run, past, course)  # first: the certificates carry the run's real dates
        certificates.issue_approved([e.id for e in completed[:CERTIFIED]], admin.id)
        for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.run_id == run.id)):
            _move_back(enrolment, past, rng)
    db.session.flush()
    return written


def _person(member: CohortMember) -> User:
    person = DemoPerson(
        member.email, member.given_name, member.family_name, member.authority_code, (Role.TRAINEE,),
        native_name=member.native_name, sex=member.sex, position="Border and migration officer",
        language=member.language, birth_year_band=member.birth_year_band,
    )  # fmt: skip
    return ensure_demo_person(person)[0]


def _open_run(admin: User, course: Course, past: PastRun) -> CourseRun:
    """The run as it was while people joined (open, self-enrolment); closed again once they have."""
    today = utcnow().date()
    data = enrolment_runs.RunData(
        course_id=course.id, title=past.title, modality=past.modality, language="en",
        starts_on=today, ends_on=today, enrolment_opens_on=today, enrolment_closes_on=today,
        seats_total=30, enrolment_method=EnrolmentMethod.OPEN, open_to_all=True,
        countries=frozenset(), quota_codes={},
    )  # fmt: skip
    run = enrolment_runs.save_run(admin, None, data)
    certificates.set_issuance_rule(run, certificates.IssuanceRule.APPROVAL, admin.id)
    return run


def _close_run(admin: User, run: CourseRun, past: PastRun, course: Course) -> None:
    starts = utcnow().date() - timedelta(days=past.starts)
    data = enrolment_runs.RunData(
        course_id=course.id, title=past.title, modality=past.modality, language="en",
        starts_on=starts, ends_on=starts + timedelta(weeks=past.weeks),
        enrolment_opens_on=starts - timedelta(days=28), enrolment_closes_on=starts - timedelta(days=3),
        seats_total=30, enrolment_method=EnrolmentMethod.OPEN, open_to_all=True,
        countries=frozenset(), quota_codes={},
    )  # fmt: skip
    enrolment_runs.save_run(admin, run, data)


def _study(user: User, run: CourseRun, course: Course, outcome: str, rng: Random) -> Enrolment:
    enrolment = enrolment_self_service.self_enrol(user, run, language=user.preferred_language)
    roles = {quiz.role: quiz for quiz in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))}
    lessons = [
        lesson for module in course.modules if module.is_published
        for lesson in module.lessons if lesson.is_published
    ]  # fmt: skip
    start_level = rng.uniform(0.25, 0.6)
    if "pre_test" in roles:
        _take(enrolment, roles["pre_test"], start_level, rng)
    if outcome == WITHDRAWN:
        enrolment_completion.complete_lesson(enrolment, lessons[0])
        enrolment_nominations.withdraw(enrolment, user, "Posted to another border crossing point.")
        return enrolment
    read = lessons if outcome == COMPLETED else lessons[: rng.randint(1, max(1, len(lessons) // 2))]
    for lesson in read:
        enrolment_completion.complete_lesson(enrolment, lesson)
    if outcome != COMPLETED:
        return enrolment
    end_level = min(1.0, start_level + rng.uniform(0.2, 0.45))
    if "post_test" in roles:
        _take(enrolment, roles["post_test"], end_level, rng)
    if "final" in roles:
        for _attempt in range(roles["final"].attempts_allowed or 3):
            if _take(enrolment, roles["final"], max(end_level, 0.8), rng).passed:
                break
    # No completion check here: every lesson read and attempt submitted above re-checked it through
    # the enrolment feature's subscribers (lms/enrolment/completion.py).
    return enrolment


def _take(enrolment: Enrolment, quiz: Quiz, share_right: float, rng: Random) -> QuizAttempt:
    """Answer about ``share_right`` of the questions right and leave the others blank."""
    attempt, _new = quizzes.start_attempt(enrolment, quiz, rng=rng)
    raw: dict[int, dict[str, list[str]]] = {}
    for item in attempt.questions:
        if rng.random() < share_right:
            raw[item.position] = _right_answer(item.frozen)
    return quizzes.submit_attempt(attempt, raw)


def _right_answer(frozen: Mapping[str, Any]) -> dict[str, list[str]]:
    solution, kind = frozen["solution"], frozen["type"]
    if kind in ("single_choice", "multiple_response"):
        return {"": [str(i) for i in solution["correct"]]}
    if kind == "true_false":
        return {"": ["true" if solution["answer"] else "false"]}
    if kind == "numeric":
        return {"": [str(solution["answer"])]}
    if kind == "short_text":
        return {"": [solution["accept"][0]]}
    if kind == "ordering":
        return {str(part): [str(position)] for part, position in enumerate(solution["positions"])}
    if kind == "matching":
        return {str(part): [str(option)] for part, option in enumerate(solution["pairs"])}
    if kind == "cloze":
        return {str(part): [accepted[0]] for part, accepted in enumerate(solution["blanks"])}
    return {}


def _move_back(enrolment: Enrolment, past: PastRun, rng: Random) -> None:
    """Map the enrolment's timestamps (written seconds ago, in order) onto the weeks of the run,
    keeping their order: joined a few days before the start, studied and finished within the run.

    Two pieces, not one line through all stamps: what happened before the first lesson or quiz (the
    enrolment and its events) stays seconds after the joining day, and the studying, the completion and
    what followed them (a certificate's events, written later while the rest of the run loads) spread
    over the run from its first morning. One line put the completion before the run's start whenever a
    busy machine wrote the last of those events long after the studying."""
    stamps = _stamps(enrolment)
    if not stamps:
        return
    first, last = min(stamps), max(stamps)
    studied = _study_stamps(enrolment)
    begin = min(studied) if studied else last + timedelta(seconds=1)  # never studied: all near joining
    run_start = datetime.combine(utcnow().date() - timedelta(days=past.starts), time(9), tzinfo=UTC)
    joined = run_start - timedelta(days=rng.randint(3, 25), hours=rng.randint(0, 8))
    studying = run_start + timedelta(hours=1)
    finished = run_start + timedelta(days=rng.randint(14, past.weeks * 7 - 2), hours=rng.randint(0, 8))
    span = (last - begin).total_seconds() or 1.0

    def moved(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        if moment < begin:
            return joined + (moment - first)
        return studying + (finished - studying) * ((moment - begin).total_seconds() / span)

    enrolment.enrolled_at = moved(enrolment.enrolled_at)  # type: ignore[assignment]
    enrolment.created_at = moved(enrolment.created_at)  # type: ignore[assignment]
    enrolment.completed_at = moved(enrolment.completed_at)
    enrolment.last_activity_at = moved(enrolment.last_activity_at)
    for event in db.session.scalars(
        select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == enrolment.id)
    ):
        event.at = moved(event.at)  # type: ignore[assignment]
    for done in db.session.scalars(
        select(LessonCompletion).where(LessonCompletion.enrolment_id == enrolment.id)
    ):
        done.completed_at = moved(done.completed_at)  # type: ignore[assignment]
    for attempt in db.session.scalars(select(QuizAttempt).where(QuizAttempt.enrolment_id == enrolment.id)):
        limit = attempt.deadline_at - attempt.started_at if attempt.deadline_at else None
        attempt.started_at = moved(attempt.started_at)  # type: ignore[assignment]
        attempt.submitted_at = moved(attempt.submitted_at)
        attempt.saved_at = moved(attempt.saved_at)
        attempt.deadline_at = attempt.started_at + limit if limit else None


def _study_stamps(enrolment: Enrolment) -> list[datetime]:
    """When the person studied: lessons completed, quiz attempts started and submitted, the completion."""
    found = [enrolment.completed_at]
    found += db.session.scalars(select(LessonCompletion.completed_at).where(
        LessonCompletion.enrolment_id == enrolment.id))  # fmt: skip
    found += db.session.scalars(
        select(QuizAttempt.started_at).where(QuizAttempt.enrolment_id == enrolment.id)
    )
    found += db.session.scalars(
        select(QuizAttempt.submitted_at).where(QuizAttempt.enrolment_id == enrolment.id)
    )
    return [moment for moment in found if moment is not None]


def _stamps(enrolment: Enrolment) -> list[datetime]:
    found: list[datetime | None] = [enrolment.enrolled_at, enrolment.created_at, enrolment.last_activity_at]
    found += _study_stamps(enrolment)
    found += db.session.scalars(select(EnrolmentEvent.at).where(EnrolmentEvent.enrolment_id == enrolment.id))
    return [moment for moment in found if moment is not None]

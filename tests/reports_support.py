"""A small hand-built world for the report tests, with numbers worked out by hand in the tests.

Course "Border checks" (16 notional hours = 2 person-days per completion; 4 lessons; a pre-test, a
post-test and a final), two runs: R1 self-paced, R2 in person. Countries UA (authority A1) and MD (A2).

    person  country/authority  sex     band       R1                           R2
    p1      UA / A1            female  1980-1989  completed, cert active       completed, cert REVOKED
    p2      UA / A1            male    1990-1999  enrolled, 2 lessons, pre 40 / post 60
    p3      MD / A2            female  1990-1999  WITHDRAWN (not counted)
    p4      MD / A2            male    (none)                                  completed, cert active,
                                                                               pre 30 then 50 / post 80
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime

from lms.auth.models import Role, User, UserRole
from lms.certificates.models import Certificate
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import CourseRun, Enrolment, LessonCompletion
from lms.extensions import db
from lms.orgs.models import Authority, Country
from lms.quizzes.models import Quiz, QuizAttempt

_numbers = itertools.count(1)


@dataclass
class World:
    course: Course
    lessons: list[Lesson]
    r1: CourseRun
    r2: CourseRun
    a1: Authority
    a2: Authority
    people: dict[str, User]
    enrolments: dict[str, Enrolment]
    quizzes: dict[str, Quiz]


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


def _person(name: str, authority: Authority, sex: str, band: str | None, password_hash: str) -> User:
    user = User(
        email=f"{name}-{next(_numbers)}@report.test",
        password_hash=password_hash,
        given_name=name.upper(),
        family_name=f"Person {name}",
        sex=sex,
        birth_year_band=band,
        country_code=authority.country_code,
        authority_id=authority.id,
        email_confirmed_at=at(1, 1),
    )
    user.roles.append(UserRole(role=Role.TRAINEE))
    db.session.add(user)
    return user


def _certificate(enrolment: Enrolment, status: str) -> None:
    n = next(_numbers)
    db.session.add(
        Certificate(
            code=f"C{n:07d}", credential_uuid=f"00000000-0000-0000-0000-{n:012d}", status_index=n,
            user_id=enrolment.user_id, run_id=enrolment.run_id, enrolment_id=enrolment.id, status=status,
            method="automatic", holder_name="x", course_title="Border checks", run_title="run",
            modality="self_paced", language="en", issuer_name="Academy", credential={}, pdf_file="x.pdf",
            pdf_sha256="0" * 64, revoked_at=at(20) if status == "revoked" else None,
        )
    )  # fmt: skip


def build_world(password_hash: str, extra_trainees: int = 0) -> World:
    for code in ("UA", "MD"):
        if db.session.get(Country, code) is None:
            db.session.add(
                Country(code=code, name={"UA": "Ukraine", "MD": "Moldova"}[code], names={}, groups=[])
            )
    a1 = Authority(code=f"ua-a1-{next(_numbers)}", name="State Border Guard Service", country_code="UA")
    a2 = Authority(code=f"md-a2-{next(_numbers)}", name="Border Police of Moldova", country_code="MD")
    course = Course(slug=f"border-checks-{next(_numbers)}", title="Border checks", notional_hours=16)
    module = Module(course=course, slug="m1", title="Module 1", position=1)
    lessons = [Lesson(module=module, slug=f"l{i}", title=f"Lesson {i}", position=i) for i in range(1, 5)]
    db.session.add_all([a1, a2, course, module, *lessons])
    db.session.flush()
    quizzes = {
        role: Quiz(
            course_id=course.id, slug=role, title=role.replace("_", " ").title(), role=role, position=i
        )
        for i, role in enumerate(("pre_test", "post_test", "final"))
    }
    r1 = CourseRun(course_id=course.id, title="R1 self-paced", modality="self_paced",
                   starts_on=date(2026, 3, 1), ends_on=date(2026, 6, 30))  # fmt: skip
    r2 = CourseRun(course_id=course.id, title="R2 in person", modality="in_person",
                   starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 30))  # fmt: skip
    db.session.add_all([*quizzes.values(), r1, r2])
    people = {
        "p1": _person("p1", a1, "female", "1980-1989", password_hash),
        "p2": _person("p2", a1, "male", "1990-1999", password_hash),
        "p3": _person("p3", a2, "female", "1990-1999", password_hash),
        "p4": _person("p4", a2, "male", None, password_hash),
    }
    db.session.flush()

    def enrol(person: str, run: CourseRun, status: str, day: int, done: datetime | None = None) -> Enrolment:
        user = people[person]
        enrolment = Enrolment(
            run_id=run.id, user_id=user.id, status=status, authority_id=user.authority_id,
            enrolled_at=at(day), created_at=at(day), completed_at=done, last_activity_at=done or at(day),
        )  # fmt: skip
        db.session.add(enrolment)
        db.session.flush()
        return enrolment

    enrolments = {
        "p1r1": enrol("p1", r1, "completed", 2, at(10)),
        "p1r2": enrol("p1", r2, "completed", 3, at(12, 4)),
        "p2r1": enrol("p2", r1, "enrolled", 4),
        "p3r1": enrol("p3", r1, "withdrawn", 5),
        "p4r2": enrol("p4", r2, "completed", 6, at(15, 4)),
    }
    for key, count in (("p1r1", 4), ("p1r2", 4), ("p2r1", 2), ("p3r1", 1), ("p4r2", 4)):
        for lesson in lessons[:count]:
            db.session.add(
                LessonCompletion(enrolment_id=enrolments[key].id, lesson_id=lesson.id, completed_at=at(8))
            )
    _certificate(enrolments["p1r1"], "active")
    _certificate(enrolments["p1r2"], "revoked")
    _certificate(enrolments["p4r2"], "active")

    def attempt(key: str, role: str, number: int, percent: float, status: str = "submitted") -> None:
        db.session.add(
            QuizAttempt(
                enrolment_id=enrolments[key].id,
                quiz_id=quizzes[role].id,
                number=number,
                status=status,
                percent=percent,
                score=percent,
                max_score=100,
                submitted_at=at(9),
            )
        )

    attempt("p2r1", "pre_test", 1, 40)
    attempt("p2r1", "post_test", 1, 60)
    attempt("p4r2", "pre_test", 1, 30)
    attempt("p4r2", "pre_test", 2, 50)
    attempt("p4r2", "post_test", 1, 80)
    attempt("p4r2", "final", 1, 90)
    attempt("p1r1", "pre_test", 1, 99, status="in_progress")  # unfinished: ignored
    attempt("p1r1", "final", 1, 75)
    attempt("p1r1", "final", 2, 85)

    db.session.commit()
    world = World(course, lessons, r1, r2, a1, a2, people, enrolments, quizzes)
    add_trainees(world, extra_trainees, password_hash)
    return world


def add_trainees(world: World, count: int, password_hash: str) -> None:
    """More data of the same shape (enrolled in R1, one lesson done, a pre-test), for query-count tests."""
    a1, a2, r1, lessons, quizzes = world.a1, world.a2, world.r1, world.lessons, world.quizzes
    start = next(_numbers) * 1000
    for n in range(start, start + count):
        user = _person(
            f"x{n}", a1 if n % 2 else a2, "female" if n % 3 else "male", "1970-1979", password_hash
        )
        db.session.flush()
        enrolment = Enrolment(
            run_id=r1.id, user_id=user.id, status="enrolled", authority_id=user.authority_id,
            enrolled_at=at(7), last_activity_at=at(7),
        )  # fmt: skip
        db.session.add(enrolment)
        db.session.flush()
        db.session.add(
            LessonCompletion(enrolment_id=enrolment.id, lesson_id=lessons[0].id, completed_at=at(8))
        )
        db.session.add(QuizAttempt(enrolment_id=enrolment.id, quiz_id=quizzes["pre_test"].id, number=1,
                                   status="submitted", percent=50.0, score=5, max_score=10))  # fmt: skip
    db.session.commit()

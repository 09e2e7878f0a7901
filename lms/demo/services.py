"""Demo people and progress so that a newcomer sees a living academy after `make run`.

Development only: the passwords are documented in README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import Role, User, UserRole
from lms.auth.services import Registration, find_user_by_email, register_user
from lms.authoring.models import CourseTrainer
from lms.authoring.trainers import assign_trainer
from lms.certificates.demo import load_demo_certificates
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import nominations as enrolment_nominations
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import CourseRun, EnrolmentMethod, Modality
from lms.errors import LmsError
from lms.extensions import db
from lms.orgs.models import Authority

DEMO_PASSWORD = "academy-demo-2026"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    given_name: str
    family_name: str
    authority_code: str
    roles: tuple[str, ...]
    patronymic: str | None = None
    native_name: str | None = None
    sex: str | None = None
    position: str | None = None
    language: str | None = None
    birth_year_band: str | None = None


DEMO_PEOPLE = (
    DemoPerson("admin@academy.test", "Marta", "Novak", "cz-fps", (Role.ADMIN,), sex="female",
               position="Academy administrator"),
    DemoPerson("trainer@academy.test", "Tomasz", "Wiśniewski", "pl-sg", (Role.TRAINER,), sex="male",
               position="Senior instructor, document examination"),
    DemoPerson("focal.ua@academy.test", "Iryna", "Bondarenko", "ua-sbgs", (Role.FOCAL_POINT,),
               patronymic="Petrivna", native_name="Ірина Петрівна Бондаренко", sex="female",
               position="Training department, national administrator", language="ru"),
    DemoPerson("trainee@academy.test", "Olena", "Koval", "ua-sbgs", (Role.TRAINEE,),
               patronymic="Mykolaivna", native_name="Олена Миколаївна Коваль", sex="female",
               position="Senior inspector, first-line check", language="en"),
    DemoPerson("andriy.shevchenko@academy.test", "Andriy", "Shevchenko", "ua-sbgs", (Role.TRAINEE,),
               patronymic="Ivanovych", native_name="Андрій Іванович Шевченко", sex="male",
               position="Inspector", language="ru"),
    DemoPerson("giorgi.beridze@academy.test", "Giorgi", "Beridze", "ge-bp", (Role.TRAINEE,),
               native_name="გიორგი ბერიძე", sex="male", position="Border police officer"),
    DemoPerson("leila.haddad@academy.test", "Leila", "Haddad", "jo-rbd", (Role.TRAINEE,),
               native_name="ليلى حداد", sex="female", position="Residency officer", language="ar"),
    DemoPerson("aigerim.nurlanova@academy.test", "Aigerim", "Nurlanova", "kz-bs", (Role.TRAINEE,),
               native_name="Айгерим Нурланова", sex="female", position="Lieutenant"),
)  # fmt: skip


def _authority(code: str) -> Authority:
    authority = db.session.scalar(select(Authority).where(Authority.code == code))
    if authority is None:
        raise LmsError(f"authority {code} is missing: run `flask lms orgs load` first")
    return authority


def load_demo_people() -> None:
    """Idempotent: people who already exist are left as they are. The demo people, their progress, runs,
    the trainer's courses and certificates; lms/demo/load.py adds the finished cohort, built on them."""
    for person in DEMO_PEOPLE:
        ensure_demo_person(person)
    db.session.flush()
    _demo_progress()
    _demo_runs()  # a run of each enrolment method, a queue and a waiting list
    _demo_trainer_courses()  # the demo trainer authors two courses (lms/authoring)
    load_demo_certificates()  # one certificate in force, one revoked


def ensure_demo_person(person: DemoPerson) -> tuple[User, bool]:
    """The person's account, registered (address confirmed, so they may enrol) when missing; True when
    it was created now."""
    user = find_user_by_email(person.email)
    if user is not None:
        return user, False
    authority = _authority(person.authority_code)
    user = register_user(
        Registration(
            email=person.email,
            password=DEMO_PASSWORD,
            given_name=person.given_name,
            family_name=person.family_name,
            patronymic=person.patronymic,
            native_name=person.native_name,
            country_code=authority.country_code,
            authority_id=authority.id,
            sex=person.sex,
            position=person.position,
            preferred_language=person.language,
        ),
        roles=tuple(r for r in person.roles if r != Role.FOCAL_POINT),
    )
    if Role.FOCAL_POINT in person.roles:
        user.roles.append(UserRole(role=Role.FOCAL_POINT, authority_id=authority.id))
    user.birth_year_band = person.birth_year_band
    user.email_confirmed_at = utcnow()
    db.session.flush()
    return user, True


def _demo_progress() -> None:
    """Olena is part-way through IBM foundations; Andriy has started the document-fraud course."""
    plans = {
        "trainee@academy.test": ("ibm-foundations", 4, "en"),
        "andriy.shevchenko@academy.test": ("ibm-foundations", 2, "ru"),
        "giorgi.beridze@academy.test": ("document-fraud-first-line", 3, "en"),
        "leila.haddad@academy.test": ("vulnerable-persons-referral", 1, "en"),
    }
    for email, (slug, lessons_done, language) in plans.items():
        user = find_user_by_email(email)
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        if user is None or course is None:
            continue
        if enrolment_self_service.active_enrolment(user.id, course.id) is not None:
            continue
        run = enrolment_runs.ensure_default_run(course)
        enrolment = enrolment_self_service.self_enrol(user, run, language=language)
        lessons = [
            lesson for module in course.modules if module.is_published
            for lesson in module.lessons if lesson.is_published
        ]  # fmt: skip
        for lesson in lessons[:lessons_done]:
            enrolment_completion.complete_lesson(enrolment, lesson)


def _demo_runs() -> None:
    """One run per enrolment method (open, request, nomination), with seats and a quota, two
    nominations and two requests waiting for a decision, and one approved person on the waiting list."""
    admin = find_user_by_email("admin@academy.test")
    focal = find_user_by_email("focal.ua@academy.test")
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    needed = ("ibm-foundations", "document-fraud-first-line", "vulnerable-persons-referral")
    if admin is None or focal is None or any(slug not in courses for slug in needed):
        return
    if db.session.scalar(select(CourseRun.id).where(CourseRun.is_default.is_(False)).limit(1)) is not None:
        return  # demo runs exist already
    today = utcnow().date()

    def run(
        slug: str, title: str, method: str, modality: str, seats: int, quota: int | None, countries: set[str]
    ) -> CourseRun:
        data = enrolment_runs.RunData(
            course_id=courses[slug].id, title=title, modality=modality, language="en",
            starts_on=today + timedelta(days=21), ends_on=today + timedelta(days=49),
            enrolment_opens_on=today - timedelta(days=3), enrolment_closes_on=today + timedelta(days=14),
            seats_total=seats, enrolment_method=method, open_to_all=not countries,
            countries=frozenset(countries), quota_codes={"ua-sbgs": quota} if quota is not None else {},
        )  # fmt: skip
        return enrolment_runs.save_run(admin, None, data)

    open_run = run("vulnerable-persons-referral", "Vulnerable persons referral — online cohort, spring",
                   EnrolmentMethod.OPEN, Modality.ONLINE_SCHEDULED, 20, 5, set())  # fmt: skip
    request_run = run("ibm-foundations", "IBM foundations — blended, Chișinău", EnrolmentMethod.REQUEST,
                      Modality.BLENDED, 12, None, {"MD", "GE", "JO", "UA", "KZ"})  # fmt: skip
    nomination_run = run("document-fraud-first-line", "Detecting document fraud — Kyiv, in person",
                         EnrolmentMethod.NOMINATION, Modality.IN_PERSON, 3, 1, set())  # fmt: skip
    aigerim, giorgi, leila, olena, andriy = (find_user_by_email(email) for email in (
        "aigerim.nurlanova@academy.test", "giorgi.beridze@academy.test", "leila.haddad@academy.test",
        "trainee@academy.test", "andriy.shevchenko@academy.test",
    ))  # fmt: skip
    if aigerim is None or giorgi is None or leila is None or olena is None or andriy is None:
        return
    enrolment_self_service.self_enrol(aigerim, open_run)
    enrolment_self_service.request_place(giorgi, request_run, "I brief new border police officers on IBM.")
    enrolment_self_service.request_place(leila, request_run, "Our directorate is drafting its IBM strategy.")
    first = enrolment_nominations.nominate(
        focal, nomination_run, olena, "Leads the first-line team, Boryspil."
    )
    second = enrolment_nominations.nominate(focal, nomination_run, andriy, "Checks documents at Chop.")
    enrolment_nominations.approve(first, admin, "Fits the profile.")
    enrolment_nominations.approve(second, admin, "The authority's quota is used: waiting list.")
    newcomer = enrolment_nominations.add_staff_member(
        focal,
        enrolment_nominations.NewPerson(
            email="oksana.melnyk@academy.test", given_name="Oksana", family_name="Melnyk",
            authority_id=focal.focal_point_authority_ids().pop(), native_name="Оксана Мельник",
            position="Junior inspector", sex="female", birth_year_band="1990-1999",
        ),
    )  # fmt: skip
    enrolment_nominations.nominate(focal, nomination_run, newcomer, "Newly posted to the document unit.")


def _demo_trainer_courses() -> None:
    """Tomasz, the demo trainer, is assigned to the document-fraud and IBM courses (idempotent)."""
    admin = find_user_by_email("admin@academy.test")
    trainer = find_user_by_email("trainer@academy.test")
    if admin is None or trainer is None:
        return
    for slug in ("document-fraud-first-line", "ibm-foundations"):
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        if course is None:
            continue
        assigned = db.session.scalar(
            select(CourseTrainer.id).where(
                CourseTrainer.course_id == course.id, CourseTrainer.user_id == trainer.id
            )
        )
        if assigned is None:
            assign_trainer(admin, course, trainer)

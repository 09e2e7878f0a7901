"""Demo people and progress so that a newcomer sees a living academy after `make run`.

Development only: the passwords are documented in README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.auth.models import Role, UserRole
from lms.auth.services import Registration, find_user_by_email, register_user
from lms.courses.models import Course
from lms.enrolment import services as enrolment_services
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


def load_demo_data() -> list[str]:
    """Idempotent: people who already exist are left as they are."""
    created: list[str] = []
    for person in DEMO_PEOPLE:
        if find_user_by_email(person.email) is not None:
            continue
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
        created.append(person.email)
    db.session.flush()
    _demo_progress()
    return created


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
        if enrolment_services.active_enrolment(user.id, course.id) is not None:
            continue
        run = enrolment_services.ensure_default_run(course)
        enrolment = enrolment_services.self_enrol(user, run, language=language)
        lessons = [
            lesson for module in course.modules if module.is_published
            for lesson in module.lessons if lesson.is_published
        ]  # fmt: skip
        for lesson in lessons[:lessons_done]:
            enrolment_services.complete_lesson(enrolment, lesson)

"""A CSV import's reading of what its decisions depend on (lms.enrolment.bulk_import): the people of the
file matched by address in chunks, the run's rules and seats, the actor's roles, the people's places.
Read once to plan, and again under the write lock to see that nothing changed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from lms.auth.models import Role, User, UserRole
from lms.enrolment.csv_import import ImportRow
from lms.enrolment.models import (
    PENDING_STATUSES,
    SEAT_STATUSES,
    CourseRun,
    Enrolment,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.enrolment.rules import Eligibility, SeatCounts
from lms.extensions import db
from lms.orgs.models import Authority, Country

MATCH_CHUNK = 500  # values per IN list: well under SQLite's and PostgreSQL's parameter limits


LIVE_STATUSES = (*PENDING_STATUSES, *SEAT_STATUSES)


PERSON_FIELDS = (
    "given_name",
    "family_name",
    "patronymic",
    "native_name",
    "position",
    "sex",
    "birth_year_band",
)


class ImportMode(StrEnum):
    NOMINATE = "nominate"  # focal points and admins: nominations wait for an admin's decision
    ENROL = "enrol"  # admins only: straight into a seat, refused when none is free


@dataclass(frozen=True)
class RunState:
    course_id: int
    course_published: bool
    course_languages: tuple[str, ...]
    default_language: str
    method: str
    opens_on: date | None
    closes_on: date | None
    ends_on: date | None
    eligibility: Eligibility
    seats: SeatCounts | None  # read in enrol mode only (nominations take no seat)


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    authority_id: int | None
    country_code: str | None
    given_name: str
    family_name: str
    patronymic: str | None
    native_name: str | None
    position: str | None
    sex: str | None
    birth_year_band: str | None
    preferred_language: str | None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.patronymic, self.family_name) if part)


@dataclass(frozen=True)
class Snapshot:
    """Everything the decisions were made from; read again under the write lock and compared."""

    run: RunState
    actor_authority_ids: frozenset[int]
    actor_is_admin: bool
    authorities: tuple[tuple[str, int, str, bool], ...]  # (code, id, country, retired) in the file
    countries: frozenset[str]  # known codes among those in the file
    people: tuple[Person, ...]  # the matched people, by id
    places: frozenset[tuple[int, int, str]]  # (person id, run id, status): their live places in the course


def in_chunks(values: Iterable[Any], size: int = MATCH_CHUNK) -> Iterator[list[Any]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


_PERSON_COLUMNS = (
    User.id, User.email, User.authority_id, User.country_code, User.given_name, User.family_name,
    User.patronymic, User.native_name, User.position, User.sex, User.birth_year_band,
    User.preferred_language,
)  # fmt: skip


def people_by_email(emails: Iterable[str]) -> dict[str, Person]:
    """Existing accounts, matched case-insensitively as find_user_by_email does."""
    found: dict[str, Person] = {}
    for chunk in in_chunks(emails):
        for values in db.session.execute(select(*_PERSON_COLUMNS).where(func.lower(User.email).in_(chunk))):
            person = Person(*values)
            found[person.email.lower()] = person
    return found


def _people_by_id(ids: Iterable[int]) -> tuple[Person, ...]:
    people: list[Person] = []
    for chunk in in_chunks(ids):
        people.extend(
            Person(*values)
            for values in db.session.execute(select(*_PERSON_COLUMNS).where(User.id.in_(chunk)))
        )
    return tuple(sorted(people, key=lambda person: person.id))


def _places(course_id: int, person_ids: Iterable[int]) -> frozenset[tuple[int, int, str]]:
    places: set[tuple[int, int, str]] = set()
    for chunk in in_chunks(person_ids):
        rows = db.session.execute(
            select(Enrolment.user_id, Enrolment.run_id, Enrolment.status)
            .join(CourseRun, Enrolment.run_id == CourseRun.id)
            .where(
                CourseRun.course_id == course_id,
                Enrolment.user_id.in_(chunk),
                Enrolment.status.in_(LIVE_STATUSES),
            )
        )
        places.update((user_id, run_id, str(status)) for user_id, run_id, status in rows)
    return frozenset(places)


def _run_state(run: CourseRun, mode: ImportMode) -> RunState:
    countries = db.session.scalars(
        select(RunEligibleCountry.country_code).where(RunEligibleCountry.run_id == run.id)
    ).all()
    authorities = db.session.scalars(
        select(RunEligibleAuthority.authority_id).where(RunEligibleAuthority.run_id == run.id)
    ).all()
    seats = None
    if mode == ImportMode.ENROL:
        used: dict[int | None, int] = dict(
            db.session.execute(
                select(Enrolment.authority_id, func.count(Enrolment.id))
                .where(Enrolment.run_id == run.id, Enrolment.status.in_(SEAT_STATUSES))
                .group_by(Enrolment.authority_id)
            )
            .tuples()
            .all()
        )
        quotas: dict[int, int] = dict(
            db.session.execute(
                select(RunAuthorityQuota.authority_id, RunAuthorityQuota.seats).where(
                    RunAuthorityQuota.run_id == run.id
                )
            )
            .tuples()
            .all()
        )
        seats = SeatCounts(
            seats_total=run.seats_total,
            used_total=sum(used.values()),
            quotas=quotas,
            used_by_authority={k: v for k, v in used.items() if k is not None},
        )
    course = run.course
    return RunState(
        course_id=run.course_id,
        course_published=course.is_published,
        course_languages=tuple(course.languages),
        default_language=run.language,
        method=run.enrolment_method,
        opens_on=run.enrolment_opens_on,
        closes_on=run.enrolment_closes_on,
        ends_on=run.ends_on,
        eligibility=Eligibility(run.open_to_all, frozenset(countries), frozenset(authorities)),
        seats=seats,
    )


def _actor_roles(actor_id: int) -> tuple[frozenset[int], bool]:
    roles = db.session.execute(
        select(UserRole.role, UserRole.authority_id).where(UserRole.user_id == actor_id)
    ).all()
    focal = frozenset(authority for role, authority in roles if role == Role.FOCAL_POINT and authority)
    return focal, any(role == Role.ADMIN for role, _authority in roles)


def read_snapshot(
    run: CourseRun, mode: ImportMode, actor_id: int, rows: Sequence[ImportRow], person_ids: Iterable[int]
) -> Snapshot:
    run_state = _run_state(run, mode)
    codes = {row.authority for row in rows if row.authority}
    authorities: list[tuple[str, int, str, bool]] = []
    for chunk in in_chunks(codes):
        authorities.extend(
            (code, authority_id, country, retired is not None)
            for code, authority_id, country, retired in db.session.execute(
                select(Authority.code, Authority.id, Authority.country_code, Authority.retired_at).where(
                    Authority.code.in_(chunk)
                )
            )
        )
    country_codes = {row.country for row in rows if row.country}
    countries: set[str] = set()
    for chunk in in_chunks(country_codes):
        countries.update(db.session.scalars(select(Country.code).where(Country.code.in_(chunk))))
    focal, admin = _actor_roles(actor_id)
    ids = list(person_ids)
    return Snapshot(
        run=run_state,
        actor_authority_ids=focal,
        actor_is_admin=admin,
        authorities=tuple(sorted(authorities)),
        countries=frozenset(countries),
        people=_people_by_id(ids),
        places=_places(run_state.course_id, ids),
    )

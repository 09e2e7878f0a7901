"""Importing trainees from a CSV file without holding the academy's write lock while the file is checked.

The import used to run each row through the single-person services in a savepoint (a dozen queries and
a flush per row) inside the request's writing transaction: a 4,000-row file held SQLite's only write
lock for 46 s, and every trainee's write failed with "database is locked" meanwhile (issue 18). Now:

1. ``plan_import`` only reads (on SQLite a deferred transaction, which never blocks a writer). The
   people of the file are matched in a few set-based queries (addresses in chunks), the authorities,
   countries, the run's rules and seats and the people's places in the course in one query each; then
   every row is decided in Python, in file order, by the same rules as a single nomination or direct
   enrolment (lms.enrolment.rules: authority, eligibility, window, duplicates, seats), and the
   messages are written. A dry run ends here, having written nothing and locked nothing.
2. ``prepare_write``, still outside the lock, makes every row of every table and converts it for the
   driver (lms.db.PreparedInsert), with ids chosen ahead, and hashes the audit records but for their
   link to the chain (lms.audit.services.PreparedEvents): most of the work.
3. ``write_plan`` runs in one writing transaction of bulk statements: people, roles, changed people,
   places, their events, mail, audit records, indicator facts. It first reads again, under the lock,
   what the decisions depended on (``Snapshot``: the run, its rules and seats, the actor's roles, the
   matched people and their places; that no planned new address exists and no chosen id was taken);
   when something changed meanwhile, the plan is made again (``import_trainees``).

All or nothing holds as before: a problem in any row and nothing is written. Files larger than
``ENROLMENT_IMPORT_JOB_ROWS`` rows run as a background job (``run_queued_import``, the Huey task in
lms.jobs.tasks) whose progress the person who started it follows on a page; files over
``ENROLMENT_IMPORT_MAX_BYTES`` or ``ENROLMENT_IMPORT_MAX_ROWS`` are refused whole.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Table, bindparam, func, select, update

from lms.audit.services import AuditEvent, PreparedEvents
from lms.auth.models import Role, User, UserRole
from lms.auth.search_name import person_search_name
from lms.db import PreparedInsert, reading_transactions, utcnow, writing_transactions
from lms.enrolment import admission, signals
from lms.enrolment.csv_import import ImportRow, ParsedFile, RowProblem, count_rows, parse_csv, size_problem
from lms.enrolment.mail import MailKind, enrolment_mails
from lms.enrolment.models import (
    PENDING_STATUSES,
    SEAT_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentEvent,
    EnrolmentImport,
    EnrolmentMethod,
    EnrolmentStatus,
    ImportStatus,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.enrolment.rules import Eligibility, Refusal, SeatCounts, is_eligible, window_refusal
from lms.errors import Conflict, Forbidden, LmsError, NotFound
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.notifications.services import MailToQueue
from lms.orgs.models import Authority, Country

log = logging.getLogger(__name__)

MATCH_CHUNK = 500  # values per IN list: well under SQLite's and PostgreSQL's parameter limits
PLAN_ATTEMPTS = 3  # plans made again when the data changed between the check and the write
WRITE_CACHE_KIB = 128 * 1024  # SQLite's page cache while the import writes (see _roomy_page_cache)
ID_MARGIN = 1000  # SQLite: new people and places take ids this far above the highest (see _new_ids)
PROBLEMS_KEPT = 500  # problems a background import keeps to show (all are counted)
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
class ImportOutcome:
    row: int
    email: str
    name: str
    account: str  # "new", "updated" or "unchanged"
    status: str  # the enrolment state the row leads to


@dataclass
class ImportReport:
    outcomes: list[ImportOutcome] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    written: bool = False
    mail_ids: list[int] = field(default_factory=list)  # queued by the write, sent after its commit

    def summary(self) -> dict[str, Any]:
        return {
            "rows": len(self.outcomes),
            "accounts": dict(Counter(outcome.account for outcome in self.outcomes)),
            "statuses": dict(Counter(outcome.status for outcome in self.outcomes)),
        }


# --- Size ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeLimits:
    max_bytes: int
    max_rows: int
    job_rows: int  # more rows than this: a background job

    @classmethod
    def from_config(cls) -> SizeLimits:
        config = current_app.config
        return cls(
            max_bytes=int(config["ENROLMENT_IMPORT_MAX_BYTES"]),
            max_rows=int(config["ENROLMENT_IMPORT_MAX_ROWS"]),
            job_rows=int(config["ENROLMENT_IMPORT_JOB_ROWS"]),
        )


def check_size(data: bytes, limits: SizeLimits) -> tuple[int, RowProblem | None]:
    """The file's rows, and the problem when it is over the bounds (then nothing is imported)."""
    rows = count_rows(data) if len(data) <= limits.max_bytes else 0
    return rows, size_problem(data, rows, limits.max_bytes, limits.max_rows)


# --- Reading: what the decisions depend on ----------------------------------------------------------


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


def _chunks(values: Iterable[Any], size: int = MATCH_CHUNK) -> Iterator[list[Any]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


_PERSON_COLUMNS = (
    User.id, User.email, User.authority_id, User.country_code, User.given_name, User.family_name,
    User.patronymic, User.native_name, User.position, User.sex, User.birth_year_band,
    User.preferred_language,
)  # fmt: skip


def _people_by_email(emails: Iterable[str]) -> dict[str, Person]:
    """Existing accounts, matched case-insensitively as find_user_by_email does."""
    found: dict[str, Person] = {}
    for chunk in _chunks(emails):
        for values in db.session.execute(select(*_PERSON_COLUMNS).where(func.lower(User.email).in_(chunk))):
            person = Person(*values)
            found[person.email.lower()] = person
    return found


def _people_by_id(ids: Iterable[int]) -> tuple[Person, ...]:
    people: list[Person] = []
    for chunk in _chunks(ids):
        people.extend(
            Person(*values)
            for values in db.session.execute(select(*_PERSON_COLUMNS).where(User.id.in_(chunk)))
        )
    return tuple(sorted(people, key=lambda person: person.id))


def _places(course_id: int, person_ids: Iterable[int]) -> frozenset[tuple[int, int, str]]:
    places: set[tuple[int, int, str]] = set()
    for chunk in _chunks(person_ids):
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


def _snapshot(
    run: CourseRun, mode: ImportMode, actor_id: int, rows: Sequence[ImportRow], person_ids: Iterable[int]
) -> Snapshot:
    run_state = _run_state(run, mode)
    codes = {row.authority for row in rows if row.authority}
    authorities: list[tuple[str, int, str, bool]] = []
    for chunk in _chunks(codes):
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
    for chunk in _chunks(country_codes):
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


# --- Deciding: pure, over what was read ---------------------------------------------------------------


@dataclass(frozen=True)
class NewPersonPlan:
    email: str
    values: dict[str, Any]  # the user row, without its id


@dataclass(frozen=True)
class PersonChange:
    person_id: int
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class PlacePlan:
    email: str  # the person, found by address once the new people are written
    person_id: int | None  # None: a new person
    status: str
    authority_id: int | None
    language: str


@dataclass(frozen=True)
class Who:
    """The person a row is about, as they will be once the row is written (a mail Recipient)."""

    email: str
    full_name: str
    preferred_language: str | None
    country_code: str | None
    authority_id: int | None
    account: str  # "new", "updated", "unchanged"
    person_id: int | None = None
    new: NewPersonPlan | None = None
    change: PersonChange | None = None


@dataclass
class ImportPlan:
    run_id: int
    actor_id: int
    mode: ImportMode
    justification: str
    rows: list[ImportRow]
    snapshot: Snapshot
    report: ImportReport
    new_people: list[NewPersonPlan] = field(default_factory=list)
    changes: list[PersonChange] = field(default_factory=list)
    places: list[PlacePlan] = field(default_factory=list)
    mails: list[MailToQueue] = field(default_factory=list)


def _run_problems(state: RunState, mode: ImportMode, justification: str, is_admin: bool) -> list[str]:
    """What refuses every row at once: reported once, for the file."""
    problems = []
    if not state.course_published:
        problems.append(_("This course is not available."))
    if mode == ImportMode.NOMINATE:
        if state.method not in (EnrolmentMethod.NOMINATION, EnrolmentMethod.REQUEST):
            problems.append(_("This course run does not take nominations."))
        if not justification.strip():
            problems.append(_("Give a justification for the nomination."))
        if not is_admin:  # admins may still nominate after the window closed
            refusal = window_refusal(admission.today_utc(), state.opens_on, state.closes_on, state.ends_on)
            if refusal is not None:
                problems.append(admission.refusal_error(refusal).message)
    return problems


def _acts_for(snapshot: Snapshot, authority_id: int | None) -> bool:
    """nominations.check_acts_for over what was read."""
    if snapshot.actor_is_admin:
        return True
    return authority_id is not None and authority_id in snapshot.actor_authority_ids


def _joined_name(values: dict[str, Any]) -> str:
    parts = (values["given_name"], values["patronymic"], values["family_name"])
    return " ".join(part for part in parts if part)


AuthorityFound = tuple[int, str, bool]  # id, country, retired


def _new_person(row: ImportRow, authority: AuthorityFound | None, snapshot: Snapshot) -> Who | str:
    """nominations.add_staff_member's checks: the person to create, or the problem."""
    missing = row.missing_for_new_person()
    if missing or authority is None:
        return _("New person: these columns are required: %(names)s.", names=", ".join(missing))
    authority_id, country_code, retired = authority
    if not _acts_for(snapshot, authority_id):
        return _("You can only act for the staff of your own authority.")
    if retired:
        return _("Choose an active authority.")
    email, language = row.email.strip().lower(), row.language or None
    values: dict[str, Any] = {
        "email": email,
        "given_name": (row.given_name or "").strip(),
        "family_name": (row.family_name or "").strip(),
        "patronymic": (row.patronymic or "").strip() or None,
        "native_name": (row.native_name or "").strip() or None,
        "position": (row.position or "").strip() or None,
        "sex": row.sex or None,
        "birth_year_band": row.birth_year_band or None,
        "preferred_language": language,
        "country_code": country_code,
        "authority_id": authority_id,
    }
    return Who(
        email=email,
        full_name=_joined_name(values),
        preferred_language=language,
        country_code=country_code,
        authority_id=authority_id,
        account="new",
        new=NewPersonPlan(email, values),
    )


def _existing_person(
    row: ImportRow, person: Person, authority: AuthorityFound | None, snapshot: Snapshot
) -> Who | str:
    """A matched account: the file's non-empty values replace the account's, as a single import did."""
    if not _acts_for(snapshot, person.authority_id) or (
        authority is not None and not _acts_for(snapshot, authority[0])
    ):
        return _("You can only act for the staff of your own authority.")
    after: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        value = getattr(row, name)
        if value and getattr(person, name) != value:
            after[name] = value
    if row.language and person.preferred_language != row.language:
        after["preferred_language"] = row.language
    if authority is not None and person.authority_id != authority[0]:
        after["authority_id"] = authority[0]
        after["country_code"] = authority[1]
    now = {name: getattr(person, name) for name in (*PERSON_FIELDS, "preferred_language")} | after
    before = {name: getattr(person, name) for name in after}
    return Who(
        email=person.email,
        full_name=_joined_name(now),
        preferred_language=now["preferred_language"],
        country_code=after.get("country_code", person.country_code),
        authority_id=after.get("authority_id", person.authority_id),
        account="updated" if after else "unchanged",
        person_id=person.id,
        change=PersonChange(person.id, before, after) if after else None,
    )


def _place_problem(plan: ImportPlan, who: Who, places: Sequence[tuple[int, str]]) -> str | None:
    """nominations.nominate / enrol_directly before the seats: authority, duplicates, eligibility."""
    if not _acts_for(plan.snapshot, who.authority_id):
        return _("You can only act for the staff of your own authority.")
    if any(place_run == plan.run_id for place_run, _status in places):
        return _("%(name)s already has a place or a request in this course run.", name=who.full_name)
    if any(status == EnrolmentStatus.ENROLLED for _run, status in places):  # in another run of the course
        return _("%(name)s is already enrolled in this course.", name=who.full_name)
    if not is_eligible(plan.snapshot.run.eligibility, who.country_code, who.authority_id):
        return admission.refusal_error(Refusal.NOT_ELIGIBLE).message
    return None


def _row_problem(
    row: ImportRow, authorities: dict[str, AuthorityFound], countries: frozenset[str]
) -> str | None:
    """The reference data the row names: an authority and a country that exist and agree."""
    authority = authorities.get(row.authority) if row.authority else None
    if row.authority and authority is None:
        return _("Unknown authority code “%(code)s”.", code=row.authority)
    if row.country and row.country not in countries:
        return _("Unknown country code “%(code)s”.", code=row.country)
    if row.country and authority is not None and authority[1] != row.country:
        return _(
            "Authority “%(code)s” does not belong to country %(country)s.",
            code=row.authority,
            country=row.country,
        )
    return None


def decide(plan: ImportPlan, existing: dict[str, Person]) -> list[Who]:
    """Every row in file order, by the checks of a single nomination or direct enrolment with their
    messages; a seat an earlier row takes is gone for the later ones. Returns the people placed."""
    snapshot, state = plan.snapshot, plan.snapshot.run
    authorities = {code: (found, country, retired) for code, found, country, retired in snapshot.authorities}
    held: dict[int, list[tuple[int, str]]] = {}
    for person_id, place_run, status in snapshot.places:
        held.setdefault(person_id, []).append((place_run, status))
    seats = state.seats  # enrol mode only
    placed: list[Who] = []
    for row in plan.rows:
        problem = _row_problem(row, authorities, snapshot.countries)
        if problem is not None:
            plan.report.problems.append(RowProblem(row.row, problem))
            continue
        authority = authorities.get(row.authority) if row.authority else None
        person = existing.get(row.email.lower())
        who = (
            _new_person(row, authority, snapshot)
            if person is None
            else _existing_person(row, person, authority, snapshot)
        )
        if isinstance(who, str):
            plan.report.problems.append(RowProblem(row.row, who))
            continue
        problem = _place_problem(plan, who, held.get(who.person_id, []) if who.person_id else [])
        if problem is None and seats is not None:
            refusal = seats.refusal_for(who.authority_id)
            problem = admission.refusal_error(refusal).message if refusal is not None else None
        if problem is not None:
            plan.report.problems.append(RowProblem(row.row, problem))
            continue
        if seats is not None:
            seats = seats.take(who.authority_id)
        status = EnrolmentStatus.ENROLLED if plan.mode == ImportMode.ENROL else EnrolmentStatus.NOMINATED
        if who.new is not None:
            plan.new_people.append(who.new)
        if who.change is not None:
            plan.changes.append(who.change)
        language = who.preferred_language
        plan.places.append(
            PlacePlan(
                email=who.email,
                person_id=who.person_id,
                status=status,
                authority_id=who.authority_id,
                language=language if language in state.course_languages else state.default_language,
            )
        )
        plan.report.outcomes.append(ImportOutcome(row.row, who.email, who.full_name, who.account, status))
        placed.append(who)
    plan.report.problems.sort(key=lambda problem: problem.row)
    return placed


def plan_import(
    actor: User,
    run: CourseRun,
    parsed: ParsedFile,
    mode: ImportMode,
    justification: str,
    *,
    with_mail: bool = True,
) -> ImportPlan:
    """Read and decide; writes nothing and takes no lock (the caller's transaction only reads)."""
    if mode == ImportMode.ENROL and not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can enrol people directly."))
    existing = _people_by_email(row.email.lower() for row in parsed.rows)
    snapshot = _snapshot(run, mode, actor.id, parsed.rows, [person.id for person in existing.values()])
    plan = ImportPlan(
        run_id=run.id,
        actor_id=actor.id,
        mode=mode,
        justification=justification,
        rows=parsed.rows,
        snapshot=snapshot,
        report=ImportReport(problems=list(parsed.problems)),
    )
    whole_file = _run_problems(snapshot.run, mode, justification, snapshot.actor_is_admin)
    if whole_file:
        plan.report.problems[:0] = [RowProblem(0, message) for message in whole_file]
        return plan
    placed = decide(plan, existing)
    if with_mail and not plan.report.problems:
        kind = MailKind.APPROVED if mode == ImportMode.ENROL else MailKind.NOMINATION_RECEIVED
        plan.mails = enrolment_mails(kind, placed, run, actor=actor)
    return plan


# --- Writing: prepared before the lock, sent in one short transaction ----------------------------------


class PlanOutdated(Exception):
    """What the plan was made from changed before the write lock was taken: plan again."""


class IdsTaken(Exception):
    """SQLite: someone wrote a person or a place since the ids were chosen: prepare again."""


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def _new_ids(model: type[Any], count: int, margin: int = 0) -> list[int]:
    """Ids for rows about to be written. PostgreSQL: taken from the table's sequence, so they are ours
    whatever happens next. SQLite: free ones above the highest, ``margin`` higher still, so that the
    people enrolling or registering while a file is checked (they take the next ids) do not take them;
    they are sure only once the write lock is held (``write_plan`` checks them)."""
    if not count:
        return []
    table = _table(model)
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(f'"{table.name}"', "id")
        return sorted(
            db.session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count)))
        )
    highest = db.session.scalar(select(func.max(table.c.id))) or 0
    return list(range(highest + 1 + margin, highest + 1 + margin + count))


@dataclass
class PreparedWrite:
    """Every row of the write, made and converted for the driver before the lock is taken (most of
    the work: converting some 200,000 values, hashing the audit payloads), with the ids they will
    have. Under the lock only the statements are sent and the audit records chained."""

    person_ids: list[int]
    place_ids: list[int]
    inserts: list[PreparedInsert]  # people, their roles, places, the places' events: in this order
    mails: PreparedInsert  # its ids are given when it runs
    audit: PreparedEvents


def prepare_write(plan: ImportPlan) -> PreparedWrite:
    now = utcnow()
    person_ids = _new_ids(User, len(plan.new_people), ID_MARGIN)
    place_ids = _new_ids(Enrolment, len(plan.places), ID_MARGIN)
    new_ids = {person.email: person_id for person, person_id in zip(plan.new_people, person_ids, strict=True)}
    people = [
        {
            "id": person_id,
            **person.values,
            # Not an argon2 hash: nobody signs in before setting a password (nominations.add_staff_member).
            "password_hash": f"!unset:{secrets.token_hex(16)}",
            "search_name": person_search_name(
                person.values["given_name"],
                person.values["patronymic"],
                person.values["family_name"],
                person.values["native_name"],
                person.values["email"],
            ),
            "created_at": now,
        }
        for person, person_id in zip(plan.new_people, person_ids, strict=True)
    ]
    roles = [
        {"user_id": person_id, "role": Role.TRAINEE, "authority_id": None, "granted_at": now}
        for person_id in person_ids
    ]
    nominated = plan.mode == ImportMode.NOMINATE
    action = "nominated" if nominated else "enrolled"
    places = [
        {
            "id": place_id,
            "run_id": plan.run_id,
            "user_id": place.person_id if place.person_id is not None else new_ids[place.email],
            "status": place.status,
            "authority_id": place.authority_id,
            "language": place.language,
            "justification": plan.justification.strip() or None,
            "nominated_by_id": plan.actor_id if nominated else None,
            "created_at": now,
            "enrolled_at": now,
            "last_activity_at": now if place.status == EnrolmentStatus.ENROLLED else None,
            "completed_at": None,
            "waiting_position": None,
        }
        for place, place_id in zip(plan.places, place_ids, strict=True)
    ]
    events = [
        {"enrolment_id": place["id"], "action": action, "from_status": None, "to_status": place["status"],
         "actor_id": plan.actor_id, "reason": plan.justification, "at": now}
        for place in places
    ]  # fmt: skip
    audit = [
        AuditEvent(
            "user.created_by_focal_point", "user", person["id"], actor_id=plan.actor_id,
            after={"email": person["email"], "authority_id": person["authority_id"]},
        )
        for person in people
    ]  # fmt: skip
    audit += [
        AuditEvent(
            "user.updated_by_import", "user", change.person_id, actor_id=plan.actor_id,
            before=change.before, after=change.after,
        )
        for change in plan.changes
    ]  # fmt: skip
    audit += [
        AuditEvent(
            f"enrolment.{action}", "enrolment", place["id"], actor_id=plan.actor_id,
            after={"status": place["status"], "run_id": plan.run_id, "user_id": place["user_id"]},
            reason=plan.justification,
        )
        for place in places
    ]  # fmt: skip
    mails = [
        {"recipient": mail.recipient, "subject": mail.subject, "body": mail.body, "kind": mail.kind,
         "language": mail.language, "created_at": now, "next_attempt_at": now}
        for mail in plan.mails
    ]  # fmt: skip
    return PreparedWrite(
        person_ids=person_ids,
        place_ids=place_ids,
        inserts=[
            PreparedInsert(_table(User), people),
            PreparedInsert(_table(UserRole), roles),
            PreparedInsert(_table(Enrolment), places),
            PreparedInsert(_table(EnrolmentEvent), events),
        ],
        mails=PreparedInsert(_table(OutgoingMail), mails, late=("id",)),
        audit=PreparedEvents(audit),
    )


def write_plan(plan: ImportPlan, prepared: PreparedWrite) -> None:
    """Send the prepared rows in the caller's writing transaction (the queued mail's ids go to
    ``plan.report.mail_ids``). Raises PlanOutdated, or IdsTaken, having written nothing, when what the
    plan read or the ids chosen are no longer good."""
    run = admission.lock_run(plan.run_id)  # PostgreSQL: the run's row (SQLite: BEGIN IMMEDIATE holds)
    people = [person.id for person in plan.snapshot.people]
    if _snapshot(run, plan.mode, plan.actor_id, plan.rows, people) != plan.snapshot:
        raise PlanOutdated
    for chunk in _chunks(person.email for person in plan.new_people):
        if db.session.scalar(select(User.id).where(User.email.in_(chunk)).limit(1)) is not None:
            raise PlanOutdated
    if db.session.get_bind().dialect.name != "postgresql":
        for model, ids in ((User, prepared.person_ids), (Enrolment, prepared.place_ids)):
            if ids and (db.session.scalar(select(func.max(_table(model).c.id))) or 0) >= ids[0]:
                raise IdsTaken
    with _roomy_page_cache():
        for statement in prepared.inserts:
            statement.execute()
        _write_changes(plan.changes, {person.id: person for person in plan.snapshot.people})
        mail_ids = _new_ids(OutgoingMail, prepared.mails.count)  # SQLite: the lock is held: ours
        prepared.mails.execute([(mail_id,) for mail_id in mail_ids])
        prepared.audit.record()
    plan.report.mail_ids = mail_ids
    if has_request_context():  # the after-request hook hands them to the mail job
        g.setdefault("queued_mail_ids", []).extend(mail_ids)
    # The statements bypassed the ORM and its listeners: the indicator facts are refreshed here.
    signals.places_written_in_bulk.send(
        run, runs=[plan.run_id], users=[change.person_id for change in plan.changes]
    )


@contextmanager
def _roomy_page_cache() -> Iterator[None]:
    """SQLite keeps 2 MB of pages per connection; a 20,000-row write touches tens of MB of table and
    index pages, which it would spill and read back while holding the lock. The connection gets room
    for the write, and its usual size back before the commit (it goes back to the pool)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    usual = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(usual or -2000)}")


def _write_changes(changes: Sequence[PersonChange], people: dict[int, Person]) -> None:
    """Updates of matched people: one multi-row statement per set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        person = people[change.person_id]
        values = dict(change.after)
        if {"given_name", "family_name", "patronymic", "native_name"} & set(values):
            names = {name: values.get(name, getattr(person, name)) for name in PERSON_FIELDS}
            values["search_name"] = person_search_name(
                names["given_name"], names["patronymic"], names["family_name"], names["native_name"],
                person.email,
            )  # fmt: skip
        groups.setdefault(tuple(sorted(values)), []).append({"person_id": change.person_id, **values})
    table = _table(User)
    for columns, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("person_id"))
            .values({name: bindparam(name) for name in columns})
        )
        db.session.execute(statement, rows)


# --- The whole import ------------------------------------------------------------------------------


def import_trainees(
    actor: User,
    run: CourseRun,
    parsed: ParsedFile,
    mode: ImportMode,
    justification: str,
    *,
    dry_run: bool,
) -> ImportReport:
    """Plan and (not a dry run, no problem) write, all or nothing: the page and the CLI.

    Unlike other services this one ends transactions itself, so that the write lock is held for the
    write alone: it rolls back the transaction the caller has open (which must hold nothing unsaved)
    so that the reads run as a reader, and commits the write. A view calling it is marked
    ``@reads_before_writing`` (lms.db), so that the request does not start as a writer either.
    """
    return _import(actor.id, run.id, parsed, mode, justification, dry_run=dry_run)


def _import(
    actor_id: int,
    run_id: int,
    parsed: ParsedFile,
    mode: ImportMode,
    justification: str,
    *,
    dry_run: bool,
    before_write: Callable[[], None] | None = None,
    before_commit: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """``before_write`` runs when the plan is ready, ``before_commit`` inside the writing transaction
    (the job records its progress, and itself done together with the write)."""
    prepared: PreparedWrite | None = None
    for _attempt in range(PLAN_ATTEMPTS):
        db.session.rollback()
        with reading_transactions():
            actor = db.session.get(User, actor_id)
            run = db.session.get(CourseRun, run_id)
            if actor is None or run is None:
                raise NotFound(_("This course run does not exist."))
            plan = plan_import(actor, run, parsed, mode, justification, with_mail=not dry_run)
            if not dry_run and not plan.report.problems:
                prepared = prepare_write(plan)
            db.session.rollback()  # the reads end here; nothing was written
        if dry_run or plan.report.problems or prepared is None:
            return plan.report
        if before_write is not None:
            before_write()
        try:
            with writing_transactions():
                write_plan(plan, prepared)
                plan.report.written = True
                if before_commit is not None:
                    before_commit(plan.report)
                db.session.commit()
        except (PlanOutdated, IdsTaken):
            db.session.rollback()
            plan.report.written, plan.report.mail_ids = False, []
            log.info("import into run %s: the data changed while it was checked; checking again", run_id)
            continue
        return plan.report
    raise Conflict(
        _(
            "People or the course run kept changing while the file was being checked: nothing was "
            "imported. Try again."
        )
    )


# --- Large files: a background job with a progress page ---------------------------------------------


def queue_import(
    actor: User,
    run: CourseRun,
    data: bytes,
    file_name: str | None,
    mode: ImportMode,
    justification: str,
    *,
    dry_run: bool,
    language: str,
    rows: int,
) -> EnrolmentImport:
    """Keep a large file for the import job; the caller commits, then enqueues the job
    (lms.jobs.tasks.import_trainees) with the row's id."""
    if mode == ImportMode.ENROL and not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can enrol people directly."))
    job = EnrolmentImport(
        run_id=run.id,
        actor_id=actor.id,
        mode=mode,
        dry_run=dry_run,
        justification=justification,
        language=language,
        file_name=(file_name or "")[:255] or None,
        data=data,
        rows_total=rows,
    )
    db.session.add(job)
    db.session.flush()
    return job


def _record(import_id: int, **values: Any) -> None:
    """Progress, on a connection of its own in a short writing transaction: the job's reads go on."""
    table = _table(EnrolmentImport)
    with writing_transactions(), db.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == import_id).values(**values))


def run_queued_import(import_id: int) -> list[int]:
    """The job's work: parse, check and write as the page does, recording progress on the import's row.

    Idempotent: an import already finished is left alone, and one that a stopped worker left half-way
    starts again (nothing is written before the one writing transaction, which also marks it done).
    The file is dropped when the import ends. Returns the ids of the mail queued."""
    with reading_transactions():
        job = db.session.get(EnrolmentImport, import_id)
        if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):
            db.session.rollback()
            return []
        data, actor_id, run_id, language = job.data or b"", job.actor_id, job.run_id, job.language
        mode, justification, dry_run = ImportMode(job.mode), job.justification, job.dry_run
        db.session.rollback()
    _record(import_id, status=ImportStatus.CHECKING, rows_checked=0)

    def progress(done: int, total: int) -> None:
        _record(import_id, rows_checked=done, rows_total=total)

    def writing() -> None:
        _record(import_id, status=ImportStatus.WRITING)

    def finish(report: ImportReport) -> None:  # inside the writing transaction
        table = _table(EnrolmentImport)
        db.session.execute(update(table).where(table.c.id == import_id).values(_finished(report)))

    with force_locale(language):
        try:
            parsed = parse_csv(data, progress=progress)
            progress(len(parsed.rows), len(parsed.rows))
            report = _import(
                actor_id, run_id, parsed, mode, justification,
                dry_run=dry_run, before_write=writing, before_commit=finish,
            )  # fmt: skip
        except LmsError as error:
            db.session.rollback()
            report = ImportReport(problems=[RowProblem(0, error.message)])
        except Exception:
            db.session.rollback()
            stopped = _("The import stopped because of an error: nothing was imported. Try again.")
            failed = {"status": ImportStatus.FAILED, "data": None, "finished_at": utcnow()}
            _record(import_id, **failed, problems=[[0, stopped]], problem_count=1)
            raise
    if not report.written:  # a dry run, or problems: recorded on its own
        _record(import_id, **_finished(report))
    return report.mail_ids


def _finished(report: ImportReport) -> dict[str, Any]:
    """The import row once the job has ended: the counts and the first problems; the file dropped."""
    return {
        "status": ImportStatus.DONE,
        "summary": report.summary(),
        "problems": [[problem.row, problem.message] for problem in report.problems[:PROBLEMS_KEPT]],
        "problem_count": len(report.problems),
        "data": None,
        "finished_at": utcnow(),
    }

"""Planning a CSV import (lms.enrolment.bulk_import): the file's size checked, then every row decided in
Python, in file order, by the same rules as a single nomination or direct enrolment, over what
lms.enrolment.import_snapshot read. Only reads; a dry run ends here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from lms.auth.models import Role, User
from lms.enrolment import admission
from lms.enrolment.csv_import import ImportRow, ParsedFile, RowProblem, count_rows, size_problem
from lms.enrolment.import_snapshot import (
    PERSON_FIELDS,
    ImportMode,
    Person,
    RunState,
    Snapshot,
    people_by_email,
    read_snapshot,
)
from lms.enrolment.mail import MailKind, enrolment_mails
from lms.enrolment.models import (
    CourseRun,
    EnrolmentMethod,
    EnrolmentStatus,
)
from lms.enrolment.rules import Refusal, is_eligible, window_refusal
from lms.errors import Forbidden
from lms.notifications.services import MailToQueue


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
    existing = people_by_email(row.email.lower() for row in parsed.rows)
    snapshot = read_snapshot(run, mode, actor.id, parsed.rows, [person.id for person in existing.values()])
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

"""Course runs: the default run of a course, creating and editing runs with their quotas and eligibility,
the start reminder, and a run's people as rows for a spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select

from lms.audit.services import record_event
from lms.auth.models import User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.admission import lock_run, today_utc
from lms.enrolment.mail import MailKind, queue_enrolment_mail
from lms.enrolment.models import (
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
    Modality,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.enrolment.waiting_list import promote_waiting
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority


def default_run(course_id: int) -> CourseRun | None:
    return db.session.scalar(
        select(CourseRun).where(CourseRun.course_id == course_id, CourseRun.is_default.is_(True))
    )


def ensure_default_run(course: Course) -> CourseRun:
    """Every course loaded from files has one always-open, self-paced run."""
    run = default_run(course.id)
    if run is None:
        run = CourseRun(
            course_id=course.id,
            title=course.title,
            modality=Modality.SELF_PACED,
            language=course.language,
            enrolment_method=EnrolmentMethod.OPEN,
            is_default=True,
        )
        db.session.add(run)
        db.session.flush()
    return run


def set_run_rules(
    run: CourseRun,
    actor: User,
    *,
    quotas: dict[int, int],
    countries: set[str],
    authority_ids: set[int],
) -> None:
    """Replace a run's quotas and eligibility lists, then fill any seats the change freed."""
    run = lock_run(run.id)
    db.session.execute(delete(RunAuthorityQuota).where(RunAuthorityQuota.run_id == run.id))
    db.session.execute(delete(RunEligibleCountry).where(RunEligibleCountry.run_id == run.id))
    db.session.execute(delete(RunEligibleAuthority).where(RunEligibleAuthority.run_id == run.id))
    for authority_id, seats in sorted(quotas.items()):
        db.session.add(RunAuthorityQuota(run_id=run.id, authority_id=authority_id, seats=seats))
    for code in sorted(countries):
        db.session.add(RunEligibleCountry(run_id=run.id, country_code=code))
    for authority_id in sorted(authority_ids):
        db.session.add(RunEligibleAuthority(run_id=run.id, authority_id=authority_id))
    db.session.flush()
    record_event(
        "course_run.rules_set",
        "course_run",
        run.id,
        actor_id=actor.id,
        after={
            "open_to_all": run.open_to_all,
            "seats_total": run.seats_total,
            "quotas": {str(k): v for k, v in sorted(quotas.items())},
            "countries": sorted(countries),
            "authorities": sorted(authority_ids),
        },
    )
    promote_waiting(run, actor_id=actor.id)


def remind_run_start(days_ahead: int = 7, today: date | None = None) -> int:
    """Queue a "run starting" message for everyone enrolled in runs starting within the next days.

    Each run is reminded once (start_reminder_sent_at); the CLI sends the queue after its commit.
    """
    today = today or today_utc()
    runs = db.session.scalars(
        select(CourseRun).where(
            CourseRun.starts_on.is_not(None),
            CourseRun.starts_on >= today,
            CourseRun.starts_on <= today + timedelta(days=days_ahead),
            CourseRun.start_reminder_sent_at.is_(None),
        )
    ).all()
    queued = 0
    for run in runs:
        enrolments = db.session.scalars(
            select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        ).all()
        for enrolment in enrolments:
            queue_enrolment_mail(MailKind.RUN_STARTING, enrolment.user, run)
            queued += 1
        run.start_reminder_sent_at = utcnow()
    db.session.flush()
    return queued


def export_rows(run: CourseRun, authority_ids: set[int] | None = None) -> list[list[str | None]]:
    """The run's people in the import columns (plus state), for a spreadsheet and back."""
    query = (
        select(Enrolment, User, Authority)
        .join(User, Enrolment.user_id == User.id)
        .outerjoin(Authority, Enrolment.authority_id == Authority.id)
        .where(Enrolment.run_id == run.id)
        .order_by(User.family_name, User.given_name)
    )
    if authority_ids is not None:
        query = query.where(Enrolment.authority_id.in_(authority_ids))
    return [
        [
            user.email,
            user.given_name,
            user.family_name,
            user.patronymic,
            user.native_name,
            user.country_code,
            authority.code if authority else None,
            user.position,
            user.sex,
            user.birth_year_band,
            user.preferred_language,
            enrolment.status,
        ]
        for enrolment, user, authority in db.session.execute(query)
    ]


@dataclass(frozen=True)
class RunData:
    course_id: int
    title: str
    modality: str
    language: str
    starts_on: date | None
    ends_on: date | None
    enrolment_opens_on: date | None
    enrolment_closes_on: date | None
    seats_total: int | None
    enrolment_method: str
    open_to_all: bool
    countries: frozenset[str] = frozenset()
    authority_ids: frozenset[int] = frozenset()
    quota_codes: dict[str, int] = field(default_factory=dict)
    # The completion rule for runs with sessions, and international events (lms.sessions).
    completion_requires_lessons: bool = True
    min_attendance_percent: int | None = None
    is_international: bool = False
    personal_data_retention_days: int = 30


def save_run(actor: User, run: CourseRun | None, data: RunData) -> CourseRun:
    """Create a run or change one; quotas come as authority codes and must all exist."""
    course = db.session.get(Course, data.course_id)
    if course is None:
        raise ValidationFailed(_("Choose a course."))
    if data.enrolment_method not in set(EnrolmentMethod):
        raise ValidationFailed(_("Choose an enrolment method."))
    quota_ids: dict[int, int] = {}
    if data.quota_codes:
        found: dict[str, int] = {
            code: authority_id
            for code, authority_id in db.session.execute(
                select(Authority.code, Authority.id).where(Authority.code.in_(list(data.quota_codes)))
            )
        }
        unknown = sorted(set(data.quota_codes) - set(found))
        if unknown:
            raise ValidationFailed(_("Unknown authority code(s): %(codes)s.", codes=", ".join(unknown)))
        quota_ids = {found[code]: seats for code, seats in data.quota_codes.items()}
    if data.min_attendance_percent is not None and not 0 <= data.min_attendance_percent <= 100:
        raise ValidationFailed(_("The minimum attendance is a percentage from 0 to 100."))
    if not 0 <= data.personal_data_retention_days <= 3650:
        raise ValidationFailed(_("Keep personal data from 0 to 3650 days after the run."))
    if not data.open_to_all and not data.countries and not data.authority_ids:
        raise ValidationFailed(_("List at least one eligible country or authority, or open the run to all."))
    created = run is None
    if run is None:
        run = CourseRun(course_id=course.id, title=data.title)
        db.session.add(run)
    elif run.course_id != course.id:
        has_people = db.session.scalar(select(Enrolment.id).where(Enrolment.run_id == run.id).limit(1))
        if has_people is not None:
            raise Conflict(_("People are already enrolled: the course of this run cannot change."))
    run.course_id = course.id
    run.title = data.title.strip()
    run.modality = data.modality
    run.language = data.language
    run.starts_on = data.starts_on
    run.ends_on = data.ends_on
    run.enrolment_opens_on = data.enrolment_opens_on
    run.enrolment_closes_on = data.enrolment_closes_on
    run.seats_total = data.seats_total
    run.enrolment_method = data.enrolment_method
    run.open_to_all = data.open_to_all
    run.completion_requires_lessons = data.completion_requires_lessons
    run.min_attendance_percent = data.min_attendance_percent
    run.is_international = data.is_international
    run.personal_data_retention_days = data.personal_data_retention_days
    db.session.flush()
    record_event(
        "course_run.created" if created else "course_run.updated",
        "course_run",
        run.id,
        actor_id=actor.id,
        after={
            "title": run.title,
            "course_id": run.course_id,
            "method": run.enrolment_method,
            "lessons_required": run.completion_requires_lessons,
            "min_attendance_percent": run.min_attendance_percent,
            "international": run.is_international,
        },
    )
    set_run_rules(
        run,
        actor,
        quotas=quota_ids,
        countries=set(data.countries) if not data.open_to_all else set(),
        authority_ids=set(data.authority_ids) if not data.open_to_all else set(),
    )
    return run

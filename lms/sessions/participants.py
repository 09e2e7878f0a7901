"""International events: what a participant of an ``is_international`` run gives for the visa invitation
letter (name as in the passport, passport number, nationality, date of birth) and their dietary and
accessibility needs (ParticipantDetails).

Who: the participant themself, the focal point of the authority the place counts for (their own staff
only), and admins. The needs are shown to admins only (a focal point may type them but never sees what is
recorded; the participant sees their own). Every edit is audited by field name only: the audit trail is
kept for ever and erasure (lms.sessions.erasure) cannot reach it, so no passport number, name, date or
need is written there, only that it changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment.models import SEAT_STATUSES, CourseRun, Enrolment, EnrolmentStatus
from lms.errors import Forbidden, NotFound, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority, Country
from lms.sessions.models import ParticipantDetails, SessionFormat, TrainingSession

# Places for which details may be given: a nomination or request waiting for a decision too, because a
# visa takes weeks; the letter itself needs a seat (SEAT_STATUSES).
OPEN_STATUSES = (
    EnrolmentStatus.NOMINATED,
    EnrolmentStatus.REQUESTED,
    EnrolmentStatus.WAITING,
    *SEAT_STATUSES,
)
PASSPORT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,38}[A-Z0-9]$")
FIELDS = (
    "passport_name",
    "passport_number",
    "nationality",
    "date_of_birth",
    "dietary_needs",
    "accessibility_needs",
)
NEEDS_LIMIT = 2000


@dataclass(frozen=True)
class DetailsChange:
    """What the form sends. Needs left as None are kept as recorded (a focal point who cannot see them
    types only to replace them)."""

    passport_name: str | None
    passport_number: str | None
    nationality: str | None
    date_of_birth: date | None
    dietary_needs: str | None = None
    accessibility_needs: str | None = None


def is_admin(user: User) -> bool:
    return user.has_role(Role.ADMIN)


def acts_for_participant(actor: User, enrolment: Enrolment) -> bool:
    """The participant, the focal point of the authority the place counts for, or an admin."""
    if is_admin(actor) or actor.id == enrolment.user_id:
        return True
    return enrolment.authority_id is not None and enrolment.authority_id in actor.focal_point_authority_ids()


def sees_needs(actor: User, enrolment: Enrolment) -> bool:
    return is_admin(actor) or actor.id == enrolment.user_id


def event_enrolment(run: CourseRun, enrolment_id: int, actor: User) -> Enrolment:
    """The place on an international run whose details the actor may handle; 404 for anything else (an
    id of another run, a place the actor has nothing to do with: nothing is given away)."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if (
        not run.is_international
        or enrolment is None
        or enrolment.run_id != run.id
        or enrolment.status not in OPEN_STATUSES
        or not acts_for_participant(actor, enrolment)
    ):
        raise NotFound(_("No such participant of this event."))
    return enrolment


def details_of(enrolment_id: int) -> ParticipantDetails | None:
    return db.session.get(ParticipantDetails, enrolment_id)


def _text(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise ValidationFailed(_("At most %(count)s characters, please.", count=limit))
    return text or None


def _needs(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > NEEDS_LIMIT:
        raise ValidationFailed(_("At most %(count)s characters, please.", count=NEEDS_LIMIT))
    return text or None


def _checked(change: DetailsChange, today: date) -> dict[str, object]:
    number = _text(change.passport_number, 40)
    number = number.upper() if number else None
    if number and not PASSPORT_NUMBER.match(number):
        raise ValidationFailed(
            _("A passport number has 4 to 40 Latin letters and digits (spaces and hyphens allowed inside).")
        )
    nationality = (change.nationality or "").strip().upper() or None
    if nationality and db.session.get(Country, nationality) is None:
        raise ValidationFailed(_("Choose a nationality from the list."))
    born = change.date_of_birth
    if born is not None and not (date(1900, 1, 1) <= born <= today):
        raise ValidationFailed(_("The date of birth must be a real day in the past."))
    values: dict[str, object] = {
        "passport_name": _text(change.passport_name, 200),
        "passport_number": number,
        "nationality": nationality,
        "date_of_birth": born,
    }
    if change.dietary_needs is not None:
        values["dietary_needs"] = _needs(change.dietary_needs)
    if change.accessibility_needs is not None:
        values["accessibility_needs"] = _needs(change.accessibility_needs)
    return values


def save_details(enrolment: Enrolment, change: DetailsChange, *, actor: User) -> ParticipantDetails:
    """Record the participant's details; audited by field name (no value is written to the audit)."""
    if not acts_for_participant(actor, enrolment):
        raise Forbidden(_("You may not change this participant's details."))
    details = details_of(enrolment.id)
    if details is not None and details.erased_at is not None:
        raise Forbidden(_("This event is over and its participants' personal data has been erased."))
    values = _checked(change, utcnow().date())
    if details is None:
        details = ParticipantDetails(enrolment_id=enrolment.id)
        db.session.add(details)
    changed = sorted(name for name, value in values.items() if getattr(details, name) != value)
    for name, value in values.items():
        setattr(details, name, value)
    if changed:
        details.updated_by_id = actor.id
        db.session.flush()
        record_event(
            "participant.details", "enrolment", enrolment.id, actor_id=actor.id, after={"changed": changed}
        )
    return details


def missing_for_letter(details: ParticipantDetails | None) -> list[str]:
    """What the visa letter still needs (field names); empty when it can be written."""
    needed = ("passport_name", "passport_number", "nationality")
    if details is None:
        return list(needed)
    return [name for name in needed if not getattr(details, name)]


# --- the lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantRow:
    enrolment: Enrolment
    user: User
    authority: Authority | None
    details: ParticipantDetails | None
    country_name: str
    attends: str  # in_person / online / "" (not known)


def run_format(run_id: int) -> str | None:
    """The one format all the run's sessions share, None when mixed (or hybrid) or no session."""
    formats = set(
        db.session.scalars(
            select(TrainingSession.format).where(
                TrainingSession.run_id == run_id, TrainingSession.cancelled_at.is_(None)
            )
        )
    )
    if len(formats) == 1 and SessionFormat.HYBRID not in formats:
        return str(formats.pop())
    return None


def event_participants(run: CourseRun, actor: User) -> list[ParticipantRow]:
    """The places of the event the actor may see (admins: all; a focal point: their staff; a participant:
    their own), with their details, in a fixed number of queries."""
    query = (
        select(Enrolment, User, Authority, ParticipantDetails, Country.name)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Authority, Authority.id == Enrolment.authority_id)
        .outerjoin(ParticipantDetails, ParticipantDetails.enrolment_id == Enrolment.id)
        .outerjoin(Country, Country.code == User.country_code)
        .where(Enrolment.run_id == run.id, Enrolment.status.in_(OPEN_STATUSES))
        .order_by(User.family_name, User.given_name, Enrolment.id)
    )
    if not is_admin(actor):
        authorities = actor.focal_point_authority_ids()
        query = query.where((Enrolment.user_id == actor.id) | Enrolment.authority_id.in_(authorities or {-1}))
    shared = run_format(run.id) or ""
    return [
        ParticipantRow(
            enrolment,
            user,
            authority,
            details,
            country or "",
            (details and details.attendance_mode) or shared,
        )
        for enrolment, user, authority, details, country in db.session.execute(query).all()
    ]

"""International events' documents: the visa invitation letter (a PDF per participant) and the
participant list for the venue (CSV through lms.csv_export).

The letter is HTML/CSS rendered by WeasyPrint, as the certificates and the sign-in sheets are, with local
fonts only: Noto Sans and its Arabic and Georgian companions (fonts-noto-core) and DejaVu Sans, so a
name in Arabic, Cyrillic or Georgian prints as letters. It is made when asked for and never stored (it
carries passport data, which is erased after the event).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from weasyprint import HTML

from lms.auth.models import User
from lms.csv_export import csv_stream
from lms.db import utcnow
from lms.enrolment.models import SEAT_STATUSES, CourseRun, Enrolment
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.i18n import localized_date, text_direction
from lms.orgs.models import Authority, Country
from lms.sessions.calendar_feeds import session_events
from lms.sessions.models import SessionFormat, TrainingSession
from lms.sessions.participants import ParticipantRow, details_of, missing_for_letter
from lms.settings.services import get_settings, logo_directory


@dataclass(frozen=True)
class EventFacts:
    title: str
    first_day: date | None
    last_day: date | None
    venues: list[str]


def event_facts(run: CourseRun) -> EventFacts:
    """The event's title, days (the run's dates, else its sessions') and the venues of its sessions held
    in a room (not cancelled)."""
    sessions = list(
        db.session.scalars(
            select(TrainingSession)
            .where(TrainingSession.run_id == run.id, TrainingSession.cancelled_at.is_(None))
            .order_by(TrainingSession.starts_at)
        )
    )
    rooms = [s for s in sessions if s.format != SessionFormat.ONLINE]
    venues: list[str] = []
    for event in session_events(rooms):
        if event.venue and event.venue not in venues:
            venues.append(event.venue)
    first = run.starts_on or (sessions[0].starts_at.date() if sessions else None)
    last = run.ends_on or (max(s.ends_at for s in sessions).date() if sessions else None)
    return EventFacts(title=run.title, first_day=first, last_day=last, venues=venues)


def _logo_data_uri() -> str | None:
    filename = get_settings().logo_filename
    if not filename:
        return None
    path = logo_directory() / filename
    if not path.is_file():
        return None
    kind = "png" if filename.endswith(".png") else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def visa_letter_pdf(enrolment: Enrolment, language: str) -> bytes:
    """The letter in ``language``; refused with what is missing when the passport data is incomplete or
    the person holds no seat."""
    if enrolment.status not in SEAT_STATUSES:
        raise ValidationFailed(_("An invitation letter is written once the place is confirmed."))
    details = details_of(enrolment.id)
    if missing_for_letter(details):
        raise ValidationFailed(
            _("Enter the name as in the passport, the passport number and the nationality first.")
        )
    assert details is not None  # noqa: S101  # missing_for_letter said so
    run = db.session.get(CourseRun, enrolment.run_id)
    user = db.session.get(User, enrolment.user_id)
    authority = db.session.get(Authority, enrolment.authority_id) if enrolment.authority_id else None
    nationality = db.session.get(Country, details.nationality) if details.nationality else None
    assert run is not None and user is not None  # noqa: S101  # foreign keys
    settings = get_settings()
    with force_locale(language):
        facts = event_facts(run)
        html = render_template(
            "sessions/visa_letter_pdf.html",
            language=language,
            direction=text_direction(language),
            academy_name=settings.academy_name,
            contact_email=settings.contact_email,
            logo=_logo_data_uri(),
            today=localized_date(utcnow().date(), "long"),
            details=details,
            born=localized_date(details.date_of_birth, "long") if details.date_of_birth else "",
            nationality=nationality.localized_name(language) if nationality else details.nationality,
            authority=authority.name if authority else "",
            facts=facts,
            first_day=localized_date(facts.first_day, "long") if facts.first_day else "",
            last_day=localized_date(facts.last_day, "long") if facts.last_day else "",
            user=user,
        )
    pdf = HTML(string=html, base_url=None).write_pdf()
    if not isinstance(pdf, bytes):
        raise RuntimeError("WeasyPrint returned no PDF")
    return pdf


def participant_list_csv(rows: list[ParticipantRow]) -> Iterator[bytes]:
    """For the venue: names (Latin and own script), authority, country, in person or online. Only places
    with a seat; no passport data and no needs (the venue needs neither from this list)."""
    header = [
        _("Family name"),
        _("Given name"),
        _("Name in own script"),
        _("Authority"),
        _("Country"),
        _("Attends"),
    ]
    labels = {SessionFormat.IN_PERSON: _("in person"), SessionFormat.ONLINE: _("online")}
    lines = (
        [
            row.user.family_name,
            row.user.given_name,
            row.user.native_name or "",
            row.authority.name if row.authority else "",
            row.country_name,
            labels.get(row.attends, ""),  # type: ignore[call-overload]
        ]
        for row in rows
        if row.enrolment.status in SEAT_STATUSES
    )
    return csv_stream(header, lines)

"""Read side of the attendance register: the lines of a session's roll call and sign-in sheet, and the
scanned sheets. Each function runs a fixed number of queries, whatever the number of participants."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from lms.auth.models import User
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment
from lms.errors import NotFound
from lms.extensions import db
from lms.orgs.models import Authority
from lms.sessions.models import Attendance, SignInSheetScan, TrainingSession


@dataclass(frozen=True)
class RegisterLine:
    enrolment_id: int
    user_id: int
    latin_name: str  # given and family name, as in the Latin-letter fields
    native_name: str | None  # the name in the person's own script
    authority: str | None
    status: str | None  # None: not marked yet
    minutes: int | None
    source: str | None


def register_session(session_id: int) -> TrainingSession:
    """The session and its run (one query), or NotFound."""
    row = db.session.execute(
        select(TrainingSession, CourseRun)
        .join(CourseRun, CourseRun.id == TrainingSession.run_id)
        .where(TrainingSession.id == session_id)
    ).first()
    if row is None:
        raise NotFound(_("No such session."))
    return row[0]


def session_run(session: TrainingSession) -> CourseRun:
    run = db.session.get(CourseRun, session.run_id)  # in the identity map after register_session
    if run is None:
        raise NotFound(_("No such session."))
    return run


def register_lines(session: TrainingSession) -> list[RegisterLine]:
    """Every active place of the session's run with its mark in this session, by name (one query)."""
    mark = aliased(Attendance)
    rows = db.session.execute(
        select(
            Enrolment.id,
            User.id,
            User.given_name,
            User.patronymic,
            User.family_name,
            User.native_name,
            Authority.name,
            mark.status,
            mark.minutes,
            mark.source,
        )
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Authority, Authority.id == Enrolment.authority_id)
        .outerjoin(mark, (mark.enrolment_id == Enrolment.id) & (mark.session_id == session.id))
        .where(Enrolment.run_id == session.run_id, Enrolment.status.in_(ACTIVE_STATUSES))
        .order_by(User.family_name, User.given_name, Enrolment.id)
    ).all()
    lines = []
    for enrolment_id, user_id, given, patronymic, family, native, authority, status, minutes, source in rows:
        latin = " ".join(part for part in (given, patronymic, family) if part)
        lines.append(RegisterLine(enrolment_id, user_id, latin, native, authority, status, minutes, source))
    return lines


def sheet_scans(session_id: int) -> list[SignInSheetScan]:
    return list(
        db.session.scalars(
            select(SignInSheetScan)
            .where(SignInSheetScan.session_id == session_id)
            .order_by(SignInSheetScan.uploaded_at.desc(), SignInSheetScan.id.desc())
        )
    )


def sheet_scan(session_id: int, scan_id: int) -> SignInSheetScan:
    scan = db.session.get(SignInSheetScan, scan_id)
    if scan is None or scan.session_id != session_id:
        raise NotFound(_("No such scanned sheet."))
    return scan

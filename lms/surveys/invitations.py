"""Who is asked, when, and the mail that asks them (docs/surveys.md "Surveys of a run").

- End-of-course: invited in the transaction that completes the enrolment (``enrolment_completed``). The
  invitation opens now, or when the run's last session that is not cancelled ends if that is later; it
  closes ``open_days`` after it opens. The mail goes with it when it is open now, else from the job.
- Follow-up: the job (``send_due``, every hour and ``flask lms surveys send-due``) invites everyone whose
  completion is ``follow_up_months`` old, mails invitations that are open and not mailed yet, and sends
  one reminder ``reminder_days`` after opening to those who have not answered. Closed invitations are
  left alone.

Exactly once: an invitation is one row per (run survey, enrolment) (a unique constraint; inserted with
``ON CONFLICT DO NOTHING``), and its mail is queued in the same transaction as the conditional ``UPDATE``
that sets ``sent_at`` (or ``reminded_at``) where it was still empty. A job run twice finds nothing left to
do; a job killed half way commits nothing of the invitation it was on (each one in a savepoint, the whole
run in the caller's unit of work), so it is mailed by the next run, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Insert, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from lms.auth.models import User
from lms.dates import add_months
from lms.db import insert_unless_present, utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.signals import enrolment_completed
from lms.extensions import db
from lms.sessions.models import TrainingSession
from lms.surveys.mail import INVITATION, REMINDER, queue_survey_mail
from lms.surveys.models import RunSurvey, SurveyInvitation, SurveyKind

log = logging.getLogger(__name__)


def _insert_invitation(dialect: str) -> Insert:
    return insert_unless_present(SurveyInvitation.__table__, ("run_survey_id", "enrolment_id"), dialect)


def invite(run_survey: RunSurvey, enrolment_id: int, opens_at: datetime) -> int | None:
    """The invitation's id when created now; None when this person was invited already (never twice)."""
    values = {
        "run_survey_id": run_survey.id,
        "enrolment_id": enrolment_id,
        "opens_at": opens_at,
        "closes_at": opens_at + timedelta(days=run_survey.open_days),
    }
    statement = _insert_invitation(db.session.get_bind().dialect.name)
    return db.session.scalar(statement, values)


def last_session_end(run_id: int) -> datetime | None:
    return db.session.scalar(
        select(func.max(TrainingSession.ends_at)).where(
            TrainingSession.run_id == run_id, TrainingSession.cancelled_at.is_(None)
        )
    )


@cache
def _claim(column: str) -> Update:
    """Set sent_at / reminded_at where still empty: of two senders only one gets the row (rowcount 1)."""
    table = SurveyInvitation.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("invitation_id"), table.c[column].is_(None))
        .values({column: bindparam("now")})
    )


def _mail_once(kind: str, invitation: SurveyInvitation, run_survey: RunSurvey, now: datetime) -> bool:
    """Queue the invitation's mail (or its reminder) unless a sender did already; True when queued."""
    column = "sent_at" if kind == INVITATION else "reminded_at"
    claimed = db.session.execute(_claim(column), {"invitation_id": invitation.id, "now": now})
    if getattr(claimed, "rowcount", 1) != 1:
        return False
    set_committed_value(invitation, column, now)
    enrolment = db.session.get(Enrolment, invitation.enrolment_id)
    if enrolment is None:  # pragma: no cover - the foreign key cascades
        return False
    queue_survey_mail(kind, invitation, run_survey, enrolment.user, enrolment.run)
    return True


def on_enrolment_completed(enrolment: Enrolment, **_extra: Any) -> None:
    """Subscriber of ``enrolment_completed``: the end-of-course invitation (and its mail when open now).
    In a savepoint: a failure here must not undo the completion (it is logged; nobody is invited)."""
    run_survey = db.session.scalar(
        select(RunSurvey).where(
            RunSurvey.run_id == enrolment.run_id, RunSurvey.kind == SurveyKind.END_OF_COURSE
        )
    )
    if run_survey is None:
        return
    try:
        with db.session.begin_nested():
            now = utcnow()
            ends = last_session_end(enrolment.run_id)
            opens_at = max(now, ends) if ends is not None else now
            invitation_id = invite(run_survey, enrolment.id, opens_at)
            if invitation_id is not None and opens_at <= now:
                invitation = db.session.get(SurveyInvitation, invitation_id)
                if invitation is not None:
                    _mail_once(INVITATION, invitation, run_survey, now)
    except Exception:
        log.exception("end-of-course survey invitation for enrolment %s failed", enrolment.id)


enrolment_completed.connect(on_enrolment_completed)


# --- the job ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueOutcome:
    created: int = 0  # follow-up invitations created
    invited: int = 0  # invitation mails queued
    reminded: int = 0  # reminders queued
    failed: int = 0  # invitations whose mail could not be written (logged, tried again next run)


def create_follow_ups(now: datetime) -> int:
    """A follow-up invitation for each completion at least ``follow_up_months`` old (once per person)."""
    created = 0
    for run_survey in db.session.scalars(select(RunSurvey).where(RunSurvey.kind == SurveyKind.FOLLOW_UP)):
        cutoff = add_months(now, -(run_survey.follow_up_months or 0))
        invited = select(SurveyInvitation.enrolment_id).where(SurveyInvitation.run_survey_id == run_survey.id)
        due = db.session.scalars(
            select(Enrolment.id).where(
                Enrolment.run_id == run_survey.run_id,
                Enrolment.status == EnrolmentStatus.COMPLETED,
                Enrolment.completed_at <= cutoff,
                Enrolment.id.not_in(invited),
            )
        ).all()
        created += sum(invite(run_survey, enrolment_id, now) is not None for enrolment_id in due)
    return created


def _due(kind: str, now: datetime, limit: int) -> list[tuple[SurveyInvitation, RunSurvey]]:
    """Open, unanswered invitations whose invitation (or reminder) mail is due, oldest first."""
    query = (
        select(SurveyInvitation, RunSurvey)
        .join(RunSurvey, SurveyInvitation.run_survey_id == RunSurvey.id)
        .join(Enrolment, SurveyInvitation.enrolment_id == Enrolment.id)
        .join(User, Enrolment.user_id == User.id)
        .where(
            SurveyInvitation.answered_on.is_(None),
            SurveyInvitation.opens_at <= now,
            SurveyInvitation.closes_at > now,
            User.active.is_(True),
        )
        .order_by(SurveyInvitation.opens_at, SurveyInvitation.id)
        .limit(limit)
    )
    if kind == INVITATION:
        query = query.where(SurveyInvitation.sent_at.is_(None))
    else:
        # The delay is per run survey: one condition per delay in use (a handful), so that the limit
        # counts only reminders that are due, whatever the database's date arithmetic.
        delays = [
            days
            for days in db.session.scalars(select(RunSurvey.reminder_days).distinct())
            if days is not None
        ]
        if not delays:
            return []
        query = query.where(
            SurveyInvitation.sent_at.is_not(None),
            SurveyInvitation.reminded_at.is_(None),
            or_(
                *(
                    and_(
                        RunSurvey.reminder_days == days,
                        SurveyInvitation.opens_at <= now - timedelta(days=days),
                    )
                    for days in delays
                )
            ),
        )
    return [(invitation, run_survey) for invitation, run_survey in db.session.execute(query).all()]


def _send(kind: str, now: datetime, limit: int) -> tuple[int, int]:
    sent = failed = 0
    for invitation, run_survey in _due(kind, now, limit):
        try:
            with db.session.begin_nested():  # the claim and the mail together, or neither
                sent += _mail_once(kind, invitation, run_survey, now)
        except Exception:
            failed += 1
            log.exception(
                "survey %s mail for invitation %s failed; tried again next run", kind, invitation.id
            )
    return sent, failed


def send_due(now: datetime | None = None, *, limit: int = 500) -> DueOutcome:
    """The job's work, in the caller's unit of work (lms.jobs.tasks, lms/surveys/cli.py). Safe to run
    twice or at once on two workers: nothing is created or mailed twice."""
    now = now or utcnow()
    created = create_follow_ups(now)
    db.session.flush()
    invited, failed_invitations = _send(INVITATION, now, limit)
    reminded, failed_reminders = _send(REMINDER, now, limit)
    return DueOutcome(created, invited, reminded, failed_invitations + failed_reminders)

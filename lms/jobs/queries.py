"""What the admins' job page shows: the queue's size and everything that failed for good."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from lms.extensions import db
from lms.jobs.models import JobFailure
from lms.jobs.queue import huey
from lms.notifications.models import MailStatus, OutgoingMail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOverview:
    queued: int | None  # None: the queue storage could not be read (e.g. Redis down)
    scheduled: int | None
    failures: list[JobFailure]
    failed_mail: list[OutgoingMail]


def job_overview(limit: int = 100) -> JobOverview:
    queued: int | None
    scheduled: int | None
    try:
        queued, scheduled = int(huey.pending_count()), int(huey.scheduled_count())
    except Exception:  # the page must still show the failures when the queue is unreachable
        log.exception("job queue unreachable")
        queued = scheduled = None
    failures = list(db.session.scalars(select(JobFailure).order_by(JobFailure.id.desc()).limit(limit)))
    failed_mail = list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.status == MailStatus.FAILED)
            .order_by(OutgoingMail.id.desc())
            .limit(limit)
        )
    )
    return JobOverview(queued=queued, scheduled=scheduled, failures=failures, failed_mail=failed_mail)

"""Enrolment mail: written in the recipient's language, queued in the transaction, sent after commit."""

from __future__ import annotations

from enum import StrEnum

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.auth.models import User
from lms.config import LANGUAGES
from lms.enrolment.models import CourseRun
from lms.notifications.services import queue_mail
from lms.settings.services import public_base_url


class MailKind(StrEnum):
    NOMINATION_RECEIVED = "nomination_received"
    REQUEST_RECEIVED = "request_received"
    APPROVED = "enrolment_approved"
    WAITING = "waiting_list"
    REJECTED = "enrolment_rejected"
    PROMOTED = "waiting_promoted"
    RUN_STARTING = "run_starting"


def _subject(kind: MailKind, title: str) -> str:
    subjects = {
        MailKind.NOMINATION_RECEIVED: _("You have been nominated for %(run)s", run=title),
        MailKind.REQUEST_RECEIVED: _("Your request for %(run)s was received", run=title),
        MailKind.APPROVED: _("Approved: you are enrolled in %(run)s", run=title),
        MailKind.WAITING: _("Approved: you are on the waiting list for %(run)s", run=title),
        MailKind.REJECTED: _("Not approved: %(run)s", run=title),
        MailKind.PROMOTED: _("A seat is free: you are enrolled in %(run)s", run=title),
        MailKind.RUN_STARTING: _("%(run)s starts soon", run=title),
    }
    return subjects[kind]


def queue_enrolment_mail(
    kind: MailKind,
    user: User,
    run: CourseRun,
    *,
    reason: str | None = None,
    actor: User | None = None,
    position: int | None = None,
) -> None:
    language = user.preferred_language if user.preferred_language in LANGUAGES else "en"
    base_url = public_base_url()
    with force_locale(language):
        subject = _subject(kind, run.title)
        body = render_template(
            f"enrolment/mail/{kind.value}.txt",
            user=user,
            run=run,
            reason=reason,
            actor=actor,
            position=position,
            runs_url=f"{base_url}/runs",
            course_url=f"{base_url}/courses/{run.course.slug}",
        )
    queue_mail(user.email, subject, body, kind=kind.value, language=language)

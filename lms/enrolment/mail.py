"""Enrolment mail: written in the recipient's language, queued in the transaction, sent after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.auth.models import User
from lms.config import LANGUAGES
from lms.enrolment.models import CourseRun
from lms.notifications.services import MailToQueue, queue_mail
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


class Recipient(Protocol):
    """A User, or a person a bulk import is about to create (lms.enrolment.bulk_import)."""

    @property
    def email(self) -> str: ...

    @property
    def full_name(self) -> str: ...

    @property
    def preferred_language(self) -> str | None: ...


def enrolment_mail(
    kind: MailKind,
    user: Recipient,
    run: CourseRun,
    *,
    reason: str | None = None,
    actor: User | None = None,
    position: int | None = None,
) -> MailToQueue:
    """The message, written in the recipient's language; not queued yet."""
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
    return MailToQueue(user.email, subject, body, kind=kind.value, language=language)


# Stand-ins put into a message written once for many people, then replaced by each one's own (Unicode
# private-use characters: no template or translation contains them).
_NAME_MARK = "\ue000name\ue001"
_EMAIL_MARK = "\ue000email\ue001"


@dataclass(frozen=True)
class _StandIn:
    email: str
    full_name: str
    preferred_language: str | None


def enrolment_mails(
    kind: MailKind,
    people: Sequence[Recipient],
    run: CourseRun,
    *,
    reason: str | None = None,
    actor: User | None = None,
) -> list[MailToQueue]:
    """The same message for many people (a bulk import): written once per language with a stand-in
    for the person, then each person's name and address put in. The result is what
    ``enrolment_mail`` writes for each (tested), without rendering the template once per person
    (0.5 ms each: 10 s for a 20,000-row file)."""
    written: dict[str | None, MailToQueue] = {}
    mails = []
    for person in people:
        language = person.preferred_language if person.preferred_language in LANGUAGES else None
        template = written.get(language)
        if template is None:
            stand_in = _StandIn(_EMAIL_MARK, _NAME_MARK, language)
            template = written[language] = enrolment_mail(kind, stand_in, run, reason=reason, actor=actor)

        def fill(text: str, person: Recipient = person) -> str:
            return text.replace(_NAME_MARK, person.full_name).replace(_EMAIL_MARK, person.email)

        mails.append(
            MailToQueue(
                person.email, fill(template.subject), fill(template.body), template.kind, template.language
            )
        )
    return mails


def queue_enrolment_mail(
    kind: MailKind,
    user: User,
    run: CourseRun,
    *,
    reason: str | None = None,
    actor: User | None = None,
    position: int | None = None,
) -> None:
    mail = enrolment_mail(kind, user, run, reason=reason, actor=actor, position=position)
    queue_mail(mail.recipient, mail.subject, mail.body, kind=mail.kind, language=mail.language)

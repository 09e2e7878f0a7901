"""Answering a survey, anonymously (docs/surveys.md "Surveys of a run").

Two rows say two different things and nothing joins them: the invitation says *that* this person answered
(``answered_on``, a day), the response says *what* someone answered (random key, the day, the language
and the group attributes donors break results down by). No enrolment, user or time of day is written
with the answers, and the keys are random, so neither an id nor the order of rows matches a response to
its invitation. Nothing is logged or audited with the response's key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Update, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value

from lms.config import LANGUAGES
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.extensions import db
from lms.surveys.answer_rules import TEXT_LIMIT, ItemRule, Problem, ProblemKind, check_answers, pick_text
from lms.surveys.models import RunSurvey, SurveyAnswer, SurveyInvitation, SurveyItem, SurveyResponse
from lms.surveys.signals import survey_answered


class AnswersRefused(ValidationFailed):
    """Some answers are missing or not possible; ``problems`` maps an item's key to its message."""

    def __init__(self, message: str, problems: dict[str, str]) -> None:
        super().__init__(message)
        self.problems = problems


def asked_items(run_survey: RunSurvey) -> list[SurveyItem]:
    """The items the form asks now, in order (retired ones keep their answers but are not asked)."""
    return [item for item in run_survey.form.items if not item.retired]


def _rules(items: Sequence[SurveyItem]) -> list[ItemRule]:
    return [
        ItemRule(
            key=item.key,
            type=item.type,
            required=item.required,
            option_keys=tuple(str(option.get("key")) for option in item.options or []),
        )
        for item in items
    ]


def _message(problem: Problem) -> str:
    return {
        ProblemKind.MISSING: _("Please answer this question."),
        ProblemKind.OUT_OF_RANGE: _("Choose one of the points of the scale."),
        ProblemKind.UNKNOWN_OPTION: _("Choose among the answers offered."),
        ProblemKind.TOO_LONG: _("Write at most %(count)s characters.", count=TEXT_LIMIT),
    }[problem.kind]


def invitation_state(invitation: SurveyInvitation) -> str | None:
    """Why the survey cannot be answered now ("answered", "not_open", "closed"), or None when it can."""
    now = utcnow()
    if invitation.answered_on is not None:
        return "answered"
    if now < invitation.opens_at:
        return "not_open"
    if now >= invitation.closes_at:
        return "closed"
    return None


def refuse_unless_open(invitation: SurveyInvitation) -> None:
    """Answered already, not open yet, or closed: refused with the reason (the page shows it)."""
    state = invitation_state(invitation)
    if state == "answered":
        raise Conflict(_("You have already answered this survey. Thank you."))
    if state == "not_open":
        raise Conflict(_("This survey is not open yet."))
    if state == "closed":
        raise Conflict(_("This survey is closed."))


@cache
def _mark_answered() -> Update:
    """The one statement that decides: of two submissions at once (two tabs), only one finds the row."""
    table = SurveyInvitation.__table__
    return (
        update(table)
        .where(
            table.c.id == bindparam("invitation_id"),
            table.c.answered_on.is_(None),
            table.c.opens_at <= bindparam("now"),
            table.c.closes_at > bindparam("now"),
        )
        .values(answered_on=bindparam("today"))
    )


def _random_key() -> str:
    return secrets.token_hex(16)


def submit_response(invitation: SurveyInvitation, answers: Mapping[str, Any], language: str) -> None:
    """Check and store one person's answers, anonymously; mark the invitation answered; send
    ``survey_answered`` (sender: the invitation). Refused (``LmsError``, nothing written) when the survey
    is closed, not open yet or answered already, or an answer is missing or not possible."""
    refuse_unless_open(invitation)
    run_survey = db.session.get(RunSurvey, invitation.run_survey_id)
    enrolment = db.session.get(Enrolment, invitation.enrolment_id)
    if run_survey is None or enrolment is None:  # pragma: no cover - the foreign keys cascade
        raise NotFound(_("This survey does not exist."))
    checked = check_answers(_rules(asked_items(run_survey)), answers)
    if checked.problems:
        raise AnswersRefused(
            _("Some answers need your attention."), {p.item_key: _message(p) for p in checked.problems}
        )
    now = utcnow()
    today: date = now.date()
    marked = db.session.execute(
        _mark_answered(), {"invitation_id": invitation.id, "now": now, "today": today}
    )
    if getattr(marked, "rowcount", 1) != 1:
        raise Conflict(_("You have already answered this survey. Thank you."))
    set_committed_value(invitation, "answered_on", today)
    person = enrolment.user
    response = SurveyResponse(
        id=_random_key(),
        run_survey_id=run_survey.id,
        language=language if language in LANGUAGES else "en",
        submitted_on=today,
        sex=person.sex,
        country_code=person.country_code,
        authority_id=person.authority_id,
    )
    response.answers = [
        SurveyAnswer(
            id=_random_key(),
            item_key=answer.item_key,
            number=answer.number,
            choices=list(answer.choices) if answer.choices is not None else None,
            text=answer.text,
        )
        for answer in checked.answers
    ]
    db.session.add(response)
    db.session.flush()
    db.session.expunge(response)  # nothing later in this request can reach it from the session
    survey_answered.send(invitation)


def item_text(item: SurveyItem, language: str) -> tuple[str, str]:
    """The item's prompt in ``language`` (else English, else any), with the language it is in."""
    return pick_text(item.prompt, language)

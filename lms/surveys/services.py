"""Attaching survey forms to a run (admins): the end-of-course form, the follow-up form and its delay, how
long an invitation stays open, when the one reminder goes, and whether the certificate waits for the
end-of-course survey (off by default).

The other parts of a run's surveys live beside this module: who is asked and when (``invitations.py``,
mail in ``mail.py``), answering (``answering.py``), what pages read (``queries.py``). Services flush and
raise ``lms.errors``; the caller commits (docs/surveys.md "Surveys of a run").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.enrolment.models import CourseRun
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.surveys.models import RunSurvey, SurveyForm, SurveyInvitation, SurveyKind

OPEN_DAYS_RANGE = (1, 365)
FOLLOW_UP_MONTHS_RANGE = (1, 36)


@dataclass(frozen=True)
class RunSurveySettings:
    """What the admin's "Surveys of this run" form sends. A form id of None: no survey of that kind."""

    end_form_id: int | None = None
    follow_up_form_id: int | None = None
    follow_up_months: int | None = None
    open_days: int = 30
    reminder_days: int | None = 7
    required_for_certificate: bool = False


def current_settings(run_id: int) -> RunSurveySettings:
    """The run's surveys as the form shows them (the defaults when none is attached)."""
    surveys = {s.kind: s for s in db.session.scalars(select(RunSurvey).where(RunSurvey.run_id == run_id))}
    end, follow_up = surveys.get(SurveyKind.END_OF_COURSE), surveys.get(SurveyKind.FOLLOW_UP)
    either = end or follow_up
    return RunSurveySettings(
        end_form_id=end.form_id if end else None,
        follow_up_form_id=follow_up.form_id if follow_up else None,
        follow_up_months=follow_up.follow_up_months if follow_up else None,
        open_days=either.open_days if either else 30,
        reminder_days=either.reminder_days if either else 7,
        required_for_certificate=bool(end and end.required_for_certificate),
    )


def _check(settings: RunSurveySettings) -> None:
    low, high = OPEN_DAYS_RANGE
    if not low <= settings.open_days <= high:
        raise ValidationFailed(
            _("A survey stays open between %(low)s and %(high)s days.", low=low, high=high)
        )
    if settings.reminder_days is not None and not 1 <= settings.reminder_days < settings.open_days:
        raise ValidationFailed(
            _("The reminder must go at least one day after the survey opens and before it closes.")
        )
    if settings.follow_up_form_id is not None:
        low, high = FOLLOW_UP_MONTHS_RANGE
        if settings.follow_up_months is None or not low <= settings.follow_up_months <= high:
            raise ValidationFailed(
                _(
                    "Send the follow-up between %(low)s and %(high)s months after completion.",
                    low=low,
                    high=high,
                )
            )
    if settings.required_for_certificate and settings.end_form_id is None:
        raise ValidationFailed(
            _("The certificate can wait only for an end-of-course survey: choose its form.")
        )


def _form(form_id: int, kind: SurveyKind) -> SurveyForm:
    form = db.session.get(SurveyForm, form_id) if 0 < form_id < 2**63 else None
    if form is None or not form.is_published or form.kind != kind:
        raise ValidationFailed(_("Choose one of the survey forms offered."))
    return form


def _has_invitations(run_survey: RunSurvey) -> bool:
    count = db.session.scalar(
        select(func.count())
        .select_from(SurveyInvitation)
        .where(SurveyInvitation.run_survey_id == run_survey.id)
    )
    return bool(count)


def _place(
    run: CourseRun, kind: SurveyKind, form_id: int | None, settings: RunSurveySettings
) -> RunSurvey | None:
    """Attach, change or remove one kind of survey. A survey that has invited someone keeps its form (its
    answers must stay comparable, and removing it would delete them); its days and rule may change."""
    existing = db.session.scalar(select(RunSurvey).where(RunSurvey.run_id == run.id, RunSurvey.kind == kind))
    if existing is not None and existing.form_id != form_id and _has_invitations(existing):
        message = _("People have already been invited to this survey: its form can no longer change.")
        raise Conflict(f"{kind_label(kind)}: {message}")
    if form_id is None:
        if existing is not None:
            db.session.delete(existing)
        return None
    _form(form_id, kind)
    survey = existing or RunSurvey(run_id=run.id, kind=kind)
    survey.form_id = form_id
    survey.open_days = settings.open_days
    survey.reminder_days = settings.reminder_days
    survey.follow_up_months = settings.follow_up_months if kind == SurveyKind.FOLLOW_UP else None
    survey.required_for_certificate = kind == SurveyKind.END_OF_COURSE and settings.required_for_certificate
    db.session.add(survey)
    return survey


def attach_surveys(run: CourseRun, settings: RunSurveySettings, *, actor_id: int | None) -> bool:
    """Save the run's surveys; True when something changed (audited with before and after)."""
    _check(settings)
    before = current_settings(run.id)
    if before == settings:
        return False
    _place(run, SurveyKind.END_OF_COURSE, settings.end_form_id, settings)
    _place(run, SurveyKind.FOLLOW_UP, settings.follow_up_form_id, settings)
    db.session.flush()
    record_event(
        "course_run.surveys_set",
        "course_run",
        run.id,
        actor_id=actor_id,
        before=asdict(before),
        after=asdict(settings),
    )
    return True


def kind_label(kind: str) -> str:
    return _("end-of-course") if kind == SurveyKind.END_OF_COURSE else _("follow-up")

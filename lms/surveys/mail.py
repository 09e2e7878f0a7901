"""Survey mail: the invitation and the one reminder, written in the recipient's language, queued in the
transaction that marks them sent (lms.notifications: delivered after the commit, never twice)."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.auth.models import User
from lms.enrolment.models import CourseRun
from lms.i18n import localized_date, recipient_language
from lms.notifications.services import queue_mail
from lms.settings.services import public_base_url
from lms.surveys.models import RunSurvey, SurveyInvitation, SurveyKind

INVITATION, REMINDER = "survey_invitation", "survey_reminder"


def queue_survey_mail(
    kind: str, invitation: SurveyInvitation, run_survey: RunSurvey, user: User, run: CourseRun
) -> None:
    language = recipient_language(user.preferred_language)
    with force_locale(language):
        subject = (
            _("Your opinion on %(run)s", run=run.title)
            if kind == INVITATION
            else _("Reminder: your opinion on %(run)s", run=run.title)
        )
        body = render_template(
            "surveys/mail/invitation.txt" if kind == INVITATION else "surveys/mail/reminder.txt",
            user=user,
            run=run,
            follow_up=run_survey.kind == SurveyKind.FOLLOW_UP,
            required_for_certificate=run_survey.required_for_certificate,
            survey_url=f"{public_base_url()}/surveys/{invitation.id}",
            closes_on=localized_date(invitation.closes_at, "long"),
        )
    queue_mail(user.email, subject, body, kind=kind, language=language)

"""The issue mail (issue 23): the holder hears that a certificate was issued, with the links to download
it, to verify it and to add it to LinkedIn; written in the holder's language, queued in the issuing
transaction (lms.notifications: sent after the commit, never for a rolled-back issue)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.auth.models import User
from lms.certificates import codes, linkedin
from lms.certificates.issuer import academy_issuer
from lms.certificates.models import Certificate
from lms.certificates.signed_documents import verify_url
from lms.extensions import db
from lms.i18n import recipient_language
from lms.notifications.services import queue_mail

ISSUED = "certificate_issued"


def queue_issue_mail(certificate: Certificate, **_kwargs: Any) -> None:
    user = db.session.get(User, certificate.user_id)
    if user is None:
        return
    language = recipient_language(user.preferred_language)
    with force_locale(language):
        subject = _("Your certificate: %(course)s", course=certificate.course_title)
        body = render_template(
            "certificates/mail/issued.txt",
            user=user,
            certificate=certificate,
            code=codes.grouped(certificate.code),
            verify_url=verify_url(academy_issuer(), certificate.code),
            mine_url=academy_issuer().url("/certificates"),
            linkedin_url=linkedin.certificate_link(certificate),
        )
    queue_mail(user.email, subject, body, kind=ISSUED, language=language)

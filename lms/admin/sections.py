"""The person page's sections for features that exist today (certificates); later features register
their own with lms.admin.person_sections.register_person_section."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from lms.admin.person_sections import PersonSection, register_person_section
from lms.certificates.models import Certificate
from lms.extensions import db


@register_person_section
def certificates_section(user_id: int) -> PersonSection | None:
    rows = db.session.execute(
        select(Certificate.code, Certificate.course_title, Certificate.issued_at, Certificate.status)
        .where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc())
    ).all()
    return PersonSection(
        title=_("Certificates"),
        headers=(_("Number"), _("Course"), _("Issued"), _("Status")),
        rows=[(code, title, issued.strftime("%Y-%m-%d"), status) for code, title, issued, status in rows],
    )

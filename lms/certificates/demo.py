"""Demo certificates for `flask lms demo load`: one in force, one revoked (development only)."""

from __future__ import annotations

from sqlalchemy import select

from lms.auth.services import find_user_by_email
from lms.certificates import queries, services
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db

DEMO_COURSE = "document-fraud-first-line"
# (trainee, study language, revoke?)
DEMO_HOLDERS = (
    ("trainee@academy.test", "en", False),
    ("aigerim.nurlanova@academy.test", "en", True),
)


def load_demo_certificates() -> None:
    """Idempotent. The trainees read every lesson; when the course also asks for a final assessment
    (so reading alone does not complete it), the admin issues manually with a reason instead."""
    admin = find_user_by_email("admin@academy.test")
    course = db.session.scalar(select(Course).where(Course.slug == DEMO_COURSE))
    if admin is None or course is None:
        return
    run = enrolment_runs.ensure_default_run(course)
    for email, language, revoke in DEMO_HOLDERS:
        user = find_user_by_email(email)
        if user is None:
            continue
        if db.session.scalar(select(Certificate.id).where(Certificate.user_id == user.id)) is not None:
            continue
        enrolment = enrolment_self_service.active_enrolment(user.id, course.id)
        if enrolment is None:
            enrolment = enrolment_self_service.self_enrol(user, run, language=language)
        for module in course.modules:
            for lesson in module.lessons:
                if module.is_published and lesson.is_published:
                    enrolment_completion.complete_lesson(enrolment, lesson)
        certificate = queries.active_certificate(user.id, run.id)
        if certificate is None:
            certificate = services.issue_manually(
                email, run.id, admin.id, "Demo data: completed the in-person session of this course."
            )
        if revoke:
            services.revoke(
                certificate,
                admin.id,
                "Demo data: issued to the wrong person by mistake.",
                show_reason_publicly=True,
            )

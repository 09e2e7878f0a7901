"""Signal receivers: each learning or certificate event becomes webhook deliveries and xAPI statements,
written in the transaction of the change (never committed here; sent by jobs after the commit).
Connected when this module is imported (lms.integrations.setup)."""

from __future__ import annotations

from typing import Any

from lms.certificates.models import Certificate
from lms.certificates.signals import certificate_issued, certificate_revoked
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.enrolment.signals import attendance_changed, enrolment_completed, enrolment_decided, place_taken
from lms.extensions import db
from lms.integrations import xapi
from lms.integrations.events import certificate_data, enrolment_data, record_webhook_event
from lms.integrations.models import WebhookEvent
from lms.integrations.xapi_outbox import learning_of, lrs_config, record
from lms.quizzes.models import FINISHED_STATUSES, Quiz, QuizAttempt, QuizRole
from lms.quizzes.signals import attempt_finished

# Quizzes whose result is a learning record of its own (a practice quiz is not).
GRADED_ROLES = (QuizRole.FINAL, QuizRole.POST_TEST)


@enrolment_decided.connect
def on_enrolment_decided(enrolment: Enrolment, approved: bool, actor_id: int | None = None, **_: Any) -> None:
    data: dict[str, Any] = {
        "enrolment": enrolment_data(enrolment),
        "decision": "approved" if approved else "rejected",
        "decided_by": actor_id,
    }
    record_webhook_event(WebhookEvent.ENROLMENT_DECIDED, enrolment.authority_id, data)


@enrolment_completed.connect
def on_enrolment_completed(enrolment: Enrolment, **_: Any) -> None:
    record_webhook_event(
        WebhookEvent.ENROLMENT_COMPLETED, enrolment.authority_id, {"enrolment": enrolment_data(enrolment)}
    )
    if lrs_config().enabled:
        record(xapi.completed(learning_of(enrolment), enrolment.completed_at or utcnow()))


def _certificate_authority(certificate: Certificate) -> tuple[Enrolment | None, int | None]:
    enrolment = db.session.get(Enrolment, certificate.enrolment_id) if certificate.enrolment_id else None
    if enrolment is not None:
        return enrolment, enrolment.authority_id
    return None, certificate.user.authority_id if certificate.user else None


@certificate_issued.connect
def on_certificate_issued(certificate: Certificate, **_: Any) -> None:
    enrolment, authority_id = _certificate_authority(certificate)
    record_webhook_event(
        WebhookEvent.CERTIFICATE_ISSUED, authority_id, {"certificate": certificate_data(certificate)}
    )
    if enrolment is not None and lrs_config().enabled:
        statement = xapi.earned(
            learning_of(enrolment),
            certificate.issued_at or utcnow(),
            certificate.code,
            certificate.course_title,
        )
        record(statement)


@certificate_revoked.connect
def on_certificate_revoked(certificate: Certificate, **_: Any) -> None:
    _enrolment, authority_id = _certificate_authority(certificate)
    record_webhook_event(
        WebhookEvent.CERTIFICATE_REVOKED, authority_id, {"certificate": certificate_data(certificate)}
    )


@place_taken.connect
def on_place_taken(enrolment: Enrolment, **_: Any) -> None:
    if lrs_config().enabled:
        record(xapi.registered(learning_of(enrolment), enrolment.enrolled_at or utcnow()))


@attendance_changed.connect
def on_attendance_changed(enrolment: Enrolment, **_: Any) -> None:
    if enrolment.attended_minutes > 0 and lrs_config().enabled:
        record(xapi.attended(learning_of(enrolment), utcnow(), enrolment.attended_minutes))


@attempt_finished.connect
def on_attempt_finished(attempt: QuizAttempt, enrolment_id: int | None = None, **_: Any) -> None:
    if attempt.status not in FINISHED_STATUSES or attempt.passed is None:
        return
    # The quiz first: grading loaded it (no statement), and a practice attempt, the commonest, is never
    # sent, so it does not read the LRS settings either (issue 22).
    quiz = db.session.get(Quiz, attempt.quiz_id)
    if quiz is None or quiz.role not in GRADED_ROLES or not lrs_config().enabled:
        return
    enrolment = db.session.get(Enrolment, attempt.enrolment_id)
    if enrolment is None:
        return
    result = xapi.QuizResult(
        attempt_id=attempt.id,
        quiz_slug=quiz.slug,
        quiz_title=quiz.title,
        score=float(attempt.score or 0.0),
        max_score=float(attempt.max_score or 0.0),
        passed=bool(attempt.passed),
        finished_at=attempt.submitted_at or utcnow(),
    )
    record(xapi.quiz_finished(learning_of(enrolment), result))

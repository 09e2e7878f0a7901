"""The enrolment blueprint and what its pages share: status badges, a run or 404, a kept refusal flashed."""

from __future__ import annotations

from flask import Blueprint, abort, flash
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.enrolment.models import (
    CourseRun,
)
from lms.extensions import db
from lms.unit_of_work import Refusal

bp = Blueprint("enrolment", __name__)

# Badge words for enrolment statuses, translated when shown (a report page shows fifty badges).
STATUS_LABELS = {
    "nominated": _l("Nominated"),
    "requested": _l("Requested"),
    "waiting": _l("Waiting list"),
    "enrolled": _l("Enrolled"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "completed": _l("Completed"),
}


@bp.app_template_global("enrolment_status_label")
def enrolment_status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def _run_or_404(run_id: int) -> CourseRun:
    return db.session.get(CourseRun, run_id) or abort(404)


def _refused(refusal: Refusal) -> int:
    """A refusal kept by ``refusal_kept`` (rolled back), for a page drawn again: flashed; its status."""
    assert refusal.error is not None  # noqa: S101  # only called for a kept refusal
    flash(refusal.error.message, "error")
    return refusal.error.status_code


def _focal_authority_ids() -> set[int]:
    return current_user.focal_point_authority_ids()

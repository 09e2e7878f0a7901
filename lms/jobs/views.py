"""The admins' view of background work: queue size, failed jobs, mail that could not be sent."""

from __future__ import annotations

from flask import Blueprint, render_template

from lms.auth.access import allow
from lms.auth.models import Role
from lms.jobs.queries import job_overview

bp = Blueprint("jobs", __name__)


@bp.route("/admin/jobs")
@allow(Role.ADMIN)
def admin_jobs() -> str:
    return render_template("jobs/admin.html", overview=job_overview())

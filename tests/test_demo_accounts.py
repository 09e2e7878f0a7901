"""`flask lms demo load` tells how many demo accounts it made: all of them, the finished cohort's too."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import User
from lms.cli import lms_group
from lms.content.loader import load_all
from lms.content.services import sync_course
from lms.demo.cohort import COHORT
from lms.demo.services import DEMO_PEOPLE
from lms.enrolment.runs import ensure_default_run
from lms.extensions import db
from lms.orgs.services import load_reference_data
from tests.a11y_support import PROJECT_ROOT


def test_demo_load_counts_every_account_it_creates(app: Flask) -> None:
    """It said "8 demo account(s) created" while 26 existed: the cohort's 18 were not counted."""
    load_reference_data()
    specs, problems = load_all(PROJECT_ROOT / "courses")
    assert not problems, problems
    for spec in specs:
        ensure_default_run(sync_course(spec).course)
    db.session.commit()

    runner = app.test_cli_runner()
    result = runner.invoke(lms_group, ["demo", "load"])
    assert result.exit_code == 0, result.output
    # Every account with the demo password; Oksana Melnyk, added by the focal point, sets her own.
    emails = [person.email for person in DEMO_PEOPLE] + [member.email for member in COHORT]
    accounts = db.session.scalar(select(func.count(User.id)).where(User.email.in_(emails)))
    assert accounts == len(emails) == 26
    assert f"{accounts} demo account(s) created" in result.output
    assert all(f"created {email} " in result.output for email in emails)

    again = runner.invoke(lms_group, ["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "0 demo account(s) created" in again.output

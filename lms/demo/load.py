"""`flask lms demo load`: the demo people and progress (services.py), then the finished cohort (cohort.py).

The cohort builds on the demo people and services, so this module sits above both and neither imports it.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.auth.models import User
from lms.demo.api_demo import load_demo_api_tokens
from lms.demo.cohort import COHORT, load_demo_cohort
from lms.demo.integrations_demo import load_demo_webhooks
from lms.demo.services import DEMO_PEOPLE, load_demo_people
from lms.demo.sessions_demo import load_demo_sessions
from lms.demo.surveys_demo import load_demo_surveys
from lms.extensions import db


def load_demo_data() -> list[str]:
    """Idempotent: people who already exist are left as they are. Returns the emails of the accounts
    created now, the cohort's included (`demo load` counted only DEMO_PEOPLE: "8 created" of 26)."""
    emails = [person.email for person in DEMO_PEOPLE] + [member.email for member in COHORT]
    existed = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    load_demo_people()
    load_demo_cohort()  # two runs that ended months ago: history for the reports (lms/demo/cohort.py)
    load_demo_sessions()  # a workshop in Chisinau, a weekly online class, a blended run (issue 20)
    load_demo_surveys()  # the standard forms on every run, answers from the finished ones (issue 21)
    load_demo_api_tokens()  # an authority's HR system token and a donor's, secrets not kept (issue 24)
    load_demo_webhooks()  # the academy's and an authority's webhook subscriptions, a delivery log (issue 24)
    db.session.flush()
    now = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    return [email for email in emails if email in now - existed]

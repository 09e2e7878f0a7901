"""Demo API tokens (issue 24): a service token for the Ukrainian border guard's HR system, acting as its
focal point, and a donor's monitoring token. Their secrets are made and thrown away here, never printed
or written anywhere: the token pages show that they exist, what they may do and when they were last
used. To call the API, make your own token on /account/api-tokens (README "API"). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.api import tokens
from lms.api.models import ApiToken
from lms.auth.services import find_user_by_email
from lms.db import utcnow
from lms.extensions import db
from lms.orgs.models import Authority

HR_TOKEN = "HR system of the State Border Guard Service (demo)"
DONOR_TOKEN = "Donor monitoring (demo)"


def load_demo_api_tokens() -> None:
    admin = find_user_by_email("admin@academy.test")
    focal = find_user_by_email("focal.ua@academy.test")
    authority = db.session.scalar(select(Authority).where(Authority.code == "ua-sbgs"))
    if admin is None or focal is None or authority is None:
        return
    existing = set(
        db.session.scalars(select(ApiToken.name).where(ApiToken.name.in_((HR_TOKEN, DONOR_TOKEN))))
    )
    if HR_TOKEN not in existing:
        scopes = (
            "catalogue:read",
            "people:read",
            "nominations:write",
            "enrolments:read",
            "certificates:read",
        )
        issued = tokens.issue_for_authority(
            admin, authority, focal, tokens.TokenRequest(HR_TOKEN, scopes, 365)
        )
        issued.token.last_used_at = utcnow() - timedelta(
            hours=3
        )  # as if the HR system synchronised this morning
    if DONOR_TOKEN not in existing:
        tokens.issue_for_donor(admin, tokens.TokenRequest(DONOR_TOKEN, ("reports:read",), 180))
    db.session.flush()

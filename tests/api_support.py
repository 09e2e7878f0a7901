"""Tokens and a nomination run for the API tests (issue 24)."""

from __future__ import annotations

from datetime import timedelta

from lms.api import tokens
from lms.api.models import ApiToken
from lms.auth.models import User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import CourseRun, EnrolmentMethod
from lms.extensions import db
from lms.orgs.models import Authority

ALL_SCOPES = tuple(tokens.SCOPES)


def personal(user: User, *scopes: str, days: int = 30) -> str:
    issued = tokens.issue_personal(user, tokens.TokenRequest("test", scopes or ALL_SCOPES, days))
    db.session.commit()
    return issued.secret


def for_authority(admin: User, authority: Authority, focal_point: User, *scopes: str) -> str:
    request = tokens.TokenRequest("hr system", scopes or ALL_SCOPES, 30)
    issued = tokens.issue_for_authority(admin, authority, focal_point, request)
    db.session.commit()
    return issued.secret


def for_donor(admin: User) -> str:
    issued = tokens.issue_for_donor(admin, tokens.TokenRequest("donor", ("reports:read",), 30))
    db.session.commit()
    return issued.secret


def expire(secret: str) -> None:
    token = tokens.token_for_secret(secret)
    assert token is not None
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def token_of(secret: str) -> ApiToken:
    token = tokens.token_for_secret(secret)
    assert token is not None
    return token


def nomination_run(course: Course) -> CourseRun:
    run = CourseRun(course_id=course.id, title="Nominated run", enrolment_method=EnrolmentMethod.NOMINATION,
                    seats_total=20)  # fmt: skip
    db.session.add(run)
    db.session.commit()
    return run


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}

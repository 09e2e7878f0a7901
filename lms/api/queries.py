"""What a caller of the API may read, page by page (issue 24).

The same rules as the pages: an admin's personal token reads everyone; a focal point's personal token
and an authority's service token read the staff of the authority (a service token only its own one,
whatever else its person may do); anyone reads their own enrolments and certificates; a donor token
reads indicator figures only. Pages are keyset pages over ids with an opaque cursor.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.sql import Select

from lms.api.bearer import Caller
from lms.api.models import TokenKind
from lms.api.problems import ApiProblem, field_error
from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentEvent
from lms.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
    except (ValueError, TypeError, KeyError):
        raise field_error("cursor", _("This cursor was not given by the API.")) from None
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**31:
        raise field_error("cursor", _("This cursor was not given by the API."))
    return after


def page_of(query: Select[Any], id_column: Any, cursor: str | None, limit: int) -> Page:
    rows = list(
        db.session.scalars(
            query.where(id_column > decode_cursor(cursor)).order_by(id_column).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more else None)


# --- who may read what ------------------------------------------------------------------------------


def staff_authorities(caller: Caller) -> set[int] | None:
    """The authorities whose staff the caller reads: None = all (an admin's personal token)."""
    token, user = caller.token, caller.user
    if token.kind == TokenKind.AUTHORITY:
        return {token.authority_id} if token.authority_id is not None else set()
    if token.kind == TokenKind.DONOR or user is None:
        return set()
    if user.has_role(Role.ADMIN):
        return None
    return user.focal_point_authority_ids()


def require_staff_reader(caller: Caller) -> set[int] | None:
    authorities = staff_authorities(caller)
    if authorities == set():
        raise ApiProblem(403, _("Only an administrator or a focal point may read people."))
    return authorities


def own_id(caller: Caller) -> int | None:
    """A personal token also reads its owner's own records."""
    return caller.user.id if caller.token.kind == TokenKind.PERSONAL and caller.user else None


def _visible(caller: Caller, authority_column: Any, user_column: Any) -> ColumnElement[bool]:
    authorities = staff_authorities(caller)
    if caller.token.kind == TokenKind.DONOR:
        raise ApiProblem(403, _("A donor token reads indicator figures only."))
    if authorities is None:
        return true()
    mine = own_id(caller)
    return or_(authority_column.in_(authorities) if authorities else false(), user_column == (mine or -1))


def people(caller: Caller) -> Select[tuple[User]]:
    authorities = require_staff_reader(caller)
    query = select(User).where(User.merged_into_id.is_(None))
    return query if authorities is None else query.where(User.authority_id.in_(authorities))


def enrolments(caller: Caller) -> Select[tuple[Enrolment]]:
    visible = _visible(caller, Enrolment.authority_id, Enrolment.user_id)
    return select(Enrolment).join(User, User.id == Enrolment.user_id).where(visible)


def certificates(caller: Caller) -> Select[tuple[Certificate]]:
    visible = _visible(caller, User.authority_id, Certificate.user_id)
    return select(Certificate).join(User, User.id == Certificate.user_id).where(visible)


def one(query: Select[tuple[T]], id_column: Any, wanted: int) -> T:
    row = db.session.scalar(query.where(id_column == wanted))
    if row is None:
        raise ApiProblem(404, _("Not found, or not yours to see."))
    return row


def enrolments_changed_since(since: datetime) -> ColumnElement[bool]:
    """An enrolment changed when it was made, completed, studied, or its state changed (its events)."""
    changed_state = select(EnrolmentEvent.enrolment_id).where(EnrolmentEvent.at >= since)
    return or_(
        Enrolment.created_at >= since,
        Enrolment.completed_at >= since,
        Enrolment.last_activity_at >= since,
        Enrolment.id.in_(changed_state),
    )


def published_courses() -> Select[tuple[Course]]:
    return select(Course).where(Course.is_published.is_(True))


def catalogue_runs() -> Select[tuple[CourseRun]]:
    return (
        select(CourseRun).join(Course, Course.id == CourseRun.course_id).where(Course.is_published.is_(True))
    )

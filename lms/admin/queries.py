"""Read side of administration: the people list, a person's page, the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User, UserRole
from lms.auth.search_name import fold
from lms.courses.models import Course
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.orgs.models import Authority, Country

PAGE_SIZE = 25


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class PeopleFilter:
    q: str = ""
    country: str = ""
    authority_id: int | None = None
    role: str = ""
    status: str = ""  # "" | active | deactivated | unconfirmed


@dataclass(frozen=True)
class PersonRow:
    user: User
    authority: Authority | None
    country: Country | None


@dataclass(frozen=True)
class Page:
    rows: list[PersonRow]
    total: int
    page: int
    pages: int


def _filtered(query: Select[Any], filters: PeopleFilter) -> Select[Any]:
    term = fold(filters.q)
    if term:
        pattern = like_pattern(term)
        # search_name is casefolded in Python (every script); lower() on both sides keeps
        # PostgreSQL and SQLite equally case-insensitive for whatever folding they can do.
        query = query.where(
            or_(
                func.lower(User.search_name).like(func.lower(pattern), escape="\\"),
                func.lower(User.email).like(func.lower(pattern), escape="\\"),
            )
        )
    if filters.country:
        query = query.where(User.country_code == filters.country.upper())
    if filters.authority_id:
        query = query.where(User.authority_id == filters.authority_id)
    if filters.role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters.role)))
    if filters.status == "active":
        query = query.where(User.active.is_(True))
    elif filters.status == "deactivated":
        query = query.where(User.active.is_(False))
    elif filters.status == "unconfirmed":
        query = query.where(User.email_confirmed_at.is_(None))
    return query


def people_page(filters: PeopleFilter, page: int = 1, page_size: int = PAGE_SIZE) -> Page:
    """One count, one page query with authority and country joined, one query for all the roles:
    three queries whatever the page size."""
    total = db.session.scalar(_filtered(select(func.count(User.id)), filters)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    query = (
        _filtered(select(User, Authority, Country), filters)
        .outerjoin(Authority, User.authority_id == Authority.id)
        .outerjoin(Country, User.country_code == Country.code)
        .options(selectinload(User.roles).joinedload(UserRole.authority))
        .order_by(User.family_name, User.given_name, User.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = [PersonRow(user, authority, country) for user, authority, country in db.session.execute(query)]
    return Page(rows=rows, total=total, page=page, pages=pages)


@dataclass(frozen=True)
class EnrolmentLine:
    enrolment: Enrolment
    run: CourseRun
    course: Course


def person_enrolments(user_id: int) -> list[EnrolmentLine]:
    rows = db.session.execute(
        select(Enrolment, CourseRun, Course)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .join(Course, CourseRun.course_id == Course.id)
        .where(Enrolment.user_id == user_id)
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
    ).all()
    return [EnrolmentLine(e, r, c) for e, r, c in rows]


@dataclass(frozen=True)
class AuditLine:
    record: AuditRecord
    actor_name: str | None
    actor_email: str | None


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""  # email or part of it
    subject_type: str = ""
    subject_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _audit_query(filters: AuditFilter) -> Select[Any]:
    actor = aliased(User)
    query = select(AuditRecord, actor.given_name, actor.family_name, actor.email).outerjoin(
        actor, AuditRecord.actor_id == actor.id
    )
    if filters.action:
        query = query.where(AuditRecord.action.like(like_pattern(filters.action.strip()), escape="\\"))
    if filters.actor:
        query = query.where(
            func.lower(actor.email).like(like_pattern(filters.actor.strip().lower()), escape="\\")
        )
    if filters.subject_type:
        query = query.where(AuditRecord.subject_type == filters.subject_type.strip())
    if filters.subject_id:
        query = query.where(AuditRecord.subject_id == filters.subject_id.strip())
    if filters.since:
        query = query.where(AuditRecord.at >= filters.since)
    if filters.until:
        query = query.where(AuditRecord.at < filters.until)
    return query


def _audit_line(row: Any) -> AuditLine:
    record, given, family, email = row
    name = f"{given} {family}" if given else None
    return AuditLine(record, name, email)


def audit_page(filters: AuditFilter, page: int = 1, page_size: int = 50) -> tuple[list[AuditLine], int, int]:
    total = db.session.scalar(select(func.count()).select_from(_audit_query(filters).subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        _audit_query(filters).order_by(AuditRecord.id.desc()).limit(page_size).offset((page - 1) * page_size)
    )
    return [_audit_line(row) for row in rows], total, pages


def audit_lines(filters: AuditFilter) -> Iterator[AuditLine]:
    """Every matching record, oldest first, streamed for the CSV export."""
    rows = db.session.execute(_audit_query(filters).order_by(AuditRecord.id).execution_options(yield_per=500))
    for row in rows:
        yield _audit_line(row)


def person_activity(user_id: int, limit: int = 20) -> list[AuditLine]:
    actor = aliased(User)
    rows = db.session.execute(
        select(AuditRecord, actor.given_name, actor.family_name, actor.email)
        .outerjoin(actor, AuditRecord.actor_id == actor.id)
        .where(
            or_(
                AuditRecord.actor_id == user_id,
                (AuditRecord.subject_type == "user") & (AuditRecord.subject_id == str(user_id)),
            )
        )
        .order_by(AuditRecord.id.desc())
        .limit(limit)
    )
    return [_audit_line(row) for row in rows]


def authorities_overview() -> list[tuple[Authority, Country, int, list[User]]]:
    """Every authority with its country, staff count and focal points, in three queries."""
    rows = db.session.execute(
        select(Authority, Country)
        .join(Country, Authority.country_code == Country.code)
        .order_by(Country.name, Authority.name)
    ).all()
    staff: dict[int | None, int] = {
        authority_id: count
        for authority_id, count in db.session.execute(
            select(User.authority_id, func.count(User.id)).group_by(User.authority_id)
        )
    }
    focal: dict[int, list[User]] = {}
    for role_authority_id, user in db.session.execute(
        select(UserRole.authority_id, User)
        .join(User, UserRole.user_id == User.id)
        .where(UserRole.role == Role.FOCAL_POINT)
        .order_by(User.family_name)
    ):
        focal.setdefault(role_authority_id, []).append(user)
    return [(a, c, int(staff.get(a.id, 0)), focal.get(a.id, [])) for a, c in rows]

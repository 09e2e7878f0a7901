"""Making, finding and revoking API tokens (issue 24).

A token is ``lms_`` followed by 43 URL-safe characters (256 random bits): the prefix lets secret
scanners and people recognise it. The database keeps the SHA-256 of the whole token (a fast hash is
right for a high-entropy secret: there is nothing to guess) and a short hint for the lists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.api.models import ApiToken, TokenKind
from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.db import utcnow
from lms.errors import Forbidden, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority

TOKEN_PREFIX = "lms_"  # noqa: S105  # a prefix, not a secret
MAX_DAYS = 366
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute per token

SCOPES = {
    "catalogue:read": _l("Read the catalogue: courses and runs"),
    "people:read": _l("Read the people of your authority"),
    "nominations:write": _l("Nominate and withdraw nominations"),
    "enrolments:read": _l("Read enrolments, progress and completion"),
    "certificates:read": _l("Read and verify certificates"),
    "reports:read": _l("Read indicator figures"),
}
DONOR_SCOPES = frozenset({"reports:read", "catalogue:read"})


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class TokenRequest:
    name: str
    scopes: tuple[str, ...]
    days: int


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _checked(request: TokenRequest, allowed: frozenset[str] | None = None) -> None:
    if not request.name.strip():
        raise ValidationFailed(_("Give the token a name."))
    if not request.scopes or any(scope not in SCOPES for scope in request.scopes):
        raise ValidationFailed(_("Choose at least one of the listed scopes."))
    if allowed is not None and not set(request.scopes) <= allowed:
        raise ValidationFailed(_("A donor token may only read indicator figures and the catalogue."))
    if not 1 <= request.days <= MAX_DAYS:
        raise ValidationFailed(_("A token lasts between 1 and %(days)s days.", days=MAX_DAYS))


def _issue(request: TokenRequest, kind: TokenKind, actor_id: int | None, **owner: int | None) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        kind=kind,
        name=request.name.strip(),
        hint=secret[: len(TOKEN_PREFIX) + 6],
        secret_hash=hash_secret(secret),
        scopes=" ".join(sorted(set(request.scopes))),
        created_by_id=actor_id,
        expires_at=utcnow() + timedelta(days=request.days),
        **owner,
    )
    db.session.add(token)
    db.session.flush()
    after = {"kind": str(kind), "name": token.name, "scopes": token.scopes}
    record_event("api_token.created", "api_token", token.id, actor_id=actor_id, after=after)
    return IssuedToken(token, secret)


def issue_personal(owner: User, request: TokenRequest) -> IssuedToken:
    _checked(request)
    return _issue(request, TokenKind.PERSONAL, owner.id, user_id=owner.id)


def issue_for_authority(
    actor: User, authority: Authority, acting_as: User, request: TokenRequest
) -> IssuedToken:
    """An admin makes a service token that acts as ``acting_as``, a focal point of ``authority``."""
    _require_admin(actor)
    _checked(request)
    if authority.id not in acting_as.focal_point_authority_ids():
        raise ValidationFailed(_("The token must act as a focal point of that authority."))
    return _issue(request, TokenKind.AUTHORITY, actor.id, user_id=acting_as.id, authority_id=authority.id)


def issue_for_donor(actor: User, request: TokenRequest) -> IssuedToken:
    _require_admin(actor)
    _checked(request, DONOR_SCOPES)
    return _issue(request, TokenKind.DONOR, actor.id)


def _require_admin(actor: User) -> None:
    if not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can make service tokens."))


def revoke(token: ApiToken, actor: User) -> None:
    """The owner revokes their own token; an admin revokes any."""
    if token.user_id != actor.id and not actor.has_role(Role.ADMIN):
        raise Forbidden(_("You can only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event("api_token.revoked", "api_token", token.id, actor_id=actor.id)
    db.session.flush()


def token_for_secret(secret: str) -> ApiToken | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))


def needs_last_used(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION


def tokens_of(user_id: int) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.kind == TokenKind.PERSONAL)
    return list(db.session.scalars(query.order_by(ApiToken.id.desc())))


def focal_point_choices() -> list[tuple[str, str]]:
    """Every focal point with their authority, as "authority_id:user_id" and a label, for the admin's form."""
    rows = db.session.execute(
        select(UserRole.authority_id, User.id, User.given_name, User.family_name, Authority.name)
        .join(User, User.id == UserRole.user_id)
        .join(Authority, Authority.id == UserRole.authority_id)
        .where(UserRole.role == Role.FOCAL_POINT, User.active.is_(True))
        .order_by(Authority.name, User.family_name, User.id)
    )
    return [(f"{a}:{u}", f"{authority} — {given} {family}") for a, u, given, family, authority in rows]


def all_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc()).limit(500)))

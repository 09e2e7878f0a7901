"""Accounts: registration, sign-in and role checks. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.auth.models import Role, User, UserRole
from lms.auth.password_policy import check_new_password
from lms.auth.passwords import hash_password, needs_rehash, verify_password
from lms.auth.profile import ProfileChange, write_profile
from lms.auth.session_stamp import session_is_current
from lms.db import utcnow
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    given_name: str
    family_name: str
    patronymic: str | None
    native_name: str | None
    country_code: str
    authority_id: int
    sex: str | None = None
    position: str | None = None
    preferred_language: str | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


@cache
def _user_with_roles() -> Select[tuple[User]]:
    # Runs on every signed-in request. Roles come in the same query (navigation and access rules read
    # them), and the statement is built once: a statement object keeps its cache key, so a request pays
    # for the query only (see docs/performance.md).
    return select(User).options(joinedload(User.roles)).where(User.id == bindparam("user_id"))


def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.execute(_user_with_roles(), {"user_id": int(user_id)}).unique().scalar_one_or_none()
    # A deactivated person's open sessions end at their next request, not only their next sign-in.
    if user is None or not user.active:
        return None
    return user if session_is_current(user) else None


def end_sessions(user: User) -> None:
    """Every session of this person issued so far stops working at its next request (the user loader
    compares the session's fingerprint, which includes the version). The caller re-stamps the current
    session when it should go on (a password change)."""
    _write_quietly(user, session_version=(user.session_version or 0) + 1)


def _write_quietly(user: User, **values: object) -> None:
    """Session version, sign-in time, a rehashed password: nothing an HR system synchronises, so written
    with ``updated_at`` kept as it is (the column's onupdate would move it; lms.api's updated_since).
    Pending changes of the person are flushed first, and move it as usual."""
    db.session.flush()
    statement = update(User).where(User.id == user.id).values(updated_at=User.updated_at, **values)
    db.session.execute(statement, execution_options={"synchronize_session": False})
    for name, value in values.items():
        set_committed_value(user, name, value)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register_user(data: Registration, roles: tuple[str, ...] = (Role.TRAINEE,)) -> User:
    email = normalise_email(data.email)
    check_new_password(data.password, email, data.given_name, data.family_name)
    if find_user_by_email(email) is not None:
        # Registration must say so; sign-in never does (it does not reveal which emails exist).
        raise ValidationFailed(_("An account with this email address already exists. Sign in instead."))
    authority = db.session.get(Authority, data.authority_id)
    if authority is None or authority.country_code != data.country_code:
        raise ValidationFailed(_("Choose an authority of the selected country."))
    if authority.is_retired:
        raise ValidationFailed(_("This authority no longer takes new staff accounts."))
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        country_code=data.country_code,
        authority_id=authority.id,
        sex=data.sex or None,
    )
    profile = ProfileChange(
        given_name=data.given_name, family_name=data.family_name, patronymic=data.patronymic,
        native_name=data.native_name, preferred_language=data.preferred_language, timezone=None,
        position=data.position,
    )  # fmt: skip
    write_profile(user, profile, own=True)  # the same fields and rules as the account page's
    user.roles = [UserRole(role=role) for role in roles]
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the credentials are right and the account is active, else None (no reason given)."""
    user = password_matches(email, password)
    if user is not None:
        note_sign_in(user, password)
    return user


def password_matches(email: str, password: str) -> User | None:
    """The active user whose password this is, else None: reads and the hash only, no write (the sign-in
    view runs it in a reading transaction, so no database write lock is held during the hash)."""
    user = find_user_by_email(email)
    # The hash is checked even for an unknown email, so both answers take the same time.
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        return None
    return user


def note_sign_in(user: User, password: str) -> None:
    """After ``password_matches``: a stronger hash when the parameters changed, and the sign-in time."""
    values: dict[str, object] = {"last_login_at": utcnow()}
    if needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    _write_quietly(user, **values)

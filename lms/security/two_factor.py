"""The second factor (TOTP) for admins and focal points: setting it up, confirming, checking a code,
removing it.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.db import begin_writing, utcnow
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.ops import ratelimit
from lms.security import totp
from lms.security.models import TwoFactorCredential
from lms.settings.services import get_settings

TWO_FACTOR_ROLES = (Role.ADMIN, Role.FOCAL_POINT)


# --- two-factor ---------------------------------------------------------------------------------


def two_factor_offered(user: User) -> bool:
    return user.has_role(*TWO_FACTOR_ROLES)


def confirmed_credential(user_id: int) -> TwoFactorCredential | None:
    credential = db.session.get(TwoFactorCredential, user_id)
    return credential if credential is not None and credential.confirmed_at is not None else None


def start_two_factor(user: User) -> TwoFactorCredential:
    """A fresh secret to scan (replacing an unconfirmed one); not in force until confirmed."""
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise ValidationFailed(_("Two-factor sign-in is already on."))
    if credential is None:
        credential = TwoFactorCredential(user_id=user.id, secret=totp.new_secret())
        db.session.add(credential)
    db.session.flush()
    return credential


def two_factor_being_set_up(user: User) -> TwoFactorCredential:
    """The secret the set-up page shows, stored the first time the page is opened (a GET).

    The one write a GET of this feature makes, on purpose: the code typed next is checked against
    the stored secret, so the page may only show a secret that is stored. ``begin_writing`` ends the
    page's read transaction and sets ``g.write_intent``, so the unit of work commits this GET
    (docs/architecture.md, "Unit of work"); later views of the page find the secret and write nothing."""
    credential = pending_two_factor(user.id)
    if credential is None:
        begin_writing()
        credential = start_two_factor(user)
    return credential


def pending_two_factor(user_id: int) -> TwoFactorCredential | None:
    """The secret being set up (shown on the set-up page, not yet confirmed), if any."""
    credential = db.session.get(TwoFactorCredential, user_id)
    return credential if credential is not None and credential.confirmed_at is None else None


def _accept_code(credential: TwoFactorCredential, code: str) -> bool:
    step = totp.matching_step(credential.secret, code)
    if step is None or step <= credential.last_step:
        return False
    # Atomic: two concurrent requests with the same code cannot both pass.
    moved = db.session.execute(
        update(TwoFactorCredential)
        .where(TwoFactorCredential.user_id == credential.user_id, TwoFactorCredential.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    credential.last_step = step
    return getattr(moved, "rowcount", 0) == 1


def confirm_two_factor(user: User, code: str) -> None:
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is None or credential.confirmed_at is not None:
        raise ValidationFailed(_("Start the set-up again."))
    if not _accept_code(credential, code):
        raise ValidationFailed(_("That code is not right. Check your device's clock and try the next code."))
    credential.confirmed_at = utcnow()
    record_event("auth.two_factor_enabled", "user", user.id, actor_id=user.id)
    db.session.flush()


def disable_two_factor(user: User, actor_id: int) -> None:
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is not None:
        db.session.delete(credential)
        record_event("auth.two_factor_disabled", "user", user.id, actor_id=actor_id)
    db.session.flush()


def second_factor_allowed(user_id: int) -> bool:
    config = current_app.config
    return ratelimit.hit(
        f"login:2fa:{user_id}",
        int(config.get("TWO_FACTOR_LIMIT", 5)),
        int(config.get("LOGIN_LIMIT_WINDOW", 900)),
    )


def verify_second_factor(user: User, code: str) -> bool:
    credential = confirmed_credential(user.id)
    return credential is not None and _accept_code(credential, code)


def provisioning_uri(user: User, credential: TwoFactorCredential) -> str:
    return totp.provisioning_uri(credential.secret, user.email, get_settings().academy_name)

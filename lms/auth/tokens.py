"""Single-use links mailed to a person (email confirmation, password reset): written in one place.

Only the SHA-256 of a token is stored, so a leaked database opens no link; a new link ends the
person's earlier unused links of the same kind.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import has_request_context, request, url_for
from sqlalchemy import update

from lms.db import utcnow
from lms.extensions import db
from lms.settings.services import public_base_url


class OneTimeTokenRow(Protocol):
    """The columns a one-time token table has (EmailConfirmation, PasswordReset)."""

    user_id: Any
    used_at: Any
    expires_at: Any

    def __init__(self, **columns: Any) -> None: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_one_time_token(
    model: type[OneTimeTokenRow], user_id: int, lifetime: timedelta, **columns: Any
) -> str:
    """Add a new token row of ``model`` for the person and expire their unused ones; returns the raw
    token (for the mail and the tests). ``columns`` are the table's own extra columns."""
    now: datetime = utcnow()
    db.session.execute(
        update(model).where(model.user_id == user_id, model.used_at.is_(None)).values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        model(
            user_id=user_id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
            **columns,
        )
    )
    return token


def public_link(endpoint: str, **values: Any) -> str:
    """The absolute link a mail carries: the academy's public base URL and the route's path."""
    path = url_for(endpoint, **values)
    if has_request_context() and request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root) :]  # the public base URL already carries any prefix
    return public_base_url() + path

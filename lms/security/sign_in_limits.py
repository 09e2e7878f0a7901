"""Limits on sign-in and password-reset requests (per account and per address), and the sign-in audit
rows. These stay on lms.ops.ratelimit (forgive on success, per account across addresses, a growing
delay); the per-address route limits (registration, the verify pages) are Flask-Limiter's
(lms.ops.route_limits).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app, has_request_context, request

from lms.audit.services import record_event
from lms.auth.models import User
from lms.extensions import db
from lms.ops import ratelimit

# --- sign-in ------------------------------------------------------------------------------------


def client_address() -> str:
    return (request.remote_addr if has_request_context() else None) or "-"


@dataclass(frozen=True)
class SignInCheck:
    """The answer before a password is checked: go on, or refuse for ``retry_after`` seconds.
    ``refused_by`` names the limit ("address", "account_address", "account_delay"); ``delay`` is the
    account's current growing delay (0 when none applies to this address)."""

    allowed: bool
    retry_after: int = 0
    refused_by: str = ""
    delay: int = 0
    keys: tuple[str, ...] = ()  # counted before the check; given back when the password is right


def _login_limits() -> dict[str, int]:
    config = current_app.config
    return {
        "window": int(config.get("LOGIN_LIMIT_WINDOW", 900)),
        "per_ip": int(config.get("LOGIN_LIMIT_PER_IP", 100)),
        "per_account_address": int(config.get("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", 10)),
        "delay_after": int(config.get("LOGIN_DELAY_AFTER", 5)),
        "delay_max": int(config.get("LOGIN_DELAY_MAX", 60)),
    }


def _account_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def sign_in_delay(account_failures: int, *, after: int, maximum: int) -> int:
    """Seconds between attempts on an account that has failed ``account_failures`` times in the window
    (from every address): none up to ``after``, then 1, 2, 4, 8... up to ``maximum``."""
    if account_failures < after or maximum <= 0:
        return 0
    return min(2 ** min(account_failures - after, 30), maximum)


def check_sign_in(email: str) -> SignInCheck:
    """Before the password is checked (docs/security.md, "Sign-in limits"; ASVS 5.0 V6.1.1, V6.3.1).

    Refused (429) are the address that failed too often (on any accounts: credential stuffing) and the
    address that failed too often on this account (guessing). Failures on the account from every
    address make a growing delay between attempts, but only for addresses that have already failed on
    this account: the right password from an address that has not been failing always gets through,
    so nobody can lock a person out by failing on purpose. The attempt is counted now (concurrent
    guesses cannot overshoot a limit) and given back by ``passed_sign_in`` when the password was right,
    so the limits count failures. The account key exists for unknown emails too: answers reveal
    nothing about which addresses have accounts."""
    limits = _login_limits()
    window = limits["window"]
    account = _account_hash(email)
    address = client_address()
    address_key = f"login:ip:{address}"
    pair_key = f"login:pair:{account}:{address}"
    keys = (address_key, pair_key)
    address_ok = ratelimit.hit(address_key, limits["per_ip"], window)
    pair_ok = ratelimit.hit(pair_key, limits["per_account_address"], window)
    if not address_ok or not pair_ok:
        by = "address" if not address_ok else "account_address"
        return SignInCheck(False, ratelimit.seconds_left(window), by, keys=keys)
    earlier_failures_here = ratelimit.count(pair_key, window) - 1
    if earlier_failures_here <= 0:
        return SignInCheck(True, keys=keys)  # an address that has not been failing on this account
    delay = sign_in_delay(
        ratelimit.count(f"login:account:{account}", window),
        after=limits["delay_after"],
        maximum=limits["delay_max"],
    )
    wait = ratelimit.hold(f"login:delay:{account}", delay)
    if wait:
        for key in keys:  # no password was tried: waiting costs the address nothing
            ratelimit.forgive(key, window)
        return SignInCheck(False, wait, "account_delay", delay, keys)
    return SignInCheck(True, delay=delay, keys=keys)


def failed_sign_in(email: str) -> None:
    """A wrong password (or unknown email): counts towards the account's growing delay."""
    window = _login_limits()["window"]
    ratelimit.hit(f"login:account:{_account_hash(email)}", 2**31 - 1, window)


def passed_sign_in(check: SignInCheck) -> None:
    """The password was right: the attempt counted by ``check_sign_in`` was no failure."""
    window = _login_limits()["window"]
    for key in check.keys:
        ratelimit.forgive(key, window)


def keep_counted_attempt() -> None:
    """Commit the attempt counted so far (the rate-limit hits, a failed sign-in in the audit log) in a
    transaction of its own, before the view answers. The unit of work (lms/unit_of_work.py) rolls back
    every answer of 400 or more, and a refused or failed sign-in answers 401/429 (and a wrong second
    factor 401). The only commit a view may ask for itself."""
    db.session.commit()


def password_reset_allowed(email: str) -> bool:
    """Reset links have their own budget (asking for links must not use up anyone's sign-in attempts):
    per address, per account and address, and per account (a cap on the mails one inbox receives;
    the page answers the same whether or not a link was sent)."""
    limits = _login_limits()
    window = limits["window"]
    account = _account_hash(email)
    address = client_address()
    answers = [
        ratelimit.hit(f"reset:ip:{address}", limits["per_ip"], window),
        ratelimit.hit(f"reset:pair:{account}:{address}", limits["per_account_address"], window),
        ratelimit.hit(
            f"reset:account:{account}",
            int(current_app.config.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", 10)),
            window,
        ),
    ]
    return all(answers)


def record_sign_in(user: User, *, second_factor: bool = False) -> None:
    record_event("auth.sign_in", "user", user.id, actor_id=user.id, after={"two_factor": second_factor})


def record_failed_sign_in(email: str, *, reason: str = "credentials") -> None:
    # The typed address (truncated), not whether it exists: admins see attacks on an account.
    record_event(
        "auth.sign_in_failed", "email", None, after={"email": email.strip().lower()[:254], "reason": reason}
    )

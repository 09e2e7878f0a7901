"""Which expiry reminder a certificate is due (pure: plain values in, a tier out)."""

from __future__ import annotations

from datetime import datetime

REMINDER_DAYS = (60, 30, 7)


def reminder_tier(valid_until: datetime, now: datetime, days: tuple[int, ...] = REMINDER_DAYS) -> int | None:
    """The tightest tier the time left falls in (7 before 30 before 60), None when not expiring soon
    or already expired. Only the tightest is sent: a certificate found 5 days before expiry (first
    run after a deployment) gets the 7-day reminder, not three mails at once."""
    left = valid_until - now
    if left.total_seconds() <= 0:
        return None
    for tier in sorted(days):
        if left.days < tier:
            return tier
    return None


def reminder_kind(tier: int, certificate_id: int) -> str:
    """The outgoing_mail.kind of a reminder: also the record that it was sent (no extra table)."""
    return f"cert-expiry-{tier}:{certificate_id}"

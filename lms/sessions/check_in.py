"""Rotating self check-in codes of a session (issue 20). Pure: plain values in, plain values out.

The room's screen shows a QR code of ``/check-in/<session_id>/<code>`` and a short typed code; both change
every ``WINDOW_SECONDS``. A code is the HMAC-SHA256 of ``"<session_id>:<window>"`` under the session's own
random secret (``training_session.check_in_secret``, never shown), where ``window`` is the number of
30-second steps since the Unix epoch. Nothing is stored per code: the server recomputes the codes of the
current and the previous window (one rotation of grace, for a phone that scanned just before the change)
and compares in constant time. A code of another session, or of any older window (a photo sent round
after the session started), matches neither and is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW_SECONDS = 30
QR_CODE_LENGTH = 16  # hex characters of the HMAC in the URL: 64 bits, never guessed within 60 seconds
TYPED_CODE_LENGTH = 6
# No 0/O, 1/I/L: read off a projector across a room and typed on a phone without a mistake.
TYPED_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
OPENS_BEFORE_START = timedelta(minutes=30)
LATE_AFTER_START = timedelta(minutes=15)


def window_of(moment: datetime) -> int:
    """The 30-second step a moment falls in (floor of Unix time / 30)."""
    return int(moment.timestamp()) // WINDOW_SECONDS


def seconds_left(moment: datetime) -> int:
    """Until the code shown at ``moment`` rotates."""
    return WINDOW_SECONDS - int(moment.timestamp()) % WINDOW_SECONDS


def _digest(secret: str, session_id: int, window: int) -> bytes:
    message = f"{session_id}:{window}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def qr_code(secret: str, session_id: int, window: int) -> str:
    """The code in the QR URL: the HMAC truncated to 16 hex characters."""
    return _digest(secret, session_id, window).hex()[:QR_CODE_LENGTH]


def typed_code(secret: str, session_id: int, window: int) -> str:
    """Six characters of the unambiguous alphabet, from the same HMAC (its last eight bytes, so that the
    typed code tells nothing about the QR code's characters)."""
    number = int.from_bytes(_digest(secret, session_id, window)[-8:], "big")
    characters = []
    for _ in range(TYPED_CODE_LENGTH):
        number, index = divmod(number, len(TYPED_ALPHABET))
        characters.append(TYPED_ALPHABET[index])
    return "".join(characters)


def normalise_typed(text: str) -> str:
    """What a person typed, as the code is written: capitals, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


@dataclass(frozen=True)
class ScreenCodes:
    """What the room's screen shows for one window."""

    window: int
    qr: str
    typed: str
    seconds_left: int


def screen_codes(secret: str, session_id: int, now: datetime) -> ScreenCodes:
    window = window_of(now)
    return ScreenCodes(
        window, qr_code(secret, session_id, window), typed_code(secret, session_id, window), seconds_left(now)
    )


def code_matches(secret: str, session_id: int, code: str, now: datetime, *, typed: bool = False) -> bool:
    """True when ``code`` is this session's code of the current or the previous window."""
    if typed:
        given, make, length = normalise_typed(code), typed_code, TYPED_CODE_LENGTH
    else:
        given, make, length = code.strip().lower(), qr_code, QR_CODE_LENGTH
    if len(given) != length or not given.isascii():
        return False
    current = window_of(now)
    matched = False
    for window in (current, current - 1):  # both compared, always: the time taken says nothing
        matched |= hmac.compare_digest(make(secret, session_id, window), given)
    return matched


def check_in_open(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """Check-in opens 30 minutes before the start and closes at the end."""
    return starts_at - OPENS_BEFORE_START <= now <= ends_at


@dataclass(frozen=True)
class CheckInMark:
    late: bool
    minutes: int  # minutes still to attend: the whole session unless late


def check_in_mark(starts_at: datetime, ends_at: datetime, now: datetime) -> CheckInMark:
    """Present (the whole session) up to 15 minutes after the start; late after that, with the minutes
    left until the end."""
    whole = int((ends_at - starts_at).total_seconds() // 60)
    if now <= starts_at + LATE_AFTER_START:
        return CheckInMark(False, whole)
    left = int((ends_at - now).total_seconds() // 60)
    return CheckInMark(True, max(0, min(whole, left)))

"""Delivering one message: SMTP in production and tests, a file in development."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any


class MailTransportError(Exception):
    pass


def build_message(
    sender: str, recipient: str, subject: str, body: str, calendar_ics: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "academy.local")
    message.set_content(body, charset="utf-8")
    if calendar_ics:
        _add_calendar(message, calendar_ics)
    return message


def _add_calendar(message: EmailMessage, ics: str) -> None:
    """An iCalendar invitation the way mail clients read it (RFC 6047, as Google Calendar and Outlook
    send theirs): multipart/mixed of a multipart/alternative (the text, then ``text/calendar;
    method=REQUEST|CANCEL``, which Outlook, Gmail and Apple Mail turn into an invitation with its
    buttons) and the same document as an ``invite.ics`` attachment, for clients that only offer files.
    The ``method`` parameter must equal the document's METHOD."""
    method = _calendar_method(ics)
    params = {"method": method} if method else {}
    message.add_alternative(ics, subtype="calendar", charset="utf-8", params=params)
    message.add_attachment(ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics")


def _calendar_method(ics: str) -> str | None:
    for line in ics.splitlines():
        if line.upper().startswith("METHOD:"):
            return line.partition(":")[2].strip().upper() or None
    return None


def deliver(config: Mapping[str, Any], message: EmailMessage, instance_path: str) -> None:
    backend = config.get("MAIL_BACKEND", "file")
    try:
        if backend == "smtp":
            _deliver_smtp(config, message)
        elif backend == "file":
            path = Path(config.get("MAIL_FILE") or Path(instance_path) / "mail.log")
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(message.as_string())
                handle.write("\n" + "=" * 72 + "\n")
        else:
            raise MailTransportError(f"unknown MAIL_BACKEND {backend!r}")
    except (OSError, smtplib.SMTPException) as error:
        raise MailTransportError(str(error)) from error


def _deliver_smtp(config: Mapping[str, Any], message: EmailMessage) -> None:
    host = config.get("MAIL_SERVER", "127.0.0.1")
    port = int(config.get("MAIL_PORT", 25))
    timeout = float(config.get("MAIL_TIMEOUT", 10))
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(host, port, timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)

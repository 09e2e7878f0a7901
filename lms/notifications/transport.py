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


def build_message(sender: str, recipient: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "academy.local")
    message.set_content(body, charset="utf-8")
    return message


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

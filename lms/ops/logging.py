"""One log line per request, and an X-Request-ID on every response.

``LOG_FORMAT = "json"`` (``LMS_LOG_FORMAT=json``) writes one JSON object per line, for a log
collector: time, level, request id, user id, method, route (the URL rule, so that lines group per
endpoint rather than per id), path, status, duration. The default ``"text"`` is a short readable line
for development. The request id comes from the reverse proxy's ``X-Request-ID`` when it sends a sane
one (so one id follows a request through proxy, app and logs) and is made here otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request, session
from werkzeug.wrappers import Response

REQUEST_LOGGER = "lms.request"
REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
REQUEST_FIELDS = ("request_id", "user_id", "method", "route", "path", "status", "duration_ms", "remote_addr")
_HANDLER_MARK = "_lms_handler"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == REQUEST_LOGGER:
            entry.update({name: getattr(record, name, None) for name in REQUEST_FIELDS})
        else:
            entry["message"] = record.getMessage()
            request_id = getattr(record, "request_id", None)
            if request_id:
                entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.name != REQUEST_LOGGER:
            return super().format(record)
        user = getattr(record, "user_id", None)
        return (
            f"{record.method} {record.path} {record.status} {record.duration_ms}ms"  # type: ignore[attr-defined]  # set via extra=
            f" user={user if user is not None else '-'} rid={record.request_id}"  # type: ignore[attr-defined]  # set via extra=
        )


def _install_handler(logger: logging.Logger, formatter: logging.Formatter, level: int) -> None:
    """Replace our own handler (not anyone else's): create_app may run several times per process."""
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.setLevel(level)


def configure_logging(app: Flask) -> None:
    json_format = str(app.config.get("LOG_FORMAT", "text")).lower() == "json"
    level = logging.getLevelName(str(app.config.get("LOG_LEVEL", "INFO")).upper())
    level = level if isinstance(level, int) else logging.INFO
    formatter: logging.Formatter = (
        JsonFormatter() if json_format else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    request_logger = logging.getLogger(REQUEST_LOGGER)
    request_logger.propagate = False
    if app.config.get("LOG_REQUESTS", True):
        _install_handler(request_logger, formatter, level)
    else:
        request_logger.setLevel(logging.WARNING)
    if json_format:  # the app's own messages in the same shape, so a collector parses every line
        _install_handler(logging.getLogger("lms"), formatter, level)
        app.logger.propagate = True
        for handler in list(app.logger.handlers):
            app.logger.removeHandler(handler)

    # First of all before_request functions (CSRF protection and access rules are registered
    # earlier and may refuse the request): every request gets its id and its duration.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)


def start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def current_request_id() -> str | None:
    return g.get("request_id")


def _signed_in_user_id() -> int | None:
    # Only a user Flask-Login already loaded, and its id as the session holds it: after the view's
    # commit the ORM object is expired, and reading user.id would run a query (a second transaction).
    user = g.get("_login_user")
    if user is None or getattr(user, "is_anonymous", True):
        return None
    stored = session.get("_user_id")
    return int(stored) if isinstance(stored, str) and stored.isdigit() else None


def _path_without_token() -> str:
    """The path, with a one-time link's token (password reset, email confirmation) replaced: logs are
    kept for weeks, and a link that was opened but not used still works (docs/security.md)."""
    token = (request.view_args or {}).get("token")
    return request.path.replace(token, "[token]") if isinstance(token, str) and token else request.path


_request_logger = logging.getLogger(REQUEST_LOGGER)  # one object per process; getLogger takes a lock


def finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    if not _request_logger.isEnabledFor(logging.INFO):  # LOG_REQUESTS = False
        return response
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not eight
    _request_logger.info(
        "request",
        extra={
            "request_id": request_id,
            "user_id": _signed_in_user_id(),
            "method": current.method,
            "route": current.url_rule.rule if current.url_rule is not None else None,
            "path": _path_without_token(),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": current.remote_addr,
        },
    )
    return response

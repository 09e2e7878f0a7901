"""Wiring of the security controls into the app (called from lms.app_setup after every blueprint).

- every response: Content-Security-Policy without inline script, nosniff, frame-ancestors plus
  X-Frame-Options, Referrer-Policy, Permissions-Policy, COOP, HSTS over HTTPS, no-store for pages
  shown to a signed-in person;
- session cookies: HttpOnly and SameSite always, Secure when the academy is served over HTTPS;
- requests: invalid UTF-8 or NUL bytes in the path, query or form are refused with 400 before any
  view runs; a too-large body or form field answers 413 (MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE);
- errors: generic pages; an unexpected error is logged with the request id, which the page shows;
- the session fingerprint (lms.auth.session_stamp) is stamped on every sign-in.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, g, has_request_context, render_template, request
from flask_login import user_logged_in
from werkzeug.exceptions import InternalServerError
from werkzeug.wrappers import Response

from lms.auth.session_stamp import stamp_session

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # QR codes are SVG data: URIs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

log = logging.getLogger("lms.security")


def serves_https(config: dict[str, Any]) -> bool:
    return config.get("PREFERRED_URL_SCHEME") == "https" or str(config.get("PUBLIC_BASE_URL", "")).startswith(
        "https://"
    )


def init_security(app: Flask) -> None:
    app.config.setdefault("MAX_FORM_MEMORY_SIZE", 1024 * 1024)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if serves_https(app.config):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    _run_early(app, refuse_malformed_input)
    app.after_request(add_security_headers)

    def on_login(sender: Any, user: Any, **extra: Any) -> None:
        stamp_session(user)

    user_logged_in.connect(on_login, app, weak=False)

    app.register_error_handler(500, internal_error)
    log.addFilter(_RequestIdFilter())
    app.logger.addFilter(_RequestIdFilter())


def _run_early(app: Flask, function: Any) -> None:
    """Right after the request id is set (lms.ops.logging), before CSRF parses the form."""
    functions = app.before_request_funcs.setdefault(None, [])
    names = [getattr(f, "__name__", "") for f in functions]
    position = names.index("start_request") + 1 if "start_request" in names else 0
    functions.insert(position, function)


def _clean(raw: bytes, what: str) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        log.info("refused %s: invalid UTF-8", what)
        abort(400)
    if "\x00" in text:
        log.info("refused %s: NUL byte", what)
        abort(400)


def refuse_malformed_input() -> None:
    path = request.environ.get("PATH_INFO", "")
    _clean(path.encode("latin-1", "replace"), "path")
    _clean(unquote_to_bytes(request.query_string.replace(b"+", b" ")), "query")
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        limit = request.max_form_memory_size
        if limit is not None and (request.content_length or 0) > limit:
            abort(413)
        _clean(unquote_to_bytes(request.get_data(cache=True).replace(b"+", b" ")), "form")
    elif mimetype == "multipart/form-data":
        for values in request.form.listvalues():
            for value in values:
                if "\x00" in value or "\ufffd" in value:  # the parser replaced invalid UTF-8
                    log.info("refused form: invalid UTF-8 or NUL byte")
                    abort(400)


# Built once: the same on every response. A header a view set itself (a package's frame policy) stays.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS_HEADER = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the headers instead of a setdefault per header (each one a scan that raises and
    # catches a KeyError): 5 µs instead of 35-50 µs per response.
    present = {name.lower() for name, _value in headers}
    wanted = (*SECURITY_HEADERS, HSTS_HEADER) if request.is_secure else SECURITY_HEADERS
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    user = g.get("_login_user")
    # is_anonymous, not is_authenticated: the latter reads the (by now committed, expired) user row, and
    # on a POST that query would take SQLite's write lock a second time.
    if user is not None and not getattr(user, "is_anonymous", True) and request.endpoint != "static":
        # Personal pages must not stay in a shared computer's cache (training rooms, border posts).
        headers["Cache-Control"] = "no-store"
    return response


def internal_error(error: InternalServerError) -> tuple[str, int]:
    request_id = g.get("request_id")
    original = getattr(error, "original_exception", None)
    log.error(
        "unexpected error %s on %s %s (request id %s)",
        type(original).__name__ if original else "InternalServerError",
        request.method,
        request.path,
        request_id,
    )
    return render_template("errors/error.html", code=500, description=None), 500


class _RequestIdFilter(logging.Filter):
    """Adds the request id to records logged during a request (Flask's own traceback included), so a
    person quoting the id from the error page leads to the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not getattr(record, "request_id", None):
            request_id = g.get("request_id")
            if request_id:
                record.request_id = request_id
                if isinstance(record.msg, str) and "request id" not in record.msg:
                    record.msg = f"{record.msg} [request id {request_id}]"
        return True

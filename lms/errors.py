"""Domain errors raised by services, and the HTTP error pages."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException


class LmsError(Exception):
    """A rule of the academy was not met; the message is shown to the user (already translated)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(LmsError):
    status_code = 404


class Forbidden(LmsError):
    status_code = 403


class ValidationFailed(LmsError):
    status_code = 422


class Conflict(LmsError):
    status_code = 409


def register_error_handlers(app: Flask) -> None:
    def render_http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        # Only a message the view gave (abort(400, description=...), already translated); werkzeug's own
        # default descriptions are English whatever the page's language.
        given = error.description if error.description != type(error).description else None
        return render_template("errors/error.html", code=code, description=given), code

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, render_http_error)

    @app.errorhandler(500)
    def internal_error(error: Exception) -> tuple[str, int]:
        return render_template("errors/error.html", code=500, description=None), 500

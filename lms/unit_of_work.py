"""One unit of work per request, job and command (issue 19; docs/architecture.md "Unit of work").

A view changes the session and returns; it never commits or rolls back. After the view:

- a response below 400 commits, once, before any after-commit work (mail, certificate PDFs) is handed
  to the job queue;
- an exception, an ``abort()`` or any 4xx/5xx answer rolls the whole change back;
- a domain error (``LmsError``) that leaves the view is answered here, in one place: a form POST whose
  view declared where it came from (``@on_refusal``) gets the message flashed and a redirect back; any
  other request gets the error page with the message and the error's status code;
- a refusal that belongs on a form the view renders again (so that nothing the person typed is lost) is
  caught by ``with refusals_into(form):``, which rolls back and puts the message on the form.

Jobs and CLI commands use ``with unit_of_work():`` for the same rule outside a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from flask import Flask, current_app, flash, g, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from lms.errors import LmsError
from lms.extensions import db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSAL_TARGET_ATTRIBUTE = "lms_refusal_target"
F = TypeVar("F", bound=Callable[..., Any])


class HasFormErrors(Protocol):
    form_errors: list[str]


def on_refusal(target: Callable[..., str]) -> Callable[[F], F]:
    """Where a refused form POST goes back to: ``target`` takes the view's arguments and returns a URL.

    ``@on_refusal(lambda user_id: url_for("admin.person", user_id=user_id))`` under ``@bp.route``.
    """

    def mark(view: F) -> F:
        setattr(view, REFUSAL_TARGET_ATTRIBUTE, target)
        return view

    return mark


def abandon() -> None:
    """Roll back what the request changed so far; nothing of it is committed after the view."""
    db.session.rollback()
    g.unit_of_work_abandoned = True


@contextmanager
def refusals_into(form: HasFormErrors) -> Iterator[None]:
    """Run a service call whose refusal is shown on the form: the change is rolled back, the message
    joins ``form.form_errors`` and the code after the ``with`` block renders the form again."""
    try:
        yield
    except LmsError as error:
        abandon()
        form.form_errors.append(error.message)


class Refusal:
    """What ``refusal_kept`` caught: ``error`` stays None when the block ran through."""

    error: LmsError | None = None


@contextmanager
def refusal_kept() -> Iterator[Refusal]:
    """Like ``refusals_into``, for a page that answers a refusal its own way (a stale form that lists what
    changed meanwhile, a refused publish that lists its problems): the change is rolled back and the
    error is kept for the code after the ``with`` block."""
    kept = Refusal()
    try:
        yield kept
    except LmsError as error:
        abandon()
        kept.error = error


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Outside a request (jobs, CLI): commit once when the block ends, roll back if it raises."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def commit_after_view(response: Response) -> Response:
    """after_request, registered after the after-commit hooks so that it runs before them."""
    abandoned = g.pop("unit_of_work_abandoned", False) or response.status_code >= 400
    if abandoned:
        db.session.rollback()
    elif request.method in WRITE_METHODS or g.get("write_intent"):
        db.session.commit()
    # A GET writes nothing unless a view declared it must (g.write_intent): nothing to commit, and the
    # session's end (app context teardown) closes its read transaction.
    return response


def answer_refusal(error: LmsError) -> ResponseReturnValue:
    abandon()
    view = current_app.view_functions.get(request.endpoint or "")
    target: Callable[..., str] | None = getattr(view, REFUSAL_TARGET_ATTRIBUTE, None)
    if request.method in WRITE_METHODS and target is not None:
        flash(error.message, "error")
        return redirect(target(**(request.view_args or {})))
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"error": error.message}, error.status_code
    page = render_template("errors/error.html", code=error.status_code, description=error.message)
    return page, error.status_code


def init_unit_of_work(app: Flask) -> None:
    """Call after every after_request hook that must see the committed change (they run in reverse)."""
    app.after_request(commit_after_view)
    app.register_error_handler(LmsError, answer_refusal)

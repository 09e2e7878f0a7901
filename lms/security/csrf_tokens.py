"""The CSRF token a page carries, signed once per session's raw token instead of once per page.

Flask-WTF keeps a raw token in the session and puts a *signed* copy of it in each form
(``generate_csrf``: an HMAC over the raw token and the time). With ``WTF_CSRF_TIME_LIMIT = None``
(lms/config.py: a trainee reading a long lesson must not lose the form) the time in the signature is
never checked, so every signed copy of one raw token is accepted exactly like every other: signing it
again on every page bought nothing and cost every page an HMAC and a serializer. Here the first signed
copy of a raw token is kept in this process and handed out again; validation is Flask-WTF's, untouched.
A page with a FlaskForm still signs its own copy when the form is built (before the template asks), and
the page then uses that one: the busiest pages (dashboard, lesson, quiz attempt) build none.

With a time limit set, the pages sign per request as before (a kept copy would age).
"""

from __future__ import annotations

from threading import Lock

from flask import Flask, current_app, g, session
from flask_wtf.csrf import csrf_meta_tag, generate_csrf

FIELD = "csrf_token"
KEY = "lms_signed_csrf_tokens"
# One entry per signed-in session this process served recently; the bound keeps memory flat.
MAX_TOKENS = 20_000

_lock = Lock()


def page_csrf_token() -> str:
    if FIELD in g:  # one per request, as generate_csrf does
        return str(g.get(FIELD))
    app = current_app
    if (
        app.config.get("WTF_CSRF_TIME_LIMIT") is not None
        or app.config.get("WTF_CSRF_FIELD_NAME", FIELD) != FIELD
    ):
        return str(generate_csrf())
    signed: dict[tuple[str, str], str] = app.extensions.setdefault(KEY, {})
    raw = session.get(FIELD)
    secret = str(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)
    token = signed.get((secret, raw)) if isinstance(raw, str) else None
    if token is None:
        token = str(generate_csrf())  # creates the raw token when the session has none
        with _lock:
            if len(signed) >= MAX_TOKENS:
                signed.clear()
            signed[(secret, session[FIELD])] = token
    setattr(g, FIELD, token)
    return token


def use_page_csrf_token(app: Flask) -> None:
    """After ``csrf.init_app``: templates' ``csrf_token()`` is ``page_csrf_token``. Flask-WTF offers its
    ``generate_csrf`` both as a Jinja global and from a context processor (which wins); both are
    replaced, the processor in its place (one more processor would cost every template render)."""
    app.jinja_env.globals["csrf_token"] = page_csrf_token
    processors = app.template_context_processors[None]
    for index, processor in enumerate(processors):
        if "CSRFProtect.init_app" in getattr(processor, "__qualname__", ""):
            processors[index] = _csrf_context
            return
    processors.append(_csrf_context)


def _csrf_context() -> dict[str, object]:
    return {"csrf_token": page_csrf_token, "csrf_meta_tag": csrf_meta_tag}

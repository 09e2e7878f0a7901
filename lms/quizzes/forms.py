"""Shape checks for the quiz pages; the answers' meaning is decided by the services."""

from __future__ import annotations

import re
from collections import defaultdict

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired

ANSWER_FIELD = re.compile(r"^q(\d{1,4})(?:-(\d{1,3}))?$")
FOREIGN = -1  # a field shaped like an answer that names no position: the service refuses it


class _TokenCheckedByTheApp:
    """The app's CSRFProtect checks the token of every POST before any view runs (lms/app_setup.py), as
    for the lesson completion: these forms add no second check, and so sign no token of their own when
    built (an HMAC and a serializer in every start, save and submission of a quiz, issue 22). Their pages
    write the page's token (``csrf_token()``, lms/security/csrf_tokens.py)."""

    csrf = False


class AttemptForm(FlaskForm):
    """Save or submit. Answers are fields named q<position> (or q<position>-<part>), read by `answers()`."""

    Meta = _TokenCheckedByTheApp

    # The buttons are written in the template; a label given here spares the field the label it would
    # otherwise translate from its name, which loads WTForms' catalogue on every save and submission.
    action = StringField(label="action", validators=[DataRequired(), AnyOf(["save", "submit"])])

    def answers(self, formdata: MultiDict[str, str]) -> dict[int, dict[str, list[str]]]:
        result: dict[int, dict[str, list[str]]] = defaultdict(dict)
        for name in formdata:
            if name in {"csrf_token", "action"}:
                continue
            match = ANSWER_FIELD.match(name)
            if match is None:
                if name.startswith("q"):
                    result[FOREIGN][name] = formdata.getlist(name)
                continue
            values = [v[:1000] for v in formdata.getlist(name)][:50]
            result[int(match.group(1))][match.group(2) or ""] = values
        return dict(result)


class StartForm(FlaskForm):
    """Starting or resuming an attempt: the token only, which the app checks (see above)."""

    Meta = _TokenCheckedByTheApp


class RegradeForm(FlaskForm):
    """A trainer's explicit regrade of one question: CSRF only."""

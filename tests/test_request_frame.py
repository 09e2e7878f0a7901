"""The frame around every page made cheaper (issue 22) answers as before: Flask-Limiter's check of every
request skipped only while no limit covers every request, dates formatted once with Flask-Babel's own
text, template strings translated as Jinja's newstyle gettext does. No figure here is a time
(docs/performance.md has the measurements)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import partial
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import pytz
from flask import Flask, g, render_template_string
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_time,
    get_locale,
    get_timezone,
    refresh,
)

from lms import i18n
from lms.i18n import (
    current_language,
    localized_date,
    localized_datetime,
    remembered_format_date,
    remembered_format_datetime,
    remembered_format_time,
    request_locale,
    request_timezone,
)
from lms.ops import route_limits

# --- Flask-Limiter ---------------------------------------------------------------------------------


def test_the_limiter_has_nothing_to_check_before_each_request(app: Flask) -> None:
    limiter = route_limits.limiter(app)
    assert isinstance(limiter, route_limits.RouteLimiter)
    assert not limiter._limits_every_request()
    # Its header and reset hooks are wrapped to run only after a check.
    after = app.after_request_funcs[None]
    assert not [f for f in after if isinstance(f, partial) and f.args == (limiter,)]
    assert not [f for f in app.teardown_request_funcs[None] if getattr(f, "__self__", None) is limiter]


def test_a_limit_for_every_route_is_still_checked_before_the_view(make_app: Callable[..., Flask]) -> None:
    limited = make_app(TESTING=True, SECRET_KEY="limited", RATELIMIT_DEFAULT="2 per hour")
    assert route_limits.limiter(limited)._limits_every_request()
    client = limited.test_client()
    answers = [client.get("/login") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"  # the headers hook runs after a check
    assert 0 < int(answers[2].headers["Retry-After"]) <= 3600


def test_a_page_without_a_limit_gets_no_limit_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers and "Retry-After" not in response.headers


# --- Dates ----------------------------------------------------------------------------------------

MOMENTS = [
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Europe's clock change
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),  # another day in some zones
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=5))),  # same wall time, other zone
    datetime(2026, 7, 1, 12, 0),  # naive: taken as UTC
    datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")),
    datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),  # equal, an hour later
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # the same instant as the line above
]
DAYS = [date(2026, 1, 1), date(2026, 2, 28), date(2027, 12, 31)]
TIMES = [time(9, 5), time(23, 59, 59)]
ZONES = [None, "Europe/Paris", "Asia/Kolkata", "America/New_York"]


@pytest.mark.parametrize("language", ["en", "fr", "ru", "ar"])
def test_remembered_dates_are_flask_babels_text(app: Flask, language: str) -> None:
    for zone in ZONES:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            if zone is not None:  # as if the person's saved zone had been chosen for this request
                g._flask_babel = SimpleNamespace(babel_tzinfo=pytz.timezone(zone))
            assert request_locale() == get_locale() and request_timezone() is get_timezone()
            for _round in range(2):  # the second round reads what the first kept
                for format in (None, "short", "medium", "long", "full"):
                    for value in [*MOMENTS, *DAYS]:
                        assert remembered_format_date(value, format) == format_date(value, format)
                        assert remembered_format_datetime(value, format) == format_datetime(value, format)
                    for value in [*MOMENTS, *TIMES]:
                        assert remembered_format_time(value, format) == format_time(value, format)
                for value in [*MOMENTS, *DAYS]:  # patterns of one's own
                    assert remembered_format_date(value, "EEEE d MMMM y") == format_date(
                        value, "EEEE d MMMM y"
                    )
                    pattern = "yyyy-MM-dd HH:mm zzzz"
                    assert remembered_format_datetime(value, pattern) == format_datetime(value, pattern)
                for value in MOMENTS:
                    assert remembered_format_time(value, "HH:mm:ss z") == format_time(value, "HH:mm:ss z")
                for value in [*MOMENTS, *DAYS]:
                    assert localized_date(value) == format_date(value, "medium")
                for value in MOMENTS:
                    assert localized_datetime(value, "short") == format_datetime(value, "short")


def test_remembered_dates_follow_a_forced_locale_and_pass_now_and_unrebased_through(app: Flask) -> None:
    moment = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = localized_date(moment, "long")
        with force_locale("fr"):
            assert localized_date(moment, "long") == format_date(moment, "long") == "4 mai 2026"
            assert current_language() == "fr"
        assert localized_date(moment, "long") == english == "May 4, 2026"
        assert current_language() == "en"
        refresh()
        assert request_locale() == get_locale()
        assert remembered_format_datetime(moment, "short", rebase=False) == format_datetime(
            moment, "short", False
        )
        assert remembered_format_date(None, "short") == format_date(None, "short")  # today, not kept
        assert localized_date(None) == "" and localized_datetime(None) == ""


def test_the_kept_dates_are_bounded(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "MAX_FORMATTED_DATES", 3)
    with app.test_request_context("/"):
        for day in range(10):
            assert localized_date(date(2026, 1, 1 + day)) == format_date(date(2026, 1, 1 + day), "medium")
    assert len(i18n._formatted_dates) <= 3


def test_date_filters_in_templates_are_the_remembered_ones(app: Flask) -> None:
    assert app.jinja_env.filters["datetimeformat"] is remembered_format_datetime
    assert app.jinja_env.filters["dateformat"] is remembered_format_date
    assert app.jinja_env.filters["timeformat"] is remembered_format_time
    moment = datetime(2026, 5, 4, 10, 7, tzinfo=UTC)
    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        html = render_template_string(
            "{{ m|datetimeformat('short') }}|{{ m|dateformat }}|{{ m|timeformat }}", m=moment
        )
        assert html == f"{format_datetime(moment, 'short')}|{format_date(moment)}|{format_time(moment)}"


# --- Template strings -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_template_gettext_as_jinja_newstyle(app: Flask, language: str) -> None:
    source = "{{ _('Catalogue') }}|{{ _('100%%') }}|{{ _('Deadline: %(date)s', date='<b>') }}"
    source += "|{{ gettext('Sign out') }}"
    with app.test_request_context("/", headers={"Accept-Language": language}):
        html = app.jinja_env.from_string(source).render()
        text = app.jinja_env.overlay(autoescape=False).from_string(source).render()
        translations = i18n.current_translations()
    catalogue, percent, deadline, sign_out = html.split("|")
    assert catalogue == translations.ugettext("Catalogue") and sign_out == translations.ugettext("Sign out")
    assert percent == "100%"  # formatted even without variables, as Jinja's newstyle gettext does
    assert deadline == translations.ugettext("Deadline: %(date)s") % {"date": "&lt;b&gt;"}
    assert text.split("|")[2] == translations.ugettext("Deadline: %(date)s") % {"date": "<b>"}  # no escaping
    if language != "en":
        assert sign_out != "Sign out"

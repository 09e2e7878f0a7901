"""Calendars (issue 20): a run's .ics, the personal subscription feed, and the page that makes its URL.

- ``/runs/<id>/calendar.ics``: signed-in people. Participants (an active place), the run's session
  trainers, the course's trainers and admins get the meeting links; anyone else gets the public version
  (no link) of a run whose course is published (the catalogue shows it), else 404.
- ``/calendar/<token>.ics``: PUBLIC (calendar apps send no cookie); the token is the secret. Unknown,
  replaced or removed token: 404.
- ``/account/calendar``: make, replace or remove one's subscription URL; the URL is shown once.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.auth.models import User
from lms.authoring.access import manages_course
from lms.db import begin_writing
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.sessions import calendar_feeds
from lms.sessions.views.base import bp
from lms.settings.services import public_base_url

ICS_TYPE = "text/calendar; charset=utf-8"


def _ics(text: str, filename: str | None, *, private: bool) -> Response:
    response = Response(text, content_type=ICS_TYPE)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A document with meeting links is nobody else's: no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-store" if private else "private, max-age=300"
    return response


@bp.get("/runs/<int:run_id>/calendar.ics")
@allow(AUTHENTICATED)
def run_calendar(run_id: int) -> Response:
    run = db.session.get(CourseRun, run_id) or abort(404)
    user: User = current_user._get_current_object()
    with_links = calendar_feeds.sees_meeting_links(user, run) or manages_course(run.course_id)
    if not with_links and not run.course.is_published:
        abort(404)
    text = calendar_feeds.run_calendar(run, with_links=with_links)
    return _ics(text, f"run-{run_id}.ics", private=with_links)


@bp.get("/calendar/<token>.ics")
@allow(PUBLIC)
def personal_feed(token: str) -> Response:
    feed = calendar_feeds.feed_by_token(token)
    user = db.session.get(User, feed.user_id) if feed is not None else None
    if feed is None or user is None or not user.active:
        abort(404)
    text = calendar_feeds.personal_calendar(user)
    if calendar_feeds.feed_use_is_due(feed):
        # A GET that writes (docs/architecture.md "GETs that write"): when the feed was last fetched, at
        # most once an hour, so the person can see whether a forgotten subscription is still polled.
        begin_writing()
        calendar_feeds.note_feed_used(user.id)
    return _ics(text, None, private=True)


def feed_urls(token: str) -> dict[str, str]:
    https = f"{public_base_url()}{url_for('sessions.personal_feed', token=token)}"
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[-1]}


def _subscription_page(token: str | None = None) -> str:
    feed = calendar_feeds.feed_of(current_user.id)
    return render_template(
        "sessions/calendar_subscription.html",
        feed=feed,
        urls=feed_urls(token) if token else None,
        form=FlaskForm(),
    )


@bp.get("/account/calendar")
@allow(AUTHENTICATED)
def calendar_subscription() -> str:
    return _subscription_page()


@bp.post("/account/calendar")
@allow(AUTHENTICATED)
def new_calendar_subscription() -> str:
    if not FlaskForm().validate_on_submit():
        abort(400)
    token = calendar_feeds.new_feed_token(current_user._get_current_object())
    flash(_("Your calendar subscription URL is ready. Copy it now: it is shown only once."), "success")
    return _subscription_page(token)  # shown once, on this answer only: never stored, never redirected to


@bp.post("/account/calendar/remove")
@allow(AUTHENTICATED)
def remove_calendar_subscription() -> BaseResponse:
    if not FlaskForm().validate_on_submit():
        abort(400)
    if calendar_feeds.remove_feed(current_user._get_current_object()):
        flash(_("Your calendar subscription URL no longer works."), "success")
    return redirect(url_for("sessions.calendar_subscription"))

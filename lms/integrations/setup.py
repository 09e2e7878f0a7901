"""Wiring of webhooks and xAPI into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask, Response

from lms.integrations import receivers  # noqa: F401  # connects the receivers to the signals
from lms.integrations.events import take_noted
from lms.integrations.views import bp
from lms.jobs.integration_jobs import enqueue_integration_work
from lms.unit_of_work import commit_after_view


def init_integrations(app: Flask) -> None:
    """Connects the signal receivers that record events, hands them to the job queue after the commit,
    and registers the pages (subscriptions, delivery log, the learning record store's settings)."""
    app.register_blueprint(bp)
    # after_request hooks run in reverse order of registration, and app_setup calls us after
    # init_unit_of_work: put the hook before the unit of work's commit in the list, so that it runs
    # after the commit, like the mail and certificate hooks.
    hooks = app.after_request_funcs.setdefault(None, [])
    position = hooks.index(commit_after_view) if commit_after_view in hooks else 0
    hooks.insert(position, integration_work_after_commit)


def integration_work_after_commit(response: Response) -> Response:
    """The view has committed the webhook deliveries and xAPI statements its change recorded: hand
    them to the jobs. The request never contacts a receiver or the LRS."""
    deliveries, statements = take_noted("webhook_deliveries"), take_noted("xapi_statements")
    if (deliveries or statements) and response.status_code < 400:
        enqueue_integration_work(deliveries, statements)
    return response

"""The integration pages: webhook subscriptions (admins: all, and the academy's own; focal points: their
authority's), a subscription's delivery log, the admin's log of every delivery, the LRS settings.

A subscription that is not the actor's is "not found" (lms.integrations.subscriptions.subscription_for).
Views parse and call a service; the unit of work commits after them, and the after-request hook of
lms.integrations.setup hands what was recorded to the jobs.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.access import allow
from lms.auth.models import Role, User
from lms.integrations import queries, subscriptions, xapi_outbox
from lms.integrations.events import note_for_after_commit
from lms.integrations.forms import LrsForm, SubscriptionForm
from lms.unit_of_work import refusals_into

bp = Blueprint("integrations", __name__)


def _actor() -> User:
    return current_user._get_current_object()


def _subscription_form(actor: User) -> SubscriptionForm:
    form = SubscriptionForm()
    choices = queries.owner_choices(actor)
    if choices and choices[0][0] == "":
        choices[0] = ("", _("The academy (everyone's events)"))
    form.owner.choices = choices
    return form


def _list_page(form: SubscriptionForm, status: int = 200) -> tuple[str, int]:
    rows = queries.subscriptions_for(_actor())
    return render_template("integrations/webhooks.html", rows=rows, form=form), status


@bp.get("/integrations/webhooks")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def webhooks() -> tuple[str, int]:
    return _list_page(_subscription_form(_actor()))


@bp.post("/integrations/webhooks/new")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def create_webhook() -> tuple[str, int]:
    actor = _actor()
    form = _subscription_form(actor)
    if not form.validate_on_submit():
        return _list_page(form, 422)
    with refusals_into(form):
        owner = int(form.owner.data) if form.owner.data else None
        new = subscriptions.NewSubscription(
            form.url.data, list(form.events.data or []), form.description.data, owner
        )
        subscription, secret = subscriptions.create_subscription(actor, new)
        return render_template("integrations/created.html", subscription=subscription, secret=secret), 201
    return _list_page(form, 422)


def _back_to(subscription_id: int) -> str:
    return url_for("integrations.webhook", subscription_id=subscription_id)


@bp.get("/integrations/webhooks/<int:subscription_id>")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def webhook(subscription_id: int) -> str:
    subscription = subscriptions.subscription_for(_actor(), subscription_id)
    log = queries.deliveries(subscription.id, request.args.get("status"))
    return render_template("integrations/webhook.html", subscription=subscription, deliveries=log)


@bp.post("/integrations/webhooks/<int:subscription_id>/pause")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def pause_webhook(subscription_id: int) -> BaseResponse:
    actor = _actor()
    subscriptions.pause(actor, subscriptions.subscription_for(actor, subscription_id))
    flash(_("The subscription is paused: events wait until it is resumed."), "success")
    return redirect(_back_to(subscription_id))


@bp.post("/integrations/webhooks/<int:subscription_id>/resume")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def resume_webhook(subscription_id: int) -> BaseResponse:
    actor = _actor()
    subscription = subscriptions.subscription_for(actor, subscription_id)
    subscriptions.resume(actor, subscription)
    note_for_after_commit("webhook_deliveries", subscriptions.pending_delivery_ids(subscription))
    flash(_("The subscription is active again: the events that waited are being sent."), "success")
    return redirect(_back_to(subscription_id))


@bp.post("/integrations/webhooks/<int:subscription_id>/delete")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def delete_webhook(subscription_id: int) -> BaseResponse:
    actor = _actor()
    subscriptions.delete(actor, subscriptions.subscription_for(actor, subscription_id))
    flash(_("The subscription is deleted."), "success")
    return redirect(url_for("integrations.webhooks"))


@bp.get("/admin/integrations/deliveries")
@allow(Role.ADMIN)
def deliveries() -> str:
    status = request.args.get("status")
    log = queries.deliveries(None, status)
    return render_template("integrations/deliveries.html", deliveries=log, status=status)


def _lrs_page(form: LrsForm, status: int = 200) -> tuple[str, int]:
    config = xapi_outbox.lrs_config()
    overview = queries.outbox_overview()
    return render_template("integrations/xapi.html", form=form, config=config, overview=overview), status


@bp.get("/admin/integrations/xapi")
@allow(Role.ADMIN)
def xapi_settings() -> tuple[str, int]:
    config = xapi_outbox.lrs_config()
    form = LrsForm(data={"enabled": config.enabled, "endpoint": config.endpoint, "key": config.key})
    return _lrs_page(form)


@bp.post("/admin/integrations/xapi")
@allow(Role.ADMIN)
def save_xapi_settings() -> BaseResponse | tuple[str, int]:
    form = LrsForm()
    if not form.validate_on_submit():
        return _lrs_page(form, 422)
    with refusals_into(form):
        xapi_outbox.update_lrs_settings(
            form.enabled.data, form.endpoint.data or "", form.key.data or "", form.secret.data, _actor().id
        )
        flash(_("The learning record store settings are saved."), "success")
        return redirect(url_for("integrations.xapi_settings"))
    return _lrs_page(form, 422)

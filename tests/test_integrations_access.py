"""Who may see and change webhook subscriptions, deliveries and the LRS settings (issue 24): an
authority's focal point manages its own only; another authority's focal point gets 404 and changes
nothing; trainees and trainers are refused; the secrets are shown once (webhooks) or never (the LRS)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.extensions import db
from lms.integrations import subscriptions
from lms.integrations.models import LrsSettings, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from lms.orgs.models import Authority
from tests.enrolment_support import UserClient

EVENTS = ["enrolment.completed"]


def subscription_routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("integrations.") and "subscription_id" in rule.arguments:
            method = "GET" if "GET" in (rule.methods or set()) else "POST"
            found.append((method, rule.rule))
    return found


def digest() -> tuple[object, ...]:
    rows = db.session.execute(
        select(WebhookSubscription.id, WebhookSubscription.status, WebhookSubscription.url)
    ).all()
    return (tuple(rows), db.session.scalar(select(func.count()).select_from(WebhookDelivery)))


def test_other_authorities_and_trainees_cannot_see_or_change_a_subscription(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    a, b = make_authority(), make_authority()
    focal_a, focal_b = make_user(Role.FOCAL_POINT, authority=a), make_user(Role.FOCAL_POINT, authority=b)
    trainee_a, trainer = make_user(authority=a), make_user(Role.TRAINER, authority=a)
    new = subscriptions.NewSubscription("http://127.0.0.1:9/hook", EVENTS, "HR system", a.id)
    subscription, _secret = subscriptions.create_subscription(focal_a, new)
    db.session.add(
        WebhookDelivery(subscription_id=subscription.id, message_id="msg_1", event_type=EVENTS[0], body="{}")
    )
    db.session.commit()
    routes = subscription_routes(app)
    assert len(routes) == 4
    before = digest()
    for person, allowed in ((focal_b, (404,)), (trainee_a, (403,)), (trainer, (403,))):
        client = UserClient(app, person)
        for method, rule in routes:
            url = rule.replace("<int:subscription_id>", str(subscription.id))
            answer = client.get(url) if method == "GET" else client.post(url)
            assert answer.status_code in allowed, (person.email, method, url, answer.status_code)
        listing = client.get("/integrations/webhooks")
        assert listing.status_code == (200 if person is focal_b else 403)
        assert "127.0.0.1:9/hook" not in listing.get_data(as_text=True)
        for admin_page in ("/admin/integrations/deliveries", "/admin/integrations/xapi"):
            assert client.get(admin_page).status_code == 403
        db.session.rollback()
        assert digest() == before
    own = UserClient(app, focal_a)
    assert "127.0.0.1:9/hook" in own.get("/integrations/webhooks").get_data(as_text=True)
    assert "msg_1" in own.get(f"/integrations/webhooks/{subscription.id}").get_data(as_text=True)
    assert own.post(f"/integrations/webhooks/{subscription.id}/pause").status_code == 302
    db.session.rollback()
    assert db.session.get(WebhookSubscription, subscription.id).status == SubscriptionStatus.PAUSED
    assert own.post(f"/integrations/webhooks/{subscription.id}/delete").status_code == 302
    db.session.rollback()
    assert digest() == ((), 0)  # the subscription and its log are gone


def test_a_focal_point_creates_only_for_their_authority_and_sees_the_secret_once(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    a, b = make_authority(), make_authority()
    focal_a = make_user(Role.FOCAL_POINT, authority=a)
    client = UserClient(app, focal_a)
    form = {"url": "http://127.0.0.1:9/hr", "events": EVENTS, "description": "HR"}
    refused = client.post("/integrations/webhooks/new", data={**form, "owner": str(b.id)})
    assert refused.status_code == 422
    academy = client.post("/integrations/webhooks/new", data={**form, "owner": ""})
    assert academy.status_code == 422
    no_events = client.post("/integrations/webhooks/new", data={"url": form["url"], "owner": str(a.id)})
    assert no_events.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0
    created = client.post("/integrations/webhooks/new", data={**form, "owner": str(a.id)})
    assert created.status_code == 201
    db.session.rollback()
    subscription = db.session.scalars(select(WebhookSubscription)).one()
    assert subscription.authority_id == a.id
    assert subscription.secret in created.get_data(as_text=True)
    assert subscription.secret not in client.get(f"/integrations/webhooks/{subscription.id}").get_data(
        as_text=True
    )
    assert subscription.secret not in client.get("/integrations/webhooks").get_data(as_text=True)


def test_the_lrs_secret_is_write_only(app: Flask, make_user: Callable[..., User]) -> None:
    admin = UserClient(app, make_user(Role.ADMIN))
    data = {
        "enabled": "y",
        "endpoint": "http://127.0.0.1:9/xapi",
        "key": "lms",
        "secret": "very-secret-value",
    }
    assert admin.post("/admin/integrations/xapi", data=data).status_code == 302
    page = admin.get("/admin/integrations/xapi").get_data(as_text=True)
    assert "very-secret-value" not in page and "127.0.0.1:9/xapi" in page
    assert admin.post("/admin/integrations/xapi", data={**data, "secret": ""}).status_code == 302
    db.session.rollback()
    assert db.session.get(LrsSettings, 1).secret == "very-secret-value"  # an empty field keeps it
    refused = admin.post("/admin/integrations/xapi", data={"enabled": "y", "endpoint": "", "key": ""})
    assert refused.status_code == 422


def test_https_is_required_outside_tests_and_development(app: Flask) -> None:
    app.config["WEBHOOKS_ALLOW_HTTP"] = False
    try:
        for url in (
            "http://hr.example.org/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/x",
            "ftp://x/y",
        ):
            try:
                subscriptions.check_url(url)
            except Exception as error:
                assert type(error).__name__ == "ValidationFailed"
            else:
                raise AssertionError(f"{url} accepted")
        assert subscriptions.check_url(" https://hr.example.org/hook ") == "https://hr.example.org/hook"
    finally:
        del app.config["WEBHOOKS_ALLOW_HTTP"]

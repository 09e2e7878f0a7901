"""The survey form editor (admins): create, edit, reorder, retire; file-backed forms read-only; access;
odd ids; bad input refused with nothing changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.extensions import db
from lms.surveys.models import SurveyForm, SurveyItem
from lms.surveys.sync import sync_forms
from tests.conftest import CSRF_FIELD, PROJECT_ROOT, login

BASE = "/admin/survey-forms"


def texts(name: str, en: str, **others: str) -> dict[str, str]:
    return {f"{name}_en": en, **{f"{name}_{lang}": text for lang, text in others.items()}}


def item_post(key: str | None = "q1", required: bool = True, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {**texts("prompt", "How was it?", ar="كيف كانت؟"), "indicator": "", **fields}
    if key is not None:
        data["key"] = key
    if required:
        data["required"] = "y"
    return data


@pytest.fixture
def admin(app: Flask, make_user: Callable[..., User], client: FlaskClient) -> User:
    user = make_user(Role.ADMIN)
    login(client, user)
    return user


def make_form(client: FlaskClient, slug: str = "pilot") -> SurveyForm:
    response = client.post(
        f"{BASE}/new", data={"slug": slug, "kind": "end_of_course", **texts("title", "Pilot", fr="Pilote")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    form = db.session.scalar(select(SurveyForm).where(SurveyForm.slug == slug))
    assert form is not None
    return form


def keys(form: SurveyForm) -> list[str]:
    db.session.expire_all()
    items = db.session.scalars(
        select(SurveyItem)
        .where(SurveyItem.form_id == form.id, SurveyItem.retired.is_(False))
        .order_by(SurveyItem.position)
    )
    return [item.key for item in items]


def test_create_a_form_and_add_questions_of_each_kind(admin: User, client: FlaskClient) -> None:
    form = make_form(client)
    assert form.title == {"en": "Pilot", "fr": "Pilote"} and form.source_path is None
    page = client.get(f"{BASE}/{form.id}")
    assert page.status_code == 200 and "Add a question" in page.get_data(as_text=True)
    assert (
        client.post(
            f"{BASE}/{form.id}/questions/new/agreement", data=item_post("useful", indicator="satisfaction")
        ).status_code
        == 302
    )
    rating = item_post("level", **texts("low", "Nothing"), **texts("high", "All"))
    assert client.post(f"{BASE}/{form.id}/questions/new/rating", data=rating).status_code == 302
    choice = item_post(
        "applied",
        indicator="applied",
        **{"options-0-key": "yes", "options-0-label_en": "Yes", "options-0-label_ru": "Да"},
        **{"options-0-positive": "y", "options-1-key": "no", "options-1-label_en": "No", "options-2-key": ""},
    )
    assert client.post(f"{BASE}/{form.id}/questions/new/single", data=choice).status_code == 302
    assert (
        client.post(f"{BASE}/{form.id}/questions/new/text", data=item_post("say", required=False)).status_code
        == 302
    )
    assert keys(form) == ["useful", "level", "applied", "say"]
    items = {item.key: item for item in form.items}
    assert items["level"].options == [
        {"key": "0", "label": {"en": "Nothing"}},
        {"key": "10", "label": {"en": "All"}},
    ]
    assert items["applied"].options == [
        {"key": "yes", "label": {"en": "Yes", "ru": "Да"}, "positive": True},
        {"key": "no", "label": {"en": "No"}},
    ]
    assert items["useful"].prompt == {"en": "How was it?", "ar": "كيف كانت؟"} and not items["say"].required
    preview = client.get(f"{BASE}/{form.id}/preview?lang=ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in preview and "كيف كانت؟" in preview and "Nothing" in preview
    assert client.get(f"{BASE}/{form.id}/preview?lang=xx").status_code == 200  # unknown: the page's language
    listing = client.get(BASE).get_data(as_text=True)
    assert "Pilot" in listing and "Made in the browser" in listing


def test_edit_reorder_retire_and_restore(admin: User, client: FlaskClient) -> None:
    form = make_form(client)
    for key in ("a", "b", "c"):
        client.post(f"{BASE}/{form.id}/questions/new/text", data=item_post(key))
    ids = {item.key: item.id for item in form.items}
    edited = client.post(
        f"{BASE}/{form.id}/questions/{ids['b']}", data=item_post(None, **texts("prompt", "New B"))
    )
    assert edited.status_code == 302
    assert db.session.get(SurveyItem, ids["b"]).prompt == {"en": "New B", "ar": "كيف كانت؟"}
    assert (
        client.post(f"{BASE}/{form.id}/questions/{ids['c']}/move", data={"direction": "up"}).status_code
        == 302
    )
    assert keys(form) == ["a", "c", "b"]
    client.post(f"{BASE}/{form.id}/questions/{ids['a']}/move", data={"direction": "down"})
    assert keys(form) == ["c", "a", "b"]
    assert client.post(f"{BASE}/{form.id}/questions/{ids['a']}/retire").status_code == 302
    assert keys(form) == ["c", "b"]
    assert "Retired questions" in client.get(f"{BASE}/{form.id}").get_data(as_text=True)
    client.post(f"{BASE}/{form.id}/questions/{ids['a']}/restore")
    assert keys(form) == ["c", "b", "a"]
    saved = client.post(
        f"{BASE}/{form.id}", data={"kind": "follow_up", **texts("title", "Renamed", ar="معدّل")}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert form.kind == "follow_up" and form.title == {"en": "Renamed", "ar": "معدّل"} and form.slug == "pilot"


X = texts("prompt", "x")
OPTION_A = {"options-0-key": "a", "options-0-label_en": "A"}
NEW_TEXT, NEW_SINGLE = "questions/new/text", "questions/new/single"


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (NEW_TEXT, {"key": "Bad Key", **X}, "Use lower-case letters, digits and _ only."),
        (NEW_TEXT, {"key": "q1", **texts("prompt", "Again")}, "already has a question with the key q1"),
        (NEW_TEXT, {"key": "q9", **texts("prompt", "", ru="Только по-русски")}, "Give the English text."),
        (NEW_SINGLE, {"key": "q9", **X, **OPTION_A}, "at least two options"),
        (NEW_SINGLE, {"key": "q9", **X, **OPTION_A, "options-1-key": "a", "options-1-label_en": "B"}, "same"),
        (NEW_SINGLE, {"key": "q9", **X, **OPTION_A, "options-1-key": "b"}, "label in English"),
        (NEW_SINGLE, {"key": "q9", **X, **OPTION_A, "options-1-key": "B!", "options-1-label_en": "B"}, "_"),
        (NEW_TEXT, {"key": "q9", **X, **OPTION_A}, "Only single and multiple choice questions have options."),
        (NEW_TEXT, {"key": "q9", **X, "indicator": "satisfaction"}, "reads an agreement question"),
        ("questions/new/agreement", {"key": "q9", **X, "indicator": "loyalty"}, "Not a valid choice"),
        ("", {"kind": "weekly", **texts("title", "x")}, "Not a valid choice"),
        ("", {"kind": "end_of_course", **texts("title", "")}, "Give the English text."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_changes_nothing(
    admin: User, client: FlaskClient, path: str, data: dict[str, str], message: str
) -> None:
    form = make_form(client)
    client.post(f"{BASE}/{form.id}/questions/new/text", data=item_post("q1"))
    before = (db.session.scalar(select(func.count()).select_from(SurveyItem)), dict(form.title), form.kind)
    response = client.post(f"{BASE}/{form.id}/{path}".rstrip("/"), data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.scalar(select(func.count()).select_from(SurveyItem)), form.title, form.kind) == before


def test_a_new_form_with_a_taken_or_bad_slug_is_refused(admin: User, client: FlaskClient) -> None:
    make_form(client)
    taken = client.post(
        f"{BASE}/new", data={"slug": "pilot", "kind": "end_of_course", **texts("title", "Other")}
    )
    assert taken.status_code == 422 and "already exists" in taken.get_data(as_text=True)
    bad = client.post(
        f"{BASE}/new", data={"slug": "Not A Slug", "kind": "end_of_course", **texts("title", "x")}
    )
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(SurveyForm)) == 1


def test_moves_past_the_ends_and_forged_directions_change_nothing(admin: User, client: FlaskClient) -> None:
    form = make_form(client)
    for key in ("a", "b"):
        client.post(f"{BASE}/{form.id}/questions/new/text", data=item_post(key))
    ids = {item.key: item.id for item in form.items}
    assert (
        client.post(f"{BASE}/{form.id}/questions/{ids['a']}/move", data={"direction": "up"}).status_code
        == 302
    )
    assert (
        client.post(f"{BASE}/{form.id}/questions/{ids['a']}/move", data={"direction": "sideways"}).status_code
        == 400
    )
    assert keys(form) == ["a", "b"]


def test_file_backed_forms_are_read_only_and_can_be_copied(
    app: Flask, admin: User, client: FlaskClient
) -> None:
    sync_forms(PROJECT_ROOT / "courses")
    db.session.commit()
    form = db.session.scalar(select(SurveyForm).where(SurveyForm.slug == "end-of-course"))
    assert form is not None
    page = client.get(f"{BASE}/{form.id}").get_data(as_text=True)
    assert (
        "_surveys/end-of-course.yml" in page and "Make a copy to edit here" in page and "Move up" not in page
    )
    first = form.items[0]
    refused = client.post(f"{BASE}/{form.id}/questions/{first.id}/retire")
    assert refused.status_code == 302
    assert "comes from the file" in client.get(refused.location).get_data(as_text=True)
    edit = client.post(
        f"{BASE}/{form.id}/questions/{first.id}", data=item_post(None, **texts("prompt", "Changed"))
    )
    assert edit.status_code == 422 and "comes from the file" in edit.get_data(as_text=True)
    assert client.post(f"{BASE}/{form.id}/questions/new/text", data=item_post("extra")).status_code == 422
    db.session.expire_all()
    assert first.prompt["en"] == "The course was relevant to my work." and not first.retired
    assert len(form.items) == 11
    copied = client.post(f"{BASE}/{form.id}/copy")
    assert copied.status_code == 302
    copy = db.session.scalar(select(SurveyForm).where(SurveyForm.slug == "end-of-course-copy"))
    assert copy is not None and copy.source_path is None and len(copy.items) == 11
    assert copy.items[0].prompt == first.prompt


def test_odd_ids_and_other_forms_items_are_not_found(admin: User, client: FlaskClient) -> None:
    form = make_form(client)
    other = make_form(client, "other")
    client.post(f"{BASE}/{other.id}/questions/new/text", data=item_post("x"))
    foreign = other.items[0].id
    for url in (
        f"{BASE}/999999", f"{BASE}/99999999999999999999", f"{BASE}/{form.id}/questions/{foreign}",
        f"{BASE}/{form.id}/questions/new/essay", f"{BASE}/0/preview", f"{BASE}/{form.id}/questions/-1",
    ):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.get(f"{BASE}/{form.id}/preview?lang=%00").status_code == 400  # the app refuses NUL bytes
    assert client.get(f"{BASE}/{form.id}/preview?lang=zz").status_code == 200  # the page's own language
    for action in ("move", "retire", "restore"):
        assert (
            client.post(
                f"{BASE}/{form.id}/questions/{foreign}/{action}", data={"direction": "up"}
            ).status_code
            == 404
        )
        assert client.post(f"{BASE}/999999/questions/1/{action}", data={"direction": "up"}).status_code == 404
    assert not other.items[0].retired
    odd = {
        "key": "k" * 5000,
        **texts("prompt", "x" * 50000),
        "options-99999999999999-key": "a",
        "options-x-key": "b",
    }
    assert client.post(f"{BASE}/{form.id}/questions/new/single", data=odd).status_code == 422
    long_label = {"key": "ok", **X, **OPTION_A, "options-1-key": "b", "options-1-label_en": "B" * 5000}
    assert client.post(f"{BASE}/{form.id}/questions/new/single", data=long_label).status_code == 422
    assert len(form.items) == 0


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER, Role.FOCAL_POINT, None])
def test_only_admins_reach_the_editor(
    app: Flask, make_user: Callable[..., User], client: FlaskClient, role: str | None
) -> None:
    db.session.add(form := SurveyForm(slug="pilot", kind="end_of_course", title={"en": "Pilot"}))
    db.session.flush()
    db.session.add(item := SurveyItem(form_id=form.id, key="a", type="text", prompt={"en": "A"}))
    db.session.commit()
    if role is not None:
        login(client, make_user(role))
    for url in (
        BASE,
        f"{BASE}/new",
        f"{BASE}/{form.id}",
        f"{BASE}/{form.id}/preview",
        f"{BASE}/{form.id}/questions/{item.id}",
    ):
        assert client.get(url).status_code in (302, 403), url
    for url in (f"{BASE}/{form.id}/questions/{item.id}/retire", f"{BASE}/{form.id}/copy", f"{BASE}/new"):
        assert client.post(url, data={"slug": "x", "kind": "end_of_course", "title_en": "X"}).status_code in (
            302,
            403,
        )
    db.session.expire_all()
    assert not item.retired and db.session.scalar(select(func.count()).select_from(SurveyForm)) == 1


@pytest.fixture
def csrf_on(app: Flask, admin: User) -> Iterator[None]:  # signed in before the tokens are checked
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.usefixtures("csrf_on")
def test_a_post_without_a_valid_csrf_token_is_refused(admin: User, client: FlaskClient) -> None:
    db.session.add(form := SurveyForm(slug="pilot", kind="end_of_course", title={"en": "Pilot"}))
    db.session.flush()
    db.session.add(item := SurveyItem(form_id=form.id, key="a", type="text", prompt={"en": "A"}))
    db.session.commit()
    forged = {"csrf_token": "forged", "kind": "follow_up", "title_en": "Forged"}
    assert client.post(f"{BASE}/{form.id}", data=forged).status_code in (400, 422)
    assert client.post(f"{BASE}/{form.id}/questions/{item.id}/retire", data=forged).status_code == 400
    token = CSRF_FIELD.search(client.get(f"{BASE}/{form.id}").get_data(as_text=True))
    assert token is not None
    db.session.expire_all()
    assert form.kind == "end_of_course" and not item.retired
    ok = client.post(f"{BASE}/{form.id}/questions/{item.id}/retire", data={"csrf_token": token.group(1)})
    assert ok.status_code == 302


# --- in the browser: a journey without script, and axe in English and Arabic, phone width -------------------


@pytest.mark.browser
def test_editor_journey_and_axe_in_english_and_arabic(
    app: Flask, make_user: Callable[..., User], live_server: str, page: Any
) -> None:
    from tests.a11y_support import axe_violations, choose_language, describe
    from tests.conftest import browser_sign_in

    sync_forms(PROJECT_ROOT / "courses")
    db.session.commit()
    browser_sign_in(page, live_server, make_user(Role.ADMIN))
    page.goto(f"{live_server}{BASE}/new")
    page.fill("#slug", "pilot")
    page.fill("#title_en", "Pilot")
    page.fill("#title_ar", "تجريبي")
    page.locator("main form button[type=submit]").click()
    page.get_by_role("link", name="Single choice").click()
    page.fill("#key", "pick")
    page.fill("#prompt_en", "Pick one")
    page.fill("#options-0-key", "a")
    page.fill("#options-0-label_en", "A")
    page.fill("#options-1-key", "b")
    page.fill("#options-1-label_en", "B")
    page.locator("main form button[type=submit]").click()
    assert "The question pick is added." in page.content()
    db.session.rollback()  # a fresh read: the pages wrote through the server's own connection
    pilot = db.session.scalar(select(SurveyForm).where(SurveyForm.slug == "pilot"))
    standard = db.session.scalar(select(SurveyForm).where(SurveyForm.slug == "end-of-course"))
    assert pilot is not None and standard is not None and [i.key for i in pilot.items] == ["pick"]
    pages = [
        BASE, f"{BASE}/{pilot.id}", f"{BASE}/{pilot.id}/questions/{pilot.items[0].id}",
        f"{BASE}/{standard.id}", f"{BASE}/{standard.id}/preview?lang=ar",
        f"{BASE}/{pilot.id}/questions/new/rating",
    ]  # fmt: skip
    found: dict[str, list[dict[str, Any]]] = {}
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        for path in pages:
            page.goto(f"{live_server}{path}")
            if violations := axe_violations(page):
                found[f"{language} {path}"] = violations
    assert not found, describe(found)
    page.set_viewport_size({"width": 360, "height": 740})
    for path in pages[1:3]:
        page.goto(f"{live_server}{path}")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), path


def test_the_kind_of_a_form_that_runs_use_stays(admin: User, client: FlaskClient, demo_course: Any) -> None:
    from lms.enrolment.runs import default_run
    from lms.surveys.models import RunSurvey

    form = make_form(client)
    run = default_run(demo_course.id)
    assert run is not None
    db.session.add(RunSurvey(run_id=run.id, form_id=form.id, kind="end_of_course"))
    db.session.commit()
    refused = client.post(f"{BASE}/{form.id}", data={"kind": "follow_up", **texts("title", "Pilot")})
    assert refused.status_code == 422 and "its kind cannot change" in refused.get_data(as_text=True)
    assert (
        client.post(f"{BASE}/{form.id}", data={"kind": "end_of_course", **texts("title", "New")}).status_code
        == 302
    )
    db.session.expire_all()
    assert form.kind == "end_of_course" and form.title == {"en": "New"}
    assert "<td>1</td>" in client.get(BASE).get_data(as_text=True).replace(" ", "")  # used by one run

"""An admin's journey in a real browser: create an authority, appoint its focal point, find a trainee
by the Cyrillic spelling of her name, deactivate her."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.extensions import db
from lms.orgs.models import Authority
from lms.settings.services import clear_settings_cache
from tests.conftest import TEST_PASSWORD

SCREENSHOTS = Path(tempfile.gettempdir()) / "academy-admin-screenshots"


@pytest.fixture(autouse=True)
def _fresh_settings(app: Flask) -> Iterator[None]:
    yield
    clear_settings_cache()


@pytest.mark.browser
def test_admin_creates_authority_appoints_focal_point_finds_and_deactivates_a_trainee(
    page: Any, live_server: str, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    ukraine = make_authority("UA", name="State Border Guard Service of Ukraine")
    admin = make_user(Role.ADMIN, authority=ukraine, email="marta@academy.example", given_name="Marta")
    focal = make_user(
        authority=ukraine, email="iryna@dpsu.example", given_name="Iryna", family_name="Bondarenko"
    )
    trainee = make_user(
        authority=ukraine, email="olena@dpsu.example", given_name="Olena", family_name="Koval",
        native_name="Олена Миколаївна Коваль",
    )  # fmt: skip
    make_user(authority=ukraine, given_name="Oleh", family_name="Kovalenko", native_name="Олег Коваленко")
    db.session.commit()

    SCREENSHOTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/dashboard")

    # 1. create an authority
    page.locator(
        ".nav-bar summary", has_text="Administration"
    ).click()  # the admin pages are one group of the menu
    page.get_by_role("link", name="Authorities").click()
    form = page.locator("#new-authority")
    form.get_by_label("Code").fill("ua-sms")
    form.get_by_label("Name").fill("State Migration Service of Ukraine")
    form.get_by_label("Kind").select_option("migration")
    form.get_by_label("Country").select_option("UA")
    form.get_by_role("button", name="Add authority").click()
    page.wait_for_url("**/admin/authorities/*")
    assert "State Migration Service of Ukraine is added." in page.locator(".flashes").inner_text()

    # 2. appoint a focal point
    page.get_by_label("Email of the person to appoint").fill("iryna@dpsu.example")
    page.get_by_role("button", name="Appoint focal point").click()
    assert "Iryna Bondarenko is now a focal point" in page.locator(".flashes").inner_text()
    assert "Iryna Bondarenko" in page.locator(".focal-points").inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/authority.png", full_page=True)

    # 3. search for the trainee by the Cyrillic spelling of her name (different case)
    page.locator(".nav-bar summary", has_text="Administration").click()
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name or email").fill("КОВАЛЬ")
    page.get_by_role("button", name="Search").click()
    rows = page.locator(".people-table tbody tr")
    expect(rows).to_have_count(1)  # Коваль, not Коваленко
    expect(rows.first).to_contain_text("Олена Миколаївна Коваль")
    page.get_by_label("Name or email").fill("КОВАЛ")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(2)  # both
    page.get_by_label("Name or email").fill("олена МИКОЛАЇВНА")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    page.screenshot(path=f"{SCREENSHOTS}/people.png", full_page=True)
    page.get_by_role("link", name="Olena Koval").click()

    # 4. deactivate her
    page.get_by_label("Reason (kept in the audit log)").fill("Left the service")
    page.get_by_role("button", name="Deactivate").click()
    assert "can no longer sign in" in page.locator(".flashes").inner_text()
    assert "Deactivated on" in page.locator("#person-status").inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/person.png", full_page=True)

    db.session.rollback()  # end the test's read transaction to see what the server committed
    assert db.session.get(User, trainee.id).active is False
    assert db.session.get(User, focal.id).focal_point_authority_ids() == {
        db.session.scalar(select(Authority.id).where(Authority.code == "ua-sms"))
    }
    actions = set(db.session.scalars(select(AuditRecord.action)))
    assert {"orgs.authority_create", "orgs.focal_point_appoint", "admin.person_deactivate"} <= actions

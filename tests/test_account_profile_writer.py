"""One writer of a person's profile (lms/auth/profile.py): registration, the person's account page and
the admin's person page clean and check the same fields the same way (issue 19, the repeats)."""

from __future__ import annotations

import pytest
from flask import Flask

from lms.admin import services as admin_services
from lms.auth import account
from lms.auth.profile import PROFILE_FIELDS, ProfileChange
from lms.auth.services import Registration, register_user
from lms.errors import ValidationFailed
from lms.extensions import db

TYPED = {"patronymic": "   ", "native_name": " Олена ", "position": "  Senior inspector  "}
STORED = {"patronymic": None, "native_name": "Олена", "position": "Senior inspector"}


def _stored(user: object) -> dict[str, object]:
    return {name: getattr(user, name) for name in STORED}


def test_registration_cleans_the_profile_as_the_account_page_does(app: Flask, make_authority) -> None:
    authority = make_authority()
    with app.test_request_context():
        user = register_user(
            Registration(
                email="new.person@agency.test", password="a good long phrase", given_name=" Olena ",
                family_name=" Koval ", country_code=authority.country_code, authority_id=authority.id,
                preferred_language="fr", **TYPED,
            )
        )  # fmt: skip
        assert (user.given_name, user.family_name, user.preferred_language) == ("Olena", "Koval", "fr")
        assert _stored(user) == STORED
        db.session.rollback()


def test_the_person_and_the_admin_write_the_same_fields_the_same_way(app: Flask, make_user) -> None:
    person, admin = make_user(), make_user()
    change = ProfileChange(
        given_name=" A ", family_name=" B ", preferred_language="ar", timezone=None, **TYPED
    )
    with app.test_request_context():
        account.update_own_profile(person, change)
        own = {name: getattr(person, name) for name in PROFILE_FIELDS}
        data = admin_services.PersonData(email=person.email, given_name=" A ", family_name=" B ",
                                         preferred_language="ar", **TYPED)  # fmt: skip
        admin_services.update_person(person, data, actor_id=admin.id)
        assert {name: getattr(person, name) for name in PROFILE_FIELDS} == own
        assert _stored(person) == STORED
        for write in (
            lambda: account.update_own_profile(
                person, change.__class__(**{**change.__dict__, "preferred_language": "de"})
            ),
            lambda: admin_services.update_person(
                person, admin_services.PersonData(**{**data.__dict__, "preferred_language": "de"}), admin.id
            ),
        ):
            with pytest.raises(ValidationFailed, match="one of the academy's languages"):
                write()
        db.session.rollback()

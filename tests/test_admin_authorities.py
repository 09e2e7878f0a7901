"""Countries, authorities and focal points administration; re-syncing reference data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.admin import services as admin_services
from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.orgs import services as orgs
from lms.orgs.models import Authority, Country
from tests.conftest import login

MakeUser = Callable[..., User]


def actions() -> list[str]:
    """Admin actions recorded, without the sign-ins the security feature also audits."""
    return list(
        db.session.scalars(
            select(AuditRecord.action).where(~AuditRecord.action.startswith("auth.")).order_by(AuditRecord.id)
        )
    )


def test_an_admin_adds_renames_and_moves_an_authority(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority]
) -> None:
    admin = make_user(Role.ADMIN)
    make_authority("MD")
    login(client, admin)
    response = client.post(
        "/admin/authorities/new",
        data={"code": "UA-SMS", "name": "State Migration Service", "kind": "migration", "country_code": "UA"},
    )
    assert response.status_code == 302
    authority = db.session.scalar(select(Authority).where(Authority.code == "ua-sms"))
    assert authority is not None and authority.country_code == "UA"
    assert "State Migration Service" in client.get("/admin/authorities").get_data(as_text=True)
    client.post(
        f"/admin/authorities/{authority.id}",
        data={"code": "ua-sms", "name": "State Migration Service of Ukraine", "kind": "migration",
              "country_code": "MD"},
    )  # fmt: skip
    db.session.refresh(authority)
    assert (authority.name, authority.country_code) == ("State Migration Service of Ukraine", "MD")
    assert authority.edited_at is not None
    update = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "orgs.authority_update"))
    assert update.actor_id == admin.id
    assert update.before["name"] == "State Migration Service" and update.after["country"] == "MD"
    duplicate = client.post(
        "/admin/authorities/new",
        data={"code": "ua-sms", "name": "Again", "kind": "migration", "country_code": "UA"},
        follow_redirects=True,
    )
    assert "already exists" in duplicate.get_data(as_text=True)


def test_an_admin_adds_a_country(client: FlaskClient, make_user: MakeUser) -> None:
    login(client, make_user(Role.ADMIN))
    client.post("/admin/countries/new", data={"code": "eg", "name": "Egypt"})
    assert db.session.get(Country, "EG").name == "Egypt"
    assert "orgs.country_create" in actions()
    with pytest.raises(Conflict):
        orgs.create_country("EG", "Egypt", None)


def test_focal_points_are_appointed_and_removed(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority]
) -> None:
    admin = make_user(Role.ADMIN)
    authority = make_authority("GE")
    person = make_user(email="nino@police.example")
    login(client, admin)
    client.post(f"/admin/authorities/{authority.id}/focal-points", data={"email": "Nino@Police.example"})
    db.session.expire_all()
    assert db.session.get(User, person.id).focal_point_authority_ids() == {authority.id}
    page = client.get(f"/admin/authorities/{authority.id}").get_data(as_text=True)
    assert person.full_name in page
    client.post(f"/admin/authorities/{authority.id}/focal-points/{person.id}/remove")
    db.session.expire_all()
    assert db.session.get(User, person.id).focal_point_authority_ids() == set()
    assert actions() == ["orgs.focal_point_appoint", "orgs.focal_point_remove"]
    unknown = client.post(
        f"/admin/authorities/{authority.id}/focal-points",
        data={"email": "nobody@x.example"},
        follow_redirects=True,
    )
    assert "No account uses" in unknown.get_data(as_text=True)


def test_a_focal_point_cannot_be_bound_to_a_retired_authority(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority]
) -> None:
    admin = make_user(Role.ADMIN)
    authority = make_authority("AM")
    person = make_user(email="armen@mcs.example")
    orgs.retire_authority(authority, admin.id)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="retired authority"):
        admin_services.appoint_focal_point(person.id, authority, admin.id)
    login(client, admin)
    response = client.post(
        f"/admin/authorities/{authority.id}/focal-points", data={"email": person.email}, follow_redirects=True
    )
    assert "retired authority" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/people/{person.id}/roles",
        data={"role": "focal_point", "authority_id": str(authority.id)},
        follow_redirects=True,
    )
    assert "retired authority" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).focal_point_authority_ids() == set()


def test_retiring_keeps_the_staff_and_needs_the_focal_points_removed_first(
    client: FlaskClient, make_user: MakeUser, make_authority: Callable[..., Authority]
) -> None:
    admin = make_user(Role.ADMIN)
    authority = make_authority("RS")
    staff = make_user(authority=authority)
    make_user(Role.FOCAL_POINT, authority=authority)
    with pytest.raises(Conflict, match="focal points"):
        admin_services.retire_authority(authority, admin.id)
    login(client, admin)
    focal = admin_services.focal_point_user_ids(authority.id)[0]
    client.post(f"/admin/authorities/{authority.id}/focal-points/{focal}/remove")
    client.post(f"/admin/authorities/{authority.id}/retire")
    db.session.expire_all()
    authority = db.session.get(Authority, authority.id)
    assert authority.is_retired
    assert db.session.get(User, staff.id).authority_id == authority.id  # history stays
    assert "Retired on" in client.get(f"/admin/authorities/{authority.id}").get_data(as_text=True)
    client.post(f"/admin/authorities/{authority.id}/reinstate")
    db.session.expire_all()
    assert not db.session.get(Authority, authority.id).is_retired
    assert actions()[-2:] == ["orgs.authority_retire", "orgs.authority_reinstate"]


REFERENCE = """
countries:
  - code: UA
    name: Ukraine
    name_ru: Украина
    groups: [prague_process]
    authorities:
      - code: ua-sbgs
        name: State Border Guard Service of Ukraine
        kind: border_guard
  - code: MD
    name: Moldova
    authorities:
      - code: md-bp
        name: Border Police
        kind: border_guard
"""


def test_reference_data_resyncs_without_duplicating_or_undoing_admin_edits(
    client: FlaskClient, make_user: MakeUser, tmp_path: Path
) -> None:
    path = tmp_path / "reference.yml"
    path.write_text(REFERENCE, encoding="utf-8")
    first = orgs.resync_reference_data(None, path)
    assert (first.countries_added, first.authorities_added) == (2, 2)
    authority = db.session.scalar(select(Authority).where(Authority.code == "md-bp"))
    orgs.update_authority(authority, "General Border Police Inspectorate", "border_guard", "MD", None)
    second = orgs.resync_reference_data(None, path)
    assert (second.countries_added, second.authorities_added, second.updated) == (0, 0, 0)
    assert db.session.scalar(select(func.count(Authority.id))) == 2
    assert db.session.scalar(select(func.count(Country.code))) == 2
    assert authority.name == "General Border Police Inspectorate"
    # the admin button runs the real file, audited
    login(client, make_user(Role.ADMIN))
    assert client.post("/admin/reference-data/resync").status_code == 302
    assert db.session.scalar(select(func.count(Authority.code)).where(Authority.code == "ua-sbgs")) == 1
    assert actions().count("orgs.reference_resync") == 3

from __future__ import annotations

import click
from sqlalchemy import select

from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.auth.search_name import person_search_name
from lms.auth.services import find_user_by_email
from lms.extensions import db
from lms.unit_of_work import unit_of_work


@click.group("admin")
def admin_group() -> None:
    """People administration from the command line."""


@admin_group.command("reindex-names")
def reindex_names() -> None:
    """Rebuild every person's search text (after an import that bypassed the ORM)."""
    count = 0
    with unit_of_work():
        for user in db.session.scalars(select(User)).yield_per(500):
            user.search_name = person_search_name(
                user.given_name, user.patronymic, user.family_name, user.native_name, user.email
            )
            count += 1
    click.echo(f"search names rebuilt: {count}")


@admin_group.command("grant-admin")
@click.argument("email")
def grant_admin(email: str) -> None:
    """Make an existing account an admin (the first admin of a new academy)."""
    with unit_of_work():
        user = find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"no account uses {email}")
        if user.has_role(Role.ADMIN):
            click.echo(f"{email} is already an admin")
            return
        before = sorted(user.role_names)
        user.roles.append(UserRole(role=Role.ADMIN))
        db.session.flush()
        after = {"roles": sorted(user.role_names)}
        reason = "flask lms admin grant-admin"
        record_event(
            "admin.role_grant", "user", user.id, before={"roles": before}, after=after, reason=reason
        )
    click.echo(f"{email} is now an admin")

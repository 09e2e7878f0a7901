"""Writing a planned CSV import (lms.enrolment.bulk_import): every row of every table prepared before
the lock (ids chosen ahead, audit records hashed but for their link), then sent in one short writing
transaction of bulk statements, after checking under the lock that what the plan was made from is
unchanged."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Table, bindparam, func, select, update

from lms.audit.services import AuditEvent, PreparedEvents
from lms.auth.models import Role, User, UserRole
from lms.auth.search_name import person_search_name
from lms.db import PreparedInsert, utcnow
from lms.enrolment import admission, signals
from lms.enrolment.import_plan import ImportPlan, PersonChange
from lms.enrolment.import_snapshot import PERSON_FIELDS, ImportMode, Person, in_chunks, read_snapshot
from lms.enrolment.models import (
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
)
from lms.extensions import db
from lms.notifications.models import OutgoingMail

WRITE_CACHE_KIB = 128 * 1024  # SQLite's page cache while the import writes (see _roomy_page_cache)


ID_MARGIN = 1000  # SQLite: new people and places take ids this far above the highest (see _new_ids)


class PlanOutdated(Exception):
    """What the plan was made from changed before the write lock was taken: plan again."""


class IdsTaken(Exception):
    """SQLite: someone wrote a person or a place since the ids were chosen: prepare again."""


def table_of(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def _new_ids(model: type[Any], count: int, margin: int = 0) -> list[int]:
    """Ids for rows about to be written. PostgreSQL: taken from the table's sequence, so they are ours
    whatever happens next. SQLite: free ones above the highest, ``margin`` higher still, so that the
    people enrolling or registering while a file is checked (they take the next ids) do not take them;
    they are sure only once the write lock is held (``write_plan`` checks them)."""
    if not count:
        return []
    table = table_of(model)
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(f'"{table.name}"', "id")
        return sorted(
            db.session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count)))
        )
    highest = db.session.scalar(select(func.max(table.c.id))) or 0
    return list(range(highest + 1 + margin, highest + 1 + margin + count))


@dataclass
class PreparedWrite:
    """Every row of the write, made and converted for the driver before the lock is taken (most of
    the work: converting some 200,000 values, hashing the audit payloads), with the ids they will
    have. Under the lock only the statements are sent and the audit records chained."""

    person_ids: list[int]
    place_ids: list[int]
    inserts: list[PreparedInsert]  # people, their roles, places, the places' events: in this order
    mails: PreparedInsert  # its ids are given when it runs
    audit: PreparedEvents


def prepare_write(plan: ImportPlan) -> PreparedWrite:
    now = utcnow()
    person_ids = _new_ids(User, len(plan.new_people), ID_MARGIN)
    place_ids = _new_ids(Enrolment, len(plan.places), ID_MARGIN)
    new_ids = {person.email: person_id for person, person_id in zip(plan.new_people, person_ids, strict=True)}
    people = [
        {
            "id": person_id,
            **person.values,
            # Not an argon2 hash: nobody signs in before setting a password (nominations.add_staff_member).
            "password_hash": f"!unset:{secrets.token_hex(16)}",
            "search_name": person_search_name(
                person.values["given_name"],
                person.values["patronymic"],
                person.values["family_name"],
                person.values["native_name"],
                person.values["email"],
            ),
            "created_at": now,
            "updated_at": now,
        }
        for person, person_id in zip(plan.new_people, person_ids, strict=True)
    ]
    roles = [
        {"user_id": person_id, "role": Role.TRAINEE, "authority_id": None, "granted_at": now}
        for person_id in person_ids
    ]
    nominated = plan.mode == ImportMode.NOMINATE
    action = "nominated" if nominated else "enrolled"
    places = [
        {
            "id": place_id,
            "run_id": plan.run_id,
            "user_id": place.person_id if place.person_id is not None else new_ids[place.email],
            "status": place.status,
            "authority_id": place.authority_id,
            "language": place.language,
            "justification": plan.justification.strip() or None,
            "nominated_by_id": plan.actor_id if nominated else None,
            "created_at": now,
            "enrolled_at": now,
            "last_activity_at": now if place.status == EnrolmentStatus.ENROLLED else None,
            "completed_at": None,
            "waiting_position": None,
        }
        for place, place_id in zip(plan.places, place_ids, strict=True)
    ]
    events = [
        {"enrolment_id": place["id"], "action": action, "from_status": None, "to_status": place["status"],
         "actor_id": plan.actor_id, "reason": plan.justification, "at": now}
        for place in places
    ]  # fmt: skip
    audit = [
        AuditEvent(
            "user.created_by_focal_point", "user", person["id"], actor_id=plan.actor_id,
            after={"email": person["email"], "authority_id": person["authority_id"]},
        )
        for person in people
    ]  # fmt: skip
    audit += [
        AuditEvent(
            "user.updated_by_import", "user", change.person_id, actor_id=plan.actor_id,
            before=change.before, after=change.after,
        )
        for change in plan.changes
    ]  # fmt: skip
    audit += [
        AuditEvent(
            f"enrolment.{action}", "enrolment", place["id"], actor_id=plan.actor_id,
            after={"status": place["status"], "run_id": plan.run_id, "user_id": place["user_id"]},
            reason=plan.justification,
        )
        for place in places
    ]  # fmt: skip
    mails = [
        {"recipient": mail.recipient, "subject": mail.subject, "body": mail.body, "kind": mail.kind,
         "language": mail.language, "created_at": now, "next_attempt_at": now}
        for mail in plan.mails
    ]  # fmt: skip
    return PreparedWrite(
        person_ids=person_ids,
        place_ids=place_ids,
        inserts=[
            PreparedInsert(table_of(User), people),
            PreparedInsert(table_of(UserRole), roles),
            PreparedInsert(table_of(Enrolment), places),
            PreparedInsert(table_of(EnrolmentEvent), events),
        ],
        mails=PreparedInsert(table_of(OutgoingMail), mails, late=("id",)),
        audit=PreparedEvents(audit),
    )


def write_plan(plan: ImportPlan, prepared: PreparedWrite) -> None:
    """Send the prepared rows in the caller's writing transaction (the queued mail's ids go to
    ``plan.report.mail_ids``). Raises PlanOutdated, or IdsTaken, having written nothing, when what the
    plan read or the ids chosen are no longer good."""
    run = admission.lock_run(plan.run_id)  # PostgreSQL: the run's row (SQLite: BEGIN IMMEDIATE holds)
    people = [person.id for person in plan.snapshot.people]
    if read_snapshot(run, plan.mode, plan.actor_id, plan.rows, people) != plan.snapshot:
        raise PlanOutdated
    for chunk in in_chunks(person.email for person in plan.new_people):
        if db.session.scalar(select(User.id).where(User.email.in_(chunk)).limit(1)) is not None:
            raise PlanOutdated
    if db.session.get_bind().dialect.name != "postgresql":
        for model, ids in ((User, prepared.person_ids), (Enrolment, prepared.place_ids)):
            if ids and (db.session.scalar(select(func.max(table_of(model).c.id))) or 0) >= ids[0]:
                raise IdsTaken
    with _roomy_page_cache():
        for statement in prepared.inserts:
            statement.execute()
        _write_changes(plan.changes, {person.id: person for person in plan.snapshot.people})
        mail_ids = _new_ids(OutgoingMail, prepared.mails.count)  # SQLite: the lock is held: ours
        prepared.mails.execute([(mail_id,) for mail_id in mail_ids])
        prepared.audit.record()
    plan.report.mail_ids = mail_ids
    if has_request_context():  # the after-request hook hands them to the mail job
        g.setdefault("queued_mail_ids", []).extend(mail_ids)
    # The statements bypassed the ORM and its listeners: the indicator facts are refreshed here.
    signals.places_written_in_bulk.send(
        run,
        runs=[plan.run_id],
        users=[change.person_id for change in plan.changes],
        places=prepared.place_ids,
    )


@contextmanager
def _roomy_page_cache() -> Iterator[None]:
    """SQLite keeps 2 MB of pages per connection; a 20,000-row write touches tens of MB of table and
    index pages, which it would spill and read back while holding the lock. The connection gets room
    for the write, and its usual size back before the commit (it goes back to the pool)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    usual = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(usual or -2000)}")


def _write_changes(changes: Sequence[PersonChange], people: dict[int, Person]) -> None:
    """Updates of matched people: one multi-row statement per set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        person = people[change.person_id]
        values = dict(change.after)
        if {"given_name", "family_name", "patronymic", "native_name"} & set(values):
            names = {name: values.get(name, getattr(person, name)) for name in PERSON_FIELDS}
            values["search_name"] = person_search_name(
                names["given_name"], names["patronymic"], names["family_name"], names["native_name"],
                person.email,
            )  # fmt: skip
        groups.setdefault(tuple(sorted(values)), []).append({"person_id": change.person_id, **values})
    table = table_of(User)
    # updated_at is not among the columns: the column's onupdate sets it (synchronisation: lms.api).
    for columns, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("person_id"))
            .values({name: bindparam(name) for name in columns})
        )
        db.session.execute(statement, rows)

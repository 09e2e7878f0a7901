"""Version counters of derived figures (lms.reports.models.IndicatorVersion), moved in the writer's
transaction (issue 22).

The training indicators of the whole academy (lms.reports.training_indicators) are computed in Python from
every attendance line (0.2-0.3 s on the L data set, seconds on XL) and depend on few, rarely written rows:
the sessions, their attendance, a run's course and modality, a place's person and authority, a person's
sex and country. A flush that changes one of those adds one to the "trainings" counter, in the same
transaction (so a rollback takes it back too); a copy of the figures kept in the shared cache under the
counter's value it was computed at is then never out of date. Bulk writes behind the ORM (the account
merge, the CSV import) move it through `lms.reports.facts.refresh`.
"""

from __future__ import annotations

from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, UOWTransaction

from lms.auth.models import User
from lms.enrolment.models import CourseRun, Enrolment
from lms.reports.models import IndicatorVersion
from lms.sessions.models import Attendance, TrainingSession

TRAININGS = "trainings"
VERSION = IndicatorVersion.__table__
_INFO_KEY = "lms.reports.versions.trainings"

# Columns whose change moves the training figures (any change of a session or an attendance line does).
WATCHED_COLUMNS: dict[type, tuple[str, ...]] = {
    Enrolment: ("user_id", "authority_id", "run_id"),
    User: ("sex", "country_code"),
    CourseRun: ("course_id", "modality"),
}


def current(connection: Connection, name: str = TRAININGS) -> int:
    return int(connection.scalar(select(VERSION.c.version).where(VERSION.c.name == name)) or 0)


def bump(connection: Connection, name: str = TRAININGS) -> None:
    build = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = build(VERSION).values(name=name, version=1)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[VERSION.c.name], set_={"version": VERSION.c.version + 1}
        )
    )


def _moves_trainings(obj: object, how: str) -> bool:
    if isinstance(obj, (TrainingSession, Attendance)):
        return True
    columns = WATCHED_COLUMNS.get(type(obj))
    if columns is None or how == "new":  # a new place, person or run has no attendance yet
        return False
    if how == "deleted":
        return True
    attrs = inspect(obj).attrs  # type: ignore[union-attr]  # a mapped instance always has a state
    return any(attrs[name].history.has_changes() for name in columns)


@event.listens_for(Session, "after_flush")
def _note(session: Session, context: UOWTransaction) -> None:
    for how, objects in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
        if any(_moves_trainings(obj, how) for obj in objects):
            session.info[_INFO_KEY] = True
            return


@event.listens_for(Session, "after_flush_postexec")
def _apply(session: Session, context: UOWTransaction) -> None:
    if session.info.pop(_INFO_KEY, False):
        bump(session.connection())


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)

"""The indicator report's fact table: one row per place (enrolled or completed), ready to group.

The admin indicator report sums over every place in the academy (200,000 on the L data set). Building
those facts from the live tables (the person's country, sex and age band; the course's hours; the
certificate in force; the best pre- and post-test) costs about 3 s on L before any GROUP BY, so they are
kept here instead, copied from the live tables by `lms.reports.facts` in the same transaction as every
write that changes them. `flask lms reports rebuild-facts` recomputes the whole table from the live rows.

Derived data only: no foreign keys (deleting an enrolment or a person is never blocked by it), and the
primary key starts with the person, so per-person sums read the table in order (SQLite: WITHOUT ROWID).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime
from lms.extensions import db


class IndicatorFact(db.Model):  # type: ignore[name-defined]
    __tablename__ = "indicator_fact"
    __table_args__ = (
        Index("ix_indicator_fact_enrolment", "enrolment_id", unique=True),
        Index("ix_indicator_fact_run", "run_id"),
        Index("ix_indicator_fact_course", "course_id"),
        Index("ix_indicator_fact_country", "country_code"),
        Index("ix_indicator_fact_enrolled", "enrolled_at"),
        # Completions per month: the completed places only, already grouped, whatever the date range.
        Index("ix_indicator_fact_month", "completed_month", "enrolled_at"),
        # The per-(authority, person) sums of the report read this index alone, in its order, with a date
        # range too (enrolled_at is in it: without, a date filter looked up all 200,000 rows on L).
        Index(
            "ix_indicator_fact_authority",
            "authority_id",
            "user_id",
            "enrolled_at",
            "completed_month",
            "certificate",
            "hours",
            "paired",
            "pre_percent",
            "post_percent",
        ),
        {"sqlite_with_rowid": False},
    )

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    enrolment_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    run_id: Mapped[int]
    course_id: Mapped[int]
    modality: Mapped[str] = mapped_column(String(20))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "YYYYMM" of the completion, set only when the place is completed (the enrolment's status), so it
    # doubles as the completion flag; the completions-over-time chart groups by it.
    completed_month: Mapped[str | None] = mapped_column(String(6))
    hours: Mapped[int] = mapped_column(default=0)  # the course's notional hours, when completed; else 0
    certificate: Mapped[int] = mapped_column(SmallInteger, default=0)  # 1: a certificate in force
    # The pre/post-test gain is measured on places that finished both tests: `paired` is 1 for those, and
    # their best pre- and post-test percents are kept (None on places without both: nothing sums them).
    paired: Mapped[int] = mapped_column(SmallInteger, default=0)
    pre_percent: Mapped[float | None]
    post_percent: Mapped[float | None]
    country_code: Mapped[str | None] = mapped_column(String(2))  # the person's, now
    authority_id: Mapped[int | None]  # the enrolment's (the quota it counted against)
    sex: Mapped[str | None] = mapped_column(String(12))
    age_band: Mapped[str | None] = mapped_column(String(16))


class _CellFigures:
    """The summed figures of a cell, in the whole academy's cells and in the month buckets alike."""

    participants: Mapped[int] = mapped_column(default=0)
    enrolments: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)
    completed_persons: Mapped[int] = mapped_column(default=0)
    certificates: Mapped[int] = mapped_column(default=0)
    completed_hours: Mapped[int] = mapped_column(default=0)
    paired: Mapped[int] = mapped_column(default=0)
    pre_sum: Mapped[float] = mapped_column(default=0.0)
    post_sum: Mapped[float] = mapped_column(default=0.0)


class IndicatorCell(_CellFigures, db.Model):  # type: ignore[name-defined]
    """The whole academy's indicator figures, already summed (issue 22): one row per cell of the unfiltered
    report (the total, each country, sex, age band, authority and completion month), kept true by the same
    refresh as the facts (lms.reports.facts applies each write's difference). The report reads these few
    hundred rows instead of grouping every fact when no filter narrows it.

    ``key`` is the breakdown's value as text ("" for none: the total, or a person without a country);
    months are "YYYYMM". Participants and completed persons are distinct persons of the cell."""

    __tablename__ = "indicator_cell"

    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Each cell is spread over a few rows summed at read time (lms.reports.cells.SLOTS): on PostgreSQL
    # two writers that change the total lock different rows instead of queueing on one.
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0, server_default="0")


class IndicatorBucket(_CellFigures, db.Model):  # type: ignore[name-defined]
    """The indicator cells per month of enrolment (issue 22), for a date-filtered report: a range of whole
    months sums these rows, and only the partial months at its edges are grouped from the facts.

    Enrolments, completions, certificates, hours and test sums add up across months; distinct persons do
    not. So each place counts its person once more in the row whose ``since`` is the month of the
    person's previous place (in the same cell's scope: the person, or the person at that authority; ""
    when it is the first), and "completed persons" likewise with the previous completed place. A range
    starting at month A then counts the persons whose rows in it have ``since < A``: each person's first
    place in the range, exactly once. Kept by difference with the cells (lms.reports.cells)."""

    __tablename__ = "indicator_bucket"
    __table_args__ = ({"sqlite_with_rowid": False},)

    month: Mapped[str] = mapped_column(String(6), primary_key=True)  # of enrolment, "YYYYMM" (UTC)
    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    since: Mapped[str] = mapped_column(String(6), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0, server_default="0")


class IndicatorVersion(db.Model):  # type: ignore[name-defined]
    """A counter per derived figure set that has no row-by-row upkeep (issue 22: "trainings", the
    training indicators of the whole academy). Every write that can change those figures adds one in its
    own transaction (lms.reports.versions), so a copy kept under the number it was computed at is
    exactly as true as a fresh computation, however long it is kept."""

    __tablename__ = "indicator_version"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)

"""Every table column that points at a person (user.id), found from the metadata at run time.

Features added later (quiz attempts, certificates, ...) are covered without registering anything:
the merge of two accounts and the "my data" page walk this list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table, func, select

from lms.extensions import db


@dataclass(frozen=True)
class UserReference:
    table: Table
    column: Column[int]

    @property
    def key(self) -> str:
        return f"{self.table.name}.{self.column.name}"


def user_references() -> list[UserReference]:
    user_table = db.metadata.tables["user"]
    found: list[UserReference] = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column is user_table.c.id for fk in column.foreign_keys):
                found.append(UserReference(table, column))
    return found


def linked_row_counts(user_id: int, skip: frozenset[str] = frozenset()) -> dict[str, int]:
    """'table.column' -> number of rows pointing at the user (zero counts left out)."""
    counts: dict[str, int] = {}
    for reference in user_references():
        if reference.key in skip:
            continue
        count = db.session.scalar(
            select(func.count()).select_from(reference.table).where(reference.column == user_id)
        )
        if count:
            counts[reference.key] = int(count)
    return counts

"""Nothing in the database links a survey response to its author (issue 21, "Done when").

People answer; then every column of survey_response and survey_answer, every table that references them,
and every other table's cells are inspected: no person, enrolment or invitation id beside the answers,
no time of day, random keys whose order is not the order of answering, and no other row that names a
response's key (no audit record, no mail).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select, text

from lms.auth.models import User
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.surveys.answering import submit_response
from lms.surveys.models import SurveyInvitation
from tests.survey_support import GOOD_ANSWERS, complete, invitation_of, make_run_with_surveys

RESPONSE_COLUMNS = {"id", "run_survey_id", "language", "submitted_on", "sex", "country_code", "authority_id"}
ANSWER_COLUMNS = {"id", "response_id", "item_key", "number", "choices", "text"}
RANDOM_KEY = re.compile(r"^[0-9a-f]{32}$")


def _answer_in_turn(people: list[User], run_id: int) -> list[SurveyInvitation]:
    run = db.session.get(CourseRun, run_id)
    assert run is not None
    invitations = []
    for index, person in enumerate(people):
        invitation = invitation_of(complete(person, run))
        assert invitation is not None
        submit_response(invitation, {**GOOD_ANSWERS, "overall": index, "comment": f"note {index}"}, "en")
        db.session.commit()
        invitations.append(invitation)
    return invitations


def test_nothing_links_a_response_to_its_author(app: Flask, make_user: Callable[..., User]) -> None:
    run = make_run_with_surveys()
    people = [make_user(sex="female"), make_user(sex="male")]
    invitations = _answer_in_turn(people, run.id)
    tables = db.metadata.tables
    response_table, answer_table = tables["survey_response"], tables["survey_answer"]

    # 1. The columns: what was answered and the group attributes, nothing else; no time of day.
    assert set(response_table.columns.keys()) == RESPONSE_COLUMNS
    assert set(answer_table.columns.keys()) == ANSWER_COLUMNS
    for table in (response_table, answer_table):
        for column in table.columns:
            assert not isinstance(column.type, sa.DateTime), f"{table.name}.{column.name} keeps a time"
    # The only foreign keys: the run survey (shared by everyone in the run) and the response itself.
    assert {fk.target_fullname for fk in response_table.foreign_keys} == {"run_survey.id"}
    assert {fk.target_fullname for fk in answer_table.foreign_keys} == {"survey_response.id"}

    # 2. Every table that references them: only survey_answer -> survey_response; nothing points at an
    # answer; the invitation (who answered) points at neither.
    referencing = {
        (table.name, fk.target_fullname)
        for table in tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name in ("survey_response", "survey_answer")
    }
    assert referencing == {("survey_answer", "survey_response.id")}
    assert "survey_response" not in {fk.column.table.name for fk in tables["survey_invitation"].foreign_keys}

    # 3. The values: random keys, the day only, the person's group attributes (not the person).
    rows = db.session.execute(select(response_table)).mappings().all()
    assert len(rows) == 2
    for row in rows:
        assert RANDOM_KEY.match(row["id"])
        assert type(row["submitted_on"]) is date
    assert {row["sex"] for row in rows} == {"female", "male"}
    assert {row["authority_id"] for row in rows} == {p.authority_id for p in people}
    raw_days = db.session.execute(text("SELECT submitted_on FROM survey_response")).scalars().all()
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(day)) for day in raw_days), raw_days  # no hidden time
    answer_rows = db.session.execute(select(answer_table)).mappings().all()
    assert len(answer_rows) == 10 and all(RANDOM_KEY.match(row["id"]) for row in answer_rows)
    for row in answer_rows:
        assert row["number"] is None or row["item_key"] in ("relevance", "overall")
    for invitation in invitations:  # "that they answered", to the day, and nothing of what
        db.session.refresh(invitation)
        assert type(invitation.answered_on) is date
    invitation_columns = set(tables["survey_invitation"].columns.keys())
    assert invitation_columns == {
        "id", "run_survey_id", "enrolment_id", "opens_at", "closes_at", "sent_at", "reminded_at",
        "answered_on",
    }  # fmt: skip

    # 4. No other row anywhere names a response's or an answer's key (audit trail, mail, jobs...).
    keys = {row["id"] for row in rows} | {row["id"] for row in answer_rows}
    for table in tables.values():
        if table.name in ("survey_response", "survey_answer"):
            continue
        for row in db.session.execute(select(table)).all():
            cells = " ".join(str(cell) for cell in row)
            assert not any(key in cells for key in keys), f"{table.name} names a response"


def test_the_order_of_keys_is_not_the_order_of_answering(app: Flask, make_user: Callable[..., User]) -> None:
    """Eight people answer in turn: sorted by key, the responses come in an order unrelated to the turn
    (a sequential or time-based key would sort them back into it; the chance of a random match is 1/40320)."""
    run = make_run_with_surveys()
    _answer_in_turn([make_user() for _ in range(8)], run.id)
    by_key = db.session.execute(text("SELECT id FROM survey_response ORDER BY id")).scalars().all()
    turn_of = {
        response_id: number
        for response_id, number in db.session.execute(
            text("SELECT response_id, number FROM survey_answer WHERE item_key = 'overall'")
        ).all()
    }
    assert [turn_of[key] for key in by_key] != list(range(8))
    assert len(set(by_key)) == 8

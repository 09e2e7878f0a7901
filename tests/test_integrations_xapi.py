"""xAPI 1.0.3 statements (issue 24): recorded in the transaction of each learning event, checked against
the specification's rules (tests/xapi_rules.py), sent after the commit to a local fake LRS with the
version header and basic auth, and a resend never duplicates (the ids are UUID v5 of the events)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment import completion, runs, self_service
from lms.extensions import db
from lms.integrations import xapi, xapi_outbox
from lms.integrations.models import LrsSettings, OutboxStatus, XapiStatement
from tests.enrolment_support import make_course
from tests.integrations_support import Receiver, running
from tests.xapi_rules import statement_problems

BASE = "https://academy.example.org"


def learning() -> xapi.Learning:
    return xapi.Learning(BASE, "Border Academy", 17, 41, "ibm", "IBM foundations", 5, "Spring run", "en")


def configure_lrs(url: str) -> None:
    db.session.add(LrsSettings(id=1, enabled=True, endpoint=url + "/xapi", key="lms", secret="s3cret"))
    db.session.commit()


def finish_a_course(trainee: User) -> None:
    course = make_course(slug="xapi-course")
    run = runs.ensure_default_run(course)
    enrolment = self_service.self_enrol(trainee, run, language="en")
    for module in course.modules:
        for lesson in module.lessons:
            completion.complete_lesson(enrolment, lesson)
    db.session.commit()


def outbox() -> list[XapiStatement]:
    return list(db.session.scalars(select(XapiStatement).order_by(XapiStatement.id)))


def test_learning_events_become_valid_statements_sent_once_to_the_lrs(
    app: Flask, make_user: Callable[..., User]
) -> None:
    trainee = make_user(Role.TRAINEE)
    with running(Receiver(), lrs=True) as lrs:
        configure_lrs(lrs.url)
        finish_a_course(trainee)
        rows = outbox()
        verbs = [row.verb for row in rows]
        # the certificate is issued on completion (its receiver runs first: the order is the signals')
        assert sorted(verbs) == ["completed", "earned", "registered"]
        for row in rows:
            assert statement_problems(row.statement) == [], row.statement
            assert row.statement["actor"]["account"]["name"] == str(trainee.id)
            assert trainee.email not in json.dumps(row.statement)
        outcome = xapi_outbox.send_due()
        assert outcome.sent == len(rows) and outcome.failed == 0
        assert len(lrs.stored) == len(rows)
        for request in lrs.requests:
            assert request.method == "PUT" and request.path.startswith("/xapi/statements?statementId=")
            assert request.headers["x-experience-api-version"] == "1.0.3"
            assert request.headers["authorization"] == "Basic " + base64.b64encode(b"lms:s3cret").decode()
        # a resend (a lost answer, an operator's retry) is the same statement at the LRS
        for row in outbox():
            row.status, row.next_attempt_at = OutboxStatus.PENDING, utcnow()
        db.session.commit()
        assert xapi_outbox.send_due().sent == len(rows)
        assert len(lrs.stored) == len(rows)
        assert {request.status for request in lrs.requests} == {204}
        # and the same event recorded again adds no row
        xapi_outbox.record(rows[0].statement)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(XapiStatement)) == len(rows)
    assert {row.status for row in outbox()} == {OutboxStatus.SENT}


def test_an_lrs_that_is_down_is_retried_with_backoff(app: Flask, make_user: Callable[..., User]) -> None:
    with running(Receiver(statuses=[503, 204]), lrs=True) as lrs:
        configure_lrs(lrs.url)
        xapi_outbox.record(xapi.registered(learning(), utcnow()))
        db.session.commit()
        now = utcnow()
        assert xapi_outbox.send_due(now=now).failed == 1
        assert xapi_outbox.send_due(now=now + timedelta(seconds=29)).sent == 0
        assert xapi_outbox.send_due(now=now + timedelta(seconds=30)).sent == 1
    assert len(lrs.stored) == 1


def test_nothing_is_recorded_without_a_learning_record_store(
    app: Flask, make_user: Callable[..., User]
) -> None:
    finish_a_course(make_user(Role.TRAINEE))
    assert outbox() == []


def test_quiz_results_and_attendance_follow_the_rules() -> None:
    at = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    passed = xapi.quiz_finished(
        learning(), xapi.QuizResult(9, "final", "Final assessment", 17.0, 20.0, True, at)
    )
    failed = xapi.quiz_finished(
        learning(), xapi.QuizResult(10, "final", "Final assessment", 3, 20, False, at)
    )
    attended = xapi.attended(learning(), at, 135)
    for statement in (passed, failed, attended):
        assert statement_problems(statement) == [], statement
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert passed["result"]["score"] == {"scaled": 0.85, "raw": 17.0, "min": 0, "max": 20.0}
    assert passed["result"]["success"] is True
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert failed["result"]["success"] is False
    assert attended["result"]["duration"] == "PT135M"
    assert passed["object"]["id"] == f"{BASE}/courses/ibm/quizzes/final"
    assert passed["context"]["contextActivities"]["parent"][0]["id"] == f"{BASE}/runs/5"
    # the same event always gives the same id; another event another one
    again = xapi.quiz_finished(
        learning(), xapi.QuizResult(9, "final", "Final assessment", 17.0, 20.0, True, at)
    )
    assert again["id"] == passed["id"] != failed["id"]
    assert passed["context"]["registration"] == failed["context"]["registration"]
    with pytest.raises(ValueError):
        xapi.registered(learning(), datetime(2027, 3, 1, 9, 30))  # a naive time is refused


def test_the_validator_catches_broken_statements() -> None:
    """The rules are real: a statement that breaks them is caught."""
    good = xapi.completed(learning(), datetime(2027, 3, 1, tzinfo=UTC))
    broken = json.loads(json.dumps(good))
    broken["actor"]["mbox"] = "mailto:someone@example.org"  # two identifiers
    broken["verb"]["id"] = "completed"
    broken["result"]["score"] = {"scaled": 1.5}
    broken["context"]["registration"] = "not-a-uuid"
    broken["timestamp"] = "2027-03-01T00:00:00"
    broken["id"] = "123"
    assert len(statement_problems(broken)) == 6

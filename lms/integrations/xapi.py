"""xAPI 1.0.3 statements (https://github.com/adlnet/xAPI-Spec/blob/master/xAPI-Data.md) for the learning
events: registered, attended, completed, passed/failed with a score, earned a certificate.

Pure functions of plain values; ``lms.integrations.xapi_outbox`` records them. A statement's id is a UUID
v5 of the event's name (the kind of event and the ids of what it is about), so an event recorded or sent
twice is the same statement at the learning record store. The actor is an account (the academy's base URL
and the person's stable id), never an email address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

XAPI_VERSION = "1.0.3"
# Every statement and registration id of this product derives from this namespace and the base URL.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://academy-lms.invalid/xapi")

VERBS: dict[str, tuple[str, str]] = {
    "registered": ("http://adlnet.gov/expapi/verbs/registered", "registered"),
    "attended": ("http://adlnet.gov/expapi/verbs/attended", "attended"),
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    "earned": ("http://id.tincanapi.com/verb/earned", "earned"),
}
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
MEETING_TYPE = "http://adlnet.gov/expapi/activities/meeting"
CERTIFICATE_TYPE = "https://w3id.org/xapi/tla/activity-types/credential"


def registration_uuid(enrolment_id: int, base_url: str) -> str:
    """The enrolment's xAPI registration (also in the webhook payloads): stable for an academy."""
    return str(uuid.uuid5(NAMESPACE, f"{base_url}/enrolments/{enrolment_id}"))


def statement_uuid(base_url: str, event_key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{base_url}|{event_key}"))


@dataclass(frozen=True)
class Learning:
    """What every statement of one enrolment shares."""

    base_url: str
    academy_name: str
    user_id: int
    enrolment_id: int
    course_slug: str
    course_title: str
    run_id: int
    run_title: str
    language: str


def _activity(activity_id: str, name: str, language: str, activity_type: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": activity_id,
        "definition": {"name": {language: name}, "type": activity_type},
    }


def course_activity(learning: Learning) -> dict[str, Any]:
    return _activity(
        f"{learning.base_url}/courses/{learning.course_slug}",
        learning.course_title,
        learning.language,
        COURSE_TYPE,
    )


def run_activity(learning: Learning) -> dict[str, Any]:
    return _activity(
        f"{learning.base_url}/runs/{learning.run_id}", learning.run_title, learning.language, COURSE_TYPE
    )


def statement(
    learning: Learning,
    verb: str,
    event_key: str,
    timestamp: datetime,
    object_: dict[str, Any],
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if timestamp.tzinfo is None:
        raise ValueError("xAPI timestamps carry their time zone")
    verb_id, verb_name = VERBS[verb]
    parents = [] if object_["id"] == run_activity(learning)["id"] else [run_activity(learning)]
    built: dict[str, Any] = {
        "id": statement_uuid(learning.base_url, event_key),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": learning.base_url, "name": str(learning.user_id)},
        },
        "verb": {"id": verb_id, "display": {"en-US": verb_name}},
        "object": object_,
        "context": {
            "registration": registration_uuid(learning.enrolment_id, learning.base_url),
            "platform": learning.academy_name[:100] or "Academy LMS",
            "language": learning.language,
            "contextActivities": {
                "parent": parents,
                "grouping": [course_activity(learning)],
            },
        },
        "timestamp": timestamp.isoformat(),
    }
    if not parents:
        del built["context"]["contextActivities"]["parent"]
    if result is not None:
        built["result"] = result
    return built


def registered(learning: Learning, at: datetime) -> dict[str, Any]:
    return statement(
        learning, "registered", f"registered/{learning.enrolment_id}", at, run_activity(learning)
    )


def attended(learning: Learning, at: datetime, minutes: int) -> dict[str, Any]:
    """One statement per attended total (a new total is a new statement; the same total is the same one)."""
    return statement(
        learning,
        "attended",
        f"attended/{learning.enrolment_id}/{minutes}",
        at,
        run_activity(learning),
        {"duration": f"PT{max(minutes, 0)}M"},
    )


def completed(learning: Learning, at: datetime) -> dict[str, Any]:
    return statement(
        learning,
        "completed",
        f"completed/{learning.enrolment_id}",
        at,
        run_activity(learning),
        {"completion": True, "success": True},
    )


@dataclass(frozen=True)
class QuizResult:
    attempt_id: int
    quiz_slug: str
    quiz_title: str
    score: float
    max_score: float
    passed: bool
    finished_at: datetime


def scaled(score: float, max_score: float) -> float:
    """result.score.scaled: in [-1, 1], rounded (some LRS refuse long decimals)."""
    if max_score <= 0:
        return 0.0
    return round(max(-1.0, min(1.0, score / max_score)), 4)


def quiz_finished(learning: Learning, quiz: QuizResult) -> dict[str, Any]:
    verb = "passed" if quiz.passed else "failed"
    raw = max(0.0, min(quiz.score, quiz.max_score))
    activity = _activity(
        f"{learning.base_url}/courses/{learning.course_slug}/quizzes/{quiz.quiz_slug}",
        quiz.quiz_title,
        learning.language,
        ASSESSMENT_TYPE,
    )
    result = {
        "score": {"scaled": scaled(raw, quiz.max_score), "raw": raw, "min": 0, "max": quiz.max_score},
        "success": quiz.passed,
        "completion": True,
    }
    return statement(learning, verb, f"attempt/{quiz.attempt_id}", quiz.finished_at, activity, result)


def earned(learning: Learning, at: datetime, code: str, title: str) -> dict[str, Any]:
    activity = _activity(f"{learning.base_url}/verify/{code}", title, learning.language, CERTIFICATE_TYPE)
    return statement(learning, "earned", f"certificate/{code}", at, activity)

"""The xAPI 1.0.3 rules our statements must keep (xAPI-Data.md, section 2.4), checked field by field.

Returns the list of broken rules (empty: the statement is valid). Written for the tests: no maintained
validator library exists on PyPI (docs/integrations.md)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
                  "version", "attachments"}  # fmt: skip
AGENT_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
SCORE_KEYS = {"scaled", "raw", "min", "max"}
CONTEXT_KEYS = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language",
                "statement", "extensions"}  # fmt: skip
CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# ISO 8601 durations as xAPI allows them (PnYnMnDTnHnMnS, or PnW)
DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?D)?(T(?!$)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$|^P\d+W$"
)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def is_iri(value: Any) -> bool:
    if not isinstance(value, str) or " " in value:
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path)


def is_uuid(value: Any) -> bool:
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        return False
    return str(parsed) == value and parsed.variant == uuid.RFC_4122


def language_map_problems(value: Any, where: str) -> list[str]:
    if not isinstance(value, dict) or not value:
        return [f"{where}: a language map is a non-empty object"]
    return [f"{where}: {key!r} is not a language tag" for key in value if not LANGUAGE_TAG.match(key)] + [
        f"{where}: values are strings" for text in value.values() if not isinstance(text, str)
    ]


def actor_problems(actor: Any) -> list[str]:
    if not isinstance(actor, dict):
        return ["actor: an object"]
    problems = []
    if actor.get("objectType", "Agent") != "Agent":
        problems.append("actor: objectType Agent")
    ifis = [key for key in AGENT_IFIS if key in actor]
    if len(ifis) != 1:
        problems.append(f"actor: exactly one inverse functional identifier, not {ifis}")
    account = actor.get("account")
    if account is not None:
        if set(account) != {"homePage", "name"}:
            problems.append("actor.account: homePage and name only")
        if not is_iri(account.get("homePage")) or not urlsplit(account.get("homePage", "")).scheme.startswith(
            "http"
        ):
            problems.append("actor.account.homePage: an IRL")
        if not isinstance(account.get("name"), str) or not account.get("name"):
            problems.append("actor.account.name: a string")
        if "@" in str(account.get("name")):
            problems.append("actor.account.name: not an email address (privacy)")
    return problems


def activity_problems(activity: Any, where: str) -> list[str]:
    if not isinstance(activity, dict):
        return [f"{where}: an object"]
    problems = []
    if activity.get("objectType", "Activity") != "Activity":
        problems.append(f"{where}: objectType Activity")
    if not is_iri(activity.get("id")):
        problems.append(f"{where}.id: an IRI")
    definition = activity.get("definition")
    if definition is not None:
        if "name" in definition:
            problems += language_map_problems(definition["name"], f"{where}.definition.name")
        if "type" in definition and not is_iri(definition["type"]):
            problems.append(f"{where}.definition.type: an IRI")
    return problems


def result_problems(result: Any) -> list[str]:
    if not isinstance(result, dict):
        return ["result: an object"]
    problems = [f"result: unknown property {key}" for key in result if key not in RESULT_KEYS]
    for key in ("success", "completion"):
        if key in result and not isinstance(result[key], bool):
            problems.append(f"result.{key}: a boolean")
    if "duration" in result and not DURATION.match(str(result["duration"])):
        problems.append("result.duration: an ISO 8601 duration")
    score = result.get("score")
    if score is not None:
        problems += [f"result.score: unknown property {key}" for key in score if key not in SCORE_KEYS]
        numbers = {key: score[key] for key in SCORE_KEYS & set(score)}
        if any(not isinstance(value, (int, float)) or isinstance(value, bool) for value in numbers.values()):
            return [*problems, "result.score: numbers"]
        if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
            problems.append("result.score.scaled: between -1 and 1")
        if "min" in numbers and "max" in numbers and not numbers["min"] < numbers["max"]:
            problems.append("result.score: min below max")
        if "raw" in numbers and not numbers.get("min", numbers["raw"]) <= numbers["raw"] <= numbers.get(
            "max", numbers["raw"]
        ):
            problems.append("result.score.raw: between min and max")
    return problems


def context_problems(context: Any) -> list[str]:
    if not isinstance(context, dict):
        return ["context: an object"]
    problems = [f"context: unknown property {key}" for key in context if key not in CONTEXT_KEYS]
    if "registration" in context and not is_uuid(context["registration"]):
        problems.append("context.registration: a UUID")
    if "language" in context and not LANGUAGE_TAG.match(str(context["language"])):
        problems.append("context.language: a language tag")
    for key, activities in (context.get("contextActivities") or {}).items():
        if key not in CONTEXT_ACTIVITY_KEYS:
            problems.append(f"context.contextActivities: unknown property {key}")
            continue
        for index, activity in enumerate(activities if isinstance(activities, list) else [activities]):
            problems += activity_problems(activity, f"context.contextActivities.{key}[{index}]")
    return problems


def statement_problems(statement: dict[str, Any]) -> list[str]:
    problems = [f"unknown property {key}" for key in statement if key not in STATEMENT_KEYS]
    for required in ("actor", "verb", "object"):
        if required not in statement:
            problems.append(f"{required}: required")
    if "id" in statement and not is_uuid(statement["id"]):
        problems.append("id: a UUID")
    problems += actor_problems(statement.get("actor"))
    verb = statement.get("verb") or {}
    if not is_iri(verb.get("id")):
        problems.append("verb.id: an IRI")
    if "display" in verb:
        problems += language_map_problems(verb["display"], "verb.display")
    problems += activity_problems(statement.get("object"), "object")
    if "result" in statement:
        problems += result_problems(statement["result"])
    if "context" in statement:
        problems += context_problems(statement["context"])
    timestamp = statement.get("timestamp")
    if timestamp is not None:
        if not TIMESTAMP.match(str(timestamp)):
            problems.append("timestamp: ISO 8601 with a time zone")
        else:
            datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    return problems

"""What a package may store: the SCORM 1.2 and SCORM 2004 run-time data model elements a SCO writes, their
sizes and vocabularies, checked on the server before anything is kept (pure: plain values in, a dataclass
out; tested without an app).

The player's runtime (scorm-again, in the package's frame) already refuses bad calls with the standard
error codes; this is the server's own check, because what reaches it comes from a page the package's
scripts can talk to. A commit is the flattened data model (``{"cmi.core.lesson_status": "passed", ...}``):
elements the LMS owns (``cmi.core.student_id``, ``cmi.entry``, ``cmi.total_time``...) are dropped (the server
sets those itself), empty collections (``{}``) are dropped, anything outside the data model refuses the
whole commit. Limits are the SPM sizes of the standards (SCORM 2004 4th edition RTE, SCORM 1.2 RTE 3.4).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

SCORM_12 = "1.2"
SCORM_2004 = "2004"

MAX_ELEMENTS = 5000  # per commit: 250 interactions of ~15 elements each, and room to spare


class CmiRefused(ValueError):
    """A commit the server does not store; ``element`` names the first offending element."""

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.element = element
        self.reason = reason


@dataclass(frozen=True)
class CmiCommit:
    """A checked commit: the elements kept, and the values the LMS reads from them (2004 vocabulary)."""

    elements: dict[str, str] = field(default_factory=dict)
    completion_status: str = "not attempted"
    success_status: str = "unknown"
    score_raw: Decimal | None = None
    score_scaled: Decimal | None = None
    location: str = ""
    suspend_data: str = ""
    exit: str = ""
    session_seconds: int = 0

    @property
    def satisfied(self) -> bool:
        return self.success_status != "failed" and (
            self.completion_status == "completed" or self.success_status == "passed"
        )


Check = Callable[[str], bool]


def _text(limit: int) -> Check:
    return lambda value: len(value) <= limit


def _vocabulary(*words: str) -> Check:
    allowed = frozenset(words)
    return lambda value: value in allowed


def _decimal(low: Decimal | None = None, high: Decimal | None = None, empty: bool = True) -> Check:
    def check(value: str) -> bool:
        if value == "":
            return empty
        number = _number(value)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)

    return check


_TIMESPAN_12 = re.compile(r"^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$")
_TIME_12 = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d{1,2})?$")
_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d{1,2})?)S)?)?$"
)
_TIMESTAMP = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,2})?)?)?(Z|[+-]\d{2}(:\d{2})?)?)?)?)?$"
)


def _matches(pattern: re.Pattern[str], empty: bool = True) -> Check:
    return lambda value: (empty and value == "") or pattern.match(value) is not None


def _duration(value: str) -> bool:
    return value == "" or (
        value not in ("P", "PT") and not value.endswith("T") and _DURATION.match(value) is not None
    )


def _result(*words: str) -> Check:
    vocabulary = _vocabulary(*words)
    number = _decimal(empty=False)
    return lambda value: vocabulary(value) or number(value)


_N = ".n"  # an index in a collection: cmi.interactions.n.id

_STATUS_12 = ("passed", "completed", "failed", "incomplete", "browsed", "not attempted")
_INTERACTION_TYPES_12 = (
    "true-false",
    "choice",
    "fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
)
_SCORE_12 = _decimal(Decimal(0), Decimal(100))

RULES_12: tuple[tuple[str, Check], ...] = (
    ("cmi.core.lesson_location", _text(255)),
    ("cmi.core.lesson_status", _vocabulary(*_STATUS_12)),
    ("cmi.core.exit", _vocabulary("", "time-out", "suspend", "logout")),
    ("cmi.core.session_time", _matches(_TIMESPAN_12, empty=False)),
    ("cmi.core.score.raw", _SCORE_12),
    ("cmi.core.score.min", _SCORE_12),
    ("cmi.core.score.max", _SCORE_12),
    ("cmi.suspend_data", _text(4096)),
    ("cmi.comments", _text(4096)),
    ("cmi.student_preference.audio", _decimal(Decimal(-1), Decimal(100))),
    ("cmi.student_preference.language", _text(255)),
    ("cmi.student_preference.speed", _decimal(Decimal(-100), Decimal(100))),
    ("cmi.student_preference.text", _vocabulary("", "-1", "0", "1")),
    (f"cmi.objectives{_N}.id", _text(255)),
    (f"cmi.objectives{_N}.score.(raw|min|max)", _SCORE_12),
    (f"cmi.objectives{_N}.status", _vocabulary("", *_STATUS_12)),
    (f"cmi.interactions{_N}.id", _text(255)),
    (f"cmi.interactions{_N}.objectives{_N}.id", _text(255)),
    (f"cmi.interactions{_N}.time", _matches(_TIME_12)),
    (f"cmi.interactions{_N}.type", _vocabulary("", *_INTERACTION_TYPES_12)),
    (f"cmi.interactions{_N}.correct_responses{_N}.pattern", _text(255)),
    (f"cmi.interactions{_N}.weighting", _decimal()),
    (f"cmi.interactions{_N}.student_response", _text(255)),
    (f"cmi.interactions{_N}.result", _result("", "correct", "wrong", "unanticipated", "neutral")),
    (f"cmi.interactions{_N}.latency", _matches(_TIMESPAN_12)),
)
# Elements the LMS sets (read-only for a SCO) or derives: a commit may carry them, the server drops them.
OWNED_BY_LMS_12 = re.compile(
    r"^cmi\.(core\.(student_id|student_name|credit|entry|lesson_mode|total_time)|launch_data|comments_from_lms"
    r"|student_data\.\w+|(core|objectives|interactions|student_preference|student_data)\._(children|count)"
    r"|interactions\.\d+\.(objectives|correct_responses)\._count|objectives\.\d+\.score\._children)$"
)

_UNIT = _decimal(Decimal(0), Decimal(1))
_SCALED = _decimal(Decimal(-1), Decimal(1))
_INTERACTION_TYPES_2004 = (
    "true-false", "choice", "fill-in", "long-fill-in", "likert", "matching", "performance", "sequencing",
    "numeric", "other",
)  # fmt: skip
_COMPLETION = ("completed", "incomplete", "not attempted", "unknown")
_SUCCESS = ("passed", "failed", "unknown")

RULES_2004: tuple[tuple[str, Check], ...] = (
    ("cmi.location", _text(1000)),
    ("cmi.completion_status", _vocabulary(*_COMPLETION)),
    ("cmi.success_status", _vocabulary(*_SUCCESS)),
    ("cmi.exit", _vocabulary("", "time-out", "suspend", "logout", "normal")),
    ("cmi.session_time", _duration),
    ("cmi.score.scaled", _SCALED),
    ("cmi.score.(raw|min|max)", _decimal()),
    ("cmi.progress_measure", _UNIT),
    ("cmi.suspend_data", _text(64000)),
    ("cmi.learner_preference.audio_level", _decimal(Decimal(0))),
    ("cmi.learner_preference.language", _text(250)),
    ("cmi.learner_preference.delivery_speed", _decimal(Decimal(0))),
    ("cmi.learner_preference.audio_captioning", _vocabulary("", "-1", "0", "1")),
    (f"cmi.comments_from_learner{_N}.comment", _text(4000)),
    (f"cmi.comments_from_learner{_N}.location", _text(250)),
    (f"cmi.comments_from_learner{_N}.timestamp", _matches(_TIMESTAMP)),
    (f"cmi.objectives{_N}.id", _text(4000)),
    (f"cmi.objectives{_N}.score.scaled", _SCALED),
    (f"cmi.objectives{_N}.score.(raw|min|max)", _decimal()),
    (f"cmi.objectives{_N}.success_status", _vocabulary("", *_SUCCESS)),
    (f"cmi.objectives{_N}.completion_status", _vocabulary("", *_COMPLETION)),
    (f"cmi.objectives{_N}.progress_measure", _UNIT),
    (f"cmi.objectives{_N}.description", _text(250)),
    (f"cmi.interactions{_N}.id", _text(4000)),
    (f"cmi.interactions{_N}.type", _vocabulary("", *_INTERACTION_TYPES_2004)),
    (f"cmi.interactions{_N}.objectives{_N}.id", _text(4000)),
    (f"cmi.interactions{_N}.timestamp", _matches(_TIMESTAMP)),
    (f"cmi.interactions{_N}.correct_responses{_N}.pattern", _text(8000)),
    (f"cmi.interactions{_N}.weighting", _decimal()),
    (f"cmi.interactions{_N}.learner_response", _text(8000)),
    (f"cmi.interactions{_N}.result", _result("", "correct", "incorrect", "unanticipated", "neutral")),
    (f"cmi.interactions{_N}.latency", _duration),
    (f"cmi.interactions{_N}.description", _text(250)),
)
OWNED_BY_LMS_2004 = re.compile(
    r"^(cmi\.(credit|entry|mode|learner_id|learner_name|launch_data|max_time_allowed|time_limit_action"
    r"|total_time|completion_threshold|scaled_passing_score|comments_from_lms(\.\d+\.\w+)?|_version"
    r"|[a-z_]+\._(children|count)|[a-z_]+\.\d+\.[a-z_]+\._(children|count)|score\._children)"
    r"|adl\.nav\.request(_valid\.\w+)?)$"
)


def _compiled(rules: tuple[tuple[str, Check], ...]) -> tuple[tuple[re.Pattern[str], Check], ...]:
    def regex(pattern: str) -> re.Pattern[str]:
        return re.compile("^" + pattern.replace(".", r"\.").replace(r"\.n\.", r"\.\d{1,3}\.") + "$")

    return tuple((regex(pattern), check) for pattern, check in rules)


_RULES = {
    SCORM_12: (_compiled(RULES_12), OWNED_BY_LMS_12),
    SCORM_2004: (_compiled(RULES_2004), OWNED_BY_LMS_2004),
}


def family(scorm_version: str) -> str:
    """'1.2' or '2004' for a package version's ``scorm_version`` ('1.2', '2004 3rd', '2004 4th')."""
    return SCORM_12 if scorm_version.startswith("1.2") else SCORM_2004


def check_commit(scorm_version: str, data: object) -> CmiCommit:
    """The elements of a commit that are kept, checked; raises CmiRefused naming the first bad element."""
    patterns, owned = _RULES[family(scorm_version)]
    if not isinstance(data, Mapping):
        raise CmiRefused("cmi", "not an object")
    if len(data) > MAX_ELEMENTS:
        raise CmiRefused("cmi", "too many elements")
    kept: dict[str, str] = {}
    for element, value in data.items():
        if not isinstance(element, str) or len(element) > 255:
            raise CmiRefused("cmi", "element name")
        if isinstance(value, Mapping) and not value:  # an empty collection, as scorm-again renders it
            continue
        if owned.match(element):
            continue
        if not isinstance(value, str):
            raise CmiRefused(element, "not a string")
        check = next((check for pattern, check in patterns if pattern.match(element)), None)
        if check is None:
            raise CmiRefused(element, "not an element a package may store")
        if not check(value):
            raise CmiRefused(element, "value out of range or vocabulary")
        if value != "":
            kept[element] = value
    return _summary(family(scorm_version), kept)


def _summary(version: str, kept: dict[str, str]) -> CmiCommit:
    if version == SCORM_12:
        completion, success = _split_lesson_status(kept.get("cmi.core.lesson_status", "not attempted"))
        raw = _number(kept.get("cmi.core.score.raw", ""))
        low = _number(kept.get("cmi.core.score.min", "")) or Decimal(0)
        high = _number(kept.get("cmi.core.score.max", "")) or Decimal(100)
        scaled = (
            None
            if raw is None or high <= low
            else min(Decimal(1), max(Decimal(0), (raw - low) / (high - low)))
        )
        return CmiCommit(
            elements=kept,
            completion_status=completion,
            success_status=success,
            score_raw=raw,
            score_scaled=None if scaled is None else scaled.quantize(Decimal("0.00001")),
            location=kept.get("cmi.core.lesson_location", ""),
            suspend_data=kept.get("cmi.suspend_data", ""),
            exit=kept.get("cmi.core.exit", ""),
            session_seconds=timespan_seconds(kept.get("cmi.core.session_time", "")),
        )
    return CmiCommit(
        elements=kept,
        completion_status=kept.get("cmi.completion_status", "unknown"),
        success_status=kept.get("cmi.success_status", "unknown"),
        score_raw=_number(kept.get("cmi.score.raw", "")),
        score_scaled=_number(kept.get("cmi.score.scaled", "")),
        location=kept.get("cmi.location", ""),
        suspend_data=kept.get("cmi.suspend_data", ""),
        exit=kept.get("cmi.exit", ""),
        session_seconds=duration_seconds(kept.get("cmi.session_time", "")),
    )


def _split_lesson_status(status: str) -> tuple[str, str]:
    """SCORM 1.2's one lesson_status as SCORM 2004's completion and success statuses."""
    return {
        "passed": ("completed", "passed"),
        "failed": ("completed", "failed"),
        "completed": ("completed", "unknown"),
        "incomplete": ("incomplete", "unknown"),
        "browsed": ("incomplete", "unknown"),
    }.get(status, ("not attempted", "unknown"))


def _number(value: str) -> Decimal | None:
    if value == "" or len(value) > 40:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def timespan_seconds(value: str) -> int:
    """SCORM 1.2 CMITimespan (HHHH:MM:SS.SS) in whole seconds; 0 when empty or malformed."""
    if not _TIMESPAN_12.match(value):
        return 0
    hours, minutes, seconds = value.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(float(seconds))


def duration_seconds(value: str) -> int:
    """SCORM 2004 timeinterval (ISO 8601 duration, P[nY][nM][nD][T[nH][nM][n.nS]]) in whole seconds
    (a year as 365 days, a month as 30); 0 when empty or malformed."""
    match = _DURATION.match(value)
    if not match:
        return 0
    part = {name: float(number) if number else 0.0 for name, number in match.groupdict().items()}
    days = part["y"] * 365 + part["mo"] * 30 + part["d"]
    return int(days * 86400 + part["h"] * 3600 + part["mi"] * 60 + part["s"])


def seconds_as_timespan(seconds: int) -> str:
    """Whole seconds as SCORM 1.2 CMITimespan (for cmi.core.total_time at launch)."""
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{min(hours, 9999):04d}:{rest // 60:02d}:{rest % 60:02d}"


def seconds_as_duration(seconds: int) -> str:
    """Whole seconds as an ISO 8601 duration (for cmi.total_time at launch)."""
    return f"PT{max(0, seconds)}S"


def interactions(elements: Mapping[str, str]) -> list[dict[str, str]]:
    """The cmi.interactions.n.* elements of a stored commit, one dict per interaction in index order
    (``{"id": ..., "type": ..., "result": ..., "learner_response": ...}``; a 1.2 student_response is
    given as learner_response)."""
    found: dict[int, dict[str, str]] = {}
    for element, value in elements.items():
        match = re.match(r"^cmi\.interactions\.(\d+)\.(id|type|result|learner_response|student_response|"
                         r"description|weighting|latency|timestamp|time)$", element)  # fmt: skip
        if match:
            name = "learner_response" if match.group(2) == "student_response" else match.group(2)
            found.setdefault(int(match.group(1)), {})[name] = value
    return [found[index] for index in sorted(found)]

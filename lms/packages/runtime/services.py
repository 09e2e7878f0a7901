"""Attempts on package items: what a launch gives the runtime, and recording a commit (issue 25).

The caller (the player's views) has already checked that the person holds an active enrolment in the
lesson's course and passes its id: packages sit below enrolment and do not read enrolments.

Attempts (decided here, docs/packages.md "Attempts"): the latest attempt is resumed unless it is finished;
an attempt is finished when the SCO terminated (Terminate/LMSFinish) without suspending (``exit`` is not
"suspend") after reaching a result (completed, passed or failed). The next opening then starts attempt
number + 1 with empty data, on the package's current version; older attempts are kept. An unfinished
attempt resumes on the version it was started on (its files are kept per version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lms.courses.models import Lesson
from lms.db import utcnow
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.extensions import db
from lms.packages.models import Package, PackageItem, PackageVersion
from lms.packages.runtime import cmi
from lms.packages.runtime.models import PackageAttempt
from lms.packages.signals import sco_status_changed


@dataclass(frozen=True)
class Launch:
    """What the player needs to open a package item for one enrolment."""

    version: PackageVersion
    item: PackageItem
    attempt_number: int
    scorm_family: str  # "1.2" or "2004"
    cmi: dict[str, str]  # the initial data model given to the runtime before Initialize


def package_lesson(lesson: Lesson | None) -> Lesson:
    if lesson is None or lesson.package_id is None or not lesson.package_item_identifier:
        raise NotFound(_("This lesson has no package."))
    return lesson


def attempts_of(enrolment_id: int, lesson_id: int) -> list[PackageAttempt]:
    return list(
        db.session.scalars(
            select(PackageAttempt)
            .where(PackageAttempt.enrolment_id == enrolment_id, PackageAttempt.lesson_id == lesson_id)
            .order_by(PackageAttempt.number)
        )
    )


def _current_item(lesson: Lesson) -> tuple[PackageVersion, PackageItem]:
    package = db.session.get(Package, lesson.package_id)
    version = package.current_version if package is not None else None
    item = version.item(lesson.package_item_identifier or "") if version is not None else None
    if version is None or item is None:
        raise NotFound(_("This package has no version that can be played yet."))
    return version, item


def launch(enrolment_id: int, lesson: Lesson, learner_id: int, learner_name: str) -> Launch:
    """The attempt an opening continues or starts, and its initial data (reads only: a new attempt's
    row is written by its first commit)."""
    package_lesson(lesson)
    latest = next(reversed(attempts_of(enrolment_id, lesson.id)), None)
    if latest is not None and latest.finished_at is None:
        version = db.session.get(PackageVersion, latest.version_id)
        item = db.session.get(PackageItem, latest.item_id)
        if version is not None and item is not None:
            return _launch(version, item, latest.number, latest, learner_id, learner_name)
    version, item = _current_item(lesson)
    number = 1 if latest is None else latest.number + 1
    return _launch(version, item, number, None, learner_id, learner_name)


def _launch(
    version: PackageVersion,
    item: PackageItem,
    number: int,
    attempt: PackageAttempt | None,
    learner_id: int,
    learner_name: str,
) -> Launch:
    family = cmi.family(version.scorm_version)
    stored = dict(attempt.cmi) if attempt is not None else {}
    resumed = attempt is not None and attempt.exit == "suspend"
    entry = "resume" if resumed else ("" if attempt is not None else "ab-initio")
    seconds = attempt.total_seconds if attempt is not None else 0
    if family == cmi.SCORM_12:
        stored.pop("cmi.core.session_time", None)
        stored.pop("cmi.core.exit", None)
        owned = {
            "cmi.core.student_id": str(learner_id),
            "cmi.core.student_name": learner_name[:255],
            "cmi.core.credit": "credit",
            "cmi.core.entry": entry,
            "cmi.core.lesson_mode": "normal",
            "cmi.core.total_time": cmi.seconds_as_timespan(seconds),
            "cmi.launch_data": item.data_from_lms[:4096],
        }
        if item.mastery_score is not None:
            owned["cmi.student_data.mastery_score"] = f"{item.mastery_score.normalize():f}"
    else:
        stored.pop("cmi.session_time", None)
        stored.pop("cmi.exit", None)
        owned = {
            "cmi.learner_id": str(learner_id),
            "cmi.learner_name": learner_name[:250],
            "cmi.credit": "credit",
            "cmi.entry": entry,
            "cmi.mode": "normal",
            "cmi.total_time": cmi.seconds_as_duration(seconds),
            "cmi.launch_data": item.data_from_lms[:4000],
        }
        if item.scaled_passing_score is not None:
            owned["cmi.scaled_passing_score"] = f"{item.scaled_passing_score.normalize():f}"
        if item.completion_threshold is not None:
            owned["cmi.completion_threshold"] = f"{item.completion_threshold.normalize():f}"
    return Launch(version, item, number, family, {**stored, **{k: v for k, v in owned.items() if v != ""}})


@dataclass(frozen=True)
class Commit:
    """A commit as the player page sends it (shape checked by the view)."""

    attempt_number: int
    session_key: str
    sequence: int
    terminate: bool
    data: Any


def record_commit(enrolment_id: int, lesson: Lesson, commit: Commit) -> PackageAttempt:
    """Store a commit of the runtime data on its attempt (creating the attempt on its first commit) and
    announce a change of completion, success or score (``sco_status_changed``). A repeated or late
    commit of the same session (a lower sequence number) changes nothing."""
    package_lesson(lesson)
    attempts = attempts_of(enrolment_id, lesson.id)
    attempt = next((row for row in attempts if row.number == commit.attempt_number), None)
    if attempt is None:
        attempt = _new_attempt(enrolment_id, lesson, commit.attempt_number, attempts)
    elif attempt.finished_at is not None and attempt.session_key != commit.session_key:
        raise Conflict(_("This attempt is finished; open the package again to start a new one."))
    version = db.session.get(PackageVersion, attempt.version_id)
    try:
        checked = cmi.check_commit(version.scorm_version if version is not None else "1.2", commit.data)
    except cmi.CmiRefused as refusal:
        raise ValidationFailed(
            _("The package sent data that cannot be stored (%(element)s).", element=refusal.element)
        ) from refusal
    if attempt.session_key == commit.session_key and commit.sequence <= attempt.last_sequence:
        return attempt  # a retry of a commit already applied, or one overtaken by a later one
    before = (attempt.completion_status, attempt.success_status, attempt.score_raw, attempt.score_scaled)
    _apply(attempt, checked, commit)
    db.session.flush()
    after = (attempt.completion_status, attempt.success_status, attempt.score_raw, attempt.score_scaled)
    if after != before:
        sco_status_changed.send(
            attempt, enrolment_id=enrolment_id, lesson_id=lesson.id, satisfied=attempt.satisfied
        )  # lms.enrolment.completion records the lesson when satisfied
    return attempt


def _new_attempt(
    enrolment_id: int, lesson: Lesson, number: int, attempts: list[PackageAttempt]
) -> PackageAttempt:
    latest = attempts[-1] if attempts else None
    expected = 1 if latest is None else latest.number + 1
    if number != expected or (latest is not None and latest.finished_at is None):
        raise Conflict(_("This attempt cannot be started now; open the package again."))
    version, item = _current_item(lesson)
    attempt = PackageAttempt(
        enrolment_id=enrolment_id,
        lesson_id=lesson.id,
        version_id=version.id,
        item_id=item.id,
        number=number,
        total_seconds=0,
        session_seconds=0,
        session_key="",
        last_sequence=0,
    )  # fmt: skip (the counters set here: _apply adds to them before any flush)
    db.session.add(attempt)
    return attempt


def _apply(attempt: PackageAttempt, checked: cmi.CmiCommit, commit: Commit) -> None:
    if attempt.session_key != commit.session_key:  # a new opening: the last one's time is already counted
        attempt.session_key = commit.session_key
        attempt.session_seconds = 0
    attempt.total_seconds += max(0, checked.session_seconds - attempt.session_seconds)
    attempt.session_seconds = max(attempt.session_seconds, checked.session_seconds)
    attempt.last_sequence = commit.sequence
    attempt.cmi = checked.elements
    attempt.completion_status = checked.completion_status
    attempt.success_status = checked.success_status
    attempt.score_raw = checked.score_raw
    attempt.score_scaled = checked.score_scaled
    attempt.location = checked.location
    attempt.suspend_data = checked.suspend_data
    attempt.exit = checked.exit
    now = utcnow()
    attempt.updated_at = now
    has_result = checked.completion_status == "completed" or checked.success_status in ("passed", "failed")
    if commit.terminate and checked.exit != "suspend" and has_result:
        attempt.finished_at = now

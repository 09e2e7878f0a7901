"""Progress and completion, in one place: lessons completed, a trainee's progress, and the one decision of
completion (``update_completion``), re-checked whenever something that feeds it happens.

Each source of progress sends its own signal from the service where it happens; this module subscribes
``update_completion`` (below, the one function that decides completion) to each of them.
A new source (face-to-face attendance, surveys, packages) sends its signal and gets one subscriber here.
The receivers are connected when this module is imported: ``init_enrolment`` (lms/enrolment/setup.py,
called by every app: web, CLI, jobs) imports it. See docs/architecture.md "Signals".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, Protocol

from flask_babel import gettext as _
from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Insert,
    Select,
    Update,
    and_,
    bindparam,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value

from lms.courses.models import Lesson, Module
from lms.courses.queries import ordered_lesson_ids, published_reading_order
from lms.db import begin_writing, insert_unless_present, utcnow
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentStatus,
    LessonCompletion,
    status_in,
)
from lms.enrolment.progress import CompletionRule, Progress, compute_progress
from lms.enrolment.signals import attendance_changed, enrolment_completed, lesson_completed
from lms.enrolment.transitions import record_transition
from lms.errors import Forbidden, NotFound
from lms.extensions import db
from lms.packages.signals import sco_status_changed
from lms.quizzes.models import Quiz, QuizAttempt, QuizRole
from lms.quizzes.queries import AttemptRow, OutlineQuiz, QuizStanding, standings
from lms.quizzes.signals import attempt_closing, attempt_finished, attempts_regraded


def completed_lesson_ids(enrolment_id: int) -> set[int]:
    return set(db.session.scalars(_completed_lesson_ids(), {"enrolment_id": enrolment_id}))


@cache
def _completed_lesson_ids() -> Select[tuple[int]]:
    # On the table, not the mapped class: a Core statement skips the ORM's per-statement set-up (issue 22).
    table = LessonCompletion.__table__
    return select(table.c.lesson_id).where(table.c.enrolment_id == bindparam("enrolment_id"))


class PlacesStanding(NamedTuple):
    """What places have done, read in one statement: lessons completed per place, and quiz attempts per
    (place, quiz) in number order, as lms.quizzes.queries.standings and outline_quizzes take them."""

    completed: defaultdict[int, set[int]]
    attempts: defaultdict[tuple[int, int], list[AttemptRow]]

    def attempts_of(self, enrolment_id: int) -> dict[int, list[AttemptRow]]:
        """quiz id -> one place's attempts (outline_quizzes)."""
        return {quiz: rows for (place, quiz), rows in self.attempts.items() if place == enrolment_id}


def places_standing(enrolment_ids: Sequence[int]) -> PlacesStanding:
    """Lessons completed and quiz attempts of these places in ONE statement (issue 22): a statement costs
    a page ~0.1 ms of SQLAlchemy's work whatever it reads, and the dashboard, lesson and course pages
    each read both for the same places."""
    completed: defaultdict[int, set[int]] = defaultdict(set)
    attempts: defaultdict[tuple[int, int], list[AttemptRow]] = defaultdict(list)
    if len(enrolment_ids) == 1:  # a lesson or course page: `=`, not an IN list rewritten per execution
        rows = db.session.execute(_places_standing(one=True), {"id": enrolment_ids[0]}).all()
    elif enrolment_ids:
        rows = db.session.execute(_places_standing(one=False), {"ids": list(enrolment_ids)}).all()
    else:
        rows = []
    for enrolment_id, item_id, number, status, percent in sorted(rows, key=_attempt_order):
        if number is None:  # a completed lesson (the second part of the union)
            completed[enrolment_id].add(item_id)
        else:
            attempts[(enrolment_id, item_id)].append((number, status, percent))
    return PlacesStanding(completed, attempts)


def _attempt_order(row: Any) -> int:
    return -1 if row[2] is None else int(row[2])


@cache
def _places_standing(one: bool) -> CompoundSelect:
    # Attempts first: a union's columns take the first part's types (status, percent). On the tables, not
    # the mapped classes: a Core statement skips the ORM's per-statement set-up. A list of ids is an
    # "expanding" parameter (SQLAlchemy rewrites the SQL at each execution); one id is a plain `=`.
    attempts, lessons = QuizAttempt.__table__.c, LessonCompletion.__table__.c
    taken = select(
        attempts.enrolment_id, attempts.quiz_id, attempts.number, attempts.status, attempts.percent
    )
    done = select(lessons.enrolment_id, lessons.lesson_id, null(), null(), null())
    if one:
        return union_all(
            taken.where(attempts.enrolment_id == bindparam("id")),
            done.where(lessons.enrolment_id == bindparam("id")),
        )
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    return union_all(taken.where(attempts.enrolment_id.in_(ids)), done.where(lessons.enrolment_id.in_(ids)))


def completion_rule(enrolment: Enrolment | None, run: CourseRun | None = None) -> CompletionRule:
    """The run's completion rule and the enrolment's attended minutes, from rows already loaded (the
    enrolment and its run: columns of course_run and enrolment, so no query of its own)."""
    run = run if run is not None else (enrolment.run if enrolment is not None else None)
    if run is None or enrolment is None:
        return CompletionRule()
    return CompletionRule.of(run, enrolment)


def enrolment_progress(enrolment: Enrolment, course_id: int) -> Progress:
    lesson_ids = ordered_lesson_ids([course_id])[course_id]
    final = final_assessment_results([enrolment.id]).get(enrolment.id)
    return compute_progress(
        lesson_ids,
        completed_lesson_ids(enrolment.id),
        assessment_required=final is not None,
        assessment_passed=final is not None and final.passed,
        rule=completion_rule(enrolment),
    )


def progress_from_outline(
    lesson_ids: Sequence[int],
    completed: Collection[int],
    quizzes: Sequence[OutlineQuiz],
    rule: CompletionRule,
) -> Progress:
    """The same figure as enrolment_progress, from what a course or lesson page has already loaded: the
    place's lessons completed and quizzes, and its run's completion rule (``CompletionRule.of``)."""
    final = next((row for row in quizzes if row.quiz.role == QuizRole.FINAL), None)
    return compute_progress(
        lesson_ids,
        completed,
        assessment_required=final is not None,
        assessment_passed=final is not None and final.standing is not None and final.standing.passed,
        rule=rule,
    )


class CompletableLesson(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def is_published(self) -> bool: ...

    @property
    def course_id(self) -> int: ...


def complete_lesson(enrolment: Enrolment, lesson: CompletableLesson) -> bool:
    """Mark a lesson done for this enrolment; True when newly recorded (a repeat changes nothing).

    ``lesson`` is a Lesson or the published snapshot's lesson (lms.courses.published).

    The busiest write of the academy, so it is two plain statements: one records the activity time
    only while the enrolment is still active (the check and the write are one statement, so it holds
    under the write lock whatever was read before), one inserts the completion unless it exists
    (``ON CONFLICT DO NOTHING``: two clicks at once cannot both insert, and need no savepoint).
    Only a new completion is announced (``lesson_completed``), which the progress check answers.
    """
    if lesson.course_id != enrolment.run.course_id or not lesson.is_published:
        raise NotFound(_("This lesson is not part of your course."))
    now = utcnow()
    touch_activity(enrolment, now)
    values = {"enrolment_id": enrolment.id, "lesson_id": lesson.id, "completed_at": now}
    inserted = db.session.execute(_insert_completion(db.session.get_bind().dialect.name), values).first()
    if inserted is None:  # it was there already
        return False
    lesson_completed.send(enrolment, lesson_id=lesson.id)  # lms.enrolment.completion re-checks completion
    return True


def complete_on_reading(enrolment: Enrolment, lesson: CompletableLesson) -> None:
    """The trainee opened the lesson, which in this course is what completes it (the courses page calls this).

    A lazy state change kept in the GET on purpose: moving it to a POST would need the page's script
    (or a second click) to say what opening the page already says, and a page read offline or
    without script would never count. ``begin_writing`` ends the page's read transaction (SQLite
    takes its write lock for the write only) and sets ``g.write_intent``, so the unit of work commits
    this GET after the view. A repeat changes nothing but the activity time."""
    begin_writing(enrolment)  # re-read under the write lock when the service looks at it
    complete_lesson(enrolment, lesson)


def touch_activity(enrolment: Enrolment, now: datetime) -> None:
    """Record the place's activity while it is still active, or refuse (Forbidden): one statement, the
    check and the write together, so it holds under the write lock whatever was read before (a lesson
    completion; a quiz start passes it to lms.quizzes.services.start_attempt)."""
    touched = db.session.execute(_touch_activity(), {"enrolment_id": enrolment.id, "now": now})
    if getattr(touched, "rowcount", 1) != 1:
        raise Forbidden(_("This enrolment is no longer active."))
    set_committed_value(enrolment, "last_activity_at", now)


@cache
def _touch_activity() -> Update:
    # Core statements on the tables: the ORM's bulk paths would add their own work per request.
    table = Enrolment.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("enrolment_id"), status_in(table.c.status, ACTIVE_STATUSES))
        .values(last_activity_at=bindparam("now"))
    )


def _insert_completion(dialect: str) -> Insert:
    return insert_unless_present(LessonCompletion.__table__, ("enrolment_id", "lesson_id"), dialect)


def final_assessment_results(enrolment_ids: Iterable[int]) -> dict[int, QuizStanding]:
    """enrolment id -> standing in its course's final assessment; enrolments whose course has none are absent.
    Two queries whatever the number of enrolments."""
    ids = list(enrolment_ids)
    if not ids:
        return {}
    pairs = db.session.execute(
        select(Enrolment.id, Quiz)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .join(Quiz, Quiz.course_id == CourseRun.course_id)
        .where(Enrolment.id.in_(ids), Quiz.role == QuizRole.FINAL, Quiz.is_published.is_(True))
    ).all()
    if not pairs:
        return {}
    quizzes = {quiz.id: quiz for _, quiz in pairs}
    table = standings(quizzes.values(), [enrolment_id for enrolment_id, _ in pairs])
    return {enrolment_id: table[(enrolment_id, quiz.id)] for enrolment_id, quiz in pairs}


def update_completion(enrolment: Enrolment) -> None:
    """Complete = the run's rule met (lms.enrolment.progress.Progress.complete): every published lesson
    done unless the run turns lessons off, the minimum share of session time attended when the run sets
    one, and the final assessment (when the course has one) passed.

    The one place completion is decided. It is reached from the signals of what feeds progress
    (lesson_completed, attempt_finished, attempts_regraded: lms/enrolment/completion.py); a new source
    (attendance, surveys, packages) sends its own signal and subscribes this there.

    It asks only what can change the answer (issue 22: every new lesson completion comes here): nothing
    for a place not enrolled (only an enrolled place becomes complete), the lessons and completions in
    one statement, and the final assessment's standing only once every other part of the rule is met."""
    if enrolment.status != EnrolmentStatus.ENROLLED:
        return
    progress = _progress_for_completion(enrolment)
    if progress is not None and progress.complete:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.completed_at = utcnow()
        db.session.flush()
        enrolment_completed.send(enrolment)


def _progress_for_completion(enrolment: Enrolment) -> Progress | None:
    """``enrolment_progress``'s figure, or None when the lessons or the attendance already fall short (the
    course is then not complete whatever the final assessment says, so its standing is not read)."""
    lesson_ids: list[int] = []
    completed: set[int] = set()
    values = {"course_id": enrolment.run.course_id, "enrolment_id": enrolment.id}
    for lesson_id, done in db.session.execute(_lessons_with_completion(), values):
        lesson_ids.append(lesson_id)
        if done:
            completed.add(lesson_id)
    rule = completion_rule(enrolment)
    if not compute_progress(lesson_ids, completed, rule=rule).met_but_assessment:
        return None
    final = final_assessment_results([enrolment.id]).get(enrolment.id)
    return compute_progress(
        lesson_ids,
        completed,
        assessment_required=final is not None,
        assessment_passed=final is not None and final.passed,
        rule=rule,
    )


@cache
def _lessons_with_completion() -> Select[tuple[int, bool]]:
    """The course's published lessons in reading order, each with whether the enrolment completed it
    (ordered_lesson_ids and completed_lesson_ids in one statement, by the completion's unique index)."""
    # On the tables, not the mapped classes: a Core statement skips the ORM's per-statement set-up.
    lesson, module, done = Lesson.__table__, Module.__table__, LessonCompletion.__table__
    mine = and_(done.c.lesson_id == lesson.c.id, done.c.enrolment_id == bindparam("enrolment_id"))
    counted, order = published_reading_order()
    return (
        select(lesson.c.id, done.c.id.is_not(None))
        .join(module, lesson.c.module_id == module.c.id)
        .outerjoin(done, mine)
        .where(module.c.course_id == bindparam("course_id"), *counted)
        .order_by(*order)
    )


@enrolment_completed.connect
def _record_completion(enrolment: Enrolment, **_extra: object) -> None:
    """Completion is a state change like any other: it gets its event (the trainee is the actor)."""
    record_transition(enrolment, "completed", EnrolmentStatus.ENROLLED, enrolment.user_id, None)


@lesson_completed.connect
def _after_lesson_completed(enrolment: Enrolment, **_extra: object) -> None:
    update_completion(enrolment)


@attendance_changed.connect
def _after_attendance_changed(enrolment: Enrolment, **_extra: object) -> None:
    """The register changed this enrolment's attended minutes (lms.sessions): re-check completion."""
    update_completion(enrolment)


@attempt_closing.connect
def _read_again_when_closing(
    _attempt: QuizAttempt, *, enrolment_id: int, **_extra: object
) -> list[Enrolment]:
    """An overdue attempt closed by a page re-checks completion: its enrolment is read again, locked."""
    enrolment = db.session.get(Enrolment, enrolment_id)  # usually in the session already: no query
    return [enrolment] if enrolment is not None else []


@attempt_finished.connect
def _after_attempt_finished(attempt: QuizAttempt, *, enrolment_id: int, **_extra: object) -> None:
    """Only the final assessment feeds completion (``update_completion``): a practice quiz or a pre- or
    post-test attempt cannot change it, so it costs the submission no progress check (issue 22)."""
    if attempt.quiz.role != QuizRole.FINAL:  # the quiz came with the attempt: no query
        return
    enrolment = db.session.get(Enrolment, enrolment_id)  # usually in the session already: no query
    if enrolment is not None:
        update_completion(enrolment)


@attempts_regraded.connect
def _after_attempts_regraded(_question: object, *, enrolment_ids: Iterable[int], **_extra: object) -> None:
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.id.in_(list(enrolment_ids)))):
        update_completion(enrolment)


@sco_status_changed.connect
def _after_sco_status_changed(
    _attempt: object, *, enrolment_id: int, lesson_id: int, satisfied: bool, **_extra: object
) -> None:
    """A package item (an SCO) reported completion, success or a score (lms.packages.runtime.services):
    when it counts as done, its lesson is recorded exactly as a lesson completed (``complete_lesson``:
    the same insert, ``lesson_completed`` re-checks completion); an item already recorded re-checks
    completion itself. A failed or incomplete item records nothing (a completed lesson stays completed)."""
    enrolment = db.session.get(Enrolment, enrolment_id)  # usually in the session already: no query
    lesson = db.session.get(Lesson, lesson_id)
    if enrolment is None or lesson is None or not satisfied:
        return
    if not complete_lesson(enrolment, lesson):
        update_completion(enrolment)

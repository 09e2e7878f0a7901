"""Authoring rules: who may edit which course, drafts and their edits, publishing, import/export, assets.

Services flush and raise LmsError subclasses; the views commit once.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.authoring import exporter
from lms.authoring.archive import ArchiveRejected, read_course_zip
from lms.authoring.document import Document, describe_changes, from_document, new_document, to_document
from lms.authoring.lesson_files import (
    ServedFile,
    folder_files,
    record_upload_size,
    rerender_lessons,
    served_file,
    uploads_dir,
)
from lms.authoring.models import CourseAsset, CourseDraft, CourseTrainer, CourseVersion, DraftEdit
from lms.authoring.sniff import ASSET_NAME, MAX_ASSET_BYTES, asset_name, sniff_asset
from lms.config import LANGUAGES
from lms.content.loader import SLUG_PATTERN, CourseSpec, LessonSpec, LessonText, ModuleSpec, load_course
from lms.content.quiz_loader import BankSpec, QuestionSpec, QuizSpec, SlotSpec
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, LessonCompletion
from lms.enrolment.services import ACTIVE_STATUSES, ensure_default_run
from lms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.extensions import db
from lms.quizzes.models import Question, QuestionBank, Quiz, QuizAttempt


class StaleDraft(Conflict):
    """The form was opened at an older revision of the draft."""

    def __init__(self, message: str, changes: list[str], revision: int) -> None:
        super().__init__(message)
        self.changes = changes
        self.revision = revision


class PublishRefused(ValidationFailed):
    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


# --- who may edit --------------------------------------------------------------------------------------


def can_edit(user: User, course_id: int) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.TRAINER):
        return False
    return (
        db.session.scalar(
            select(CourseTrainer.id).where(
                CourseTrainer.course_id == course_id, CourseTrainer.user_id == user.id
            )
        )
        is not None
    )


def require_course_trainer(user: User, course_id: int) -> None:
    """The one object-level rule of every trainer route (lms/authoring/access.py): admins, and trainers an
    admin assigned to this course (course_trainer); Forbidden for anyone else, other courses' trainers too."""
    if not can_edit(user, course_id):
        raise not_assigned()


def not_assigned() -> Forbidden:
    return Forbidden(_("You are not assigned to this course. Ask an administrator to assign you."))


def assigned_course_ids(user: User) -> set[int] | None:
    """The courses this person may see and change as a trainer; None for an admin (every course)."""
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.TRAINER):
        return set()
    return set(db.session.scalars(select(CourseTrainer.course_id).where(CourseTrainer.user_id == user.id)))


def editable_course(user: User, course_id: int) -> Course:
    """The course, when this user may edit it; NotFound/Forbidden otherwise."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(_("No such course."))
    require_course_trainer(user, course.id)
    return course


def editable_courses(user: User) -> list[Course]:
    query = select(Course).order_by(Course.title)
    if not user.has_role(Role.ADMIN):
        query = query.join(CourseTrainer, CourseTrainer.course_id == Course.id).where(
            CourseTrainer.user_id == user.id
        )
    return list(db.session.scalars(query))


def trainers_by_course() -> dict[int, list[User]]:
    rows = db.session.execute(
        select(CourseTrainer.course_id, User)
        .join(User, User.id == CourseTrainer.user_id)
        .order_by(User.family_name)
    ).all()
    result: dict[int, list[User]] = {}
    for course_id, user in rows:
        result.setdefault(course_id, []).append(user)
    return result


def trainer_candidates() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.TRAINER)
            .order_by(User.family_name, User.given_name)
            .distinct()
        )
    )


def _require_admin(actor: User) -> None:
    if not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can assign trainers."))


def assign_trainer(actor: User, course: Course, trainer: User) -> CourseTrainer:
    _require_admin(actor)
    if not trainer.has_role(Role.TRAINER):
        raise ValidationFailed(_("%(name)s is not a trainer.", name=trainer.full_name))
    existing = db.session.scalar(
        select(CourseTrainer).where(CourseTrainer.course_id == course.id, CourseTrainer.user_id == trainer.id)
    )
    if existing is not None:
        raise Conflict(_("%(name)s is already assigned to this course.", name=trainer.full_name))
    link = CourseTrainer(course_id=course.id, user_id=trainer.id, assigned_by_id=actor.id)
    db.session.add(link)
    db.session.flush()
    record_event(
        "authoring.trainer_assigned", "course", course.id, actor_id=actor.id, after={"trainer_id": trainer.id}
    )
    return link


def unassign_trainer(actor: User, course: Course, trainer: User) -> None:
    _require_admin(actor)
    link = db.session.scalar(
        select(CourseTrainer).where(CourseTrainer.course_id == course.id, CourseTrainer.user_id == trainer.id)
    )
    if link is None:
        raise NotFound(_("This trainer is not assigned to this course."))
    db.session.delete(link)
    db.session.flush()
    record_event(
        "authoring.trainer_unassigned",
        "course",
        course.id,
        actor_id=actor.id,
        before={"trainer_id": trainer.id},
    )


# --- the published course as a spec --------------------------------------------------------------------


def published_spec(course: Course) -> CourseSpec:
    """What trainees see now, in the loader's shape (inverse of lms.content.services.sync_course)."""
    modules = db.session.scalars(
        select(Module)
        .where(Module.course_id == course.id, Module.is_published.is_(True))
        .order_by(Module.position)
        .options(selectinload(Module.lessons).selectinload(Lesson.translations))
    ).all()
    module_specs = []
    for module in modules:
        spec = ModuleSpec(
            slug=module.slug, title=module.title, translations=dict(sorted(module.translations.items()))
        )
        for lesson in module.lessons:
            if not lesson.is_published:
                continue
            spec.lessons.append(
                LessonSpec(
                    slug=lesson.slug,
                    text=LessonText(
                        title=lesson.title,
                        body_md=lesson.body_md,
                        minutes=lesson.minutes,
                        video_url=lesson.video_url,
                        transcript_md=lesson.transcript_md or "",
                    ),
                    translations={
                        # The database keeps one reading time per lesson; translations share it.
                        t.language: LessonText(
                            title=t.title,
                            body_md=t.body_md,
                            minutes=lesson.minutes,
                            transcript_md=t.transcript_md or "",
                        )
                        for t in sorted(lesson.translations, key=lambda t: t.language)
                    },
                )
            )
        module_specs.append(spec)
    banks = db.session.scalars(
        select(QuestionBank)
        .where(QuestionBank.course_id == course.id, QuestionBank.is_active.is_(True))
        .order_by(QuestionBank.slug)
    ).all()
    questions = db.session.scalars(
        select(Question)
        .where(Question.course_id == course.id, Question.is_active.is_(True))
        .order_by(Question.id)
    ).all()
    bank_slug = {
        b.id: b.slug
        for b in db.session.scalars(select(QuestionBank).where(QuestionBank.course_id == course.id))
    }
    by_id = {q.id: q for q in questions}

    def question_spec(q: Question) -> QuestionSpec:
        return QuestionSpec(
            key=q.key,
            type=q.type,
            points=float(q.points),
            tags=list(q.tags),
            spec=dict(q.spec),
            bank=bank_slug.get(q.bank_id) if q.bank_id else None,
        )

    bank_specs = [
        BankSpec(
            slug=b.slug, title=b.title, questions=[question_spec(q) for q in questions if q.bank_id == b.id]
        )
        for b in banks
    ]
    quiz_specs = []
    for quiz in db.session.scalars(
        select(Quiz)
        .where(Quiz.course_id == course.id, Quiz.is_published.is_(True))
        .order_by(Quiz.position)
        .options(selectinload(Quiz.slots))
    ):
        slots: list[SlotSpec] = []
        inline: list[QuestionSpec] = []
        for slot in quiz.slots:
            if slot.question_id is not None:
                question = by_id.get(slot.question_id) or db.session.get(Question, slot.question_id)
                assert question is not None  # noqa: S101  # a foreign key
                slots.append(SlotSpec(question=question.key))
                if question.bank_id is None:
                    inline.append(question_spec(question))
            else:
                slots.append(
                    SlotSpec(bank=bank_slug.get(slot.bank_id or 0), tag=slot.tag, draw=slot.draw_count)
                )
        quiz_specs.append(
            QuizSpec(
                slug=quiz.slug,
                title=quiz.title,
                description=quiz.description,
                translations=dict(quiz.translations),
                role=quiz.role,
                pass_mark=quiz.pass_mark,
                attempts_allowed=quiz.attempts_allowed,
                time_limit_minutes=quiz.time_limit_minutes,
                grading_method=quiz.grading_method,
                shuffle_questions=quiz.shuffle_questions,
                shuffle_choices=quiz.shuffle_choices,
                review=dict(quiz.review),
                closes_at=quiz.closes_at.isoformat() if quiz.closes_at else None,
                slots=slots,
                questions=inline,
            )
        )
    return CourseSpec(
        slug=course.slug,
        title=course.title,
        summary=course.summary,
        language=course.language,
        version=course.version,
        level=course.level,
        credits=exporter.credits_text(course.credits),
        notional_hours=course.notional_hours,
        delivery_mode=course.delivery_mode,
        lesson_completion=course.lesson_completion,
        certificate_validity_months=course.certificate_validity_months,
        learning_outcomes=list(course.learning_outcomes),
        translations=dict(course.translations),
        modules=module_specs,
        banks=bank_specs,
        quizzes=quiz_specs,
    )


# --- drafts --------------------------------------------------------------------------------------------


def get_draft(course: Course) -> CourseDraft:
    """The course's draft, to change it; the first time, a copy of the published course is stored."""
    draft = read_draft(course)
    if draft.id is None:
        db.session.add(draft)
        db.session.flush()
    return draft


def read_draft(course: Course) -> CourseDraft:
    """The course's draft, to show it: before its first edit, an unsaved copy of the published course at
    revision 1 (what get_draft stores with that edit), so that a page that only shows it writes nothing."""
    draft = db.session.scalar(select(CourseDraft).where(CourseDraft.course_id == course.id))
    if draft is None:
        return CourseDraft(course_id=course.id, document=to_document(published_spec(course)), revision=1)
    return draft


def draft_has_changes(course: Course, draft: CourseDraft) -> bool:
    if course.content_hash is None:
        return True
    return bool(describe_changes(to_document(published_spec(course)), draft.document))


def edits_since(course_id: int, revision: int) -> list[DraftEdit]:
    return list(
        db.session.scalars(
            select(DraftEdit)
            .where(DraftEdit.course_id == course_id, DraftEdit.revision > revision)
            .order_by(DraftEdit.revision)
        )
    )


def check_revision(course: Course, draft: CourseDraft, revision: int | None) -> None:
    if revision is not None and revision == draft.revision:
        return
    changes = []
    names = {
        u.id: u.full_name
        for u in db.session.scalars(
            select(User).join(DraftEdit, DraftEdit.user_id == User.id).where(DraftEdit.course_id == course.id)
        )
    }
    for edit in edits_since(course.id, revision or 0):
        changes.append(f"{names.get(edit.user_id or 0, '?')}: {edit.summary}")
    raise StaleDraft(
        _(
            "Someone changed this course after you opened the form (now at revision %(now)s, your form was "
            "opened at %(then)s). Nothing was saved. Check what changed, then save again.",
            now=draft.revision,
            then=revision or 0,
        ),
        changes,
        draft.revision,
    )


def edit_draft(
    actor: User, course: Course, revision: int | None, summary: str, change: Callable[[Document], None]
) -> CourseDraft:
    """Apply one change to the draft, refusing a stale form; every saved change is one revision."""
    draft = get_draft(course)
    check_revision(course, draft, revision)
    document = exporter_safe_copy(draft.document)
    change(document)
    draft.document = document
    draft.revision += 1
    draft.updated_by_id = actor.id
    draft.updated_at = utcnow()
    db.session.add(
        DraftEdit(course_id=course.id, revision=draft.revision, user_id=actor.id, summary=summary[:500])
    )
    db.session.flush()
    return draft


def exporter_safe_copy(document: Document) -> Document:
    return to_document(from_document(document))


def create_course(actor: User, slug: str, title: str, language: str) -> Course:
    if not SLUG_PATTERN.match(slug):
        raise ValidationFailed(_("The short name may hold only lowercase letters, digits and hyphens."))
    if language not in LANGUAGES:
        raise ValidationFailed(_("Unknown language."))
    if db.session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
        raise Conflict(_("A course with the short name %(slug)s already exists.", slug=slug))
    course = Course(slug=slug, title=title, language=language, is_published=False, content_hash=None)
    db.session.add(course)
    db.session.flush()
    db.session.add(CourseDraft(course_id=course.id, document=new_document(slug, title, language), revision=1))
    if not actor.has_role(Role.ADMIN):
        db.session.add(CourseTrainer(course_id=course.id, user_id=actor.id, assigned_by_id=actor.id))
    db.session.flush()
    return course


# --- edits of the document (called inside edit_draft) --------------------------------------------------


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message)


def find_module(doc: Document, slug: str) -> dict[str, Any]:
    module = next((m for m in doc["modules"] if m["slug"] == slug), None)
    if module is None:
        raise NotFound(_("No module %(slug)s in this course.", slug=slug))
    return module


def find_lesson(doc: Document, slug: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for module in doc["modules"]:
        for lesson in module["lessons"]:
            if lesson["slug"] == slug:
                return module, lesson
    raise NotFound(_("No lesson %(slug)s in this course.", slug=slug))


def _check_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug):
        raise _refuse(_("The short name may hold only lowercase letters, digits and hyphens."))


def add_module(doc: Document, slug: str, title: str) -> None:
    _check_slug(slug)
    if any(m["slug"] == slug for m in doc["modules"]):
        raise _refuse(_("A module with the short name %(slug)s already exists.", slug=slug))
    doc["modules"].append({"slug": slug, "title": title, "translations": {}, "lessons": []})


def rename_module(doc: Document, slug: str, title: str) -> None:
    find_module(doc, slug)["title"] = title


def _move(items: list[Any], index: int, direction: str) -> None:
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def move_module(doc: Document, slug: str, direction: str) -> None:
    index = next((i for i, m in enumerate(doc["modules"]) if m["slug"] == slug), None)
    if index is None:
        raise NotFound(_("No module %(slug)s in this course.", slug=slug))
    _move(doc["modules"], index, direction)


def delete_module(doc: Document, slug: str) -> None:
    find_module(doc, slug)
    doc["modules"] = [m for m in doc["modules"] if m["slug"] != slug]


def add_lesson(doc: Document, module_slug: str, slug: str, title: str) -> None:
    _check_slug(slug)
    module = find_module(doc, module_slug)
    if any(lesson["slug"] == slug for m in doc["modules"] for lesson in m["lessons"]):
        raise _refuse(_("A lesson with the short name %(slug)s already exists in this course.", slug=slug))
    text = {"title": title, "body_md": "", "minutes": None, "video_url": None, "transcript_md": ""}
    module["lessons"].append({"slug": slug, "text": text, "translations": {}})


def update_lesson(doc: Document, slug: str, values: dict[str, Any]) -> None:
    _module, lesson = find_lesson(doc, slug)
    lesson["text"].update(values)


def move_lesson(doc: Document, slug: str, direction: str) -> None:
    module, lesson = find_lesson(doc, slug)
    _move(module["lessons"], module["lessons"].index(lesson), direction)


def delete_lesson(doc: Document, slug: str) -> None:
    module, lesson = find_lesson(doc, slug)
    module["lessons"].remove(lesson)


def update_metadata(doc: Document, values: dict[str, Any]) -> None:
    doc.update(values)


def find_quiz(doc: Document, slug: str) -> dict[str, Any]:
    quiz = next((q for q in doc["quizzes"] if q["slug"] == slug), None)
    if quiz is None:
        raise NotFound(_("No quiz %(slug)s in this course.", slug=slug))
    return quiz


def find_bank(doc: Document, slug: str) -> dict[str, Any]:
    bank = next((b for b in doc["banks"] if b["slug"] == slug), None)
    if bank is None:
        raise NotFound(_("No question bank %(slug)s in this course.", slug=slug))
    return bank


def add_quiz(doc: Document, slug: str, title: str) -> None:
    _check_slug(slug)
    if any(q["slug"] == slug for q in doc["quizzes"]):
        raise _refuse(_("A quiz with the short name %(slug)s already exists.", slug=slug))
    doc["quizzes"].append(
        {
            "slug": slug,
            "title": title,
            "description": "",
            "translations": {},
            "role": "practice",
            "pass_mark": 70,
            "attempts_allowed": None,
            "time_limit_minutes": None,
            "grading_method": "highest",
            "shuffle_questions": False,
            "shuffle_choices": False,
            "review": {"answers": "immediately", "correct_answers": "after_close", "feedback": "immediately"},
            "closes_at": None,
            "slots": [],
            "questions": [],
        }
    )


def update_quiz(doc: Document, slug: str, values: dict[str, Any]) -> None:
    quiz = find_quiz(doc, slug)
    if values.get("role") == "final" and any(
        q["role"] == "final" and q["slug"] != slug for q in doc["quizzes"]
    ):
        raise _refuse(_("A course has one final assessment, and another quiz already is the final one."))
    quiz.update(values)


def delete_quiz(doc: Document, slug: str) -> None:
    find_quiz(doc, slug)
    doc["quizzes"] = [q for q in doc["quizzes"] if q["slug"] != slug]


def add_bank(doc: Document, slug: str, title: str) -> None:
    _check_slug(slug)
    if any(b["slug"] == slug for b in doc["banks"]):
        raise _refuse(_("A question bank with the short name %(slug)s already exists.", slug=slug))
    doc["banks"].append({"slug": slug, "title": title, "questions": []})
    doc["banks"].sort(key=lambda b: b["slug"])  # the loader discovers banks in file-name order


def delete_bank(doc: Document, slug: str) -> None:
    find_bank(doc, slug)
    for quiz in doc["quizzes"]:
        if any(s.get("bank") == slug for s in quiz["slots"]):
            raise _refuse(_("Quiz %(quiz)s draws from this bank: remove that draw first.", quiz=quiz["slug"]))
    doc["banks"] = [b for b in doc["banks"] if b["slug"] != slug]


def all_question_keys(doc: Document) -> set[str]:
    keys = {q["key"] for b in doc["banks"] for q in b["questions"]}
    return keys | {q["key"] for quiz in doc["quizzes"] for q in quiz["questions"]}


def question_entry(spec: dict[str, Any], bank: str | None) -> dict[str, Any]:
    return {
        "key": str(spec["id"]),
        "type": str(spec["type"]),
        "points": float(spec.get("points", 1)),
        "tags": [str(t) for t in spec.get("tags") or []],
        "spec": spec,
        "bank": bank,
    }


def save_question(
    doc: Document, where: str, slug: str, original_key: str | None, spec: dict[str, Any]
) -> None:
    """Add (original_key None) or replace a question of a quiz (`where`="quiz") or a bank."""
    key = str(spec["id"])
    if key != original_key and key in all_question_keys(doc):
        raise _refuse(_("The question id %(key)s is already used in this course.", key=key))
    container = find_quiz(doc, slug) if where == "quiz" else find_bank(doc, slug)
    entry = question_entry(spec, None if where == "quiz" else slug)
    questions = container["questions"]
    if original_key is None:
        questions.append(entry)
        if where == "quiz":
            container["slots"].append({"question": key, "bank": None, "tag": None, "draw": 1})
        return
    index = next((i for i, q in enumerate(questions) if q["key"] == original_key), None)
    if index is None:
        raise NotFound(_("No question %(key)s here.", key=original_key))
    questions[index] = entry
    for quiz in doc["quizzes"]:
        for slot in quiz["slots"]:
            if slot.get("question") == original_key:
                slot["question"] = key


def delete_question(doc: Document, where: str, slug: str, key: str) -> None:
    container = find_quiz(doc, slug) if where == "quiz" else find_bank(doc, slug)
    container["questions"] = [q for q in container["questions"] if q["key"] != key]
    for quiz in doc["quizzes"]:
        quiz["slots"] = [s for s in quiz["slots"] if s.get("question") != key]


def add_draw(doc: Document, quiz_slug: str, bank: str, tag: str | None, count: int) -> None:
    find_bank(doc, bank)
    find_quiz(doc, quiz_slug)["slots"].append(
        {"question": None, "bank": bank, "tag": tag or None, "draw": count}
    )


def add_bank_question_to_quiz(doc: Document, quiz_slug: str, key: str) -> None:
    if key not in {q["key"] for b in doc["banks"] for q in b["questions"]}:
        raise NotFound(_("No bank question %(key)s.", key=key))
    find_quiz(doc, quiz_slug)["slots"].append({"question": key, "bank": None, "tag": None, "draw": 1})


def remove_slot(doc: Document, quiz_slug: str, index: int) -> None:
    quiz = find_quiz(doc, quiz_slug)
    if not 0 <= index < len(quiz["slots"]):
        raise NotFound(_("No such entry in this quiz."))
    slot = quiz["slots"].pop(index)
    if slot.get("question"):
        quiz["questions"] = [q for q in quiz["questions"] if q["key"] != slot["question"]]


def move_slot(doc: Document, quiz_slug: str, index: int, direction: str) -> None:
    quiz = find_quiz(doc, quiz_slug)
    if not 0 <= index < len(quiz["slots"]):
        raise NotFound(_("No such entry in this quiz."))
    _move(quiz["slots"], index, direction)


# --- what a deletion affects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    lessons_with_completions: int
    completions: int
    trainees: int
    quiz_attempts: int

    @property
    def any(self) -> bool:
        return bool(self.completions or self.quiz_attempts)


def _lesson_ids(course: Course, lesson_slugs: list[str]) -> list[int]:
    if not lesson_slugs:
        return []
    return list(
        db.session.scalars(
            select(Lesson.id)
            .join(Module, Module.id == Lesson.module_id)
            .where(Module.course_id == course.id, Lesson.slug.in_(lesson_slugs))
        )
    )


def deletion_impact(course: Course, lesson_slugs: list[str], quiz_slugs: list[str] | None = None) -> Impact:
    ids = _lesson_ids(course, lesson_slugs)
    completions = trainees = lessons = 0
    if ids:
        completions, trainees, lessons = db.session.execute(
            select(
                func.count(LessonCompletion.id),
                func.count(func.distinct(Enrolment.user_id)),
                func.count(func.distinct(LessonCompletion.lesson_id)),
            )
            .join(Enrolment, Enrolment.id == LessonCompletion.enrolment_id)
            .where(LessonCompletion.lesson_id.in_(ids))
        ).one()
    attempts = 0
    if quiz_slugs:
        attempts = (
            db.session.scalar(
                select(func.count(QuizAttempt.id))
                .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
                .where(Quiz.course_id == course.id, Quiz.slug.in_(quiz_slugs))
            )
            or 0
        )
    return Impact(lessons, completions, trainees, attempts)


# --- publishing ----------------------------------------------------------------------------------------


def load_document(
    document: Document, assets: dict[str, bytes] | None = None
) -> tuple[CourseSpec | None, list[str]]:
    """Export the draft to a temporary folder and load it with the file loader: one set of rules."""
    spec = from_document(document)
    with tempfile.TemporaryDirectory(prefix="lms-draft-") as tmp:
        folder = Path(tmp) / spec.slug
        exporter.write_folder(exporter.course_files(spec, assets), folder)
        loaded, problems = load_course(folder, Path(tmp))
    return loaded, [str(p) for p in problems]


def publish(actor: User, course: Course, revision: int | None, note: str) -> CourseVersion:
    draft = get_draft(course)
    check_revision(course, draft, revision)
    if not note.strip():
        raise ValidationFailed(_("Say in a few words what changed: the note is kept in the version history."))
    first = course.content_hash is None
    previous = (
        new_document(course.slug, course.title, course.language)
        if first
        else to_document(published_spec(course))
    )
    document = dict(draft.document)
    # A first publish keeps the version the draft carries (1, or an imported folder's); later ones count up.
    document["version"] = max(1, int(document.get("version") or 1)) if first else course.version + 1
    spec, problems = load_document(document)
    if spec is None:
        raise PublishRefused(_("The draft cannot be published yet: fix these problems first."), problems)
    result = sync_course(spec)
    course = result.course
    course.is_published = True
    ensure_default_run(course)
    changes = describe_changes(previous, to_document(spec))
    version = CourseVersion(
        course_id=course.id,
        version=spec.version,
        note=note.strip(),
        changes=changes,
        content_hash=course.content_hash,
        published_by_id=actor.id,
    )
    db.session.add(version)
    draft.document = to_document(spec)
    draft.revision += 1
    draft.updated_by_id = actor.id
    draft.updated_at = utcnow()
    db.session.add(
        DraftEdit(
            course_id=course.id,
            revision=draft.revision,
            user_id=actor.id,
            summary=_("published version %(version)s", version=spec.version),
        )
    )
    db.session.flush()
    record_event(
        "authoring.course_published",
        "course",
        course.id,
        actor_id=actor.id,
        after={"version": spec.version, "note": note.strip(), "content_hash": course.content_hash},
    )
    return version


def discard_draft(actor: User, course: Course, revision: int | None) -> CourseDraft:
    """Throw the draft's edits away: back to what trainees see."""
    published = to_document(published_spec(course)) if course.content_hash else None
    if published is None:
        raise ValidationFailed(_("This course was never published: there is nothing to go back to."))
    return edit_draft(actor, course, revision, _("draft discarded"), replace_with(published))


def replace_with(document: Document) -> Callable[[Document], None]:
    def replace(doc: Document) -> None:
        doc.clear()
        doc.update(document)

    return replace


def versions(course_id: int) -> list[tuple[CourseVersion, str]]:
    rows = db.session.execute(
        select(CourseVersion, User)
        .join(User, User.id == CourseVersion.published_by_id, isouter=True)
        .where(CourseVersion.course_id == course_id)
        .order_by(CourseVersion.version.desc())
    ).all()
    return [(version, user.full_name if user else "—") for version, user in rows]


# --- assets --------------------------------------------------------------------------------------------


def course_assets(course_id: int) -> list[CourseAsset]:
    return list(
        db.session.scalars(
            select(CourseAsset).where(CourseAsset.course_id == course_id).order_by(CourseAsset.name)
        )
    )


def store_asset(
    actor: User | None, course: Course, filename: str, data: bytes, name: str | None = None
) -> CourseAsset:
    """Keep an image or PDF for a course; refused unless its bytes really are one."""
    limit = int(current_app.config.get("AUTHORING_MAX_ASSET_BYTES", MAX_ASSET_BYTES))
    if len(data) > limit:
        raise ValidationFailed(_("The file is too large: at most %(size)s MB.", size=limit // (1024 * 1024)))
    kind = sniff_asset(data)
    if kind is None:
        raise ValidationFailed(
            _(
                "%(name)s is not a PNG, JPEG, GIF or WebP image or a PDF "
                "(judged by its content, not its name).",
                name=filename,
            )
        )
    wanted = name or asset_name(filename, kind)
    if not ASSET_NAME.match(wanted) or not wanted.endswith("." + kind.extension):
        raise ValidationFailed(_("%(name)s: the name does not match what the file is.", name=wanted))
    digest = hashlib.sha256(data).hexdigest()
    existing = {a.name: a for a in course_assets(course.id)}
    final = wanted
    counter = 2
    while final in existing and existing[final].sha256 != digest:
        stem, ext = wanted.rsplit(".", 1)
        final = f"{stem}-{counter}.{ext}"
        counter += 1
    if final in existing:
        return existing[final]
    folder = uploads_dir(course.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / digest).write_bytes(data)
    if kind.is_image:
        record_upload_size(course.id, digest, data)  # measured once, here: lessons render with the size
    asset = CourseAsset(
        course_id=course.id,
        name=final,
        content_type=kind.content_type,
        size=len(data),
        sha256=digest,
        uploaded_by_id=actor.id if actor else None,
    )
    db.session.add(asset)
    db.session.flush()
    rerender_lessons(course, final)  # lessons that already link this name get its size
    return asset


def delete_asset(course: Course, name: str) -> None:
    asset = db.session.scalar(
        select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.name == name)
    )
    if asset is None:
        raise NotFound(_("No such file."))
    db.session.delete(asset)
    db.session.flush()
    rerender_lessons(course, name)


def asset_bytes(course: Course) -> dict[str, bytes]:
    """Every file lessons can link, as served: the course folder's files, overridden by uploads."""
    result = {name: served.path.read_bytes() for name, served in folder_files(course.slug).items()}
    for asset in course_assets(course.id):
        path = uploads_dir(course.id) / asset.sha256
        if path.is_file():
            result[asset.name] = path.read_bytes()
    return result


def can_view_files(user: User, course: Course) -> bool:
    """Trainees enrolled in the course, its trainers, admins."""
    if can_edit(user, course.id):
        return True
    return (
        db.session.scalar(
            select(Enrolment.id)
            .join(CourseRun, CourseRun.id == Enrolment.run_id)
            .where(
                CourseRun.course_id == course.id,
                Enrolment.user_id == user.id,
                Enrolment.status.in_(ACTIVE_STATUSES),
            )
            .limit(1)
        )
        is not None
    )


def viewable_asset(user: User, slug: str, name: str) -> tuple[ServedFile, Path]:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None or not can_view_files(user, course):
        raise NotFound(_("No such file."))
    found = served_file(course, name)
    if found is None:
        raise NotFound(_("No such file."))
    return found, found.path


# --- export and import ---------------------------------------------------------------------------------


def export_files(course: Course, *, draft: bool = False) -> dict[str, bytes]:
    spec = from_document(read_draft(course).document) if draft else published_spec(course)
    return exporter.course_files(spec, asset_bytes(course))


def _folder_slug(prefix: str, files: dict[str, bytes]) -> str:
    if prefix:
        return prefix
    try:
        data = yaml.safe_load(files["course.yml"].decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        raise ValidationFailed(_("course.yml cannot be read.")) from None
    slug = data.get("slug") if isinstance(data, dict) else None
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ValidationFailed(_("course.yml has no valid slug."))
    return slug


def load_files(slug: str, files: dict[str, bytes]) -> tuple[CourseSpec, dict[str, bytes]]:
    """Validate a course folder's files with the loader; its assets are checked by content."""
    assets = {}
    problems: list[str] = []
    for relative, data in files.items():
        if relative.startswith(exporter.ASSETS_FOLDER + "/"):
            name = relative.removeprefix(exporter.ASSETS_FOLDER + "/")
            kind = sniff_asset(data)
            if kind is None or not ASSET_NAME.match(name) or not name.endswith("." + kind.extension):
                problems.append(_("%(path)s is not an image or PDF named for what it is", path=relative))
            assets[name] = data
    with tempfile.TemporaryDirectory(prefix="lms-import-") as tmp:
        folder = Path(tmp) / slug
        exporter.write_folder(files, folder)
        spec, found = load_course(folder, Path(tmp))
    problems.extend(str(p) for p in found)
    if problems or spec is None:
        raise PublishRefused(_("The course files have problems; nothing was imported."), problems)
    return spec, assets


def import_zip(actor: User, data: bytes) -> Course:
    """A zip (as Export makes it) becomes the draft of its course; a new slug makes a new course."""
    try:
        prefix, files = read_course_zip(data)
    except ArchiveRejected as error:
        raise PublishRefused(
            _("The zip was refused as a whole; nothing was imported."), error.problems
        ) from None
    slug = _folder_slug(prefix, files)
    spec, assets = load_files(slug, files)
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    if course is None:
        course = create_course(actor, spec.slug, spec.title, spec.language)
    else:
        require_course_trainer(actor, course.id)
    document = to_document(spec)
    # An upload replaces the draft on purpose (the zip is the newer source), so no stale-form check.
    edit_draft(actor, course, get_draft(course).revision, _("imported from a zip"), replace_with(document))
    for name, content in assets.items():
        store_asset(actor, course, name, content, name=name)
    return course


def import_folder(folder: Path) -> Course:
    """The CLI import: load, sync and publish a course folder as `content sync` does, plus its assets."""
    files = exporter.read_folder(folder)
    spec, assets = load_files(folder.name, files)
    course = sync_course(spec).course
    ensure_default_run(course)
    for name, content in assets.items():
        store_asset(None, course, name, content, name=name)
    draft = db.session.scalar(select(CourseDraft).where(CourseDraft.course_id == course.id))
    if draft is not None:
        draft.document = to_document(spec)
        draft.revision += 1
        db.session.add(
            DraftEdit(
                course_id=course.id, revision=draft.revision, user_id=None, summary="imported from files"
            )
        )
    db.session.flush()
    return course

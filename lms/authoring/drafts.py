"""A course's draft and its revisions: the published course as a spec, edits checked against the revision,
publishing, discarding and the published versions.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.authoring import exporter
from lms.authoring.document import Document, describe_changes, from_document, new_document, to_document
from lms.authoring.models import CourseDraft, CourseTrainer, CourseVersion, DraftEdit
from lms.authoring.package_files import attach_packages, package_files
from lms.config import LANGUAGES
from lms.content.loader import (
    SLUG_PATTERN,
    CourseSpec,
    LessonSpec,
    LessonText,
    ModuleSpec,
    PackageFileSpec,
    load_course,
)
from lms.content.quiz_loader import BankSpec, QuestionSpec, QuizSpec, SlotSpec
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import Enrolment, LessonCompletion
from lms.enrolment.runs import ensure_default_run
from lms.errors import Conflict, ValidationFailed
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
            if not lesson.is_published or lesson.package_id is not None:  # a package's items: lms/packages
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
    document: Document,
    assets: dict[str, bytes] | None = None,
    packages: dict[str, list[PackageFileSpec]] | None = None,
) -> tuple[CourseSpec | None, list[str]]:
    """Export the draft to a temporary folder and load it with the file loader: one set of rules.

    ``packages`` (lms.authoring.package_files) are the course's live packages by module slug: listed in
    the folder (their zips linked, not copied) so that a module of packages only passes, and left out of
    the spec returned, so that publishing never imports a package (its own pages do)."""
    spec = attach_packages(from_document(document), packages or {})
    with tempfile.TemporaryDirectory(prefix="lms-draft-") as tmp:
        folder = Path(tmp) / spec.slug
        exporter.write_folder(exporter.course_files(spec, assets), folder)
        for module in spec.modules:
            for package in module.packages:
                (folder / package.file).parent.mkdir(parents=True, exist_ok=True)
                (folder / package.file).symlink_to(package.source)
        loaded, problems = load_course(folder, Path(tmp))
    if loaded is not None:
        attach_packages(loaded, {})
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
    spec, problems = load_document(document, packages=package_files(course))
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

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.auth.models import Role
from lms.authoring.access import manages_course, require_course_trainer
from lms.certificates.queries import certificate_in_force_of_run
from lms.courses import outline_html
from lms.courses.forms import StudyLanguageForm
from lms.courses.models import Course, LessonCompletionMode
from lms.courses.published import PublishedCourse, PublishedLesson, published_course
from lms.courses.queries import catalogue as catalogue_entries
from lms.courses.queries import course_by_slug, published_outline
from lms.courses.translation_status import LanguageStatus, LessonTexts, QuestionTexts, translation_status
from lms.db import begin_writing, reads_before_writing
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import enrol_first
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.completion import complete_on_reading
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.enrolment.progress import CompletionRule, Progress
from lms.enrolment.queries import DashboardPlace, DashboardRun, dashboard_rows
from lms.errors import ValidationFailed
from lms.frontend.setup import page_url
from lms.i18n import LANGUAGE_NAMES, current_language
from lms.quizzes.queries import OutlineQuiz, course_question_specs, course_quizzes, outline_quizzes
from lms.sessions import queries as session_queries
from lms.surveys.queries import open_surveys_of_places
from lms.unit_of_work import on_refusal

bp = Blueprint("courses", __name__)
bp.add_app_template_global(outline_html.lesson_list, "outline_lesson_list")  # courses/_outline.html
bp.add_app_template_filter(outline_html.fill, "fill_outline")


def course_href(slug: str) -> str:
    """A course's address, built once per app, mount point and course (lms.frontend.setup.page_url): the
    dashboard needs one per card, the lesson page one per page; called only with existing courses' slugs."""
    return page_url("courses.course", slug=slug)


@bp.route("/")
@allow(PUBLIC)
def catalogue() -> str:
    search = request.args.get("q", "").strip()[:100]
    entries = catalogue_entries(search or None)
    return render_template(
        "courses/catalogue.html", entries=entries, search=search, language=current_language()
    )


@bp.route("/dashboard")
@allow(AUTHENTICATED)
def dashboard() -> str:
    # The next session and the surveys to answer come from the places already read (issue 22): a
    # person with no active place asks for no session, one with no completed place for no survey.
    rows = dashboard_rows(current_user.id, run_column=certificate_in_force_of_run)
    completed = [row.enrolment.id for row in rows if row.enrolment.status == EnrolmentStatus.COMPLETED]
    return render_template(
        "courses/dashboard.html",
        rows=rows,
        course_hrefs={row.course.slug: course_href(row.course.slug) for row in rows},
        certificates={row.run.id: row.run_value for row in rows if row.run_value},
        next_session=session_queries.next_session_of_runs([row.run for row in rows]),
        open_surveys=open_surveys_of_places(completed),
        language=current_language(),
    )


@bp.route("/courses/<slug>")
@allow(PUBLIC)
def course(slug: str) -> str:
    course = course_by_slug(slug, with_outline=False) or abort(404)
    published = published_course(slug) or abort(404)
    enrolment = None
    if current_user.is_authenticated:
        enrolment = enrolment_self_service.active_enrolment(current_user.id, course.id)
    quizzes, completed, progress = _standing(published, enrolment, enrolment.run if enrolment else None)
    language = enrolment.language if enrolment and enrolment.language else current_language()
    return render_template(
        "courses/course.html",
        course=course,
        published=published,
        outline=published.outline(),
        quiz_rows=quizzes,
        enrolment=enrolment,
        completed=completed,
        progress=progress,
        default_run=enrolment_runs.default_run(course.id) if enrolment is None else None,
        language=language,
        form=FlaskForm(),
        language_form=_study_language_form(course.languages, enrolment),
        translations_link=manages_course(course.id),
    )


def _standing(
    course: PublishedCourse, place: Enrolment | DashboardPlace | None, run: CourseRun | DashboardRun | None
) -> tuple[list[OutlineQuiz], set[int], Progress | None]:
    """The course's quizzes with the place's standing, the lessons it has completed and its progress,
    read in one statement (lms.enrolment.completion.places_standing); a visitor without one gets the
    quizzes only. The place and its run as ORM objects (the course page) or plain rows (the lesson page)."""
    if place is None or run is None:
        return outline_quizzes(course, None), set(), None
    done = enrolment_completion.places_standing([place.id])
    quizzes = outline_quizzes(course, done.attempts_of(place.id))
    completed = done.completed[place.id]
    progress = enrolment_completion.progress_from_outline(
        course.lesson_ids, completed, quizzes, CompletionRule.of(run, place)
    )
    return quizzes, completed, progress


def _study_language_form(languages: list[str], enrolment: object | None) -> StudyLanguageForm | None:
    """The small 'switch the language I study in' form; only for a course with several languages."""
    if enrolment is None or len(languages) < 2:
        return None
    form = StudyLanguageForm(formdata=None, language=getattr(enrolment, "language", None) or languages[0])
    return form.offer(languages)


@bp.route("/courses/<slug>/study-language", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda slug: url_for("courses.course", slug=slug))
def change_study_language(slug: str) -> Response:
    course = course_by_slug(slug, with_outline=False) or abort(404)
    enrolment = enrolment_self_service.active_enrolment(current_user.id, course.id) or abort(404)
    form = StudyLanguageForm().offer(course.languages)
    if not form.validate_on_submit():
        flash(_("Choose one of the course's languages."), "error")
        return redirect(url_for("courses.course", slug=slug))
    if enrolment_self_service.change_study_language(enrolment, form.language.data, actor_id=current_user.id):
        name = LANGUAGE_NAMES.get(form.language.data, form.language.data)
        flash(_("You now study this course in %(language)s.", language=name), "success")
    return redirect(url_for("courses.course", slug=slug))


@bp.route("/courses/<slug>/translations")
@allow(Role.TRAINER, Role.ADMIN)
def translations(slug: str) -> str:
    """Per-language translation status of a course: what a translator still has to write."""
    course = course_by_slug(slug) or abort(404)
    require_course_trainer(course.id)
    return render_template("courses/translations.html", course=course, statuses=_translation_statuses(course))


def _translation_statuses(course: Course) -> list[LanguageStatus]:
    outline = published_outline(course)
    lessons = [
        LessonTexts(
            lesson.id,
            module.title_in(course.language),
            lesson.title,
            frozenset({course.language, *(t.language for t in lesson.translations if t.body_md.strip())}),
        )
        for module, module_lessons in outline
        for lesson in module_lessons
    ]
    return translation_status(
        primary=course.language,
        course_translations=course.translations,
        has_outcomes=bool(course.learning_outcomes),
        module_titles=[(module.title, module.translations) for module, _lessons in outline],
        lessons=lessons,
        questions=[QuestionTexts(key, spec) for key, spec in course_question_specs(course.id)],
        quiz_titles=[
            (quiz.title, {code: texts.get("title") for code, texts in quiz.translations.items()})
            for quiz in course_quizzes(course.id)
        ],
    )


def _published_lesson(slug: str, lesson_id: int) -> tuple[PublishedCourse, PublishedLesson]:
    course = published_course(slug) or abort(404)
    lesson = course.lesson(lesson_id) or abort(404)
    return course, lesson


@bp.route("/courses/<slug>/lessons/<int:lesson_id>")
@allow(AUTHENTICATED)
def lesson(slug: str, lesson_id: int) -> str | Response:
    course, found = enrol_first.published_course_and_place(slug)
    lesson = course.lesson(lesson_id) or abort(404)
    if found is None:
        return enrol_first.course_page(slug, _l("Enrol in this course to read its lessons."))
    # X-LMS-Prefetch: the offline-reading script saving the course is not the trainee reading it.
    # A package lesson (lms/packages) is completed by its SCO's status, never by opening this page.
    reading = course.lesson_completion == LessonCompletionMode.ON_READ and lesson.package_id is None
    if reading and not request.headers.get("X-LMS-Prefetch"):
        # The GET's one write (see there), on the place loaded for writing: the page read plain rows.
        complete_on_reading(enrol_first.enrolment_or_403(course.id), lesson)
    return _lesson_page(course, lesson, found.place, found.run)


def _lesson_page(
    course: PublishedCourse, lesson: PublishedLesson, place: DashboardPlace, run: DashboardRun
) -> str:
    quizzes, completed, progress = _standing(course, place, run)
    language = place.language or course.language
    text = lesson.text_in(language)
    previous_lesson, next_lesson = course.neighbours(lesson.id)
    return render_template(
        "courses/lesson.html",
        course=course,
        published=course,
        course_href=course_href(course.slug),
        lesson=lesson,
        title=text.title if text else lesson.title,
        body_html=text.body_html if text else lesson.body_html,
        transcript_html=text.transcript_html if text and text.transcript_html else lesson.transcript_html,
        outline=course.outline(),
        quiz_rows=quizzes,
        previous_lesson=previous_lesson,
        next_lesson=next_lesson,
        completed=completed,
        progress=progress,
        enrolment=place,
        language=language,
        # the language the title and body are really in: the course's own when this one has no translation
        content_language=language if text else course.language,
    )


@bp.route("/courses/<slug>/lessons/<int:lesson_id>/complete", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda slug, lesson_id: url_for("courses.lesson", slug=slug, lesson_id=lesson_id))
@reads_before_writing  # the busiest write of the academy: hold SQLite's write lock for the write only
def complete_lesson(slug: str, lesson_id: int) -> Response:
    # No FlaskForm: the form is the CSRF token alone, which CSRFProtect checked before this view ran.
    course, lesson = _published_lesson(slug, lesson_id)
    enrolment = enrol_first.enrolment_or_403(course.id)
    if lesson.package_id is not None:  # its SCO's status completes it (lms/packages)
        raise ValidationFailed(_("This lesson is completed by its activity, not by hand."))
    begin_writing(enrolment)  # re-read under the write lock when the service looks at it
    enrolment_completion.complete_lesson(enrolment, lesson)
    flash(_("Lesson marked complete."), "success")
    _previous, following = course.neighbours(lesson.id)
    if following is not None:
        return redirect(url_for("courses.lesson", slug=slug, lesson_id=following.id))
    return redirect(url_for("courses.course", slug=slug))

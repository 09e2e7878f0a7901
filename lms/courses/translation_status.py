"""Which parts of a course lack a translation, per language (the trainers' translation status page).

Pure logic on plain values: the view gathers the course's texts and question specs and passes them in.
A text "given per language" is a mapping whose keys are all language codes ({en: ..., ru: ...}), the
same convention as the content files (docs/course-format.md, docs/quizzes.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lms.config import LANGUAGES


@dataclass(frozen=True)
class LessonTexts:
    lesson_id: int
    module_title: str
    title: str
    languages: frozenset[str]  # languages with a body (the course's own language always counts)


@dataclass(frozen=True)
class QuestionTexts:
    key: str
    spec: Mapping[str, Any]


@dataclass
class LanguageStatus:
    language: str
    course_fields: list[str] = field(default_factory=list)  # 'title', 'summary', 'learning_outcomes'
    modules: list[str] = field(default_factory=list)  # module titles lacking a translation
    lessons: list[LessonTexts] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # question keys with a text missing
    quizzes: list[str] = field(default_factory=list)  # quiz titles lacking a translation
    lessons_total: int = 0
    questions_total: int = 0

    @property
    def complete(self) -> bool:
        return not (self.course_fields or self.modules or self.lessons or self.questions or self.quizzes)


def is_per_language(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(key in LANGUAGES for key in value)


def texts_lacking(value: Any, language: str) -> int:
    """How many per-language texts inside ``value`` (walked recursively) have no ``language`` entry."""
    if is_per_language(value):
        return 0 if value.get(language) else 1
    if isinstance(value, Mapping):
        return sum(texts_lacking(item, language) for item in value.values())
    if isinstance(value, list):
        return sum(texts_lacking(item, language) for item in value)
    return 0


def question_lacks(spec: Mapping[str, Any], language: str, primary: str) -> bool:
    """A question lacks ``language`` when one of its texts does; a prompt written once (a plain
    string) is in the course's own language only."""
    if language == primary:
        return False
    prompt = spec.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return True
    return texts_lacking(spec, language) > 0


def translation_status(
    *,
    primary: str,
    course_translations: Mapping[str, Mapping[str, Any]],
    has_outcomes: bool,
    module_titles: Sequence[tuple[str, Mapping[str, str]]],
    lessons: Sequence[LessonTexts],
    questions: Iterable[QuestionTexts],
    quiz_titles: Sequence[tuple[str, Mapping[str, Any]]],
    languages: Sequence[str] = LANGUAGES,
) -> list[LanguageStatus]:
    """One status per language other than the course's own, in the academy's language order."""
    question_list = list(questions)
    result = []
    for language in languages:
        if language == primary:
            continue
        status = LanguageStatus(language, lessons_total=len(lessons), questions_total=len(question_list))
        own = course_translations.get(language, {})
        wanted = ["title", "summary"] + (["learning_outcomes"] if has_outcomes else [])
        status.course_fields = [name for name in wanted if not own.get(name)]
        status.modules = [title for title, translations in module_titles if not translations.get(language)]
        status.lessons = [lesson for lesson in lessons if language not in lesson.languages]
        status.questions = [q.key for q in question_list if question_lacks(q.spec, language, primary)]
        status.quizzes = [title for title, translations in quiz_titles if not translations.get(language)]
        result.append(status)
    return result

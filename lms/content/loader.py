"""Course folders -> plain specs, with every problem named by file and line. No database here.

Format (see docs/course-format.md):

    courses/<slug>/course.yml
    courses/<slug>/modules/<module-slug>/<lesson-slug>.md        (primary language)
    courses/<slug>/modules/<module-slug>/<lesson-slug>.<lang>.md (translations)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from lms.config import LANGUAGES
from lms.content.quiz_loader import BankSpec, QuizSpec, load_assessments
from lms.content.yaml_lines import LineDict, line_of, load_yaml_with_lines

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DELIVERY_MODES = ("online", "blended", "in_person")
COMPLETION_MODES = ("manual", "on_read")
MANIFEST = "course.yml"
VIDEO_URL = re.compile(r"^https?://\S+$")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class ContentProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LessonText:
    title: str
    body_md: str
    minutes: int | None = None
    # A video is linked by URL and always comes with its transcript (low-bandwidth readers read it).
    video_url: str | None = None
    transcript_md: str = ""


@dataclass
class LessonSpec:
    slug: str
    text: LessonText
    translations: dict[str, LessonText] = field(default_factory=dict)


@dataclass
class ModuleSpec:
    slug: str
    title: str
    translations: dict[str, str] = field(default_factory=dict)
    lessons: list[LessonSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    language: str
    version: int
    level: str | None
    credits: str | None
    notional_hours: int | None
    delivery_mode: str
    lesson_completion: str
    certificate_validity_months: int | None
    learning_outcomes: list[str]
    translations: dict[str, dict[str, Any]]
    modules: list[ModuleSpec]
    # Assessments (lms/content/quiz_loader.py): banks/<bank>.yml and quizzes/<quiz>.yml beside course.yml.
    banks: list[BankSpec] = field(default_factory=list)
    quizzes: list[QuizSpec] = field(default_factory=list)

    def content_hash(self) -> str:
        encoded = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()


class _Collector:
    """Gathers problems for one course so a check reports all of them at once."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder
        self.problems: list[ContentProblem] = []
        self.listed_lessons: set[tuple[str, str]] = set()  # (module slug, lesson slug) named in course.yml

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int, message: str) -> None:
        self.problems.append(ContentProblem(self.rel(path), line, message))


def load_course(folder: Path, root: Path | None = None) -> tuple[CourseSpec | None, list[ContentProblem]]:
    collector = _Collector(root or folder.parent, folder)
    spec = _load_manifest(folder, collector)
    return (spec if not collector.problems else None), collector.problems


def load_all(root: Path) -> tuple[list[CourseSpec], list[ContentProblem]]:
    specs: list[CourseSpec] = []
    problems: list[ContentProblem] = []
    if not root.is_dir():
        return specs, [ContentProblem(str(root), 1, "the courses folder does not exist")]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        spec, found = load_course(folder, root)
        problems.extend(found)
        if spec is not None:
            specs.append(spec)
    return specs, problems


def _read_text(path: Path, collector: _Collector) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        collector.add(path, 1, f"not valid UTF-8 ({error.reason})")
    except OSError as error:
        collector.add(path, 1, f"cannot be read ({error.strerror})")
    return None


def _parse_yaml(text: str, path: Path, collector: _Collector, line_offset: int = 0) -> Any:
    try:
        return load_yaml_with_lines(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        context = ""
        if error.context and error.context_mark is not None:
            context = f" ({error.context} started on line {error.context_mark.line + 1 + line_offset})"
        collector.add(path, line, f"invalid YAML: {error.problem}{context}")
    except yaml.YAMLError as error:
        collector.add(path, 1 + line_offset, f"invalid YAML: {error}")
    return None


def _require_text(data: LineDict, key: str, path: Path, collector: _Collector) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        collector.add(path, line_of(data, key), f"'{key}' is required and must be text")
        return ""
    return value.strip()


def _optional_int(data: LineDict, key: str, path: Path, collector: _Collector) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        collector.add(path, line_of(data, key), f"'{key}' must be a whole number of 0 or more")
        return None
    return value


def _load_manifest(folder: Path, collector: _Collector) -> CourseSpec | None:
    path = folder / MANIFEST
    if not path.is_file():
        collector.add(path, 1, f"missing {MANIFEST}")
        return None
    text = _read_text(path, collector)
    if text is None:
        return None
    data = _parse_yaml(text, path, collector)
    if data is None:
        return None
    if not isinstance(data, LineDict):
        collector.add(path, 1, "the manifest must be a mapping of keys to values")
        return None

    known = {
        "slug", "title", "summary", "language", "version", "level", "credits", "notional_hours",
        "delivery_mode", "lesson_completion", "certificate_validity_months", "learning_outcomes",
        "translations", "modules", "quizzes",
    }  # fmt: skip
    for key in data:
        if key not in known:
            collector.add(path, line_of(data, key), f"unknown key '{key}'")

    slug = _require_text(data, "slug", path, collector)
    if slug and slug != folder.name:
        collector.add(
            path, line_of(data, "slug"), f"slug '{slug}' must equal the folder name '{folder.name}'"
        )
    elif slug and not SLUG_PATTERN.match(slug):
        collector.add(path, line_of(data, "slug"), "slug may hold only lowercase letters, digits and hyphens")
    title = _require_text(data, "title", path, collector)
    summary = data.get("summary") or ""
    language = data.get("language", "en")
    if language not in LANGUAGES:
        collector.add(path, line_of(data, "language"), f"language must be one of {', '.join(LANGUAGES)}")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        collector.add(path, line_of(data, "version"), "version must be a whole number of 1 or more")
        version = 1
    credits: str | None = None
    if data.get("credits") is not None:
        try:
            amount = Decimal(str(data["credits"]))
            if amount < 0 or amount > 999:
                raise InvalidOperation
            credits = str(amount)
        except InvalidOperation:
            collector.add(path, line_of(data, "credits"), "credits must be a number between 0 and 999")
    delivery_mode = data.get("delivery_mode", "online")
    if delivery_mode not in DELIVERY_MODES:
        collector.add(
            path, line_of(data, "delivery_mode"), f"delivery_mode must be one of {', '.join(DELIVERY_MODES)}"
        )
    completion = data.get("lesson_completion", "manual")
    if completion not in COMPLETION_MODES:
        collector.add(
            path,
            line_of(data, "lesson_completion"),
            f"lesson_completion must be one of {', '.join(COMPLETION_MODES)}",
        )
    outcomes = data.get("learning_outcomes") or []
    if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes):
        collector.add(path, line_of(data, "learning_outcomes"), "learning_outcomes must be a list of text")
        outcomes = []
    translations = _load_course_translations(data, path, collector, language)

    modules = _load_modules(data, folder, path, collector, language, set(translations))
    _report_unlisted_lessons(folder, collector)

    banks, quizzes = load_assessments(
        folder, collector, str(language), data.get("quizzes"), path, line_of(data, "quizzes")
    )

    return CourseSpec(
        slug=slug,
        title=title,
        summary=str(summary).strip(),
        language=str(language),
        version=version,
        level=str(data["level"]) if data.get("level") is not None else None,
        credits=credits,
        notional_hours=_optional_int(data, "notional_hours", path, collector),
        delivery_mode=str(delivery_mode),
        lesson_completion=str(completion),
        certificate_validity_months=_optional_int(data, "certificate_validity_months", path, collector),
        learning_outcomes=[str(o).strip() for o in outcomes],
        translations=translations,
        modules=modules,
        banks=banks,
        quizzes=quizzes,
    )


def _load_course_translations(
    data: LineDict, path: Path, collector: _Collector, primary: str
) -> dict[str, dict[str, Any]]:
    raw = data.get("translations")
    if raw is None:
        return {}
    if not isinstance(raw, LineDict):
        collector.add(path, line_of(data, "translations"), "translations must map a language to its texts")
        return {}
    result: dict[str, dict[str, Any]] = {}
    for lang, texts in raw.items():
        line = line_of(raw, lang)
        if lang not in LANGUAGES or lang == primary:
            collector.add(path, line, f"translation language '{lang}' is not one of the other languages")
            continue
        if not isinstance(texts, LineDict) or not isinstance(texts.get("title"), str):
            collector.add(path, line, f"translation '{lang}' needs at least a title")
            continue
        outcomes = texts.get("learning_outcomes") or []
        result[lang] = {
            "title": str(texts["title"]).strip(),
            "summary": str(texts.get("summary") or "").strip(),
            "learning_outcomes": [str(o).strip() for o in outcomes] if isinstance(outcomes, list) else [],
        }
    return result


def _load_modules(
    data: LineDict, folder: Path, path: Path, collector: _Collector, primary: str, languages: set[str]
) -> list[ModuleSpec]:
    raw_modules = data.get("modules")
    if not isinstance(raw_modules, list) or not raw_modules:
        collector.add(path, line_of(data, "modules"), "'modules' must list at least one module")
        return []
    modules: list[ModuleSpec] = []
    module_slugs: set[str] = set()
    lesson_slugs: set[str] = set()
    for raw in raw_modules:
        if not isinstance(raw, LineDict):
            collector.add(path, line_of(data, "modules"), "each module must be a mapping with slug and title")
            continue
        slug = _require_text(raw, "slug", path, collector)
        title = _require_text(raw, "title", path, collector)
        if slug and not SLUG_PATTERN.match(slug):
            collector.add(path, line_of(raw, "slug"), f"module slug '{slug}' is not a valid slug")
        if slug in module_slugs:
            collector.add(path, line_of(raw, "slug"), f"module slug '{slug}' is used twice")
        module_slugs.add(slug)
        module = ModuleSpec(slug=slug, title=title)
        for key, value in raw.items():
            if key.startswith("title_"):
                lang = key.removeprefix("title_")
                if lang not in LANGUAGES or lang == primary:
                    collector.add(path, line_of(raw, key), f"'{key}': unknown translation language")
                elif isinstance(value, str) and value.strip():
                    module.translations[lang] = value.strip()
            elif key not in {"slug", "title", "lessons"}:
                collector.add(path, line_of(raw, key), f"unknown module key '{key}'")
        for lang in sorted(languages - set(module.translations)):
            collector.add(path, raw.line, f"module '{slug}' has no title_{lang} for the {lang} translation")
        lessons = raw.get("lessons")
        if not isinstance(lessons, list) or not lessons:
            collector.add(path, line_of(raw, "lessons"), f"module '{slug}' must list at least one lesson")
            lessons = []
        for lesson_slug in lessons:
            line = line_of(lesson_slug, default=line_of(raw, "lessons"))
            if not isinstance(lesson_slug, str) or not SLUG_PATTERN.match(lesson_slug):
                collector.add(path, line, f"lesson '{lesson_slug}' is not a valid slug")
                continue
            if lesson_slug in lesson_slugs:
                collector.add(path, line, f"lesson slug '{lesson_slug}' is used twice in this course")
                continue
            lesson_slugs.add(lesson_slug)
            collector.listed_lessons.add((slug, lesson_slug))
            lesson = _load_lesson(folder / "modules" / slug, lesson_slug, path, line, collector, languages)
            if lesson is not None:
                module.lessons.append(lesson)
        modules.append(module)
    return modules


def _load_lesson(
    module_dir: Path, slug: str, manifest: Path, line: int, collector: _Collector, languages: set[str]
) -> LessonSpec | None:
    main_file = module_dir / f"{slug}.md"
    if not main_file.is_file():
        collector.add(manifest, line, f"lesson file {collector.rel(main_file)} does not exist")
        return None
    text = _load_lesson_file(main_file, collector)
    if text is None:
        return None
    lesson = LessonSpec(slug=slug, text=text)
    if text.video_url and not text.transcript_md:
        collector.add(main_file, 2, "a lesson with a video_url needs its 'transcript'")
    for lang in sorted(languages):
        translated_file = module_dir / f"{slug}.{lang}.md"
        if not translated_file.is_file():
            collector.add(
                manifest, line, f"lesson '{slug}' has no {lang} translation ({translated_file.name})"
            )
            continue
        translated = _load_lesson_file(translated_file, collector)
        if translated is not None:
            if translated.video_url:
                collector.add(translated_file, 2, "video_url belongs in the primary lesson file only")
            elif text.video_url and not translated.transcript_md:
                collector.add(translated_file, 2, f"the lesson has a video: give its {lang} 'transcript'")
            lesson.translations[lang] = translated
    return lesson


def _load_lesson_file(path: Path, collector: _Collector) -> LessonText | None:
    text = _read_text(path, collector)
    if text is None:
        return None
    match = FRONT_MATTER.match(text)
    if match is None:
        collector.add(path, 1, "a lesson must start with front matter between '---' lines (title: ...)")
        return None
    meta = _parse_yaml(match.group(1), path, collector, line_offset=1)
    if meta is None:
        return None
    if not isinstance(meta, LineDict):
        collector.add(path, 2, "front matter must be a mapping (title: ...)")
        return None
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        collector.add(path, line_of(meta, "title", 1) + 1 if "title" in meta else 2, "'title' is required")
        return None
    minutes = meta.get("minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1):
        collector.add(path, line_of(meta, "minutes") + 1, "'minutes' must be a whole number of 1 or more")
        minutes = None
    video_url = meta.get("video_url")
    if video_url is not None and (not isinstance(video_url, str) or not VIDEO_URL.match(video_url.strip())):
        collector.add(path, line_of(meta, "video_url") + 1, "'video_url' must be an http(s) address")
        video_url = None
    transcript = meta.get("transcript")
    if transcript is not None and not isinstance(transcript, str):
        collector.add(path, line_of(meta, "transcript") + 1, "'transcript' must be text")
        transcript = None
    body = text[match.end() :].strip()
    if not body:
        collector.add(path, text[: match.end()].count("\n") + 1, "the lesson has no text")
    return LessonText(
        title=title.strip(),
        body_md=body,
        minutes=minutes,
        video_url=video_url.strip() if video_url else None,
        transcript_md=(transcript or "").strip(),
    )


def _report_unlisted_lessons(folder: Path, collector: _Collector) -> None:
    """A lesson file nobody listed would silently never be published: say so."""
    module_root = folder / "modules"
    if not module_root.is_dir():
        return
    for md in sorted(module_root.glob("*/*.md")):
        lesson_slug = md.name.split(".")[0]
        if (md.parent.name, lesson_slug) not in collector.listed_lessons:
            collector.add(md, 1, "this lesson file is not listed in course.yml")

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
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from lms.content.file_models import SLUG_PATTERN, CourseFile, LessonFrontMatter, line_at, validate_file
from lms.content.quiz_loader import BankSpec, QuizSpec, load_assessments
from lms.packages.extraction import MANIFEST_NAME, PackageRefused, ZipLimits, inspect_zip, read_member
from lms.packages.manifest import parse_manifest
from lms.yaml_lines import LineDict, line_of, load_yaml_with_lines

__all__ = ["SLUG_PATTERN", "CourseSpec", "LessonSpec", "LessonText", "ModuleSpec", "load_all", "load_course"]
MANIFEST = "course.yml"
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
class PackageFileSpec:
    """A SCORM package a module lists (``packages/<slug>.zip``), checked as an upload would be; the sync
    imports it (lms.packages.services) after the module's lessons."""

    slug: str
    file: str  # relative to the course folder
    sha256: str  # of the zip: a changed zip changes the course's content hash
    source: str  # the zip's absolute path (left out of the content hash)


@dataclass
class ModuleSpec:
    slug: str
    title: str
    translations: dict[str, str] = field(default_factory=dict)
    lessons: list[LessonSpec] = field(default_factory=list)
    packages: list[PackageFileSpec] = field(default_factory=list)


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
        data = asdict(self)
        for module in data[
            "modules"
        ]:  # where the zips lie is not content; a course without any hashes as before
            for package in module["packages"]:
                del package["source"]
            if not module["packages"]:
                del module["packages"]
        encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
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
    # "_surveys" (survey forms, lms/surveys/file_loader.py) and other "_" folders are not courses.
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
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


def _load_manifest(folder: Path, collector: _Collector) -> CourseSpec | None:
    path = folder / MANIFEST
    if not path.is_file():
        collector.add(path, 1, f"missing {MANIFEST}")
        return None
    text = _read_text(path, collector)
    data = _parse_yaml(text, path, collector) if text is not None else None
    if data is None:
        return None
    if not isinstance(data, LineDict):
        collector.add(path, 1, "the manifest must be a mapping of keys to values")
        return None
    manifest, problems = validate_file(CourseFile, data)
    slug = data.get("slug")
    if isinstance(slug, str) and SLUG_PATTERN.match(slug) and slug != folder.name:
        collector.add(
            path, line_of(data, "slug"), f"slug '{slug}' must equal the folder name '{folder.name}'"
        )
    for line, message in problems:
        collector.add(path, line, message)
    language = manifest.language if manifest else str(data.get("language", "en"))
    modules = _load_modules(manifest, data, folder, path, collector) if manifest else []
    if manifest is not None:  # otherwise no lesson is known to be listed
        _report_unlisted_lessons(folder, collector)
    listed = data.get("quizzes") if manifest else None  # the YAML's strings, which know their lines
    banks, quizzes = load_assessments(folder, collector, language, listed, path, line_of(data, "quizzes"))
    if manifest is None:
        return None
    translations = {
        lang: {
            "title": str(texts.title).strip(),
            "summary": (texts.summary or "").strip(),
            "learning_outcomes": [o.strip() for o in texts.learning_outcomes or []],
        }
        for lang, texts in (manifest.translations or {}).items()
    }
    return CourseSpec(
        slug=manifest.slug,
        title=manifest.title.strip(),
        summary=(manifest.summary or "").strip(),
        language=language,
        version=manifest.version,
        level=str(manifest.level) if manifest.level is not None else None,
        credits=str(Decimal(str(data["credits"]))) if manifest.credits is not None else None,
        notional_hours=manifest.notional_hours,
        delivery_mode=manifest.delivery_mode,
        lesson_completion=manifest.lesson_completion,
        certificate_validity_months=manifest.certificate_validity_months,
        learning_outcomes=[o.strip() for o in manifest.learning_outcomes or []],
        translations=translations,
        modules=modules,
        banks=banks,
        quizzes=quizzes,
    )


def _load_modules(
    manifest: CourseFile, data: LineDict, folder: Path, path: Path, collector: _Collector
) -> list[ModuleSpec]:
    languages = set(manifest.translations or {})
    modules: list[ModuleSpec] = []
    for index, raw in enumerate(manifest.modules):
        module = ModuleSpec(slug=raw.slug, title=raw.title.strip())
        for lang in languages:
            module.translations[lang] = str(getattr(raw, f"title_{lang}")).strip()
        for position, lesson_slug in enumerate(raw.lessons):
            line = line_at(data, ("modules", index, "lessons", position))
            collector.listed_lessons.add((raw.slug, lesson_slug))
            lesson = _load_lesson(
                folder / "modules" / raw.slug, lesson_slug, path, line, collector, languages
            )
            if lesson is not None:
                module.lessons.append(lesson)
        for position, file in enumerate(raw.packages or []):
            line = line_at(data, ("modules", index, "packages", position))
            package = _load_package(folder, file, path, line, collector)
            if package is not None:
                module.packages.append(package)
        modules.append(module)
    slugs = [package.slug for module in modules for package in module.packages]
    for slug in sorted({slug for slug in slugs if slugs.count(slug) > 1}):
        collector.add(path, line_of(data, "modules"), f"package packages/{slug}.zip is listed twice")
    return modules


def _load_package(
    folder: Path, file: str, manifest: Path, line: int, collector: _Collector
) -> PackageFileSpec | None:
    """The zip checked as the import will check it (default limits), without extracting anything."""
    zip_path = folder / file
    if not zip_path.is_file():
        collector.add(manifest, line, f"package file {collector.rel(zip_path)} does not exist")
        return None
    try:
        contents = inspect_zip(zip_path, ZipLimits())
        parse_manifest(read_member(zip_path, MANIFEST_NAME, 2 * 1024 * 1024), contents.names)
    except PackageRefused as refused:
        collector.add(manifest, line, f"package {file}: {refused.message}")
        return None
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    return PackageFileSpec(slug=Path(file).stem, file=file, sha256=digest, source=str(zip_path.resolve()))


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
    front, problems = validate_file(LessonFrontMatter, meta)
    for line, message in problems:
        collector.add(path, line + 1, message)  # the front matter starts on the file's second line
    body = text[match.end() :].strip()
    if not body:
        collector.add(path, text[: match.end()].count("\n") + 1, "the lesson has no text")
    if front is None:
        return None
    return LessonText(
        title=front.title.strip(),
        body_md=body,
        minutes=front.minutes,
        video_url=front.video_url.strip() if front.video_url else None,
        transcript_md=(front.transcript or "").strip(),
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

"""A CourseSpec -> the files of a course folder, in exactly the format `flask lms content sync` reads.

Pure and deterministic: the same spec always gives the same bytes (keys in a fixed order, one YAML style),
and loading what it writes gives back the same spec, so export -> import -> export is byte-identical.
Uploaded assets travel beside the course as `assets/<name>` (the loader ignores that folder); SCORM
packages as `packages/<slug>.zip`, listed by their module in course.yml (lms/authoring/package_files.py).
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from lms.content.loader import MANIFEST, CourseSpec, LessonText
from lms.content.quiz_loader import BankSpec, QuizSpec

ASSETS_FOLDER = "assets"
# A fixed timestamp inside zips, so that the same course always zips to the same bytes.
ZIP_TIMESTAMP = (2020, 1, 1, 0, 0, 0)


class _Dumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks (readable in a diff); everything else as PyYAML chooses."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_multi_representer(str, _represent_str)  # the loader's LineStr (a str that knows its line)


def dump_yaml(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100_000
    )


def credits_value(credits: str | Decimal | None) -> int | float | None:
    """Credits as a YAML number: 1 rather than 1.00, so the loader reads back the same text."""
    if credits is None:
        return None
    amount = Decimal(str(credits)).normalize()
    exponent = amount.as_tuple().exponent
    return int(amount) if isinstance(exponent, int) and exponent >= 0 else float(amount)


def credits_text(credits: str | Decimal | None) -> str | None:
    """What the loader makes of the exported credits (its `credits` is text)."""
    value = credits_value(credits)
    return None if value is None else str(Decimal(str(value)))


def _manifest(spec: CourseSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": spec.slug,
        "title": spec.title,
        "summary": spec.summary,
        "language": spec.language,
        "version": spec.version,
    }
    if spec.level is not None:
        data["level"] = spec.level
    if spec.credits is not None:
        data["credits"] = credits_value(spec.credits)
    if spec.notional_hours is not None:
        data["notional_hours"] = spec.notional_hours
    data["delivery_mode"] = spec.delivery_mode
    data["lesson_completion"] = spec.lesson_completion
    if spec.certificate_validity_months is not None:
        data["certificate_validity_months"] = spec.certificate_validity_months
    if spec.learning_outcomes:
        data["learning_outcomes"] = list(spec.learning_outcomes)
    if spec.translations:
        data["translations"] = {
            lang: {
                "title": texts.get("title", ""),
                "summary": texts.get("summary", ""),
                "learning_outcomes": list(texts.get("learning_outcomes") or []),
            }
            for lang, texts in sorted(spec.translations.items())
        }
    if spec.quizzes:
        data["quizzes"] = [quiz.slug for quiz in spec.quizzes]
    modules = []
    for module in spec.modules:
        entry: dict[str, Any] = {"slug": module.slug, "title": module.title}
        for lang, title in sorted(module.translations.items()):
            entry[f"title_{lang}"] = title
        if module.lessons or not module.packages:  # a module of packages only lists no lessons
            entry["lessons"] = [lesson.slug for lesson in module.lessons]
        if module.packages:
            entry["packages"] = [package.file for package in module.packages]
        modules.append(entry)
    data["modules"] = modules
    return data


def lesson_file(text: LessonText) -> str:
    meta: dict[str, Any] = {"title": text.title}
    if text.minutes is not None:
        meta["minutes"] = text.minutes
    if text.video_url:
        meta["video_url"] = text.video_url
    if text.transcript_md:
        meta["transcript"] = text.transcript_md
    return f"---\n{dump_yaml(meta)}---\n\n{text.body_md.strip()}\n"


def _localised(primary: str, text: str, translations: dict[str, str]) -> Any:
    if not translations:
        return text
    return {primary: text, **dict(sorted(translations.items()))}


def _bank_file(bank: BankSpec) -> str:
    return dump_yaml({"title": bank.title, "questions": [dict(q.spec) for q in bank.questions]})


def _quiz_file(quiz: QuizSpec, primary: str) -> str:
    titles = {lang: t["title"] for lang, t in quiz.translations.items() if t.get("title")}
    descriptions = {lang: t["description"] for lang, t in quiz.translations.items() if t.get("description")}
    data: dict[str, Any] = {"title": _localised(primary, quiz.title, titles)}
    if quiz.description or descriptions:
        data["description"] = _localised(primary, quiz.description, descriptions)
    data["role"] = quiz.role
    data["pass_mark"] = quiz.pass_mark
    if quiz.attempts_allowed is not None:
        data["attempts_allowed"] = quiz.attempts_allowed
    if quiz.time_limit_minutes is not None:
        data["time_limit_minutes"] = quiz.time_limit_minutes
    data["grading_method"] = quiz.grading_method
    data["shuffle_questions"] = quiz.shuffle_questions
    data["shuffle_choices"] = quiz.shuffle_choices
    data["review"] = dict(quiz.review)
    if quiz.closes_at:
        data["closes_at"] = datetime.fromisoformat(quiz.closes_at)  # written as a YAML timestamp
    inline = {q.key: q for q in quiz.questions}
    entries: list[dict[str, Any]] = []
    for slot in quiz.slots:
        if slot.question and slot.question in inline:
            entries.append(dict(inline[slot.question].spec))
        elif slot.question:
            entries.append({"question": slot.question})
        else:
            entry: dict[str, Any] = {"draw": slot.draw, "bank": slot.bank}
            if slot.tag:
                entry["tag"] = slot.tag
            entries.append(entry)
    data["questions"] = entries
    return dump_yaml(data)


def course_files(
    spec: CourseSpec, assets: dict[str, bytes] | None = None, package_zips: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """Relative path -> bytes of every file of the course folder, in a stable order. course.yml lists the
    modules' packages; their zips (``packages/<slug>.zip``) are written when ``package_zips`` has them."""
    files: dict[str, bytes] = {MANIFEST: dump_yaml(_manifest(spec)).encode()}
    files.update(package_zips or {})
    for module in spec.modules:
        for lesson in module.lessons:
            base = f"modules/{module.slug}/{lesson.slug}"
            files[f"{base}.md"] = lesson_file(lesson.text).encode()
            for lang, text in sorted(lesson.translations.items()):
                files[f"{base}.{lang}.md"] = lesson_file(text).encode()
    for bank in spec.banks:
        files[f"banks/{bank.slug}.yml"] = _bank_file(bank).encode()
    for quiz in spec.quizzes:
        files[f"quizzes/{quiz.slug}.yml"] = _quiz_file(quiz, spec.language).encode()
    for name, data in sorted((assets or {}).items()):
        files[f"{ASSETS_FOLDER}/{name}"] = data
    return dict(sorted(files.items()))


def write_folder(files: dict[str, bytes], folder: Path) -> None:
    for relative, data in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every regular file under a folder, by relative path (for comparing two exports)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def zip_bytes(files: dict[str, bytes], top: str) -> bytes:
    """The folder as a zip with `top/` as its only top-level entry; same input, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative, data in files.items():
            info = zipfile.ZipInfo(f"{top}/{relative}", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, data)
    return buffer.getvalue()

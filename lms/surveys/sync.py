"""Survey form files -> database, idempotently by slug and content hash (docs/surveys.md "Survey forms").

- A form is found by its slug; an unchanged file (same content hash) writes nothing.
- Items are matched by their stable key: a key that left the file is retired (its answers stay and
  results still show it), a key that comes back is asked again. A key keeps its type: changing it would
  mix different answers under one key, so the sync refuses it and asks for a new key.
- A slug already taken by a form made in the browser is refused (the file would overwrite it).
- Everything is checked first: a problem in any file changes nothing (``sync_forms`` raises).

Flushes only; the caller's unit of work commits (``flask lms content sync``, ``flask lms surveys sync``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from lms.content.loader import ContentProblem
from lms.extensions import db
from lms.surveys.file_loader import FormSpec, ItemSpec, load_forms, surveys_folder
from lms.surveys.models import SurveyForm, SurveyItem


class SurveyFilesRefused(Exception):
    """The files have problems; nothing was written. ``problems`` name file and line."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the survey form files")
        self.problems = problems


@dataclass(frozen=True)
class FormSyncResult:
    slug: str
    outcome: str  # created, updated, unchanged

    def __str__(self) -> str:
        return f"survey form {self.slug}: {self.outcome}"


def _existing(slugs: list[str]) -> dict[str, SurveyForm]:
    if not slugs:
        return {}
    forms = db.session.scalars(select(SurveyForm).where(SurveyForm.slug.in_(slugs))).all()
    return {form.slug: form for form in forms}


def database_problems(specs: list[FormSpec]) -> list[ContentProblem]:
    """What the files cannot do to the forms already in the database."""
    problems: list[ContentProblem] = []
    existing = _existing([spec.slug for spec in specs])
    for spec in specs:
        form = existing.get(spec.slug)
        if form is None:
            continue
        if form.source_path is None:
            problems.append(
                ContentProblem(
                    spec.source_path,
                    spec.lines.get("slug", 1),
                    f"a form made in the browser already has the slug '{spec.slug}': rename the file",
                )
            )
            continue
        types = {item.key: item.type for item in form.items}
        for item in spec.items:
            if item.key in types and types[item.key] != item.type:
                problems.append(
                    ContentProblem(
                        spec.source_path,
                        spec.lines.get(item.key, 1),
                        f"item '{item.key}' was a {types[item.key]} item: its answers would mix with "
                        f"{item.type} answers; give the changed question a new key",
                    )
                )
    return problems


def _apply_item(item: SurveyItem, spec: ItemSpec, position: int) -> None:
    item.position = position
    item.type = spec.type
    item.required = spec.required
    item.prompt = spec.prompt
    item.options = spec.options
    item.indicator = spec.indicator
    item.retired = False


def _write(form: SurveyForm, spec: FormSpec) -> None:
    form.kind = spec.kind
    form.title = spec.title
    form.intro = spec.intro
    form.source_path = spec.source_path
    form.content_hash = spec.content_hash
    by_key = {item.key: item for item in form.items}
    for position, item_spec in enumerate(spec.items):
        item = by_key.pop(item_spec.key, None)
        if item is None:
            item = SurveyItem(key=item_spec.key)
            form.items.append(item)
        _apply_item(item, item_spec, position)
    gone = sorted(by_key.values(), key=lambda item: item.position)
    for offset, item in enumerate(gone):
        item.retired = True  # kept with its answers; asked no more
        item.position = len(spec.items) + offset


def sync_form(spec: FormSpec, form: SurveyForm | None = None) -> FormSyncResult:
    """One valid spec (checked by ``database_problems``) into the database."""
    form = form if form is not None else _existing([spec.slug]).get(spec.slug)
    if form is None:
        form = SurveyForm(slug=spec.slug, is_published=True)
        db.session.add(form)
        _write(form, spec)
        db.session.flush()
        return FormSyncResult(spec.slug, "created")
    if form.content_hash == spec.content_hash and form.source_path == spec.source_path:
        return FormSyncResult(spec.slug, "unchanged")
    _write(form, spec)
    db.session.flush()
    return FormSyncResult(spec.slug, "updated")


def check_form_files(courses_dir: Path | str) -> tuple[list[FormSpec], list[ContentProblem]]:
    """The files alone (no database): what ``flask lms surveys check`` and ``content check`` report."""
    folder = surveys_folder(courses_dir)
    return load_forms(folder, folder.parent)


def sync_forms(courses_dir: Path | str) -> list[FormSyncResult]:
    """Every file of courses/_surveys/ into the database, or nothing and ``SurveyFilesRefused``."""
    specs, problems = check_form_files(courses_dir)
    problems += database_problems(specs) if not problems else []
    if problems:
        raise SurveyFilesRefused(problems)
    existing = _existing([spec.slug for spec in specs])
    return [sync_form(spec, existing.get(spec.slug)) for spec in specs]

"""Survey form files -> plain specs, every problem named by file and line. No database here.

    courses/_surveys/<slug>.yml     slug, kind, title, intro, items (each with a stable key)

The folder starts with "_", so the course loader passes it by (lms/content/loader.py). The shape is
``SurveyFile`` (file_format.py); this module reads the YAML with lines and turns a valid file into a
``FormSpec`` whose items carry what the database stores (``SurveyItem.options``, see lms/surveys/texts.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lms.content.file_models import validate_file
from lms.content.loader import ContentProblem
from lms.surveys.file_format import FORM_SLUG, ItemFile, SurveyFile
from lms.surveys.texts import AGREEMENT_KEYS, RATING_ENDS
from lms.yaml_lines import LineDict, line_of, load_yaml_with_lines

SURVEYS_FOLDER = "_surveys"


@dataclass
class ItemSpec:
    key: str
    type: str
    required: bool
    prompt: dict[str, str]
    options: list[dict[str, Any]]
    indicator: str | None


@dataclass
class FormSpec:
    slug: str
    kind: str
    title: dict[str, str]
    intro: dict[str, str]
    source_path: str  # relative to the courses folder: _surveys/<slug>.yml
    items: list[ItemSpec] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # "slug" and each item key -> its line

    @property
    def content_hash(self) -> str:
        """Of everything the database keeps of the file: an unchanged file changes nothing."""
        kept = {name: value for name, value in asdict(self).items() if name != "lines"}
        text = json.dumps(kept, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def surveys_folder(courses_dir: Path | str) -> Path:
    return Path(courses_dir) / SURVEYS_FOLDER


def _plain(texts: dict[str, str] | None) -> dict[str, str]:
    return {str(lang): str(text).strip() for lang, text in (texts or {}).items()}


def _options(item: ItemFile, points: list[dict[str, str]] | None) -> list[dict[str, Any]]:
    if item.type in ("single", "multiple"):
        return [
            {"key": str(o.key), "label": _plain(o.label), **({"positive": True} if o.positive else {})}
            for o in item.options or ()
        ]
    if item.type == "agreement" and points:
        return [{"key": key, "label": _plain(text)} for key, text in zip(AGREEMENT_KEYS, points, strict=True)]
    if item.type == "rating":
        ends = zip(RATING_ENDS, (item.low, item.high), strict=True)
        return [{"key": key, "label": _plain(texts)} for key, texts in ends if texts]
    return []


def _read(path: Path, problems: list[ContentProblem], name: str) -> Any:
    try:
        data = load_yaml_with_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(ContentProblem(name, 1, f"cannot be read ({error})"))
        return None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        problems.append(ContentProblem(name, line, f"invalid YAML: {error.problem}"))
        return None
    except yaml.YAMLError as error:
        problems.append(ContentProblem(name, 1, f"invalid YAML: {error}"))
        return None
    if not isinstance(data, LineDict):
        problems.append(ContentProblem(name, 1, "the file must be a mapping of keys to values"))
        return None
    return data


def load_form_file(path: Path, root: Path | None = None) -> tuple[FormSpec | None, list[ContentProblem]]:
    """One form file; ``root`` (the courses folder) makes the names in problems and ``source_path``."""
    root = root or path.parent.parent
    try:
        name = str(path.relative_to(root))
    except ValueError:
        name = str(path)
    problems: list[ContentProblem] = []
    data = _read(path, problems, name)
    if data is None:
        return None, problems
    model, found = validate_file(SurveyFile, data)
    problems.extend(ContentProblem(name, line, message) for line, message in found)
    if model is None:
        return None, problems
    if not re.fullmatch(FORM_SLUG, path.stem):
        problems.append(
            ContentProblem(name, 1, f"the file name '{path.stem}' is not a valid slug (a-z, 0-9, -)")
        )
        return None, problems
    if model.slug is not None and model.slug != path.stem:
        problems.append(
            ContentProblem(
                name, line_of(data, "slug"), f"slug '{model.slug}' must be the file's name, '{path.stem}'"
            )
        )
        return None, problems
    points = [_plain(p) for p in model.agreement_points] if model.agreement_points else None
    items = [
        ItemSpec(
            key=item.key,
            type=item.type,
            required=item.required,
            prompt=_plain(item.prompt),
            options=_options(item, points),
            indicator=item.indicator,
        )
        for item in model.items
    ]
    spec = FormSpec(
        slug=path.stem,
        kind=model.kind,
        title=_plain(model.title),
        intro=_plain(model.intro),
        source_path=name,
        items=items,
        lines={
            "slug": line_of(data, "slug"),
            **{i.key: line_of(raw, "key") for i, raw in zip(model.items, data["items"], strict=True)},
        },
    )
    return spec, problems


def load_forms(folder: Path, root: Path | None = None) -> tuple[list[FormSpec], list[ContentProblem]]:
    """Every courses/_surveys/*.yml in name order; a missing folder holds no forms."""
    specs: list[FormSpec] = []
    problems: list[ContentProblem] = []
    if not folder.is_dir():
        return specs, problems
    for path in sorted(folder.glob("*.yml")):
        spec, found = load_form_file(path, root or folder.parent)
        problems.extend(found)
        if spec is not None:
            specs.append(spec)
    return specs, problems

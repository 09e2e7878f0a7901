"""The shape of course files as pydantic models: course.yml, lesson front matter, quizzes/*.yml, banks/*.yml.

One source for two things: the loaders validate a parsed file with ``validate_file`` (each problem keeps
the ``file:line: message`` form: a pydantic error's location is walked back through the line-remembering
YAML of ``yaml_lines``), and ``make schema`` writes each model's JSON Schema to ``docs/schema/`` so an
author's editor can check and complete the files (docs/course-format.md).

Messages are the authors' words, not pydantic's: a field says what is wrong with ``Says("...")`` (also used
when it is missing), a model says how it names an unknown key (``unknown``), and a model's ``problems``
gives the rules between its own fields. Rules that need other files, the folder or the database stay in
``loader.py`` and ``quiz_loader.py``.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from lms.config import LANGUAGES
from lms.quizzes.grading import GRADING_METHODS, REGISTRY
from lms.quizzes.text_rules import WHITESPACE_RULES
from lms.yaml_lines import LineDict, line_of

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_PATTERN = re.compile(SLUG)
PACKAGE_FILE = r"^packages/[a-z0-9]+(?:-[a-z0-9]+)*\.zip$"  # a SCORM package of a module (lms/packages)
DELIVERY_MODES = ("online", "blended", "in_person")
COMPLETION_MODES = ("manual", "on_read")
VIDEO_URL = r"^https?://\S+$"
QUIZ_ROLES = ("practice", "pre_test", "post_test", "final")
REVIEW_PARTS = ("answers", "correct_answers", "feedback")
REVIEW_WHEN = ("never", "immediately", "after_close")
DEFAULT_REVIEW = {"answers": "immediately", "correct_answers": "after_close", "feedback": "immediately"}
M = TypeVar("M", bound=BaseModel)
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schema"

Language = Literal[LANGUAGES]  # type: ignore[valid-type]


def _listed(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _rebuild(error: ValidationError, replace: Any, keep: Any = lambda e: True) -> ValidationError:
    """The errors ``keep`` keeps; each that ``replace(error)`` names gets that message, not pydantic's."""
    details: list[Any] = []
    for item in error.errors():
        if not keep(item):
            continue
        message = replace(item)
        if message is None and item["type"] == "lms":
            message = item["msg"]
        if message is not None:
            details.append({"type": PydanticCustomError("lms", message), "loc": item["loc"], "input": None})
        else:
            details.append({k: item[k] for k in ("type", "loc", "input", "ctx") if k in item})
    return ValidationError.from_exception_data(error.title, details)


def _inside(value: Any, loc: tuple[str | int, ...]) -> bool:
    """Whether ``loc`` reaches into ``value``; its other parts name a union's members (``int``, ``none``)."""
    return "[key]" not in loc and any(
        (isinstance(value, dict) and part in value) or (isinstance(value, list) and isinstance(part, int))
        for part in loc[:2]
    )


@dataclass(frozen=True)
class Says:
    """A field's own message when its value is wrong or missing; ``{value}`` and earlier fields may appear.

    Problems inside a value of the right kind (a list item, a key of a mapping) keep their own message."""

    message: str
    missing: str | None = None  # when the key is not there at all, if that needs other words

    def text(self, value: Any, fields: dict[str, Any], missing: bool = False) -> str:
        message = (self.missing or self.message) if missing else self.message
        return message.format_map(_Blank(fields, value=value))

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def wrap(value: Any, inner: Any, info: ValidationInfo) -> Any:
            try:
                return inner(value)
            except ValidationError as error:
                message = self.text(value, dict(info.data or {}))
                if any(
                    _inside(value, e["loc"]) for e in error.errors()
                ):  # an item's own message, or this one
                    mine = lambda e: None if e["type"] == "lms" else message  # noqa: E731
                    raise _rebuild(error, mine, lambda e: _inside(value, e["loc"])) from None
                own = {"type": PydanticCustomError("lms", message), "loc": ()}
                raise ValidationError.from_exception_data(error.title, [own]) from None  # type: ignore[list-item]

        return WrapValidator(wrap).__get_pydantic_core_schema__(source, handler)


class FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)
    unknown: ClassVar[str] = "unknown key '{key}'"
    shape: ClassVar[str] = "the file must be a mapping of keys to values"

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Rules between this model's fields: (location inside the model, message)."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _author_messages(cls, data: Any, handler: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError("lms", cls.shape)
        try:
            model = handler(data)
        except ValidationError as error:
            raise _rebuild(error, lambda e: cls._own_message(e, data)) from None
        found = model.problems()
        if found:
            details = [{"type": PydanticCustomError("lms", m), "loc": loc, "input": None} for loc, m in found]
            raise ValidationError.from_exception_data(cls.__name__, details)  # type: ignore[arg-type]
        return model

    @classmethod
    def _own_message(cls, error: Any, data: Any) -> str | None:
        if len(error["loc"]) != 1:
            return None
        name = str(error["loc"][0])
        if error["type"] == "extra_forbidden":
            return cls.unknown.format(key=name)
        if error["type"] == "missing" and name in cls.model_fields:
            says = [m for m in cls.model_fields[name].metadata if isinstance(m, Says)]
            return says[0].text(None, dict(data), missing=True) if says else None
        return None


Text = str | dict[Language, Annotated[str, Says("a text given per language must be text in each language")]]
"""Text written once, or per language: ``{en: "...", ru: "..."}`` (the course's own language required)."""


# --- course.yml ---------------------------------------------------------------------------------------------


class CourseTranslation(FileModel):
    """The course's texts in one more language."""

    shape: ClassVar[str] = "a translation maps title, summary and learning_outcomes to their texts"

    # The title is required, but CourseFile says so: the message names the language.
    model_config = ConfigDict(json_schema_extra={"required": ["title"]})
    title: Annotated[str | None, Says("'title' must be text")] = None
    summary: Annotated[str | None, Says("'summary' must be text")] = None
    learning_outcomes: Annotated[list[str] | None, Says("learning_outcomes must be a list of text")] = None


class _ModuleBase(FileModel):
    unknown: ClassVar[str] = "unknown module key '{key}'"
    # A lesson or a package (CourseFile.problems says so with the line); the schema tells an editor too.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}}
                for name in ("lessons", "packages")
            ]
        }
    )
    shape: ClassVar[str] = "each module must be a mapping with slug and title"
    slug: Annotated[
        str,
        Field(pattern=SLUG),
        Says("module slug '{value}' is not a valid slug", missing="'slug' is required and must be text"),
    ]
    title: Annotated[str, Field(pattern=r"\S"), Says("'title' is required and must be text")]
    lessons: Annotated[
        list[Annotated[str, Field(pattern=SLUG), Says("lesson '{value}' is not a valid slug")]],
        Field(description="lesson slugs: modules/<module>/<lesson>.md"),
        Says("'lessons' must list lesson slugs"),
    ] = []  # a module of packages only needs none; CourseFile.problems wants a lesson or a package
    packages: Annotated[
        list[
            Annotated[
                str,
                Field(pattern=PACKAGE_FILE),
                Says(
                    "package '{value}' must be a file packages/<name>.zip (name: lowercase, digits, hyphens)"
                ),
            ]
        ]
        | None,
        Field(description="SCORM packages (zip files in packages/ beside course.yml), after the lessons"),
        Says("'packages' must list zip files: packages/<name>.zip"),
    ] = None

    @classmethod
    def _own_message(cls, error: Any, data: Any) -> str | None:
        name = str(error["loc"][0]) if len(error["loc"]) == 1 else ""
        if error["type"] == "extra_forbidden" and name.startswith("title_"):
            return f"'{name}': unknown translation language"
        return super()._own_message(error, data)


if TYPE_CHECKING:
    Module = _ModuleBase
else:
    Module = create_model(  # title_<lang> for each language the LMS speaks
        "Module",
        __base__=_ModuleBase,
        __doc__="A module of the course: its lessons in order, then its SCORM packages (one at least).",
        **{
            f"title_{lang}": (
                Annotated[
                    str | None,
                    Field(description=f"the title in {lang}"),
                    Says(f"'title_{lang}' must be text"),
                ],
                None,
            )
            for lang in LANGUAGES
        },
    )


class CourseFile(FileModel):
    """courses/<slug>/course.yml"""

    slug: Annotated[
        str,
        Field(pattern=SLUG),
        Says(
            "slug may hold only lowercase letters, digits and hyphens",
            missing="'slug' is required and must be text",
        ),
    ]
    """Equals the folder name: lowercase letters, digits, hyphens."""
    title: Annotated[str, Field(pattern=r"\S"), Says("'title' is required and must be text")]
    """In the course's own language."""
    summary: Annotated[str | None, Says("'summary' must be text")] = None
    language: Annotated[Language, Says(f"language must be one of {_listed(LANGUAGES)}")] = "en"
    """The course's own language; texts given per language must include it."""
    version: Annotated[int, Field(ge=1), Says("version must be a whole number of 1 or more")] = 1
    """Shown to trainees."""
    level: Annotated[str | int | None, Says("'level' must be text")] = None
    """For example EQF 5, SQF 4, MQF 5."""
    credits: Annotated[
        float | None,
        Field(ge=0, le=999),
        Says("credits must be a number between 0 and 999"),
    ] = None
    """ECTS/ECVET-like number (MFHEA: 1 credit = 25 hours)."""
    notional_hours: Annotated[
        int | None, Field(ge=0), Says("'notional_hours' must be a whole number of 0 or more")
    ] = None
    """Total learning hours."""
    delivery_mode: Annotated[
        Literal[DELIVERY_MODES],  # type: ignore[valid-type]
        Says(f"delivery_mode must be one of {_listed(DELIVERY_MODES)}"),
    ] = "online"
    lesson_completion: Annotated[
        Literal[COMPLETION_MODES],  # type: ignore[valid-type]
        Says(f"lesson_completion must be one of {_listed(COMPLETION_MODES)}"),
    ] = "manual"
    """manual: the trainee marks a lesson complete; on_read: opening it completes it."""
    certificate_validity_months: Annotated[
        int | None, Field(ge=0), Says("'certificate_validity_months' must be a whole number of 0 or more")
    ] = None
    """Certificates expire after this many months."""
    learning_outcomes: Annotated[list[str] | None, Says("learning_outcomes must be a list of text")] = None
    translations: Annotated[
        dict[str, CourseTranslation] | None,
        Field(json_schema_extra={"propertyNames": {"enum": list(LANGUAGES)}}),
        Says("translations must map a language to its texts"),
    ] = None
    """{ru: {title, summary, learning_outcomes}}: each lesson then needs <lesson>.ru.md, a module title_ru."""
    modules: Annotated[
        list[Module],
        Field(min_length=1),
        Says("'modules' must list at least one module"),
    ]
    quizzes: Annotated[list[str] | None, Says("'quizzes' must list quiz slugs (files in quizzes/)")] = None
    """The order of quizzes/<slug>.yml in the outline; without it the files are discovered."""

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        found: list[tuple[tuple[str | int, ...], str]] = []
        others = set(self.translations or {})
        for lang in sorted(others):
            if not (self.translations or {})[lang].title:
                found.append((("translations", lang), f"translation '{lang}' needs at least a title"))
            if lang not in LANGUAGES or lang == self.language:
                found.append(
                    (
                        ("translations", lang),
                        f"translation language '{lang}' is not one of the other languages",
                    )
                )
        module_slugs: Counter[str] = Counter()
        lesson_slugs: set[str] = set()
        for index, module in enumerate(self.modules):
            module_slugs[module.slug] += 1
            if module_slugs[module.slug] == 2:
                found.append((("modules", index, "slug"), f"module slug '{module.slug}' is used twice"))
            if getattr(module, f"title_{self.language}") is not None:
                found.append(
                    (
                        ("modules", index, f"title_{self.language}"),
                        f"'title_{self.language}': unknown translation language",
                    )
                )
            for lang in sorted(others & set(LANGUAGES) - {self.language}):
                if not getattr(module, f"title_{lang}"):
                    found.append(
                        (
                            ("modules", index),
                            f"module '{module.slug}' has no title_{lang} for the {lang} translation",
                        )
                    )
            if not module.lessons and not module.packages:
                found.append(
                    (("modules", index), f"module '{module.slug}' must list at least one lesson or package")
                )
            for position, lesson in enumerate(module.lessons):
                if lesson in lesson_slugs:
                    found.append(
                        (
                            ("modules", index, "lessons", position),
                            f"lesson slug '{lesson}' is used twice in this course",
                        )
                    )
                lesson_slugs.add(lesson)
        return found


class LessonFrontMatter(FileModel):
    """The front matter of modules/<module>/<lesson>.md (and <lesson>.<lang>.md), between '---' lines."""

    shape: ClassVar[str] = "front matter must be a mapping (title: ...)"

    model_config = ConfigDict(extra="allow")
    title: Annotated[str, Field(pattern=r"\S"), Says("'title' is required")]
    minutes: Annotated[int | None, Field(ge=1), Says("'minutes' must be a whole number of 1 or more")] = None
    """Reading time."""
    video_url: Annotated[
        str | None, Field(pattern=VIDEO_URL), Says("'video_url' must be an http(s) address")
    ] = None
    """A linked video (primary lesson file only); the lesson then needs its transcript."""
    transcript: Annotated[str | None, Says("'transcript' must be text")] = None
    """Markdown; required in every file of a lesson with a video."""


# --- banks/*.yml and quizzes/*.yml --------------------------------------------------------------------------

_CHOICE_KEYS = ("id", "text", "correct", "feedback")
_TEXT_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "object", "propertyNames": {"enum": list(LANGUAGES)}}]}


def _loose(description: str, schema: dict[str, Any] | None = None) -> WithJsonSchema:
    """A question field checked by its type in lms/quizzes/grading.py; the schema only guides the editor."""
    return WithJsonSchema({**(schema or {}), "description": description})


class Question(FileModel):
    """A question (in a bank, or written inside a quiz); its type decides which keys it needs."""

    unknown: ClassVar[str] = "unknown question key '{key}'"
    shape: ClassVar[str] = "each question must be a mapping (id, type, prompt...)"
    id: Annotated[
        str, Field(min_length=1), Says("each question needs a stable 'id' (text), so edits keep its history")
    ]
    """Never change it: attempts and reports follow the question by its id."""
    type: Annotated[
        Literal[tuple(REGISTRY)],  # type: ignore[valid-type]
        Says(f"unknown question type '{{value}}' (known: {_listed(sorted(REGISTRY))})"),
    ]
    points: Annotated[float, Field(gt=0), Says("points must be a number above 0")] = 1
    tags: Annotated[list[str] | None, Says("tags must be a list of words")] = None
    """Draws may take only the questions with a tag."""
    prompt: Annotated[Any, _loose("the question", _TEXT_SCHEMA)] = None
    choices: Annotated[
        Any,
        _loose(
            "single_choice, multiple_response: [{text, correct, feedback, id}]",
            {"type": "array", "items": {"type": "object", "properties": {key: {} for key in _CHOICE_KEYS}}},
        ),
    ] = None
    feedback: Annotated[Any, _loose("text, or {correct, incorrect, general}")] = None
    scoring: Annotated[
        Any, _loose("multiple_response, matching, ordering, cloze: partial or all_or_nothing")
    ] = None
    answer: Annotated[Any, _loose("true_false: true or false; numeric: the number")] = None
    tolerance: Annotated[
        Any, _loose("numeric: accepted distance from the answer", {"type": ["number", "string"]})
    ] = None
    unit: Annotated[Any, _loose("numeric: shown after the field", _TEXT_SCHEMA)] = None
    accept: Annotated[Any, _loose("short_text: accepted answers (a list, or lists per language)")] = None
    case_sensitive: Annotated[Any, _loose("short_text, cloze", {"type": "boolean"})] = None
    whitespace: Annotated[Any, _loose("short_text, cloze", {"enum": list(WHITESPACE_RULES)})] = None
    ignore_diacritics: Annotated[Any, _loose("short_text, cloze", {"type": "boolean"})] = None
    pairs: Annotated[Any, _loose("matching: [{left, right}]", {"type": "array"})] = None
    distractors: Annotated[Any, _loose("matching: extra right-hand options", {"type": "array"})] = None
    items: Annotated[Any, _loose("ordering: the items in the right order", {"type": "array"})] = None
    text: Annotated[Any, _loose("cloze: the text with gaps [[1]], [[2]]...", _TEXT_SCHEMA)] = None
    blanks: Annotated[Any, _loose("cloze: accepted answers of each gap", {"type": "array"})] = None


class BankQuestion(FileModel):
    """A question of a bank, always included."""

    question: Annotated[str, Says("'question' names a bank question by its id")]


class Draw(FileModel):
    """N questions drawn from a bank (optionally only those with a tag) for each attempt."""

    unknown: ClassVar[str] = "unknown key '{key}' in a draw (draw, bank, tag)"
    draw: Annotated[int, Field(ge=1), Says("draw must be a whole number of 1 or more")]
    bank: Annotated[str, Says("draw needs the 'bank' it draws from; no bank '{value}'")]
    tag: Annotated[str | None, Says("'tag' must be text")] = None


def _entry_kind(item: Any) -> str | None:
    if isinstance(item, dict):
        for key, tag in (("type", "[question]"), ("question", "[bank question]"), ("draw", "[draw]")):
            if key in item:
                return tag
    return None


QuizEntry = Annotated[
    Annotated[Question, Tag("[question]")]
    | Annotated[BankQuestion, Tag("[bank question]")]
    | Annotated[Draw, Tag("[draw]")],
    Discriminator(
        _entry_kind,
        custom_error_type="lms",
        custom_error_message=(
            "each entry is a question (with 'type'), 'question: <id>' or 'draw: N' from a 'bank'"
        ),
    ),
]


class Review(FileModel):
    """When a trainee sees each part of a finished attempt (the score is always shown)."""

    unknown: ClassVar[str] = f"unknown review part '{{key}}' ({_listed(REVIEW_PARTS)})"
    shape: ClassVar[str] = f"review maps {_listed(REVIEW_PARTS)} to when they are shown"
    answers: Annotated[
        Literal[REVIEW_WHEN], Says(f"review answers must be one of {_listed(REVIEW_WHEN)}")  # type: ignore[valid-type]
    ] = DEFAULT_REVIEW["answers"]
    correct_answers: Annotated[
        Literal[REVIEW_WHEN], Says(f"review correct_answers must be one of {_listed(REVIEW_WHEN)}")  # type: ignore[valid-type]
    ] = DEFAULT_REVIEW["correct_answers"]
    feedback: Annotated[
        Literal[REVIEW_WHEN], Says(f"review feedback must be one of {_listed(REVIEW_WHEN)}")  # type: ignore[valid-type]
    ] = DEFAULT_REVIEW["feedback"]


def _closes(value: datetime | date | None) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    return None


class BankFile(FileModel):
    """courses/<slug>/banks/<bank>.yml: questions that quizzes include by id or draw from."""

    unknown: ClassVar[str] = "unknown bank key '{key}'"
    title: Annotated[Text | None, Says("'title' must be text, or a text per language")] = None
    questions: Annotated[list[Question], Field(min_length=1), Says("a bank must list at least one question")]


class QuizFile(FileModel):
    """courses/<slug>/quizzes/<quiz>.yml"""

    unknown: ClassVar[str] = "unknown quiz key '{key}'"
    title: Annotated[Text, Says("'title' is required: text, or a text per language")]
    description: Annotated[Text, Says("'description' must be text, or a text per language")] = ""
    role: Annotated[
        Literal[QUIZ_ROLES], Says(f"role must be one of {_listed(QUIZ_ROLES)}")  # type: ignore[valid-type]
    ] = "practice"
    """One final assessment per course: passing it is part of completing the course."""
    pass_mark: Annotated[
        float,
        Field(ge=0, le=100),
        Says("pass mark {value} is out of range: give a percentage from 0 to 100"),
    ] = 70
    attempts_allowed: Annotated[
        int | None, Field(ge=1), Says("attempts_allowed must be 1 or more (leave it out for no limit)")
    ] = None
    time_limit_minutes: Annotated[
        int | None, Field(ge=1, le=24 * 60), Says("time_limit_minutes must be from 1 to 1440")
    ] = None
    grading_method: Annotated[
        Literal[GRADING_METHODS],  # type: ignore[valid-type]
        Says(f"grading_method must be one of {_listed(GRADING_METHODS)}"),
    ] = "highest"
    shuffle_questions: Annotated[bool, Says("shuffle_questions must be true or false")] = False
    shuffle_choices: Annotated[bool, Says("shuffle_choices must be true or false")] = False
    review: Annotated[Review, Says(f"review maps {_listed(REVIEW_PARTS)} to when they are shown")] = Review()
    closes_at: Annotated[
        datetime | date | None, Says("closes_at must be a date (2026-12-31) or a date and time")
    ] = None
    """No attempt starts after it; a date alone means midnight UTC."""
    questions: Annotated[list[QuizEntry], Field(min_length=1), Says("a quiz must list at least one question")]

    def closes(self) -> str | None:
        return _closes(self.closes_at)


# --- validation with lines, and the JSON Schemas ------------------------------------------------------------


def line_at(data: Any, loc: tuple[str | int, ...]) -> int:
    """The line of the value at ``loc`` (pydantic's location) in data read by ``load_yaml_with_lines``."""
    node, line = data, line_of(data)
    for part in loc:
        if isinstance(part, str) and part.startswith("[") and part.endswith("]"):
            continue  # the tag of a quiz entry's kind, not a key
        if isinstance(node, LineDict) and part in node:
            line, node = line_of(node, str(part)), node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = line_of(node, default=line)
        elif isinstance(node, LineDict):
            line = node.line or line  # a missing key: the mapping's line; or a union's member
    return line


def validate_file(model: type[M], data: Any) -> tuple[M | None, list[tuple[int, str]]]:
    """The model of ``data``, or None and each problem as (line, message)."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        found = [
            (line_at(data, e["loc"]), e["msg"] if e["type"] == "lms" else _plain(e)) for e in error.errors()
        ]
        return None, sorted(set(found), key=found.index)


def _plain(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"] if not (isinstance(p, str) and p.startswith("[")))
    return f"{where}: {error['msg']}" if where else str(error["msg"])


SCHEMAS: dict[str, type[BaseModel]] = {
    "course": CourseFile,
    "lesson": LessonFrontMatter,
    "quiz": QuizFile,
    "bank": BankFile,
}


def json_schema(name: str) -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **SCHEMAS[name].model_json_schema(),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(json_schema(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # make schema
    for written in write_schemas():
        print(written)

"""Course files and their models (lms/content/file_models.py): the committed JSON Schemas are what the models
write now, the demo courses pass them, and the models' problems keep the `file:line: message` form."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from lms.content.file_models import SCHEMA_DIR, SCHEMAS, json_schema, write_schemas
from lms.content.loader import FRONT_MATTER, load_course
from lms.content.quiz_loader import plain
from tests.conftest import PROJECT_ROOT
from tests.test_quiz_loader import GOOD_QUIZ, problems_for

COURSES = PROJECT_ROOT / "courses"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_what_the_models_write(name: str) -> None:
    committed = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == json_schema(name), f"docs/schema/{name}.schema.json is stale: run `make schema`"


def test_make_schema_writes_one_file_per_format(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert sorted(p.name for p in written) == [
        "bank.schema.json",
        "course.schema.json",
        "lesson.schema.json",
        "quiz.schema.json",
    ]
    for path in written:
        Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")))


def _files() -> list[tuple[str, Path]]:
    found = [("course", p) for p in COURSES.glob("*/course.yml")]
    found += [("quiz", p) for p in COURSES.glob("*/quizzes/*.yml")]
    found += [("bank", p) for p in COURSES.glob("*/banks/*.yml")]
    found += [("lesson", p) for p in COURSES.glob("*/modules/*/*.md")]
    return sorted(found)


def _document(kind: str, path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if kind == "lesson":
        match = FRONT_MATTER.match(text)
        assert match is not None
        text = match.group(1)
    return plain(yaml.safe_load(text))  # dates as text, as an editor sees them


def test_every_demo_course_file_passes_its_schema() -> None:
    files = _files()
    assert {kind for kind, _ in files} == set(SCHEMAS)
    for kind, path in files:
        errors = [e.message for e in _validator(kind).iter_errors(_document(kind, path))]
        assert errors == [], f"{path}: {errors}"


def test_schema_refuses_what_the_loader_refuses() -> None:
    quiz = _validator("quiz")
    good = plain(yaml.safe_load(GOOD_QUIZ))
    assert list(quiz.iter_errors(good)) == []
    for bad in (
        {**good, "colour": "blue"},
        {**good, "role": "exam"},
        {**good, "pass_mark": 120},
        {**good, "questions": [{"draw": 2}]},
        {**good, "questions": [{"id": "x", "type": "essay"}]},
        {**good, "title": {"xx": "Final"}},
    ):
        assert list(quiz.iter_errors(bad)), bad
    course = _validator("course")
    assert list(course.iter_errors({"slug": "a", "title": "A", "modules": [{"slug": "m", "title": "M"}]}))
    assert list(course.iter_errors({"slug": "a", "title": "A", "modules": [], "delivery_mode": "x"}))


MANIFEST = """\
slug: test-course
title: "Test course"
language: en
modules:
  - slug: basics
    title: "Basics"
    lessons:
      - only-lesson
"""


def course_problems(tmp_path: Path, manifest: str) -> list[str]:
    folder = tmp_path / "test-course"
    (folder / "modules" / "basics").mkdir(parents=True)
    (folder / "course.yml").write_text(manifest, encoding="utf-8")
    lesson = "---\ntitle: Only lesson\n---\nSome text.\n"
    (folder / "modules" / "basics" / "only-lesson.md").write_text(lesson, encoding="utf-8")
    spec, problems = load_course(folder, tmp_path)
    assert spec is None or not problems
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    lessons:\n      - only-lesson\n",
            "",
            "course.yml:5: module 'basics' must list at least one lesson or package",
        ),
        (
            "      - only-lesson",
            "      - Only_Lesson",
            "course.yml:8: lesson 'Only_Lesson' is not a valid slug",
        ),
        ('    title: "Basics"', '    title: "Basics"\n    title_xx: B', "course.yml:7: 'title_xx': unknown"),
        (
            '    title: "Basics"',
            '    title: "Basics"\n    colour: red',
            "course.yml:7: unknown module key 'colour'",
        ),
        (
            "language: en",
            "language: en\ntranslations:\n  ru:\n    summary: x",
            "course.yml:5: translation 'ru' needs at least a title",
        ),
        (
            "language: en",
            "language: en\ntranslations:\n  en:\n    title: x",
            "course.yml:5: translation language 'en'",
        ),
        (
            "language: en",
            "language: en\ntranslations: [ru]",
            "course.yml:4: translations must map a language",
        ),
        ("language: en", "language: en\nversion: yes", "course.yml:4: version must be a whole number"),
        ("language: en", "language: en\nquizzes: final", "course.yml:4: 'quizzes' must list quiz slugs"),
        ("modules:", "modules: []\nold:", "course.yml:4: 'modules' must list at least one module"),
        (
            "modules:",
            "learning_outcomes: [ok, 5]\nmodules:",
            "course.yml:4: learning_outcomes must be a list of text",
        ),
        ("modules:", "modules:\n  - 7", "course.yml:4: each module must be a mapping with slug and title"),
        ('title: "Test course"\n', "", "course.yml:1: 'title' is required and must be text"),
    ],
)
def test_manifest_problems_keep_file_and_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in MANIFEST
    found = course_problems(tmp_path, MANIFEST.replace(old, new, 1))
    assert any(expected in problem for problem in found), found


def test_module_missing_its_translated_title_is_named(tmp_path: Path) -> None:
    manifest = MANIFEST.replace("language: en", "language: en\ntranslations:\n  ru:\n    title: Тест")
    found = course_problems(tmp_path, manifest)
    assert "test-course/course.yml:8: module 'basics' has no title_ru for the ru translation" in found


@pytest.mark.parametrize(
    ("quiz", "expected"),
    [
        (
            GOOD_QUIZ + "  - {draw: 1, bank: core, colour: red}\n",
            "final.yml:9: unknown key 'colour' in a draw",
        ),
        (
            GOOD_QUIZ + "  - draw: 0\n    bank: core\n",
            "final.yml:9: draw must be a whole number of 1 or more",
        ),
        (GOOD_QUIZ + "  - draw: 1\n", "final.yml:9: draw needs the 'bank' it draws from; no bank 'None'"),
        (GOOD_QUIZ + "  - just: text\n", "final.yml:9: each entry is a question (with 'type')"),
        (GOOD_QUIZ + "review: {later: never}\n", "final.yml:9: unknown review part 'later'"),
        (GOOD_QUIZ + "review: never\n", "final.yml:9: review maps answers, correct_answers, feedback"),
        (GOOD_QUIZ + "closes_at: soon\n", "final.yml:9: closes_at must be a date"),
        (GOOD_QUIZ + "shuffle_choices: 1\n", "final.yml:9: shuffle_choices must be true or false"),
        (GOOD_QUIZ + "attempts_allowed: 0\n", "final.yml:9: attempts_allowed must be 1 or more"),
        (
            GOOD_QUIZ.replace("    answer: false", "    answer: false\n    points: 0"),
            "final.yml:9: points must",
        ),
        (
            GOOD_QUIZ.replace("    answer: false", "    answer: false\n    tags: a"),
            "final.yml:9: tags must be",
        ),
        (GOOD_QUIZ.replace("  - id: q-one\n", "  - \n"), "final.yml:6: each question needs a stable 'id'"),
        (GOOD_QUIZ.replace("title: Final", "title: {xx: Final}"), "final.yml:1: 'title' is required"),
    ],
)
def test_quiz_problems_keep_file_and_line(tmp_path: Path, quiz: str, expected: str) -> None:
    found = problems_for(tmp_path, textwrap.dedent(quiz))
    assert any(expected in problem for problem in found), found


def test_a_closing_date_is_midnight_utc(tmp_path: Path) -> None:
    folder = tmp_path / "dates"
    folder.mkdir()
    assert problems_for(folder, GOOD_QUIZ + "closes_at: 2026-12-31\n") == []
    spec, _ = load_course(folder / "test-course", folder)
    assert spec is not None
    assert spec.quizzes[0].closes_at == "2026-12-31T00:00:00+00:00"
    assert spec.quizzes[0].review == {
        "answers": "immediately",
        "correct_answers": "after_close",
        "feedback": "immediately",
    }


def test_a_bank_question_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    bank = "title: Core\nquestions:\n  - 5\n  - id: b-one\n    type: true_false\n    tags: [a, 3]\n"
    found = problems_for(tmp_path, GOOD_QUIZ, bank)
    assert found == [
        "test-course/banks/core.yml:2: each question must be a mapping (id, type, prompt...)",
        "test-course/banks/core.yml:6: tags must be a list of words",
    ]

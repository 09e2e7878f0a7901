"""Survey form files (courses/_surveys/*.yml): problems named by file and line, the standard forms in four
languages, and the sync to the database (idempotent, keys retired and back)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from lms.config import LANGUAGES
from lms.content.loader import load_all
from lms.extensions import db
from lms.surveys.file_format import SCHEMA_PATH, json_schema
from lms.surveys.file_loader import load_form_file, load_forms
from lms.surveys.models import SurveyForm, SurveyItem
from lms.surveys.sync import SurveyFilesRefused, sync_forms
from lms.surveys.texts import choices, localised, rating_ends
from tests.conftest import PROJECT_ROOT

COURSES = PROJECT_ROOT / "courses"

GOOD = """\
slug: short
kind: end_of_course
title: {en: Short form, ru: Короткая анкета}
items:
  - key: useful
    type: agreement
    indicator: satisfaction
    prompt: {en: It was useful.}
  - key: level
    type: rating
    prompt: {en: "Your level?"}
    low: {en: None}
    high: {en: Expert}
  - key: pick
    type: single
    prompt: {en: Pick one}
    options:
      - key: a
        label: {en: A}
      - key: b
        label: {en: B}
  - key: say
    type: text
    required: false
    prompt: {en: "Anything else?"}
"""


def write(folder: Path, text: str, name: str = "short.yml") -> Path:
    target = folder / "_surveys"
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, name: str = "short.yml") -> list[str]:
    spec, problems = load_form_file(write(tmp_path, text, name), tmp_path)
    assert (spec is None) == bool(problems)
    return [str(problem) for problem in problems]


def test_a_good_file_loads_with_what_the_database_stores(tmp_path: Path) -> None:
    spec, problems = load_form_file(write(tmp_path, GOOD), tmp_path)
    assert problems == [] and spec is not None
    assert spec.source_path == "_surveys/short.yml"
    assert [item.key for item in spec.items] == ["useful", "level", "pick", "say"]
    assert spec.items[1].options == [
        {"key": "0", "label": {"en": "None"}},
        {"key": "10", "label": {"en": "Expert"}},
    ]
    assert spec.items[0].options == [] and spec.items[3].required is False


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("type: text\n", "type: essay\n"), "_surveys/short.yml:23: unknown item type 'essay'"),
        (("key: level", "key: useful"), "_surveys/short.yml:9: item key 'useful' is used twice in this form"),
        (
            ('prompt: {en: "Your level?"}', "prompt: {ru: Уровень}"),
            "_surveys/short.yml:11: the prompt of item 'level' has no English text (en)",
        ),
        (
            ("title: {en: Short form, ru: Короткая анкета}", "title: {en: Short form, de: Kurz}"),
            "_surveys/short.yml:3: 'de' is not a language of the academy",
        ),
        (
            (
                "    prompt: {en: It was useful.}\n",
                "    prompt: {en: It was useful.}\n    options: [{key: x, label: {en: X}}]\n",
            ),
            "_surveys/short.yml:9: item 'useful': agreement items take no options",
        ),
        (
            ("  - key: pick\n    type: single\n", "  - key: pick\n    type: multiple\n    options_: 1\n"),
            "_surveys/short.yml:16: unknown item key 'options_'",
        ),
        (("key: say", "key: Say-It"), "_surveys/short.yml:22: item key 'Say-It' is not valid"),
        (("kind: end_of_course\n", ""), "_surveys/short.yml:1: 'kind' is required"),
        (("slug: short", "slug: other"), "_surveys/short.yml:1: slug 'other' must be the file's name"),
        (
            ("type: rating\n", "type: agreement\n"),
            "_surveys/short.yml:12: item 'level': 'low' is for rating items only",
        ),
    ],
)
def test_each_problem_names_file_and_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in GOOD
    found = problems_of(tmp_path, GOOD.replace(change[0], change[1], 1))
    assert any(problem.startswith(expected) for problem in found), found


def test_single_and_multiple_need_options(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    options:\n      - key: a\n        label: {en: A}\n      - key: b\n        label: {en: B}\n", ""
    )
    assert problems_of(tmp_path, text) == [
        "_surveys/short.yml:14: item 'pick': single items need 'options' (at least two)"
    ]


def test_broken_yaml_and_a_wrong_file_name_are_named(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "kind: [end_of_course\n")[0].startswith("_surveys/short.yml:2: invalid YAML")
    assert problems_of(tmp_path, GOOD.replace("slug: short\n", ""), "Bad_Name.yml") == [
        "_surveys/Bad_Name.yml:1: the file name 'Bad_Name' is not a valid slug (a-z, 0-9, -)"
    ]


def test_the_standard_forms_load_with_four_languages_for_every_text() -> None:
    specs, problems = load_forms(COURSES / "_surveys", COURSES)
    assert problems == []
    forms = {spec.slug: spec for spec in specs}
    assert set(forms) == {"end-of-course", "follow-up"}
    assert forms["end-of-course"].kind == "end_of_course" and forms["follow-up"].kind == "follow_up"
    for spec in specs:
        texts = [spec.title, spec.intro]
        for item in spec.items:
            texts.append(item.prompt)
            texts.extend(option["label"] for option in item.options)
        assert all(set(text) == set(LANGUAGES) for text in texts), spec.slug
    eoc = {item.key: item for item in forms["end-of-course"].items}
    assert eoc["overall_satisfaction"].indicator == "satisfaction"
    assert eoc["knowledge_before"].type == eoc["knowledge_after"].type == "rating"
    assert not eoc["most_useful"].required and not eoc["to_improve"].required
    follow = {item.key: item for item in forms["follow-up"].items}
    assert follow["applied_at_work"].indicator == "applied"
    assert [o["key"] for o in follow["applied_at_work"].options if o.get("positive")] == [
        "yes_regularly",
        "yes_sometimes",
    ]
    assert follow["barriers"].type == "multiple" and len(follow["barriers"].options) == 5


def test_the_course_loader_passes_the_surveys_folder_by() -> None:
    specs, problems = load_all(COURSES)
    assert problems == []
    assert "_surveys" not in {spec.slug for spec in specs}


def test_the_standard_forms_pass_the_committed_schema() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == json_schema(), "stale: run `make schema`"
    validator = Draft202012Validator(json.loads(json_schema()))
    import yaml

    for path in (COURSES / "_surveys").glob("*.yml"):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))) == [], path


def test_item_texts_fall_back_to_english_and_the_default_scale() -> None:
    assert localised({"en": "Hello", "fr": "Bonjour"}, "fr") == "Bonjour"
    assert localised({"en": "Hello"}, "ar") == "Hello"
    points = choices("agreement", [], "en")
    assert [c.key for c in points] == ["1", "2", "3", "4", "5"]
    assert rating_ends([], "en") == ("0", "10")
    assert rating_ends([{"key": "10", "label": {"en": "Top"}}], "ru") == ("0", "Top")


# --- the database ----------------------------------------------------------------------------------------


def _items(slug: str) -> dict[str, SurveyItem]:
    form = db.session.scalar(select(SurveyForm).where(SurveyForm.slug == slug))
    assert form is not None
    return {item.key: item for item in form.items}


def test_sync_is_idempotent_and_loads_the_standard_forms(app: Flask) -> None:
    first = sync_forms(COURSES)
    db.session.commit()
    assert [(r.slug, r.outcome) for r in first] == [("end-of-course", "created"), ("follow-up", "created")]
    stamp = db.session.scalar(select(SurveyForm.updated_at).where(SurveyForm.slug == "follow-up"))
    again = sync_forms(COURSES)
    db.session.commit()
    assert {r.outcome for r in again} == {"unchanged"}
    assert db.session.scalar(select(func.count()).select_from(SurveyItem)) == 16
    assert db.session.scalar(select(SurveyForm.updated_at).where(SurveyForm.slug == "follow-up")) == stamp
    assert _items("end-of-course")["relevance"].prompt["ar"]


def test_a_key_that_leaves_the_file_is_retired_and_comes_back(app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    sync_forms(tmp_path)
    db.session.commit()
    first_id = _items("short")["level"].id
    path.write_text(GOOD.replace("  - key: level\n    type: rating\n", "  - key: level2\n    type: rating\n"))
    assert [r.outcome for r in sync_forms(tmp_path)] == ["updated"]
    db.session.commit()
    items = _items("short")
    assert items["level"].retired and not items["level2"].retired
    assert items["level"].position > items["say"].position  # retired items go last
    path.write_text(GOOD)
    sync_forms(tmp_path)
    db.session.commit()
    items = _items("short")
    assert not items["level"].retired and items["level"].id == first_id and items["level2"].retired
    assert [key for key, item in sorted(items.items(), key=lambda kv: kv[1].position)][:4] == [
        "useful", "level", "pick", "say"
    ]  # fmt: skip


def test_a_malformed_file_changes_nothing_and_says_where(app: Flask, tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(
        tmp_path,
        GOOD.replace("slug: short", "slug: broken").replace("type: text", "type: essay"),
        "broken.yml",
    )
    with pytest.raises(SurveyFilesRefused) as refused:
        sync_forms(tmp_path)
    assert str(refused.value.problems[0]).startswith("_surveys/broken.yml:23: unknown item type")
    assert db.session.scalar(select(func.count()).select_from(SurveyForm)) == 0


def test_a_changed_type_or_a_browser_form_slug_is_refused(app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    sync_forms(tmp_path)
    db.session.commit()
    path.write_text(GOOD.replace("key: say\n    type: text", "key: say\n    type: agreement"))
    with pytest.raises(SurveyFilesRefused) as refused:
        sync_forms(tmp_path)
    assert str(refused.value.problems[0]).startswith("_surveys/short.yml:22: item 'say' was a text item")
    db.session.rollback()
    assert _items("short")["say"].type == "text"
    db.session.add(SurveyForm(slug="mine", kind="end_of_course", title={"en": "Mine"}))
    db.session.commit()
    write(tmp_path, GOOD.replace("slug: short", "slug: mine"), "mine.yml")
    path.write_text(GOOD)
    with pytest.raises(SurveyFilesRefused) as refused:
        sync_forms(tmp_path)
    assert [str(p) for p in refused.value.problems] == [
        "_surveys/mine.yml:1: a form made in the browser already has the slug 'mine': rename the file"
    ]


def test_content_sync_loads_the_survey_forms_too(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["lms", "surveys", "check"])
    assert result.exit_code == 0 and "2 survey form(s) OK" in result.output
    result = app.test_cli_runner().invoke(args=["lms", "content", "sync"])
    assert result.exit_code == 0, result.output
    assert "survey form end-of-course: created" in result.output
    assert db.session.scalar(select(func.count()).select_from(SurveyForm)) == 2


def test_the_commands_name_file_and_line_and_write_nothing(app: Flask, tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("type: text", "type: essay"))
    runner = app.test_cli_runner()
    for command in (["surveys", "check"], ["surveys", "sync"], ["content", "sync"]):
        result = runner.invoke(args=["lms", *command, "--path", str(tmp_path)])
        assert result.exit_code != 0, command
        assert "_surveys/short.yml:23: unknown item type 'essay'" in result.output, command
    assert db.session.scalar(select(func.count()).select_from(SurveyForm)) == 0

"""Quiz and bank files: the content check names file and line of every bad quiz; demo courses load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from flask import Flask

from lms.content.loader import load_all, load_course
from tests.conftest import PROJECT_ROOT

MANIFEST = """\
slug: {slug}
title: "Test course"
language: en
modules:
  - slug: basics
    title: "Basics"
    lessons:
      - only-lesson
"""
LESSON = "---\ntitle: Only lesson\n---\nSome text.\n"
GOOD_QUIZ = """\
title: Final
role: final
pass_mark: 50
questions:
  - id: q-one
    type: true_false
    prompt: "The sky is green."
    answer: false
"""


def write_course(
    root: Path, quiz: str = GOOD_QUIZ, bank: str | None = None, slug: str = "test-course"
) -> Path:
    folder = root / slug
    (folder / "modules" / "basics").mkdir(parents=True)
    (folder / "course.yml").write_text(MANIFEST.format(slug=slug), encoding="utf-8")
    (folder / "modules" / "basics" / "only-lesson.md").write_text(LESSON, encoding="utf-8")
    (folder / "quizzes").mkdir()
    (folder / "quizzes" / "final.yml").write_text(textwrap.dedent(quiz), encoding="utf-8")
    if bank is not None:
        (folder / "banks").mkdir()
        (folder / "banks" / "core.yml").write_text(textwrap.dedent(bank), encoding="utf-8")
    return folder


def problems_for(tmp_path: Path, quiz: str, bank: str | None = None) -> list[str]:
    folder = write_course(tmp_path, quiz, bank)
    spec, problems = load_course(folder, tmp_path)
    assert spec is None or not problems
    return [str(p) for p in problems]


def test_a_good_quiz_loads(tmp_path: Path) -> None:
    folder = write_course(tmp_path)
    spec, problems = load_course(folder, tmp_path)
    assert problems == []
    assert spec is not None
    assert [q.slug for q in spec.quizzes] == ["final"]
    assert spec.quizzes[0].questions[0].key == "q-one"


def test_unknown_question_type_names_file_and_line(tmp_path: Path) -> None:
    quiz = GOOD_QUIZ.replace("type: true_false", "type: essay")
    assert problems_for(tmp_path, quiz) == [
        "test-course/quizzes/final.yml:6: unknown question type 'essay' (known: cloze, matching, "
        "multiple_response, numeric, ordering, short_text, single_choice, true_false)"
    ]


def test_no_correct_answer_names_file_and_line(tmp_path: Path) -> None:
    quiz = """\
    title: Final
    questions:
      - id: q-choice
        type: single_choice
        prompt: "Pick"
        choices:
          - text: "a"
          - text: "b"
    """
    found = problems_for(tmp_path, quiz)
    assert found == [
        "test-course/quizzes/final.yml:6: question 'q-choice': no choice is marked correct: true"
    ]


def test_pass_mark_out_of_range_names_file_and_line(tmp_path: Path) -> None:
    found = problems_for(tmp_path, GOOD_QUIZ.replace("pass_mark: 50", "pass_mark: 120"))
    assert found == [
        "test-course/quizzes/final.yml:3: pass mark 120 is out of range: give a percentage from 0 to 100"
    ]


BANK = """\
title: Core
questions:
  - id: b-one
    type: true_false
    tags: [rights]
    prompt: "One"
    answer: true
  - id: b-two
    type: true_false
    tags: [rights, control]
    prompt: "Two"
    answer: false
  - id: b-three
    type: short_text
    tags: [control]
    prompt: "Three"
    accept: [three]
"""


def test_drawing_more_than_the_bank_holds_names_file_and_line(tmp_path: Path) -> None:
    quiz = """\
    title: Final
    questions:
      - {draw: 2, bank: core, tag: rights}
      - draw: 3
        bank: core
        tag: control
    """
    found = problems_for(tmp_path, quiz, BANK)
    assert found == [
        "test-course/quizzes/final.yml:4: "
        "draws 3 questions tagged 'control' from bank 'core', which holds only 2"
    ]


def test_draws_and_bank_questions_load(tmp_path: Path) -> None:
    quiz = """\
    title: Final
    questions:
      - question: b-three
      - {draw: 2, bank: core}
    """
    folder = write_course(tmp_path, quiz, BANK)
    spec, problems = load_course(folder, tmp_path)
    assert problems == []
    assert spec is not None
    assert [(s.question, s.bank, s.draw) for s in spec.quizzes[0].slots] == [
        ("b-three", None, 1),
        (None, "core", 2),
    ]


@pytest.mark.parametrize(
    ("quiz", "expected"),
    [
        (GOOD_QUIZ.replace("role: final", "role: exam"), "final.yml:2: role must be one of"),
        (
            GOOD_QUIZ + "    grading_method: best\n".replace("    ", ""),
            "final.yml:9: grading_method must be one of",
        ),
        (GOOD_QUIZ + "time_limit_minutes: 0\n", "final.yml:9: time_limit_minutes must be from 1 to 1440"),
        (GOOD_QUIZ + "review: {answers: later}\n", "final.yml:9: review answers must be one of"),
        (
            GOOD_QUIZ.replace("    answer: false", "    answer: false\n    corect: true"),
            "final.yml:9: unknown question key 'corect'",
        ),
        (GOOD_QUIZ + "  - question: nowhere\n", "final.yml:9: no bank question has the id 'nowhere'"),
        (
            GOOD_QUIZ + "  - id: q-one\n    type: true_false\n    prompt: x\n    answer: true\n",
            "final.yml:9: question id 'q-one' is used twice",
        ),
        (
            GOOD_QUIZ.replace('prompt: "The sky is green."', "prompt: {ru: 'Небо зелёное.'}"),
            "final.yml:7: a text given per language lacks 'en'",
        ),
        (
            GOOD_QUIZ + "  - {draw: 1, bank: missing}\n",
            "final.yml:9: draw needs the 'bank' it draws from; no bank 'missing'",
        ),
    ],
)
def test_other_quiz_problems_name_their_line(tmp_path: Path, quiz: str, expected: str) -> None:
    found = problems_for(tmp_path, quiz)
    assert any(expected in problem for problem in found), found


def test_quiz_files_must_match_the_manifest_list(tmp_path: Path) -> None:
    folder = write_course(tmp_path)
    manifest = folder / "course.yml"
    manifest.write_text(manifest.read_text() + "quizzes:\n  - final\n  - missing\n", encoding="utf-8")
    found = [str(p) for p in load_course(folder, tmp_path)[1]]
    assert found == ["test-course/course.yml:11: quiz file quizzes/missing.yml does not exist"]


def test_content_check_command_reports_bad_quizzes(app: Flask, tmp_path: Path) -> None:
    write_course(tmp_path, GOOD_QUIZ.replace("pass_mark: 50", "pass_mark: -5"))
    result = app.test_cli_runner().invoke(args=["lms", "content", "check", "--path", str(tmp_path)])
    assert result.exit_code != 0
    assert "test-course/quizzes/final.yml:3: pass mark -5 is out of range" in result.output


def test_every_demo_course_has_a_final_assessment_of_at_least_ten_questions() -> None:
    specs, problems = load_all(PROJECT_ROOT / "courses")
    assert problems == []
    assert len(specs) >= 3
    for spec in specs:
        finals = [q for q in spec.quizzes if q.role == "final"]
        assert len(finals) == 1, spec.slug
        final = finals[0]
        count = sum(1 if slot.question else slot.draw for slot in final.slots)
        assert count >= 10, spec.slug
        pool = [q for q in final.questions] + [q for b in spec.banks for q in b.questions]
        assert len({q.type for q in pool}) >= 5, spec.slug
    ibm = next(s for s in specs if s.slug == "ibm-foundations")
    assert {q.role for q in ibm.quizzes} == {"pre_test", "post_test", "final"}
    questions = [q for b in ibm.banks for q in b.questions]
    assert len({q.type for q in questions}) == 8
    assert all(isinstance(q.spec["prompt" if "prompt" in q.spec else "text"], dict) for q in questions)
    assert all("ru" in q.spec.get("prompt", q.spec.get("text")) for q in questions)
    assert ibm.quizzes[-1].translations["ru"]["title"] == "Итоговая аттестация"

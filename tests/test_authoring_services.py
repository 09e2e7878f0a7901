"""Authoring rules: pure pieces (sniffing, zip checks, question fields) and the services on a database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.authoring import assets, course_folders, drafts, exporter, outline, trainers
from lms.authoring.archive import ArchiveLimits, ArchiveRejected, read_course_zip
from lms.authoring.models import CourseAsset, CourseVersion
from lms.authoring.question_fields import QuestionFields, fields_from_spec, spec_from_fields, spec_from_yaml
from lms.authoring.sniff import asset_name, sniff_asset
from lms.courses.models import Course, Lesson
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import LessonCompletion
from lms.errors import Forbidden, ValidationFailed
from lms.extensions import db
from lms.quizzes.grading import REGISTRY
from lms.quizzes.models import Quiz
from tests.authoring_support import FAKE_IMAGE, build_course, edit, make_zip, png_bytes

# --- pure -------------------------------------------------------------------------------------------------


def test_assets_are_recognised_by_their_bytes_not_their_names() -> None:
    assert sniff_asset(png_bytes()).extension == "png"  # type: ignore[union-attr]
    assert sniff_asset(b"\xff\xd8\xff\xe0" + b"\x00" * 20).extension == "jpg"  # type: ignore[union-attr]
    assert sniff_asset(b"GIF89a" + b"\x00" * 20).extension == "gif"  # type: ignore[union-attr]
    assert sniff_asset(b"RIFF\x00\x00\x00\x00WEBPVP8 ").extension == "webp"  # type: ignore[union-attr]
    assert sniff_asset(b"%PDF-1.7\n").extension == "pdf"  # type: ignore[union-attr]
    assert sniff_asset(FAKE_IMAGE) is None
    assert sniff_asset(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>') is None
    assert asset_name("../../Карта границы.JPEG", sniff_asset(png_bytes())) == "file.png"  # type: ignore[arg-type]
    assert asset_name("Border map v2.jpeg", sniff_asset(png_bytes())) == "border-map-v2.png"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entries", "symlinks", "expected"),
    [
        ({"course/course.yml": b"x", "../evil.txt": b"x"}, None, "'..'"),
        ({"course/course.yml": b"x", "course/../../evil.txt": b"x"}, None, "'..'"),
        ({"course/course.yml": b"x", "/etc/passwd": b"x"}, None, "absolute"),
        ({"course/course.yml": b"x", "C:/windows/evil": b"x"}, None, "absolute"),
        ({"course/course.yml": b"x"}, {"course/modules": "/etc"}, "symbolic link"),
        ({"course/course.yml": b"x", "course/big.md": b"a" * 2000}, None, "at most 1000"),
        ({f"course/f{i}.md": b"x" for i in range(12)}, None, "at most 10 are allowed"),
    ],
)
def test_a_malicious_zip_is_rejected_whole(
    entries: dict[str, bytes], symlinks: dict[str, str] | None, expected: str
) -> None:
    limits = ArchiveLimits(max_files=10, max_file_bytes=1000, max_total_bytes=5000)
    with pytest.raises(ArchiveRejected) as caught:
        read_course_zip(make_zip(entries, symlinks), limits)
    assert expected in str(caught.value)


def test_a_zip_that_is_not_a_zip_is_rejected() -> None:
    with pytest.raises(ArchiveRejected, match="not a zip"):
        read_course_zip(b"hello")


def test_an_export_zip_is_read_back_with_its_folder() -> None:
    files = {"course.yml": b"slug: x\n", "modules/m/a.md": b"---\ntitle: A\n---\n\nText\n"}
    top, read = read_course_zip(exporter.zip_bytes(files, "x"))
    assert top == "x" and read == files
    assert exporter.zip_bytes(files, "x") == exporter.zip_bytes(files, "x")  # byte-stable zips


def test_question_fields_report_what_is_wrong_beside_the_field() -> None:
    _, problems = spec_from_fields(QuestionFields(key="q1", type="single_choice", prompt="P", choices="A\nB"))
    assert any("no choice is marked correct" in m for m in problems.by_field["choices"])
    _, problems = spec_from_fields(
        QuestionFields(key="q1", type="single_choice", prompt="P", choices="*A\nB\na")
    )
    assert "duplicate choices: a" in problems.by_field["choices"]
    _, problems = spec_from_fields(QuestionFields(key="q1", type="true_false", prompt="P"))
    assert problems.by_field["answer"] == ["no correct answer: choose true or false"]
    _, problems = spec_from_fields(QuestionFields(key="q1", type="short_text", prompt="P"))
    assert "no correct answer" in problems.by_field["accept"][0]


SOUND_FIELDS = {
    "single_choice": {"prompt": "P", "choices": "*Right\nWrong"},
    "multiple_response": {"prompt": "P", "choices": "*A\n*B\nC", "scoring": "all_or_nothing"},
    "true_false": {"prompt": "P", "answer": "false"},
    "short_text": {"prompt": "P", "accept": "focal point\nthe focal point", "case_sensitive": True},
    "numeric": {"prompt": "P", "answer": "12.5", "tolerance": "0.5", "unit": "km"},
    "matching": {"prompt": "P", "pairs": "a = 1\nb = 2", "distractors": "3"},
    "ordering": {"prompt": "P", "items": "first\nsecond\nthird"},
    "cloze": {"text": "The [[1]] is [[2]].", "blanks": "sky | heaven\nblue"},
}


@pytest.mark.parametrize("qtype", sorted(REGISTRY))
def test_every_question_type_can_be_written_with_the_simple_fields(qtype: str) -> None:
    fields = QuestionFields(
        key=f"q-{qtype.replace('_', '-')}", type=qtype, tags="one, two", **SOUND_FIELDS[qtype]
    )  # type: ignore[arg-type]
    spec, problems = spec_from_fields(fields)
    assert not problems, problems.by_field
    assert spec["tags"] == ["one", "two"]
    again, problems = spec_from_fields(fields_from_spec(spec))
    assert not problems and again == spec


def test_the_yaml_editor_runs_the_same_checks() -> None:
    _, problems = spec_from_yaml(
        "id: x\ntype: single_choice\nprompt: {en: P, ru: П}\nchoices: [{text: A}, {text: B}]\n"
    )
    assert "no choice is marked correct: true" in problems.messages()
    spec, problems = spec_from_yaml("id: x\ntype: true_false\nprompt: {en: P, ru: П}\nanswer: true\n")
    assert not problems and spec["prompt"] == {"en": "P", "ru": "П"}


# --- services -------------------------------------------------------------------------------------------


@pytest.fixture
def trainer(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user(Role.TRAINER)


@pytest.fixture
def admin(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


def test_a_trainer_edits_only_assigned_courses(
    trainer: User, make_user: Callable[..., User], admin: User
) -> None:
    course = build_course(trainer)
    other = make_user(Role.TRAINER)
    assert trainers.can_edit(trainer, course.id)  # the creator is assigned
    assert trainers.can_edit(admin, course.id)
    with pytest.raises(Forbidden):
        trainers.editable_course(other, course.id)
    assert trainers.editable_courses(other) == []
    trainers.assign_trainer(admin, course, other)
    db.session.commit()
    assert trainers.editable_course(other, course.id) is course
    audit = db.session.scalars(
        select(AuditRecord).where(AuditRecord.action == "authoring.trainer_assigned")
    ).all()
    assert len(audit) == 1 and audit[0].after == {"trainer_id": other.id}
    with pytest.raises(Forbidden):
        trainers.assign_trainer(other, course, trainer)  # only admins assign


def test_a_stale_edit_is_refused_and_says_what_changed(trainer: User) -> None:
    course = build_course(trainer)
    opened_at = drafts.get_draft(course).revision
    edit(
        trainer,
        course,
        "lesson 'welcome' edited",
        lambda d: outline.update_lesson(d, "welcome", {"title": "Hi"}),
    )
    with pytest.raises(drafts.StaleDraft) as caught:
        drafts.edit_draft(
            trainer, course, opened_at, "x", lambda d: outline.rename_module(d, "first-steps", "Lost")
        )
    assert any("lesson 'welcome' edited" in change for change in caught.value.changes)
    db.session.rollback()
    assert outline.find_module(drafts.get_draft(course).document, "first-steps")["title"] == "First steps"


def test_publishing_validates_with_the_loader_and_records_a_version(trainer: User) -> None:
    course = drafts.create_course(trainer, "empty-course", "Empty", "en")
    with pytest.raises(drafts.PublishRefused) as caught:
        drafts.publish(trainer, course, drafts.get_draft(course).revision, "first")
    assert any("'modules' must list at least one module" in p for p in caught.value.problems)
    db.session.rollback()

    course = build_course(trainer)
    version = drafts.publish(trainer, course, drafts.get_draft(course).revision, "First release")
    db.session.commit()
    assert course.is_published and course.version == 1 and version.version == 1
    assert version.note == "First release" and "lesson 'welcome' added" in version.changes
    assert db.session.scalar(select(func.count(Quiz.id)).where(Quiz.course_id == course.id)) == 1
    assert (
        db.session.scalar(
            select(AuditRecord.after).where(AuditRecord.action == "authoring.course_published")
        )["version"]
        == 1
    )
    assert enrolment_runs.default_run(course.id) is not None  # trainees can enrol at once


def test_trainees_keep_completions_and_a_deleted_lesson_is_archived(
    trainer: User, make_user: Callable[..., User]
) -> None:
    course = build_course(trainer)
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    db.session.commit()
    trainee = make_user(Role.TRAINEE)
    enrolment = enrolment_self_service.self_enrol(trainee, enrolment_runs.default_run(course.id))  # type: ignore[arg-type]
    lessons = {lesson.slug: lesson for m in course.modules for lesson in m.lessons}
    enrolment_completion.complete_lesson(enrolment, lessons["welcome"])
    enrolment_completion.complete_lesson(enrolment, lessons["documents"])
    db.session.commit()
    impact = drafts.deletion_impact(course, ["documents"])
    assert (impact.completions, impact.trainees, impact.lessons_with_completions) == (1, 1, 1)

    edit(trainer, course, "deleted", lambda d: outline.delete_lesson(d, "documents"))
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "Dropped documents")
    db.session.commit()
    assert course.version == 2
    assert db.session.get(Lesson, lessons["documents"].id).is_published is False  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 2  # nothing destroyed
    progress = enrolment_completion.enrolment_progress(enrolment, course.id)
    assert (progress.done, progress.total) == (1, 2)
    assert [v.version for v in db.session.scalars(select(CourseVersion).order_by(CourseVersion.version))] == [
        1,
        2,
    ]


def test_an_upload_pretending_to_be_an_image_is_refused(app: Flask, trainer: User) -> None:
    course = build_course(trainer)
    with pytest.raises(ValidationFailed, match="not a PNG"):
        assets.store_asset(trainer, course, "holiday.png", FAKE_IMAGE)
    asset = assets.store_asset(trainer, course, "Border map.png", png_bytes())
    db.session.commit()
    stored = Path(app.instance_path) / "uploads" / str(course.id) / asset.sha256
    assert stored.read_bytes() == png_bytes() and asset.name == "border-map.png"
    assert asset.content_type == "image/png"
    again = assets.store_asset(trainer, course, "border-map.png", png_bytes(3, 3))
    assert again.name == "border-map-2.png"  # a different picture never overwrites another
    app.config["AUTHORING_MAX_ASSET_BYTES"] = 10
    try:
        with pytest.raises(ValidationFailed, match="too large"):
            assets.store_asset(trainer, course, "x.png", png_bytes())
    finally:
        del app.config["AUTHORING_MAX_ASSET_BYTES"]
    assert db.session.scalar(select(func.count(CourseAsset.id))) == 2


def test_a_zip_import_becomes_the_draft_and_publishes(trainer: User) -> None:
    course = build_course(trainer, "source-course")
    assets.store_asset(trainer, course, "map.png", png_bytes())
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    db.session.commit()
    files = course_folders.export_files(course)
    assert files["assets/map.png"] == png_bytes()
    copy = {k: v.replace(b"slug: source-course", b"slug: copied-course") for k, v in files.items()}
    imported = course_folders.import_zip(trainer, exporter.zip_bytes(copy, "copied-course"))
    db.session.commit()
    assert not imported.is_published
    drafts.publish(trainer, imported, drafts.get_draft(imported).revision, "imported")
    db.session.commit()
    assert course_folders.export_files(imported) == copy


def test_a_zip_with_broken_course_files_imports_nothing(trainer: User) -> None:
    bad = make_zip(
        {"bad/course.yml": b"slug: bad\ntitle: Bad\nmodules: []\n", "bad/assets/x.png": FAKE_IMAGE}
    )
    with pytest.raises(drafts.PublishRefused) as caught:
        course_folders.import_zip(trainer, bad)
    assert any("assets/x.png" in p for p in caught.value.problems)
    assert any("at least one module" in p for p in caught.value.problems)
    db.session.rollback()
    assert db.session.scalar(select(Course.id).where(Course.slug == "bad")) is None

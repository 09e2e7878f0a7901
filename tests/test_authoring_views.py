"""The authoring pages through the test client: each editor action and each refusal."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.authoring import course_folders, drafts, exporter, outline, quiz_edits, trainers
from lms.authoring.models import CourseTrainer
from lms.courses.models import Course, Lesson
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from tests.authoring_support import FAKE_IMAGE, build_course, make_zip, png_bytes
from tests.conftest import login


@pytest.fixture
def trainer(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user(Role.TRAINER)


@pytest.fixture
def course(trainer: User) -> Course:
    return build_course(trainer)


@pytest.fixture
def trainer_client(client: FlaskClient, trainer: User) -> FlaskClient:
    login(client, trainer)
    return client


def revision(course: Course) -> str:
    db.session.expire_all()
    return str(drafts.get_draft(course).revision)


def draft(course: Course) -> dict:  # type: ignore[type-arg]
    db.session.expire_all()
    return drafts.get_draft(course).document


def base(course: Course) -> str:
    return f"/authoring/courses/{course.id}"


def test_trainees_cannot_open_authoring(
    app: Flask, make_user: Callable[..., User], client: FlaskClient
) -> None:
    login(client, make_user(Role.TRAINEE))
    assert client.get("/authoring/").status_code == 403


def test_a_trainer_cannot_touch_another_trainers_course(
    app: Flask, course: Course, make_user: Callable[..., User], client: FlaskClient
) -> None:
    login(client, make_user(Role.TRAINER))
    page = client.get("/authoring/")
    assert "Border basics" not in page.get_data(as_text=True)
    assert client.get(base(course)).status_code == 403
    before = revision(course)
    response = client.post(
        f"{base(course)}/modules", data={"revision": before, "slug": "evil", "title": "Evil"}
    )
    assert response.status_code == 403
    response = client.post(f"{base(course)}/publish", data={"revision": before, "note": "mine now"})
    assert response.status_code == 403
    assert revision(course) == before and not course.is_published


def test_a_new_course_is_built_edited_and_published_in_the_browser(
    trainer_client: FlaskClient, trainer: User
) -> None:
    client = trainer_client
    response = client.post(
        "/authoring/courses/new", data={"slug": "new-course", "title": "New course", "language": "en"}
    )
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.slug == "new-course"))
    assert course is not None and not course.is_published
    assert (
        db.session.scalar(select(CourseTrainer.user_id).where(CourseTrainer.course_id == course.id))
        == trainer.id
    )
    url = base(course)
    client.post(f"{url}/modules", data={"revision": revision(course), "slug": "one", "title": "One"})
    client.post(f"{url}/modules", data={"revision": revision(course), "slug": "two", "title": "Two"})
    response = client.post(
        f"{url}/modules/one/lessons", data={"revision": revision(course), "slug": "intro", "title": "Intro"}
    )
    assert response.headers["Location"].endswith(f"{url}/lessons/intro")
    client.post(
        f"{url}/modules/two/lessons", data={"revision": revision(course), "slug": "more", "title": "More"}
    )

    # Preview renders with the trainees' renderer and sanitiser, and saves nothing.
    form = {
        "revision": revision(course),
        "title": "Intro",
        "minutes": "5",
        "body_md": "## Hi\n\n<script>x()</script>**bold**",
    }
    page = client.post(f"{url}/lessons/intro", data={**form, "action": "preview"}).get_data(as_text=True)
    assert "<h2>Hi</h2>" in page and "<strong>bold</strong>" in page and "<script>x()" not in page
    assert draft(course)["modules"][0]["lessons"][0]["text"]["body_md"] == ""
    response = client.post(f"{url}/lessons/intro", data={**form, "action": "save"})
    assert response.status_code == 302
    # A video needs its transcript.
    page = client.post(
        f"{url}/lessons/more",
        data={
            "revision": revision(course),
            "title": "More",
            "body_md": "Text",
            "video_url": "https://video.example/1",
            "action": "save",
        },
    )
    assert page.status_code == 422 and "A video needs its transcript." in page.get_data(as_text=True)
    client.post(
        f"{url}/lessons/more",
        data={
            "revision": revision(course),
            "title": "More",
            "body_md": "Text",
            "video_url": "https://video.example/1",
            "transcript": "Spoken words.",
            "action": "save",
        },
    )

    # Rename, reorder.
    client.post(f"{url}/modules/two/rename", data={"revision": revision(course), "title": "Second"})
    client.post(f"{url}/modules/two/move", data={"revision": revision(course), "direction": "up"})
    assert [m["slug"] for m in draft(course)["modules"]] == ["two", "one"]
    assert draft(course)["modules"][0]["title"] == "Second"

    # Trainees still see nothing; publishing needs a note, then creates version 1.
    assert client.get("/courses/new-course").status_code == 404
    client.post(f"{url}/publish", data={"revision": revision(course), "note": ""})
    assert not db.session.get(Course, course.id).is_published  # type: ignore[union-attr]
    response = client.post(f"{url}/publish", data={"revision": revision(course), "note": "First version"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "First version" in page and "Published version 1." in page
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "more"))
    assert (
        lesson is not None
        and lesson.video_url == "https://video.example/1"
        and "Spoken words." in lesson.transcript_html
    )


def test_a_stale_form_is_refused_and_shows_what_changed(
    trainer_client: FlaskClient, course: Course, make_user: Callable[..., User]
) -> None:
    opened_at = revision(course)
    colleague = make_user(Role.ADMIN, given_name="Ana", family_name="Colleague")
    drafts.edit_draft(
        colleague,
        course,
        int(opened_at),
        "lesson 'welcome' edited",
        lambda d: outline.update_lesson(d, "welcome", {"title": "Welcome!"}),
    )
    db.session.commit()
    response = trainer_client.post(
        f"{base(course)}/lessons/welcome",
        data={"revision": opened_at, "title": "My title", "body_md": "My text", "action": "save"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone changed this course after you opened the form" in page
    assert "Ana Colleague: lesson &#39;welcome&#39; edited" in page
    assert "My text" in page  # the trainer's typing is not lost
    assert outline.find_lesson(draft(course), "welcome")[1]["text"]["title"] == "Welcome!"
    # A button form against an old revision: refused too, with the changes flashed.
    trainer_client.post(
        f"{base(course)}/modules/first-steps/rename", data={"revision": opened_at, "title": "Lost"}
    )
    assert outline.find_module(draft(course), "first-steps")["title"] == "First steps"


def test_delete_confirmation_states_affected_trainee_records(
    trainer_client: FlaskClient, trainer: User, course: Course, make_user: Callable[..., User]
) -> None:
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    db.session.commit()
    for _ in range(2):
        trainee = make_user(Role.TRAINEE)
        enrolment = enrolment_self_service.self_enrol(trainee, enrolment_runs.default_run(course.id))  # type: ignore[arg-type]
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "documents"))
        enrolment_completion.complete_lesson(enrolment, lesson)  # type: ignore[arg-type]
    db.session.commit()
    page = trainer_client.get(f"{base(course)}/lessons/documents/delete").get_data(as_text=True)
    assert "2 trainee(s) have completed 1 of these lesson(s)" in page and "archived" in page
    page = trainer_client.get(f"{base(course)}/modules/going-further/delete").get_data(as_text=True)
    assert "no trainee record is affected" in page
    trainer_client.post(f"{base(course)}/lessons/documents/delete", data={"revision": revision(course)})
    assert "documents" not in [ls["slug"] for m in draft(course)["modules"] for ls in m["lessons"]]
    trainer_client.post(
        f"{base(course)}/publish", data={"revision": revision(course), "note": "Removed documents"}
    )
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "documents"))
    assert lesson is not None and lesson.is_published is False


def test_quiz_editor_validates_and_previews_without_recording(
    trainer_client: FlaskClient, course: Course
) -> None:
    url = f"{base(course)}/quizzes/check"
    assert trainer_client.get(url).status_code == 200
    page = trainer_client.post(
        url,
        data={
            "revision": revision(course),
            "title": "Check",
            "role": "practice",
            "pass_mark": "150",
            "grading_method": "highest",
            "review_answers": "immediately",
            "review_correct_answers": "immediately",
            "review_feedback": "immediately",
        },
    )
    assert page.status_code == 422 and "The pass mark is out of range" in page.get_data(as_text=True)

    new = f"{base(course)}/quiz/check/questions/new"
    for type_name in (
        "single_choice",
        "multiple_response",
        "true_false",
        "short_text",
        "numeric",
        "matching",
        "ordering",
        "cloze",
    ):
        assert trainer_client.get(f"{new}?type={type_name}").status_code == 200
    response = trainer_client.post(
        new,
        data={
            "revision": revision(course),
            "mode": "fields",
            "key": "no-right",
            "type": "single_choice",
            "prompt": "P",
            "choices": "A\nB",
            "points": "1",
        },
    )
    assert response.status_code == 422 and "no choice is marked correct" in response.get_data(as_text=True)
    response = trainer_client.post(
        new,
        data={
            "revision": revision(course),
            "mode": "fields",
            "key": "dupes",
            "type": "multiple_response",
            "prompt": "P",
            "choices": "*A\nA\nB",
            "points": "1",
            "scoring": "partial",
        },
    )
    assert "duplicate choices: a" in response.get_data(as_text=True)
    response = trainer_client.post(
        new,
        data={
            "revision": revision(course),
            "mode": "fields",
            "key": "words",
            "type": "short_text",
            "prompt": "Say hello",
            "accept": "hello\nhi",
            "points": "2",
            "tags": "greeting",
        },
    )
    assert response.status_code == 302
    quiz = quiz_edits.find_quiz(draft(course), "check")
    assert [q["key"] for q in quiz["questions"]][-1] == "words" and quiz["questions"][-1]["tags"] == [
        "greeting"
    ]

    preview = trainer_client.get(f"{url}/preview").get_data(as_text=True)
    assert "Pick the right one" in preview and "Say hello" in preview
    seed = re.search(r'name="seed" type="hidden" value="(\d+)"', preview).group(1)  # type: ignore[union-attr]
    # Answer everything right: positions follow the frozen order, found by rendering with the same seed.
    from lms.authoring.preview import freeze_preview

    items = freeze_preview(draft(course), "check", int(seed), "en")
    answers: dict[str, str] = {"seed": seed}
    for item in items:
        view, name = item.frozen.view, item.name
        if item.frozen.type == "single_choice":
            answers[name] = str(view["choices"].index("Right"))
        elif item.frozen.type == "true_false":
            answers[name] = "true"
        elif item.frozen.type == "numeric":
            answers[name] = "4"
        else:
            answers[name] = "Hello"
    graded = trainer_client.post(f"{url}/preview", data=answers).get_data(as_text=True)
    assert "Score: 5 of 5 points (100.0%)" in graded and "Passed." in graded
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 0


def test_bank_questions_draws_and_yaml_editing(trainer_client: FlaskClient, course: Course) -> None:
    trainer_client.post(
        f"{base(course)}/banks", data={"revision": revision(course), "slug": "pool", "title": "Pool"}
    )
    new = f"{base(course)}/bank/pool/questions/new"
    trainer_client.post(
        new,
        data={
            "revision": revision(course),
            "mode": "yaml",
            "source": "id: ru-q\ntype: true_false\ntags: [law]\n"
            'prompt: {en: "Yes?", ru: "Да?"}\nanswer: true\n',
        },
    )
    page = trainer_client.get(f"{base(course)}/bank/pool/questions/ru-q").get_data(as_text=True)
    assert "edited as it is written in the course files" in page  # per-language texts: the YAML editor
    trainer_client.post(
        f"{base(course)}/quizzes/check/draw",
        data={"revision": revision(course), "bank": "pool", "tag": "law", "count": "1"},
    )
    quiz = quiz_edits.find_quiz(draft(course), "check")
    assert quiz["slots"][-1] == {"question": None, "bank": "pool", "tag": "law", "draw": 1}
    trainer_client.post(
        f"{base(course)}/quizzes/check/entries/3/move", data={"revision": revision(course), "direction": "up"}
    )
    assert quiz_edits.find_quiz(draft(course), "check")["slots"][2]["bank"] == "pool"
    loaded, problems = drafts.load_document(draft(course))
    assert (
        problems == [] and loaded is not None and loaded.banks[0].questions[0].spec["prompt"]["ru"] == "Да?"
    )


def test_uploads_are_sniffed_stored_privately_and_served_to_those_who_may_see_them(
    app: Flask, trainer_client: FlaskClient, trainer: User, course: Course, make_user: Callable[..., User]
) -> None:
    url = f"{base(course)}/assets"
    response = trainer_client.post(
        url,
        data={"file": (io.BytesIO(FAKE_IMAGE), "photo.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "is not a PNG, JPEG, GIF or WebP image or a PDF" in response.get_data(as_text=True)
    response = trainer_client.post(
        url,
        data={"file": (io.BytesIO(png_bytes()), "Map.PNG")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "/courses/border-basics/files/map.png" in response.get_data(as_text=True)
    served = trainer_client.get("/courses/border-basics/files/map.png")
    assert served.status_code == 200 and served.data == png_bytes() and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert trainer_client.get("/static/uploads/map.png").status_code == 404

    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    db.session.commit()
    enrolled, outsider = make_user(Role.TRAINEE), make_user(Role.TRAINEE)
    enrolment_self_service.self_enrol(enrolled, enrolment_runs.default_run(course.id))  # type: ignore[arg-type]
    db.session.commit()
    other = app.test_client()
    login(other, outsider)
    assert other.get("/courses/border-basics/files/map.png").status_code == 404
    other = app.test_client()
    login(other, enrolled)
    assert other.get("/courses/border-basics/files/map.png").status_code == 200
    assert app.test_client().get("/courses/border-basics/files/map.png").status_code == 302  # sign in first


def test_export_zip_and_a_malicious_zip_upload(
    trainer_client: FlaskClient, trainer: User, course: Course
) -> None:
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    db.session.commit()
    response = trainer_client.get(f"{base(course)}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.data == exporter.zip_bytes(course_folders.export_files(course), "border-basics")
    malicious = make_zip(
        {"border-basics/course.yml": b"slug: border-basics\n", "border-basics/../../../etc/cron.d/x": b"boom"}
    )
    response = trainer_client.post(
        "/authoring/import",
        data={"archive": (io.BytesIO(malicious), "course.zip")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 422 and "refused as a whole" in page and "outside the course folder" in page
    )
    before = revision(course)
    response = trainer_client.post(
        "/authoring/import",
        data={"archive": (io.BytesIO(response.data[:0] or b"nonsense"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "not a zip archive" in response.get_data(as_text=True)
    assert revision(course) == before
    # A good zip (the export itself, with a changed title) becomes the draft.
    files = course_folders.export_files(course)
    files["course.yml"] = files["course.yml"].replace(
        b"title: Border basics", b"title: Border basics, revised"
    )
    response = trainer_client.post(
        "/authoring/import",
        data={"archive": (io.BytesIO(exporter.zip_bytes(files, "border-basics")), "c.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and draft(course)["title"] == "Border basics, revised"


def test_an_admin_assigns_trainers(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], course: Course
) -> None:
    admin = make_user(Role.ADMIN)
    newcomer = make_user(Role.TRAINER, given_name="Nika", family_name="Newcomer")
    login(client, admin)
    assert "Nika Newcomer" in client.get("/authoring/assignments").get_data(as_text=True)
    client.post("/authoring/assignments", data={"course": course.id, "trainer": newcomer.id})
    assert trainers.can_edit(newcomer, course.id)
    client.post("/authoring/assignments/remove", data={"course": course.id, "trainer": newcomer.id})
    assert not trainers.can_edit(newcomer, course.id)
    trainer_only = app.test_client()
    login(trainer_only, newcomer)
    assert trainer_only.get("/authoring/assignments").status_code == 403

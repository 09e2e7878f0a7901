"""Shared helpers for the authoring tests: tiny real files and a course built through the services."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from lms.auth.models import User
from lms.authoring import drafts, outline, quiz_edits
from lms.courses.models import Course
from lms.extensions import db


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, valid PNG (grey pixels), made without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


FAKE_IMAGE = b"<html><script>alert('x')</script></html>"


def make_zip(entries: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            archive.writestr(info, target)
    return buffer.getvalue()


def edit(user: User, course: Course, summary: str, change) -> None:  # type: ignore[no-untyped-def]
    draft = drafts.get_draft(course)
    drafts.edit_draft(user, course, draft.revision, summary, change)
    db.session.commit()


def build_course(user: User, slug: str = "border-basics") -> Course:
    """A small course in the draft: two modules, three lessons, a quiz with three question types."""
    course = drafts.create_course(user, slug, "Border basics", "en")
    db.session.commit()

    def build(doc):  # type: ignore[no-untyped-def]
        outline.add_module(doc, "first-steps", "First steps")
        outline.add_module(doc, "going-further", "Going further")
        outline.add_lesson(doc, "first-steps", "welcome", "Welcome")
        outline.update_lesson(doc, "welcome", {"body_md": "## Hello\n\nThe border is a place.", "minutes": 5})
        outline.add_lesson(doc, "first-steps", "documents", "Documents")
        outline.update_lesson(doc, "documents", {"body_md": "Passports and visas."})
        outline.add_lesson(doc, "going-further", "risk", "Risk")
        outline.update_lesson(doc, "risk", {"body_md": "Risk analysis."})
        quiz_edits.add_quiz(doc, "check", "Check yourself")
        quiz_edits.save_question(
            doc,
            "quiz",
            "check",
            None,
            {
                "id": "q-capital",
                "type": "single_choice",
                "prompt": "Pick the right one",
                "choices": [{"text": "Right", "correct": True}, {"text": "Wrong"}],
            },
        )
        quiz_edits.save_question(
            doc,
            "quiz",
            "check",
            None,
            {
                "id": "q-true",
                "type": "true_false",
                "prompt": "The border is a place.",
                "answer": True,
            },
        )
        quiz_edits.save_question(
            doc,
            "quiz",
            "check",
            None,
            {
                "id": "q-count",
                "type": "numeric",
                "prompt": "Two plus two?",
                "answer": 4,
            },
        )

    edit(user, course, "built", build)
    return course

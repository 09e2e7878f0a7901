"""Course authoring in the browser, one module per editor. Every route: trainers and admins; `editable`
checks that the course is theirs (lms/authoring/access.py).

- base.py: the blueprints (`bp`, `files_bp`) and the one route skeleton of a change to the draft;
- overview.py: the course list, a new course, a zip import, trainers' assignments;
- course.py: the course editor (outline, modules, details, delete, preview, publish, discard, export);
- lesson.py, quiz.py, bank.py, question.py: their editors;
- assets.py: uploaded files, and serving them in lessons.

No view commits: a request's change is committed once after the view (lms/unit_of_work.py), and a GET
writes nothing (a draft is stored by its first edit: `services.read_draft`).
"""

from lms.authoring.views import assets, bank, course, lesson, overview, question, quiz  # register the routes
from lms.authoring.views.base import bp, files_bp

__all__ = ["assets", "bank", "bp", "course", "files_bp", "lesson", "overview", "question", "quiz"]

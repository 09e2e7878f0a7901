"""Surveys (issue 21). Views parse and call a service; the request commits once (lms/unit_of_work.py).

- base.py: the blueprint (`bp`);
- taking.py: a trainee's open surveys and answering one; a run's surveys (admins attach forms);
- editor.py: survey forms in the browser (admins);
- results.py: results per run, per course, over time, and their exports.
"""

from lms.surveys.views import editor, results, taking  # register the routes
from lms.surveys.views.base import bp

__all__ = ["bp", "editor", "results", "taking"]

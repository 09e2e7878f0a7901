"""SCORM packages, their versions and items, and the learners' attempts (issue 25)."""

from __future__ import annotations

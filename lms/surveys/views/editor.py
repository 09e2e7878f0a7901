"""(being written: issue 21)"""

from lms.surveys.views.base import bp  # noqa: F401

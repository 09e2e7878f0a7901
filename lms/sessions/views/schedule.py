"""(being written: issue 20)"""

from lms.sessions.views.base import bp  # noqa: F401

"""The `/api/v1` pages (issue 24): the blueprint and its error answers (base.py), the routes (records.py,
resources.py, reference.py) and the token pages (token_pages.py)."""

from lms.api.views import records, reference, resources  # register the routes on bp
from lms.api.views.base import bp

__all__ = ["bp", "records", "reference", "resources"]

"""The blueprint of the sessions pages; each module of this package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sessions", __name__)

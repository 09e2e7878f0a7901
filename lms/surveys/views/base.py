"""The blueprint of the surveys pages; each module of this package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("surveys", __name__)

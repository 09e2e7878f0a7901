"""SCORM packages (issue 25). Views parse and call a service; the request commits once (lms/unit_of_work.py).

- base.py: the ``packages`` blueprint and ``player_url``;
- upload.py: a module's packages in the authoring pages, uploading a new package or a new version;
- player.py: the player, the runtime data and the trainer's report (blueprint ``package_player``).
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

from lms.packages.views.base import bp


def blueprints() -> list[Blueprint]:
    """``bp`` and every other blueprint a module of this package defines as ``bp`` (imported here, which
    registers their routes)."""
    found = [bp]
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        other = getattr(module, "bp", None)
        if isinstance(other, Blueprint) and other not in found:
            found.append(other)
    return found


__all__ = ["blueprints", "bp"]

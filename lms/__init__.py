"""Academy LMS: the application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    # Here, not at the top: this package's __init__ runs on every `import lms.<anything>`, and app_setup
    # imports every feature; `import lms.db` (migrations/env.py) must not load the whole application.
    from lms import config as paths
    from lms.app_setup import configure_app, register_features

    instance_path = Path(str((config or {}).get("INSTANCE_PATH", paths.INSTANCE_DIR))).resolve()
    app = Flask(
        __name__,
        template_folder=str(paths.TEMPLATES_DIR),
        static_folder=str(paths.STATIC_DIR),
        instance_path=str(instance_path),
        instance_relative_config=True,
    )
    configure_app(app, config)
    register_features(app)
    return app

"""Every library the application imports is installed by `pip install .` (what `make run` and a production
install do), not only by the test extras: `requests` (webhooks, xAPI) came in through the test tools alone,
so `make run` on a fresh clone failed before `make test` had been run there once."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _imported_top_level_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "lms").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    # the project's own packages: `bench` is optional tooling lms/cli.py imports only where it exists
    own = {path.name for path in ROOT.iterdir() if (path / "__init__.py").exists()}
    return names - set(sys.stdlib_module_names) - own - {"__future__"}


def _installed_by_plain_install() -> set[str]:
    """The declared dependencies and everything they require in turn, without any extra."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pending = [Requirement(line) for line in declared]
    closure: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in closure:
            continue
        closure.add(name)
        for extra in ("", *requirement.extras):
            for line in metadata.requires(requirement.name) or []:
                child = Requirement(line)
                if child.marker is None or child.marker.evaluate({"extra": extra}):
                    pending.append(child)
    return closure


def test_every_imported_library_is_a_dependency_of_the_application() -> None:
    providers = metadata.packages_distributions()
    closure = _installed_by_plain_install()
    missing = {
        name: providers.get(name)
        for name in _imported_top_level_names()
        if not any(canonicalize_name(d) in closure for d in providers.get(name, []))
    }
    assert not missing, f"imported by lms/ but not installed by `pip install .`: {missing}"

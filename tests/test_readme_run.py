"""The README tells a new user how to serve on another port when 5000 is taken (issue 18), and what it
says works: `make run PORT=5001` serves on 5001."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.a11y_support import PROJECT_ROOT


def test_readme_says_how_to_serve_on_another_port() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run PORT=5001" in readme
    assert "http://127.0.0.1:5001" in readme


def test_make_run_serves_on_the_port_given() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # -n: print the commands without running them (no install, no server)
    shown = subprocess.run(  # noqa: S603 - make found on PATH, fixed arguments
        [make, "-n", "run", "PORT=5001"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "--port 5001" in shown
    assert "--port 5000" not in shown

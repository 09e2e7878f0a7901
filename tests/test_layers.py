"""The layers of docs/architecture.md hold: the import-linter contracts in pyproject.toml pass (CI runs
`make lint-imports` too; here `make test` catches a wrong-way import as well), and the documented debts
are the ones the contracts list."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own venv's command, fixed arguments
        [str(LINT_IMPORTS), "--no-cache", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_wrong_way_import_breaks_the_layers(tmp_path: Path) -> None:
    """The contract is not vacuous: settings (low) importing reports (high) is refused."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package = tmp_path / "lms"
    for source in (PROJECT_ROOT / "lms").rglob("*.py"):
        target = package / source.relative_to(PROJECT_ROOT / "lms")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (package / "settings" / "services.py").write_text(
        (package / "settings" / "services.py").read_text(encoding="utf-8") + "\nimport lms.reports.queries\n",
        encoding="utf-8",
    )
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "features")
    layers = ", ".join(f'"{layer}"' for layer in contract["layers"])
    ignores = ", ".join(f'"{line}"' for line in contract["ignore_imports"])
    (tmp_path / "pyproject.toml").write_text(
        "[tool.importlinter]\nroot_packages = ['lms']\n"
        "[[tool.importlinter.contracts]]\nid = 'features'\nname = 'layers'\ntype = 'layers'\n"
        f"containers = ['lms']\nlayers = [{layers}]\nignore_imports = [{ignores}]\n",
        encoding="utf-8",
    )
    result = subprocess.run(  # noqa: S603 - our own venv's command, fixed arguments
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lms.settings is not allowed to import lms.reports" in result.stdout


def test_every_debt_is_written_in_the_architecture_notes() -> None:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    config = tomllib.loads(pyproject)
    ignored = {
        line for c in config["tool"]["importlinter"]["contracts"] for line in c.get("ignore_imports", [])
    }
    debts = {line for line in ignored if "*" not in line and not line.startswith("lms.cli -> bench")}
    architecture = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    written = set(re.findall(r"`(lms\.[\w.]+ -> lms\.[\w.]+)`", architecture))
    assert debts == written, f"pyproject.toml only: {debts - written}; docs only: {written - debts}"

"""docs/architecture.md's "Signals" table stays true (issue 19 item 7): every named blinker signal under
lms/ has its row, and every module the app factory connects to it is named in that row."""

from __future__ import annotations

import importlib
import pkgutil
import re
import weakref
from typing import Any

from blinker import NamedSignal
from flask import Flask

import lms
from tests.conftest import PROJECT_ROOT

ROW = re.compile(r"^\| `(lms\.[\w.]+)` \|")


def lms_signals() -> dict[str, NamedSignal]:
    """Every NamedSignal made by a module under lms/ (not Flask's or Flask-Login's), by its dotted path."""
    found: dict[str, NamedSignal] = {}
    for module_info in pkgutil.walk_packages(lms.__path__, "lms."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, NamedSignal) and not name.startswith("_"):
                found.setdefault(f"{module.__name__}.{name}", value)  # defined where first met
    # A module that imports a signal holds it too: keep the path of the module that made it.
    by_signal: dict[int, str] = {}
    for path, signal in sorted(found.items()):
        current = by_signal.get(id(signal))
        if current is None or _defines(path, signal):
            by_signal[id(signal)] = path
    return {path: found[path] for path in by_signal.values() if _defines(path, found[path])}


def _defines(path: str, signal: NamedSignal) -> bool:
    module, _name = path.rsplit(".", 1)
    source = (PROJECT_ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    return f'signal("{signal.name}")' in source


def documented_rows() -> dict[str, str]:
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## Signals\n", 1)[1].split("\n## ", 1)[0]
    return {match.group(1): line for line in section.splitlines() if (match := ROW.match(line))}


def receiver_modules(signal: NamedSignal) -> set[str]:
    modules = set()
    for held in signal.receivers.values():
        receiver: Any = held() if isinstance(held, weakref.ref) else held
        module = getattr(receiver, "__module__", "") or ""
        if module.startswith("lms."):
            modules.add(module)
    return modules


def test_the_walk_finds_the_signals_named_in_the_issue(app: Flask) -> None:
    found = lms_signals()
    named = ("quizzes.signals.attempt_finished", "enrolment.signals.lesson_completed",
             "enrolment.signals.enrolment_completed", "certificates.signals.certificate_issued",
             "certificates.signals.certificate_revoked", "auth.signals.person_merged")  # fmt: skip
    for path in named:
        assert f"lms.{path}" in found


def test_every_signal_has_its_row_naming_every_subscriber(app: Flask) -> None:
    rows = documented_rows()
    signals = lms_signals()
    assert sorted(set(signals) - set(rows)) == [], "a signal without its row in docs/architecture.md"
    assert sorted(set(rows) - set(signals)) == [], "a row for a signal that no longer exists"
    unnamed = {
        path: sorted(module for module in receiver_modules(signal) if f"`{module}" not in rows[path])
        for path, signal in signals.items()
    }
    assert {path: modules for path, modules in unnamed.items() if modules} == {}

"""Rooms of a size a person can hold (issue 19 item 5): no module in lms/ over 600 lines and no view function
over 25 lines. A pure check of the source with `ast`; no app is built.

A view is a function decorated with a blueprint's `.route(...)` (or `.get/.post(...)`). Its length runs
from the `def` line to the end of its body: decorators and the docstring do not count."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT_ROOT

MAX_MODULE_LINES = 600
MAX_VIEW_LINES = 25
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def _modules() -> list[Path]:
    return sorted((PROJECT_ROOT / "lms").rglob("*.py"))


def _is_route(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ROUTE_DECORATORS
    )


def _docstring_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = function.body[0] if function.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.end_lineno is not None
    ):
        return first.end_lineno - first.lineno + 1
    return 0


def view_length(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    end = function.end_lineno or function.lineno
    return end - function.lineno + 1 - _docstring_lines(function)


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(PROJECT_ROOT)}:{line}"


def long_modules() -> list[str]:
    offenders = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{_where(path, 1)}: {lines} lines (limit {MAX_MODULE_LINES})")
    return offenders


def long_views() -> list[str]:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not any(_is_route(decorator) for decorator in node.decorator_list):
                continue
            length = view_length(node)
            if length > MAX_VIEW_LINES:
                offenders.append(
                    f"{_where(path, node.lineno)}: view {node.name} is {length} lines"
                    f" (limit {MAX_VIEW_LINES})"
                )
    return offenders


def test_no_module_is_over_600_lines() -> None:
    offenders = long_modules()
    assert not offenders, "\n".join(offenders)


def test_no_view_is_over_25_lines() -> None:
    offenders = long_views()
    assert not offenders, "\n".join(offenders)


def test_the_counter_skips_decorators_and_docstring() -> None:
    source = '@bp.route("/x")\n@allow("admin")\ndef view():\n    """Doc\n    string."""\n    return 1\n'
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert _is_route(function.decorator_list[0])
    assert view_length(function) == 2

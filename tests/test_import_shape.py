"""Zero import circles, and an import inside a function only where it must be, with the reason written
beside it (issue 19 item 4; docs/architecture.md "Layers").

The layers contract (tests/test_layers.py) cannot see a circle between two modules of one feature, nor a
package whose ``__init__`` imports a module that imports the package back; this walk of the import graph
(grimp, which import-linter uses) finds any circle under ``lms``."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

from tests.conftest import PROJECT_ROOT

# Where an import stays inside a function, and why (each also has a comment saying so at the import).
FUNCTION_IMPORTS = {
    ("lms/__init__.py", "lms"): "bootstrap: `import lms.db` must not load every feature",
    ("lms/__init__.py", "lms.app_setup"): "bootstrap: app_setup imports every feature",
    ("lms/cli.py", "bench.cli"): "optional: the benchmark tooling is not in the wheel",
}
REASON_WORDS = ("here", "not at the top", "optional", "heavy", "because", ":")


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(set(graph.find_modules_directly_imported_by(m)) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            for offset, target in enumerate(edges[node][position:], start=position):
                if target not in index:
                    work.append((node, offset + 1))
                    work.append((target, 0))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert circles(graph) == [["a.b", "a.c"]]


def test_no_module_under_lms_is_in_an_import_circle() -> None:
    graph = grimp.build_graph("lms", exclude_type_checking_imports=True)
    assert circles(graph) == []


def function_imports() -> list[tuple[str, str, int, str]]:
    """(file, imported module, line, the comment or docstring lines just above it) for every import inside
    a function under lms/."""
    found = []
    for path in sorted((PROJECT_ROOT / "lms").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    module = inner.module if isinstance(inner, ast.ImportFrom) else inner.names[0].name
                    above = "\n".join(lines[max(0, inner.lineno - 4) : inner.lineno - 1])
                    found.append(
                        (str(Path(path).relative_to(PROJECT_ROOT)), module or "", inner.lineno, above)
                    )
    return found


def test_imports_inside_functions_are_the_known_few_each_with_its_reason() -> None:
    seen = function_imports()
    unexpected = [f"{file}:{line} imports {module}" for file, module, line, _ in seen
                  if (file, module) not in FUNCTION_IMPORTS]  # fmt: skip
    assert unexpected == [], "import at the top, or add it here with the reason it cannot be"
    for file, _module, line, above in seen:
        comment = [text for text in above.splitlines() if text.strip().startswith("#")]
        assert comment and any(word in " ".join(comment).lower() for word in REASON_WORDS), (file, line)
    assert {(file, module) for file, module, _, _ in seen} == set(FUNCTION_IMPORTS)

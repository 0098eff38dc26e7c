"""The packages of spectramind/ depend on each other without a cycle: every import of every
module (top-level or inside a function) counts."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "spectramind"
SUBPACKAGES = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Dotted names of every module that ``path`` (under ``root``) imports, relative imports
    resolved; ``from a import b`` gives a and a.b (b may be a module)."""
    parts = path.relative_to(root).with_suffix("").parts
    package = parts[:-1]  # of a module, or of __init__.py: its own package
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, (base, node.module)))
            names |= {module, *(f"{module}.{alias.name}" for alias in node.names)}
    return names


def package_graph() -> dict[str, set[str]]:
    """For each subpackage of spectramind, the other subpackages its modules import."""
    graph: dict[str, set[str]] = {name: set() for name in SUBPACKAGES}
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0]
        if own not in SUBPACKAGES:
            continue
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] == "spectramind" and len(parts) > 1 and parts[1] in SUBPACKAGES:
                graph[own].add(parts[1])
        graph[own].discard(own)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None (depth-first search)."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for successor in sorted(graph[node]):
            if cycle := visit(successor, [*path, node]):
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start, []):
            return cycle
    return None


def test_find_cycle_reports_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_imports_are_read_from_function_bodies_and_relative_imports(tmp_path):
    module = tmp_path / "spectramind" / "fit" / "model.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import numpy\n"
        "from . import options\n"
        "from ..io.layout import N_TARGETS\n"
        "def late():\n"
        "    from spectramind import evaluation\n"
    )
    assert imported_modules(module, tmp_path) == {
        "numpy",
        "spectramind.fit", "spectramind.fit.options",
        "spectramind.io.layout", "spectramind.io.layout.N_TARGETS",
        "spectramind", "spectramind.evaluation",
    }  # fmt: skip


def test_packages_import_each_other_without_a_cycle():
    graph = package_graph()
    assert graph["submission"] and graph["evaluation"]  # the graph was read
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))

"""The layering rule of DESIGN.md, and no import cycles, checked on every
module's imports.

* ``pinnace/`` (API types, machinery, SDK) imports none of the components
  (apiserver, controllers, scheduler, kubelet, proxy);
* a component imports ``pinnace`` and never another component.

Imports are read from the source with ``ast``, wherever they are: at module
level, inside functions and under ``if TYPE_CHECKING:``, so an import moved
into a function to dodge the rule is still seen.

Inside ``pinnace/`` and inside each component, the module import graph has
no cycle (an edge goes to the module named, not to its parent packages).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = ("apiserver", "controllers", "scheduler", "kubelet", "proxy")
PACKAGES = ("pinnace", *COMPONENTS)


@dataclass(frozen=True)
class Import:
    """``importer`` (a module) imports ``target`` at ``path:line``."""

    importer: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def imports_of(path: Path, modules: set[str]) -> Iterator[Import]:
    """Every import in the file at `path` (see imports_in)."""
    return imports_in(path.read_text(), path, modules)


def imports_in(text: str, path: Path, modules: set[str]) -> Iterator[Import]:
    """Every import in `text`, the source of the file at `path`, resolved to
    the module it loads: ``from a import b`` is ``a.b`` when that is one of
    `modules`, else ``a``."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    rel = str(path.relative_to(ROOT))
    tree = ast.parse(text, filename=rel)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, rel, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node.module, node.level)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Import(name, sub if sub in modules else base, rel, node.lineno)


def _absolute(importer: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    parts = importer.split(".")
    if not is_package:
        parts.pop()
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, module] if module else parts)


def top(module: str) -> str:
    return module.partition(".")[0]


def all_imports() -> list[Import]:
    files = source_files()
    modules = {module_name(p) for p in files}
    return [imp for path in files for imp in imports_of(path, modules)]


def layering_violations(imports: list[Import]) -> list[Import]:
    """Imports that break the rule: pinnace -> a component, or a component
    -> another component."""
    bad = []
    for imp in imports:
        src, dst = top(imp.importer), top(imp.target)
        if dst not in COMPONENTS or dst == src:
            continue
        if src == "pinnace" or src in COMPONENTS:
            bad.append(imp)
    return bad


@pytest.mark.parametrize(
    ("importer", "target", "bad"),
    [
        pytest.param("pinnace.client.aio", "pinnace.machinery.errors", False, id="pinnace-self"),
        pytest.param("pinnace.machinery.kinds", "controllers.base", True, id="pinnace-to-comp"),
        pytest.param("controllers.base", "pinnace.client", False, id="comp-to-pinnace"),
        pytest.param("controllers.job.sync", "controllers.base", False, id="comp-self"),
        pytest.param("kubelet.app", "scheduler.cache", True, id="comp-to-comp"),
        pytest.param("scheduler.main", "grpc", False, id="third-party"),
    ],
)
def test_the_rule(importer: str, target: str, bad: bool) -> None:
    imp = Import(importer, target, "x.py", 1)
    assert layering_violations([imp]) == ([imp] if bad else [])


def test_imports_inside_functions_and_relative_imports_are_seen() -> None:
    src = "import os\n\ndef f():\n    from controllers import base\n    from . import sibling\n"
    path = ROOT / "pinnace" / "machinery" / "x.py"
    modules = {"pinnace.machinery.sibling", "controllers.base"}
    got = {i.target for i in imports_in(src, path, modules)}
    assert got == {"os", "controllers.base", "pinnace.machinery.sibling"}


def test_layering() -> None:
    imports = all_imports()
    assert len({i.importer for i in imports}) > 100  # the walk found the tree
    bad = layering_violations(imports)
    assert not bad, "layering rule of DESIGN.md broken:\n" + "\n".join(map(str, bad))


# ---- import cycles -------------------------------------------------------------------


def import_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Module -> the modules of the same top-level package it imports."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set())
        if top(imp.target) == top(imp.importer) and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """One cycle per strongly connected component of more than one module,
    as the modules along it (starting from the smallest name), sorted."""
    found = []
    for component in _strongly_connected(graph):
        if len(component) > 1:
            found.append(_cycle_through(min(component), component, graph))
    return sorted(found)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    out.append(component)
    return out


def _cycle_through(start: str, component: set[str], graph: dict[str, set[str]]) -> tuple[str, ...]:
    """A shortest path start -> ... -> start inside the component (BFS)."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph.get(node, set()) & component):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return (*reversed(path), start)
                if nxt not in parent:
                    parent[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a cycle but no path leads back to it")


@pytest.mark.parametrize(
    ("edges", "want"),
    [
        pytest.param({"a": {"b"}, "b": {"c"}, "c": set()}, [], id="chain"),
        pytest.param({"a": {"b"}, "b": {"a"}}, [("a", "b", "a")], id="pair"),
        pytest.param(
            {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [("a", "b", "c", "a")], id="triangle"
        ),
        pytest.param(
            {"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x"}},
            [("a", "b", "a"), ("x", "y", "x")],
            id="two-cycles",
        ),
        pytest.param({"a": {"a"}}, [], id="self-import-ignored"),
    ],
)
def test_cycles(edges: dict[str, set[str]], want: list[tuple[str, ...]]) -> None:
    assert cycles(edges) == want


def test_import_graph_keeps_edges_inside_one_package() -> None:
    imports = [
        Import("pinnace.a", "pinnace.b", "x", 1),
        Import("controllers.c", "pinnace.a", "x", 1),
        Import("controllers.c", "controllers.d", "x", 1),
    ]
    assert import_graph(imports) == {
        "pinnace.a": {"pinnace.b"},
        "controllers.c": {"controllers.d"},
    }


def test_no_import_cycles() -> None:
    found = cycles(import_graph(all_imports()))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)

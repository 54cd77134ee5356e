"""The layering rule of DESIGN.md, checked on every module's imports.

* ``pinnace/`` (API types, machinery, SDK) imports none of the components
  (apiserver, controllers, scheduler, kubelet);
* a component imports ``pinnace`` and never another component.

Imports are read from the source with ``ast``, wherever they are: at module
level, inside functions and under ``if TYPE_CHECKING:``, so an import moved
into a function to dodge the rule is still seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = ("apiserver", "controllers", "scheduler", "kubelet")
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

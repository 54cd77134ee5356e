"""The repository is clean: lint, formatting and generated code are current.

These run in the test suite so the README's one test command checks what CI
checks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.suitechecks import MYPY

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _ruff() -> tuple[str, ...]:
    """ruff from this interpreter's environment (its bin dir may not be on PATH)."""
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.fail("ruff is not installed: install the test extras (pip install -e '.[test]')")
    return (sys.executable, "-m", "ruff")


def test_ruff_check() -> None:
    result = _run(*_ruff(), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(*_ruff(), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_is_current() -> None:
    result = _run(sys.executable, "tools/genproto.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy(request: pytest.FixtureRequest) -> None:
    """The library and the components type-check (pyproject.toml [tool.mypy]:
    untyped functions refused, every `# type: ignore` used and coded). The
    run started when the suite was collected (tests/suitechecks.py)."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed: install the test extras (pip install -e '.[test]')")
    proc = request.config.stash.get(MYPY, None)
    if proc is None:
        result = _run(sys.executable, "-m", "mypy")
        assert result.returncode == 0, result.stdout + result.stderr
        return
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output


def test_test_module_basenames_are_unique() -> None:
    """pytest imports test modules by basename (the test folders are not
    packages): two test_x.py files break collection of the whole suite."""
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}

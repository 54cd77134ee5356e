"""mypy, the slowest check of the suite (~1 min of one core), run beside
the tests: tests/conftest.py starts it at low priority when the suite is
collected, tests/test_repo_hygiene.py::test_mypy waits for its verdict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["MYPY", "start_mypy", "stop_mypy"]

ROOT = Path(__file__).resolve().parent.parent
MYPY = pytest.StashKey[subprocess.Popen[str]]()


def start_mypy(config: pytest.Config) -> None:
    config.stash[MYPY] = subprocess.Popen(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: os.nice(19),
    )


def stop_mypy(config: pytest.Config) -> None:
    proc = config.stash.get(MYPY, None)
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()

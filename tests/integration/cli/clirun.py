"""Run the pinnace CLI as a user does: its own process, against a server."""

from __future__ import annotations

import subprocess
import sys
from typing import Protocol


class Target(Protocol):
    """A LocalCluster or a test apiserver: ``cli_args`` reach it as the admin."""

    @property
    def cli_args(self) -> list[str]: ...


def pinnace_cli(
    target: Target,
    *args: str,
    check: bool = True,
    stdin: str | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:
    """``pinnace <target flags> ARGS...``; with ``check``, fail the test
    unless it exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *target.cli_args, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result

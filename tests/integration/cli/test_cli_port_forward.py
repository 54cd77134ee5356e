"""`pinnace port-forward` on a whole cluster with a real pod: a Deployment
of one `python3 -m http.server`, reached through the CLI's local listener,
the pod's kubelet and the pod's own address. Traffic goes only to
127.0.0.1 (the CLI's listener) and from the kubelet to the pod."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.localcluster.etcd import free_port
from pinnace.machinery.podutil import is_pod_ready
from tests.integration.cli.clirun import pinnace_cli
from tests.waiting import wait_for

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pf
spec:
  replicas: 1
  selector:
    matchLabels: {app: pf}
  template:
    metadata:
      labels: {app: pf}
    spec:
      containers:
      - name: web
        image: python
        command: ["sh", "-c", "echo hello-from-pod > index.html && exec python3 -m http.server PORT"]
        ports: [{name: http, containerPort: PORT}]
        readinessProbe:
          tcpSocket: {port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: pf
spec:
  selector: {app: pf}
  ports: [{name: web, port: 80, targetPort: http}]
"""

# Listens on the pod's 127.0.0.1 only; the exec probe runs inside the pod's namespace.
LOOPBACK_ONLY = """
apiVersion: v1
kind: Pod
metadata:
  name: lo
spec:
  containers:
  - name: web
    image: python
    command:
    - sh
    - -c
    - echo loopback-only > index.html && exec python3 -m http.server --bind 127.0.0.1 PORT
    readinessProbe:
      exec:
        command: [python3, -c, "import socket; socket.create_connection(('127.0.0.1', PORT), 1)"]
      periodSeconds: 1
"""


class Forward:
    """A running `pinnace port-forward`; its stdout lines arrive on a queue."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of output

    def next_line(self, timeout: float = 60) -> str:
        line = self.lines.get(timeout=timeout)
        self.seen.append(line)
        assert line, f"port-forward ended early: {self.stderr_after_exit()}"
        return line

    def local_port(self, remote: int) -> int:
        """The port of the 'Forwarding from 127.0.0.1:L -> REMOTE' line."""
        while True:
            line = self.next_line()
            if line.startswith("Forwarding from 127.0.0.1:"):
                address, _, target = line.removeprefix("Forwarding from ").partition(" -> ")
                assert target == str(remote), line
                return int(address.rpartition(":")[2])

    def rest(self) -> list[str]:
        """The remaining stdout lines, once the process has closed it."""
        out = []
        while line := self.lines.get(timeout=30):
            out.append(line)
        return out

    def stderr_after_exit(self) -> str:
        self.proc.wait(timeout=30)
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


@contextmanager
def port_forward(cluster: LocalCluster, *args: str) -> Iterator[Forward]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pinnace.cli.main",
            *cluster.cli_args,
            "port-forward",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield Forward(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=30) as resp:
        return str(resp.read().decode())


def test_port_forward_pod_deploy_and_service(
    cluster: LocalCluster, cluster_namespace: str, cluster_client: Client, tmp_path: Path
) -> None:
    ns = cluster_namespace
    port = free_port()  # free on the host too, should the node run pods in its network
    manifest = tmp_path / "pf.yaml"
    manifest.write_text(MANIFEST.replace("PORT", str(port)))
    pinnace_cli(cluster, "apply", "-f", str(manifest), "-n", ns)

    def ready_pod() -> Any:
        pods = cluster_client.pods(ns).list(label_selector="app=pf").items
        return next((p for p in pods if is_pod_ready(p)), None)

    name = wait_for(ready_pod, 60, "the http.server pod Ready").metadata.name

    # deploy/x with a named container port and a random local port.
    with port_forward(cluster, "deploy/pf", ":http", "-n", ns) as fwd:
        local = fwd.local_port(port)
        for _ in range(5):
            assert fetch(local) == "hello-from-pod\n"
        # Two connections open at once: both requests go out before either reply is read.
        conns = [socket.create_connection(("127.0.0.1", local), timeout=30) for _ in range(2)]
        for c in conns:
            c.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        for c in conns:
            with c, c.makefile("rb") as f:
                reply = f.read()
            assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"hello-from-pod\n")
        assert fwd.interrupt() == 0
        assert fwd.rest().count(f"Handling connection for {local}") == 7

    # pod/NAME LOCAL:REMOTE
    local = free_port()
    with port_forward(cluster, f"pod/{name}", f"{local}:{port}", "-n", ns) as fwd:
        assert fwd.local_port(port) == local
        assert fetch(local) == "hello-from-pod\n"
        assert fwd.interrupt() == 0

    # svc/x: the Service's named port, translated to the pod's targetPort "http".
    with port_forward(cluster, "svc/pf", ":web", "-n", ns) as fwd:
        local = fwd.local_port(port)
        assert fetch(local) == "hello-from-pod\n"
        assert fwd.interrupt() == 0
        assert fwd.stderr_after_exit() == ""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="pods get network namespaces of their own only as root with iproute2's ip",
)
def test_port_forward_reaches_the_pods_loopback(
    cluster: LocalCluster, cluster_namespace: str, cluster_client: Client, tmp_path: Path
) -> None:
    """As in Kubernetes, the kubelet connects to localhost inside the pod's
    network namespace: a server bound only to the pod's 127.0.0.1 is
    reached, though nothing answers at the pod's IP."""
    ns = cluster_namespace
    port = free_port()
    manifest = tmp_path / "lo.yaml"
    manifest.write_text(LOOPBACK_ONLY.replace("PORT", str(port)))
    pinnace_cli(cluster, "apply", "-f", str(manifest), "-n", ns)

    def ready() -> Any:
        pod = cluster_client.pods(ns).get("lo")
        return pod if is_pod_ready(pod) else None

    pod = wait_for(ready, 60, "the loopback-only pod Ready")
    assert pod.status.pod_ip and pod.status.pod_ip != pod.status.host_ip, "no pod network"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((pod.status.pod_ip, port), timeout=10).close()
    with port_forward(cluster, "pod/lo", f":{port}", "-n", ns) as fwd:
        local = fwd.local_port(port)
        for _ in range(3):
            assert fetch(local) == "loopback-only\n"
        assert fwd.interrupt() == 0
        assert fwd.stderr_after_exit() == ""


def test_port_forward_bad_input(cluster: LocalCluster, cluster_namespace: str) -> None:
    """Mistakes are one line naming what was wrong, exit 1, before any listening."""
    ns = cluster_namespace
    cases = [
        (["pod/x", "70000"], "error parsing remote port '70000': out of range"),
        (["pod/x", "1:2:3"], "invalid port format '1:2:3'"),
        (["pod/x"], "TYPE/NAME and list of ports are required for port-forward"),
        (["pod/x", "80", "--address", "nowhere"], "nowhere is not a valid IP"),
        (["pod/missing", "80"], 'pods "missing" not found'),
    ]
    for args, message in cases:
        result = pinnace_cli(cluster, "port-forward", *args, "-n", ns, check=False)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)

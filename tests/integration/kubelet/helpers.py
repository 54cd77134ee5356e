"""Helpers for kubelet integration tests: making, binding and inspecting pods."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client, NotFound
from pinnace.machinery import codec
from tests import waiting


def wait_for(
    fn: Callable[[], Any], *, timeout: float = 15.0, interval: float = 0.05, what: str = ""
) -> Any:
    """tests.waiting.wait_for, where a NotFound counts as "not yet" (the
    object the condition reads may not exist yet)."""
    return waiting.wait_for(fn, timeout, what, interval=interval, not_yet=(NotFound,))


def make_pod(name: str, containers: list[dict], **spec: Any) -> pod_pb2.Pod:
    """A Pod from Kubernetes-shaped dicts; every container gets an image."""
    for c in (*containers, *spec.get("initContainers", [])):
        c.setdefault("image", "busybox")
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"containers": containers, **spec},
        },
    )


def run_pod(client: Client, namespace: str, node: str, pod: pod_pb2.Pod) -> pod_pb2.Pod:
    """Create the pod and bind it to ``node`` (no scheduler involved)."""
    pods = client.pods(namespace)
    created = pods.create(pod)
    pods.bind(created.metadata.name, node)
    return created


def get_pod(client: Client, namespace: str, name: str) -> pod_pb2.Pod:
    return client.pods(namespace).get(name)


def container_status(pod: pod_pb2.Pod, name: str, *, init: bool = False) -> Any:
    statuses = pod.status.init_container_statuses if init else pod.status.container_statuses
    for cs in statuses:
        if cs.name == name:
            return cs
    return None


def condition(pod: pod_pb2.Pod, ctype: str) -> Any:
    for c in pod.status.conditions:
        if c.type == ctype:
            return c
    return None


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat[stat.rfind(")") + 2 :].startswith("Z")


def pids_running(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker``."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd and "pinnace-container" not in cmd and pid_alive(int(d.name)):
            out.append(int(d.name))
    return out

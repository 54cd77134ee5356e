"""Helpers for the DaemonSet, node lifecycle and drain tests on the whole
`cluster`: manifests, a 4th kubelet, node edits with conflict retries."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pinnace.api.apps.v1 import daemonset_pb2, deployment_pb2
from pinnace.api.core.v1 import node_pb2
from pinnace.localcluster import process
from pinnace.machinery import codec, errors

SLEEPER = {
    "name": "c",
    "image": "busybox",
    "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
}


def template(labels: dict[str, str], *, image: str = "v1", **spec: Any) -> dict:
    return {
        "metadata": {"labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{**SLEEPER, "image": image}],
            **spec,
        },
    }


def daemon_set(name: str, *, image: str = "v1", strategy: dict | None = None, **spec: Any):
    labels = {"app": name}
    body: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": template(labels, image=image, **spec),
    }
    if strategy is not None:
        body["updateStrategy"] = strategy
    return codec.from_dict(daemonset_pb2.DaemonSet, {"metadata": {"name": name}, "spec": body})


def deployment(name: str, replicas: int, **spec: Any):
    labels = {"app": name}
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": template(labels, **spec),
            },
        },
    )


def edit_node(client: Any, name: str, change: Callable[[node_pb2.Node], None]) -> node_pb2.Node:
    """Apply change to the node and update it, retrying conflicts."""
    for _ in range(20):
        node = client.nodes().get(name)
        change(node)
        try:
            return client.nodes().update(node)
        except errors.Conflict:
            continue
    raise AssertionError(f"could not update node {name}")


def edit(resource: Any, name: str, change: Callable[[Any], None]) -> Any:
    for _ in range(20):
        obj = resource.get(name)
        change(obj)
        try:
            return resource.update(obj)
        except errors.Conflict:
            continue
    raise AssertionError(f"could not update {name}")


def node_ready(client: Any, name: str) -> bool:
    try:
        node = client.nodes().get(name)
    except errors.NotFound:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)


@contextlib.contextmanager
def extra_kubelet(
    cluster: Any, client: Any, name: str, root: Path, *extra: str
) -> Iterator[process.Component]:
    """A kubelet for node ``name`` with ``extra`` flags (stopped and its Node
    deleted afterwards)."""
    comp = process.Component(
        f"kubelet-{name}",
        "kubelet.main",
        [
            "--apiserver",
            cluster.server,
            *cluster.kubelet_flags(name),
            "--node-name",
            name,
            "--root-dir",
            str(root),
            "--lease-period",
            "1",
            "--node-status-period",
            "1",
            "--kill-pods-on-exit",
            *extra,
        ],
        log_file=root.parent / f"kubelet-{name}.log",
    )
    comp.start()
    try:
        yield comp
    finally:
        comp.stop()
        with contextlib.suppress(errors.NotFound):
            client.nodes().delete(name)


def pods_of(client: Any, namespace: str, owner_uid: str, *, live: bool = True) -> list[Any]:
    out = []
    for p in client.pods(namespace).list().items:
        if not any(r.controller and r.uid == owner_uid for r in p.metadata.owner_references):
            continue
        if live and (p.metadata.deletion_timestamp or p.status.phase in ("Failed", "Succeeded")):
            continue
        out.append(p)
    return out


def by_node(pods: list[Any]) -> dict[str, Any]:
    return {p.spec.node_name: p for p in pods if p.spec.node_name}


def is_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)

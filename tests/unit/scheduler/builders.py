"""Small builders for scheduler unit tests: Kubernetes-shaped dicts in,
typed objects (and NodeInfo / PodInfo) out."""

from __future__ import annotations

from typing import Any

from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import codec
from scheduler.nodeinfo import NodeInfo, PodInfo


def pod(
    name: str = "p",
    *,
    namespace: str = "default",
    cpu: str = "",
    memory: str = "",
    spec: dict[str, Any] | None = None,
    owner: str = "",
    priority: int | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> Any:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    if ports:
        container["ports"] = ports
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {"containers": [container], **(spec or {})},
    }
    if owner:
        body["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "rs",
                "uid": owner,
                "controller": True,
            }
        ]
    if priority is not None:
        body["spec"]["priority"] = priority
    return codec.from_dict(pod_pb2.Pod, body)


def bound(p: Any, node: str) -> Any:
    out = pod_pb2.Pod()
    out.CopyFrom(p)
    out.spec.node_name = node
    return out


def node(
    name: str = "n1",
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
    ready: str | None = "True",
    annotations: dict[str, str] | None = None,
    machine_id: str = "",
    boot_id: str = "",
) -> Any:
    body: dict[str, Any] = {
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
        "spec": {"unschedulable": unschedulable, "taints": taints or []},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "nodeInfo": {"machineID": machine_id, "bootID": boot_id},
        },
    }
    if ready is not None:
        body["status"]["conditions"] = [{"type": "Ready", "status": ready}]
    return codec.from_dict(node_pb2.Node, body)


def node_info(n: Any = None, *pods_on_it: Any, **kwargs: Any) -> NodeInfo:
    info = NodeInfo.for_node(n if n is not None else node(**kwargs))
    for p in pods_on_it:
        info.add_pod(PodInfo.of(p))
    return info


def info(p: Any) -> PodInfo:
    return PodInfo.of(p)

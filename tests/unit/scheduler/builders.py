"""Small builders for scheduler unit tests: Kubernetes-shaped dicts in,
typed objects (and NodeInfo / PodInfo) out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import codec
from pinnace.machinery.wellknown import (
    ANNOTATION_POD_NETWORK,
    POD_NETWORK_BRIDGE,
    POD_NETWORK_HOST,
)
from scheduler.cache import Cache
from scheduler.framework import Code, Status
from scheduler.nodeinfo import MachinePorts, NodeInfo, PodInfo, PortTally
from scheduler.plugins.node_ports import REASON

# NodePorts' verdicts, and the annotations of a node's pod network.
PORTS_OK = Status()
PORTS_CLASH = Status(Code.UNSCHEDULABLE, (REASON,))
HOST_NETWORK_NODE = {ANNOTATION_POD_NETWORK: POD_NETWORK_HOST}
BRIDGE_NETWORK_NODE = {ANNOTATION_POD_NETWORK: POD_NETWORK_BRIDGE}


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


def assert_machines_consistent(cache: Cache, names: Iterable[str]) -> None:
    """Every named node with a machine key is attached to its machine's
    tally, and every shared tally they reach equals the sum of the
    ``machine_tally()`` of the nodes it names, each attached to it."""
    machines: dict[int, MachinePorts] = {}
    for name in names:
        ni = cache.node_info(name)
        if ni is None:
            continue
        if ni.machine is None:
            assert ni.machine_key is None
            continue
        assert ni.machine.key == ni.machine_key
        assert cache.machine_ports(ni.machine.key) is ni.machine
        machines[id(ni.machine)] = ni.machine
    for machine in machines.values():
        total: PortTally = {}
        for name in machine.nodes:
            ni = cache.node_info(name)
            assert ni is not None and ni.machine is machine
            for protocol_port, ips in ni.machine_tally().items():
                for ip, count in ips.items():
                    slot = total.setdefault(protocol_port, {})
                    slot[ip] = slot.get(ip, 0) + count
        assert machine.used == total

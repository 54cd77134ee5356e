"""Kubelet admission: does a pod bound here fit next to the pods already admitted?

A pod can reach a node without the scheduler (``spec.nodeName`` set at
create, or a bind by hand), so the kubelet checks again, as Kubernetes'
``lifecycle/predicate.go`` does, in this order:

* nodeSelector labels all present on the node → else reason
  ``NodeAffinity``;
* host ports free (protocol, hostIP, hostPort; hostIP "" or 0.0.0.0
  conflicts with every address) → else ``NodePorts``. When this kubelet
  runs pods in the node's own network (``host_network_ports``: no root, the
  Node says ``pinnace.io/pod-network: host``) every containerPort is bound
  on the node, so it counts as a host port too, as the scheduler's
  NodePorts filter counts it for such a node;
* pod count, cpu and memory requests within allocatable minus the requests
  of the admitted, non-terminal pods → else ``OutOfpods``, ``OutOfcpu``,
  ``OutOfmemory`` with Kubernetes' message "Node didn't have enough
  resource: cpu, requested: 2000, used: 500, capacity: 1000" (cpu in
  millicores, memory in bytes).

A rejected pod is set to phase Failed with that reason and the message
"Pod was rejected: <why>". Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery.quantity import to_int, to_milli

__all__ = ["Rejection", "admit", "pod_requests"]


@dataclass(frozen=True)
class Rejection:
    reason: str
    message: str


def pod_requests(pod: pod_pb2.Pod) -> dict[str, int]:
    """Effective requests: cpu (milli) and memory (bytes), the larger of the
    sum over containers and the largest init container (plus overhead)."""
    spec = pod.spec
    total = {"cpu": 0, "memory": 0}

    def amounts(ctr: container_pb2.Container) -> dict[str, int]:
        req = ctr.resources.requests
        return {
            "cpu": to_milli(req["cpu"]) if "cpu" in req else 0,
            "memory": to_int(req["memory"]) if "memory" in req else 0,
        }

    for ctr in spec.containers:
        for k, v in amounts(ctr).items():
            total[k] += v
    for ctr in spec.init_containers:
        for k, v in amounts(ctr).items():
            total[k] = max(total[k], v)
    for k in total:
        if k in spec.overhead:
            total[k] += to_milli(spec.overhead[k]) if k == "cpu" else to_int(spec.overhead[k])
    return total


def _host_ports(pod: pod_pb2.Pod, *, host_network: bool) -> list[tuple[str, str, int]]:
    """(protocol, host ip, port) of each port the pod takes on the node: its
    hostPorts, and with ``host_network`` also every containerPort."""
    out = []
    for ctr in (*pod.spec.init_containers, *pod.spec.containers):
        for p in ctr.ports:
            numbers = {p.host_port, p.container_port} if host_network else {p.host_port}
            for number in sorted(numbers):
                if number > 0:
                    out.append((p.protocol or "TCP", p.host_ip or "0.0.0.0", number))
    return out


def _ports_conflict(a: tuple[str, str, int], b: tuple[str, str, int]) -> bool:
    if a[0] != b[0] or a[2] != b[2]:
        return False
    return a[1] == b[1] or "0.0.0.0" in (a[1], b[1])


def admit(
    pod: pod_pb2.Pod,
    *,
    node_labels: Mapping[str, str],
    allocatable: Mapping[str, str],
    admitted: Iterable[pod_pb2.Pod],
    host_network_ports: bool = False,
) -> Rejection | None:
    """None if ``pod`` may run next to ``admitted``, else why not.
    ``host_network_ports``: pods here share the node's network, so every
    containerPort is a host port (see the module docstring)."""
    for key, value in pod.spec.node_selector.items():
        if node_labels.get(key) != value:
            return Rejection(
                "NodeAffinity",
                "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's "
                "node affinity/selector",
            )
    others = list(admitted)
    used_ports = [p for o in others for p in _host_ports(o, host_network=host_network_ports)]
    for port in _host_ports(pod, host_network=host_network_ports):
        if any(_ports_conflict(port, u) for u in used_ports):
            return Rejection(
                "NodePorts",
                "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports "
                "for the requested pod ports",
            )
    capacity = {
        "pods": to_int(allocatable.get("pods", "110")),
        "cpu": to_milli(allocatable.get("cpu", "0")),
        "memory": to_int(allocatable.get("memory", "0")),
    }
    if len(others) + 1 > capacity["pods"]:
        return _insufficient("pods", 1, len(others), capacity["pods"])
    want = pod_requests(pod)
    used = {"cpu": 0, "memory": 0}
    for o in others:
        for k, v in pod_requests(o).items():
            used[k] += v
    for name in ("cpu", "memory"):
        if want[name] and want[name] + used[name] > capacity[name]:
            return _insufficient(name, want[name], used[name], capacity[name])
    return None


def _insufficient(name: str, requested: int, used: int, capacity: int) -> Rejection:
    return Rejection(
        f"OutOf{name}",
        f"Pod was rejected: Node didn't have enough resource: {name}, requested: {requested}, "
        f"used: {used}, capacity: {capacity}",
    )

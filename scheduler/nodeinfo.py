"""What the scheduler knows about a pod (``PodInfo``) and a node (``NodeInfo``).

``PodInfo`` is computed once per pod object (requests, host ports, owner) so
that filtering a pod against a hundred nodes does not parse quantities a
hundred times. ``NodeInfo`` aggregates the pods on a node (assumed ones
included): summed requests, used host ports, pods per controller owner.

Invariants: ``NodeInfo.requested`` and friends always equal the sum over
``NodeInfo.pods``; objects given to either class are never mutated (they are
the informer's shared objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pinnace.api.core.v1 import affinity_pb2
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.wellknown import (
    NODE_READY,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_UNREACHABLE,
)
from scheduler.resources import Allocatable, Resources, node_allocatable, pod_requests

DEFAULT_HOST_IP = "0.0.0.0"


def pod_key(pod: Any) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


@dataclass(frozen=True)
class HostPort:
    """One host port a pod wants: (ip, protocol, port), defaults filled in."""

    ip: str
    protocol: str
    port: int


def host_ports(pod: Any) -> tuple[HostPort, ...]:
    """The host ports of the pod's containers and sidecars."""
    out = []
    containers = list(pod.spec.containers) + [
        c
        for c in pod.spec.init_containers
        if c.HasField("restart_policy") and c.restart_policy == "Always"
    ]
    for c in containers:
        for p in c.ports:
            if p.host_port > 0:
                out.append(HostPort(p.host_ip or DEFAULT_HOST_IP, p.protocol or "TCP", p.host_port))
    return tuple(out)


def controller_uid(pod: Any) -> str:
    """The uid of the pod's controller ownerReference ("" if none)."""
    for ref in pod.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref.uid
    return ""


@dataclass(frozen=True)
class PodInfo:
    """A pod with what scheduling needs precomputed. ``pod`` is shared: read only."""

    pod: Any
    key: str
    requests: Resources
    non_zero_requests: Resources
    ports: tuple[HostPort, ...]
    owner_uid: str

    @classmethod
    def of(cls, pod: Any) -> PodInfo:
        return cls(
            pod=pod,
            key=pod_key(pod),
            requests=pod_requests(pod),
            non_zero_requests=pod_requests(pod, non_zero=True),
            ports=host_ports(pod),
            owner_uid=controller_uid(pod),
        )


def effective_taints(node: Any) -> tuple[Any, ...]:
    """The node's taints plus the NoSchedule taint the node lifecycle
    controller would add for its Ready condition (Kubernetes'
    TaintNodesByCondition): ``not-ready`` when Ready is False,
    ``unreachable`` when it is Unknown or missing."""
    taints = tuple(node.spec.taints)
    cond = find_condition(node.status.conditions, NODE_READY)
    ready = cond.status if cond is not None else ""
    if ready == "True":
        return taints
    key = TAINT_NODE_NOT_READY if ready == "False" else TAINT_NODE_UNREACHABLE
    if any(t.key == key and t.effect == TAINT_EFFECT_NO_SCHEDULE for t in taints):
        return taints
    return (*taints, affinity_pb2.Taint(key=key, effect=TAINT_EFFECT_NO_SCHEDULE))


@dataclass
class NodeInfo:
    """A node and the pods the scheduler counts on it.

    ``node`` is None while pods name a node the cache has not seen (yet);
    such an entry is never offered for scheduling.
    """

    name: str
    node: Any = None
    allocatable: Allocatable = field(default_factory=Allocatable)
    taints: tuple[Any, ...] = ()
    pods: dict[str, PodInfo] = field(default_factory=dict)
    requested: Resources = field(default_factory=Resources)
    non_zero_requested: Resources = field(default_factory=Resources)
    # (protocol, port) -> host ip -> number of pods using it
    used_ports: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    owner_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_node(cls, node: Any) -> NodeInfo:
        info = cls(node.metadata.name)
        info.set_node(node)
        return info

    def set_node(self, node: Any) -> None:
        self.node = node
        self.allocatable = node_allocatable(node)
        self.taints = effective_taints(node)

    @property
    def labels(self) -> Any:
        return self.node.metadata.labels

    def add_pod(self, info: PodInfo) -> None:
        if info.key in self.pods:
            self.remove_pod(info.key)
        self.pods[info.key] = info
        self._account(info, 1)

    def remove_pod(self, key: str) -> PodInfo | None:
        info = self.pods.pop(key, None)
        if info is not None:
            self._account(info, -1)
        return info

    def _account(self, info: PodInfo, sign: int) -> None:
        self.requested.add(info.requests, sign)
        self.non_zero_requested.add(info.non_zero_requests, sign)
        for hp in info.ports:
            ips = self.used_ports.setdefault((hp.protocol, hp.port), {})
            count = ips.get(hp.ip, 0) + sign
            if count > 0:
                ips[hp.ip] = count
            else:
                ips.pop(hp.ip, None)
                if not ips:
                    del self.used_ports[(hp.protocol, hp.port)]
        if info.owner_uid:
            count = self.owner_counts.get(info.owner_uid, 0) + sign
            if count:
                self.owner_counts[info.owner_uid] = count
            else:
                self.owner_counts.pop(info.owner_uid, None)

    def port_conflict(self, hp: HostPort) -> bool:
        """Whether hp clashes with a used port: same protocol and port, and
        the same ip or either side on 0.0.0.0 (Kubernetes' HostPortInfo)."""
        ips = self.used_ports.get((hp.protocol, hp.port))
        if not ips:
            return False
        if hp.ip == DEFAULT_HOST_IP:
            return True
        return hp.ip in ips or DEFAULT_HOST_IP in ips

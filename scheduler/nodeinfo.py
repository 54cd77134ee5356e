"""What the scheduler knows about a pod (``PodInfo``) and a node (``NodeInfo``).

``PodInfo`` is computed once per pod object (requests, host ports, owner) so
that filtering a pod against a hundred nodes does not parse quantities a
hundred times. ``NodeInfo`` aggregates the pods on a node (assumed ones
included): summed requests, used host ports, pods per controller owner.

Host ports depend on how the node networks its pods (the kubelet's Node
annotation ``pinnace.io/pod-network``):

* ``bridge`` or no annotation (Kubernetes): a pod has its own network, so
  only ``hostPort`` entries take a port of the node. A ``hostNetwork: true``
  pod's container ports are host ports too, because defaulting sets each
  ``hostPort`` to its ``containerPort`` (apiserver podspec defaults).
* ``host`` (a kubelet without root runs every pod in the node's network):
  every declared ``containerPort`` is bound on the node itself, so it is a
  host port, and so is a ``hostPort`` that differs from it. Example: pods
  with ``containerPort: 8080`` fit once per such node; on a bridge node any
  number fit.

Several nodes can be one machine. ``pinnace up --nodes 3`` runs three
kubelets on one machine, and a port bound in the machine's own network by
a pod of node-1 is taken for node-2 and node-3 too (the second bind fails
with "Address already in use"). So there are two tallies, and a wanted
port must be free in each that applies:

* the node's hostPorts (``used_ports``), per node as in Kubernetes (on a
  host node the machine check below covers them). On a bridge node a
  hostPort of a pod with its own network is only a reservation: the
  kubelet forwards no hostPort into pods (no portmap), so nothing binds it
  on the machine, and it stays per node. (Should the kubelet ever forward
  hostPorts from the node's address, they would bind on the machine and
  belong in the machine tally below.)
* the machine's ports (``MachinePorts.used``): every port a pod binds in
  the machine's own network namespace, summed over all nodes of one
  ``machine_key`` (``status.nodeInfo`` machineID + bootID, which every
  kubelet of one machine and boot reports alike; a node missing either is
  a machine of its own). A pod binds there
  - on a host node: its ``host_network_ports`` (every containerPort, and a
    differing hostPort, counted as bound too);
  - on a bridge node: its ``host_network_ports`` if it is a
    ``hostNetwork: true`` pod (``bridge_machine_ports``), else nothing.

Examples, machine m with kubelets n1, n2, n3:

* 4 replicas of ``containerPort: 8080`` on 3 host nodes of m: 1 binds, 3
  stay Pending with "0/3 nodes are available: 3 node(s) didn't have free
  ports for the requested pod ports."; on 3 host nodes of 3 machines: 3
  bind, one per node, 1 stays Pending.
* the same on bridge nodes (any machine): all 4 bind; each pod has its own
  IP.
* 2 ``hostNetwork`` pods with port 9000 on bridge nodes n1, n2 of m: one
  binds, the other stays Pending (both would bind m's 9000); on bridge
  nodes of 2 machines both bind. A ``hostNetwork`` pod with port 9000 on
  bridge n1 and a pod with ``containerPort: 9000`` on host node n2 of m
  clash the same way.
* a pod with ``hostPort: 9000`` (own network) on bridge n1 and a
  ``hostNetwork`` pod with port 9000 on bridge n2 of m: both bind (the
  hostPort binds nothing on m); on the same bridge node they clash
  (Kubernetes).

A ``NodeInfo`` keeps a tally per kind (``used_ports``,
``used_container_ports`` and ``used_bridge_machine_ports``) for its pods,
so a node that changes mode needs no recount of its pods: the cache
(cache.py) attaches every node with a machine key to its machine's
``MachinePorts`` (``join_machine`` adds the node's ``machine_tally()``, the
one of its current mode), ``set_node`` swaps that tally there when the
annotation changes, and the cache moves it when the machine key changes;
``NodeInfo.add_pod`` / ``remove_pod`` update the shared tally too, so a
filter call is a dict lookup per wanted port per tally, never a scan over
nodes. A ``NodeInfo`` that no cache attached (unit tests, a node without
ids) is its own machine.

Invariants: ``NodeInfo.requested`` and friends always equal the sum over
``NodeInfo.pods``; ``MachinePorts.used`` always equals the sum of
``machine_tally()`` over the ``NodeInfo``s attached to it; objects given
to these classes are never mutated (they are the informer's shared
objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pinnace.api.core.v1 import affinity_pb2
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.wellknown import (
    ANNOTATION_POD_NETWORK,
    NODE_READY,
    POD_NETWORK_HOST,
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


def _port_specs(pod: Any) -> list[Any]:
    """The ContainerPorts of the pod's containers and sidecars (restartable
    init containers), the ones that are open while the pod runs."""
    containers = list(pod.spec.containers) + [
        c
        for c in pod.spec.init_containers
        if c.HasField("restart_policy") and c.restart_policy == "Always"
    ]
    return [p for c in containers for p in c.ports]


def host_ports(pod: Any) -> tuple[HostPort, ...]:
    """The host ports of the pod's containers and sidecars (Kubernetes:
    the entries with a hostPort)."""
    return tuple(
        HostPort(p.host_ip or DEFAULT_HOST_IP, p.protocol or "TCP", p.host_port)
        for p in _port_specs(pod)
        if p.host_port > 0
    )


def host_network_ports(pod: Any) -> tuple[HostPort, ...]:
    """The ports the pod takes in the network it shares with the machine
    (on a ``pinnace.io/pod-network: host`` node, or as a ``hostNetwork``
    pod): every containerPort, and a hostPort that differs from it; each
    once."""
    out: dict[HostPort, None] = {}
    for p in _port_specs(pod):
        ip, protocol = p.host_ip or DEFAULT_HOST_IP, p.protocol or "TCP"
        for number in (p.container_port, p.host_port):
            if number > 0:
                out[HostPort(ip, protocol, number)] = None
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
    # The ports it takes on a node whose pods share the node's network.
    host_network_ports: tuple[HostPort, ...] = ()
    # The ports it binds on the machine when on a bridge node: a hostNetwork
    # pod's host_network_ports; none for a pod with its own network.
    bridge_machine_ports: tuple[HostPort, ...] = ()

    @classmethod
    def of(cls, pod: Any) -> PodInfo:
        shared = host_network_ports(pod)
        return cls(
            pod=pod,
            key=pod_key(pod),
            requests=pod_requests(pod),
            non_zero_requests=pod_requests(pod, non_zero=True),
            ports=host_ports(pod),
            owner_uid=controller_uid(pod),
            host_network_ports=shared,
            bridge_machine_ports=shared if pod.spec.host_network else (),
        )

    def machine_ports(self, on_host_node: bool) -> tuple[HostPort, ...]:
        """The ports the pod binds in the machine's network on a host node
        (True) or a bridge node (False)."""
        return self.host_network_ports if on_host_node else self.bridge_machine_ports


# (protocol, port) -> host ip -> number of pods using it
PortTally = dict[tuple[str, int], dict[str, int]]
# (machineID, bootID): kubelets on one machine, in one boot, report the same.
MachineKey = tuple[str, str]


def machine_key(node: Any) -> MachineKey | None:
    """The machine the node's kubelet runs on, from ``status.nodeInfo``;
    None when machineID or bootID is missing (the node is a machine of its
    own: two such nodes are never taken for one machine)."""
    system = node.status.node_info
    if system.machine_id and system.boot_id:
        return (system.machine_id, system.boot_id)
    return None


@dataclass(eq=False)
class MachinePorts:
    """The ports bound in one machine's own network by the pods of its
    nodes (each node's ``machine_tally()``: every pod's container ports on
    a host node, hostNetwork pods' on a bridge node), shared by those
    nodes' ``NodeInfo`` (attached by the cache, ``NodeInfo.join_machine``).
    ``nodes`` names them; the cache drops the object when none is left."""

    key: MachineKey
    used: PortTally = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)


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
    used_ports: PortTally = field(default_factory=dict)
    # The same for every pod's host_network_ports (see the module docstring).
    used_container_ports: PortTally = field(default_factory=dict)
    # The same for every pod's bridge_machine_ports (hostNetwork pods).
    used_bridge_machine_ports: PortTally = field(default_factory=dict)
    owner_counts: dict[str, int] = field(default_factory=dict)
    # The node runs pods in its own network (pinnace.io/pod-network: host).
    pods_on_host_network: bool = False
    # The machine the node's kubelet runs on (None: unknown, its own).
    machine_key: MachineKey | None = None
    # The shared tally of that machine, while the cache has the node
    # attached to it; None: the node counts its own ports alone.
    machine: MachinePorts | None = None

    @classmethod
    def for_node(cls, node: Any) -> NodeInfo:
        info = cls(node.metadata.name)
        info.set_node(node)
        return info

    def set_node(self, node: Any) -> None:
        self.node = node
        self.allocatable = node_allocatable(node)
        self.taints = effective_taints(node)
        network = node.metadata.annotations.get(ANNOTATION_POD_NETWORK, "")
        host = network == POD_NETWORK_HOST
        if host != self.pods_on_host_network:
            # The machine tally holds this node's ports by its mode: recount.
            machine = self.machine
            self.join_machine(None)
            self.pods_on_host_network = host
            self.join_machine(machine)
        self.machine_key = machine_key(node)

    def machine_tally(self) -> PortTally:
        """What this node's pods bind in the machine's network, by the
        node's mode: all container ports on a host node, hostNetwork pods'
        on a bridge node."""
        if self.pods_on_host_network:
            return self.used_container_ports
        return self.used_bridge_machine_ports

    def join_machine(self, machine: MachinePorts | None) -> None:
        """Count this node's ``machine_tally()`` in machine's tally (None:
        in its own only), taking it out of the machine it counted in before."""
        if machine is self.machine:
            return
        if self.machine is not None:
            _add_tally(self.machine.used, self.machine_tally(), -1)
            self.machine.nodes.discard(self.name)
        self.machine = machine
        if machine is not None:
            _add_tally(machine.used, self.machine_tally(), 1)
            machine.nodes.add(self.name)

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
        _count_ports(self.used_ports, info.ports, sign)
        _count_ports(self.used_container_ports, info.host_network_ports, sign)
        _count_ports(self.used_bridge_machine_ports, info.bridge_machine_ports, sign)
        if self.machine is not None:
            machine_ports = info.machine_ports(self.pods_on_host_network)
            _count_ports(self.machine.used, machine_ports, sign)
        if info.owner_uid:
            count = self.owner_counts.get(info.owner_uid, 0) + sign
            if count:
                self.owner_counts[info.owner_uid] = count
            else:
                self.owner_counts.pop(info.owner_uid, None)

    def ports_clash(self, pod: PodInfo) -> bool:
        """Whether a port pod would take here is used (see the module
        docstring): on a host node, its container ports against the
        machine's tally; on a bridge node, its hostPorts against this
        node's and, for a hostNetwork pod, its ports against the machine's.
        A dict lookup per wanted port per tally."""
        host = self.pods_on_host_network
        if not host and _any_clash(pod.ports, self.used_ports):
            return True
        return _any_clash(pod.machine_ports(host), self._machine_used())

    def _machine_used(self) -> PortTally:
        """The ports bound on this node's machine (its own, unattached)."""
        return self.machine.used if self.machine is not None else self.machine_tally()


def port_conflict(used: PortTally, hp: HostPort) -> bool:
    """Whether hp clashes with a port in used: same protocol and port, and
    the same ip or either side on 0.0.0.0 (Kubernetes' HostPortInfo)."""
    ips = used.get((hp.protocol, hp.port))
    if not ips:
        return False
    if hp.ip == DEFAULT_HOST_IP:
        return True
    return hp.ip in ips or DEFAULT_HOST_IP in ips


def _any_clash(ports: tuple[HostPort, ...], used: PortTally) -> bool:
    return any(port_conflict(used, hp) for hp in ports)


def _count_ports(used: PortTally, ports: tuple[HostPort, ...], sign: int) -> None:
    for hp in ports:
        _bump(used, (hp.protocol, hp.port), hp.ip, sign)


def _add_tally(used: PortTally, other: PortTally, sign: int) -> None:
    """Add (sign 1) or take out (sign -1) every count of other."""
    for protocol_port, ips in other.items():
        for ip, count in ips.items():
            _bump(used, protocol_port, ip, sign * count)


def _bump(used: PortTally, protocol_port: tuple[str, int], ip: str, delta: int) -> None:
    ips = used.setdefault(protocol_port, {})
    count = ips.get(ip, 0) + delta
    if count > 0:
        ips[ip] = count
    else:
        ips.pop(ip, None)
        if not ips:
            del used[protocol_port]

"""The scheduler's view of nodes and the pods on them (Kubernetes'
``internal/cache``).

Pods enter the cache two ways:

* **observed**: the informer saw the pod with ``spec.nodeName`` set
  (``add_pod`` / ``update_pod`` / ``remove_pod``);
* **assumed**: the scheduler chose a node and counts the pod there at once
  (``assume_pod``), before the bind request returns, so the next pod is
  scheduled against the right free capacity while binding goes on.

An assumed pod ends one of three ways:

* the informer shows it bound: ``add_pod`` confirms it (on the node the
  API says, should that differ);
* the bind fails: ``forget_pod`` takes it back out;
* the bind succeeded (``finish_binding``) but the informer never shows it
  within ``assumed_ttl`` seconds: ``cleanup_expired`` drops it so lost
  capacity comes back. Until ``finish_binding`` an assumed pod never expires.

Terminal pods (Succeeded / Failed) use nothing: ``add_pod`` / ``update_pod``
treat them as removed. The cache belongs to one event loop; no locking.

The nodes of one machine share one tally of the ports bound in the
machine's own network (nodeinfo.py ``MachinePorts``, one per
``machine_key``): every pod's container ports on a host node
(``pinnace.io/pod-network: host``), hostNetwork pods' ports on a bridge
node. ``add_node`` / ``update_node`` attach every node with a machine key
to its machine's tally (bridge and host alike), recount it there when the
annotation changes and move it when the machine key changes; pods placed
or unplaced on it count there through ``NodeInfo.add_pod`` /
``remove_pod``. A deleted node whose pods are still counted stays attached
(their processes still hold the ports on the machine) until its last pod
goes; a tally no node is attached to is dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pinnace.machinery.podutil import is_pod_terminal
from scheduler.nodeinfo import MachineKey, MachinePorts, NodeInfo, PodInfo, pod_key

log = logging.getLogger(__name__)

DEFAULT_ASSUMED_TTL = 30.0


@dataclass
class _PodState:
    info: PodInfo
    node: str
    assumed: bool = False
    deadline: float | None = None  # set by finish_binding, for assumed pods


class Cache:
    def __init__(
        self,
        *,
        assumed_ttl: float = DEFAULT_ASSUMED_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.assumed_ttl = assumed_ttl
        self._clock = clock
        self._nodes: dict[str, NodeInfo] = {}
        self._pods: dict[str, _PodState] = {}
        self._machines: dict[MachineKey, MachinePorts] = {}
        self._schedulable: list[NodeInfo] | None = None  # memo of node_infos()

    # ---- reads -----------------------------------------------------------------

    def node_infos(self) -> list[NodeInfo]:
        """Every node the API has, sorted by name (do not mutate)."""
        if self._schedulable is None:
            self._schedulable = [
                self._nodes[n] for n in sorted(self._nodes) if self._nodes[n].node is not None
            ]
        return self._schedulable

    def node_info(self, name: str) -> NodeInfo | None:
        return self._nodes.get(name)

    def is_assumed(self, key: str) -> bool:
        state = self._pods.get(key)
        return state is not None and state.assumed

    def pod_node(self, key: str) -> str | None:
        state = self._pods.get(key)
        return state.node if state else None

    def machine_ports(self, key: MachineKey) -> MachinePorts | None:
        """The shared port tally of the nodes of machine key (do not mutate)."""
        return self._machines.get(key)

    def __len__(self) -> int:
        return len(self._pods)

    # ---- nodes -----------------------------------------------------------------

    def add_node(self, node: Any) -> None:
        name = node.metadata.name
        info = self._nodes.get(name)
        if info is None:
            self._nodes[name] = NodeInfo.for_node(node)
            self._schedulable = None
        else:
            if info.node is None:
                self._schedulable = None
            info.set_node(node)
        self._sync_machine(self._nodes[name])

    update_node = add_node

    def remove_node(self, name: str) -> None:
        info = self._nodes.get(name)
        if info is None:
            return
        self._schedulable = None
        if info.pods:
            info.node = None  # keep the pods' accounting until they go
        else:
            self._drop_node(info)

    # ---- pods ------------------------------------------------------------------

    def assume_pod(self, info: PodInfo, node: str) -> None:
        if info.key in self._pods:
            raise ValueError(f"pod {info.key} is already in the cache")
        self._place(info, node)
        self._pods[info.key] = _PodState(info, node, assumed=True)

    def finish_binding(self, key: str) -> None:
        state = self._pods.get(key)
        if state is not None and state.assumed:
            state.deadline = self._clock() + self.assumed_ttl

    def forget_pod(self, key: str) -> None:
        state = self._pods.get(key)
        if state is not None and state.assumed:
            self._unplace(key, state.node)
            del self._pods[key]

    def add_pod(self, pod: Any) -> None:
        """The informer shows pod bound (confirms an assumed pod)."""
        key = pod_key(pod)
        if is_pod_terminal(pod):
            self.remove_pod(pod)
            return
        state = self._pods.get(key)
        node = pod.spec.node_name
        if state is not None:
            self._unplace(key, state.node)
        info = PodInfo.of(pod)
        self._place(info, node)
        self._pods[key] = _PodState(info, node)

    def update_pod(self, pod: Any) -> None:
        self.add_pod(pod)

    def remove_pod(self, pod: Any) -> None:
        key = pod_key(pod)
        state = self._pods.pop(key, None)
        if state is not None:
            self._unplace(key, state.node)

    def cleanup_expired(self) -> list[str]:
        """Drop assumed pods whose bind finished more than assumed_ttl ago
        without the informer confirming them; returns their keys."""
        now = self._clock()
        expired = [
            key
            for key, s in self._pods.items()
            if s.assumed and s.deadline is not None and s.deadline <= now
        ]
        for key in expired:
            log.warning("assumed pod %s expired: its binding was never observed", key)
            self.forget_pod(key)
        return expired

    # ---- helpers ---------------------------------------------------------------

    def _place(self, info: PodInfo, node: str) -> None:
        ni = self._nodes.get(node)
        if ni is None:
            ni = self._nodes[node] = NodeInfo(node)
        ni.add_pod(info)

    def _unplace(self, key: str, node: str) -> None:
        ni = self._nodes.get(node)
        if ni is None:
            return
        ni.remove_pod(key)
        if ni.node is None and not ni.pods:
            self._drop_node(ni)

    def _drop_node(self, info: NodeInfo) -> None:
        self._move_to_machine(info, None)
        del self._nodes[info.name]

    def _sync_machine(self, info: NodeInfo) -> None:
        """Count the node's machine ports (``NodeInfo.machine_tally``) in its
        machine's tally; a node without a machine key counts in its own."""
        key = info.machine_key
        if key is None:
            self._move_to_machine(info, None)
            return
        machine = self._machines.get(key)
        if machine is None:
            machine = self._machines[key] = MachinePorts(key)
        self._move_to_machine(info, machine)

    def _move_to_machine(self, info: NodeInfo, new: MachinePorts | None) -> None:
        old = info.machine
        info.join_machine(new)
        if old is not None and old is not new and not old.nodes:
            del self._machines[old.key]

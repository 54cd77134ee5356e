"""The faults of the chaos suite, one row of ``FAULTS`` each, and the
injector that does one and undoes it.

| fault              | done by                                   | undone by                     |
|--------------------|-------------------------------------------|-------------------------------|
| kill <component>   | SIGKILL of its process (a crash)          | start it again                |
| pause <component>  | SIGSTOP of its process group (a hang:     | SIGCONT                       |
|                    | its sockets stay open, nothing answers)   |                               |
| partition node     | SIGSTOP of the node's kubelet process     | SIGCONT                       |
|                    | only, never its pods, until the node is   |                               |
|                    | not Ready and its pods are evicted        |                               |

for each component kind of ``COMPONENTS``: apiserver, controller-manager,
scheduler, kubelet, etcd (a member). A kubelet's pods run in sessions of
their own, so neither pausing nor killing the kubelet stops them.

"partition node" is this suite's stand-in for a network partition: the
node's kubelet goes silent (no lease renewals, no status) while its pods
keep running, which is what the control plane sees of a node cut off from
it. It is not a link cut: the pods can still reach everything, and the
kubelet does not see the apiserver go away. Real link cuts between network
namespaces are tests/integration/partition/'s business.

After undoing a fault the injector waits until the component is whole
again (an apiserver or a controller-manager or scheduler serving its
health check, an etcd member healthy, a node Ready), so faults never
overlap: at most one component is down at a time, never a majority of
etcd nor both apiservers.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.localcluster.etcd import EtcdServer
from pinnace.localcluster.process import Component
from pinnace.machinery import errors
from pinnace.machinery.conditions import is_true
from pinnace.machinery.podutil import is_pod_terminal
from pinnace.machinery.wellknown import NODE_READY
from tests.chaos.history import FaultRecord

__all__ = ["COMPONENTS", "FAULTS", "Fault", "Injector", "fault_targets"]

COMPONENTS = ("apiserver", "controller-manager", "scheduler", "kubelet", "etcd")
NODE = "node"
KILL, PAUSE, PARTITION = "kill", "pause", "partition"


@dataclass(frozen=True)
class Fault:
    action: str  # KILL, PAUSE or PARTITION
    component: str  # one of COMPONENTS, or NODE

    @property
    def name(self) -> str:
        return f"{self.action} {self.component}"


FAULTS: tuple[Fault, ...] = (
    *(Fault(action, c) for c in COMPONENTS for action in (KILL, PAUSE)),
    Fault(PARTITION, NODE),
)
# A fault the baseline run "injects": nothing, for the same time.
NONE = Fault("none", "none")


def fault_targets(cluster: LocalCluster) -> dict[str, list[str]]:
    """The names each component kind's faults choose from."""
    out: dict[str, list[str]] = {c: [] for c in COMPONENTS}
    for comp in cluster.components:
        for kind in COMPONENTS:
            if comp.name == kind or comp.name.startswith(f"{kind}-"):
                out[kind].append(comp.name)
    out["etcd"] = [m.name for m in cluster.etcd_members]
    out[NODE] = list(cluster.node_names)
    return out


class Injector:
    """Does one fault at a time on ``cluster`` and waits until it is undone."""

    def __init__(
        self,
        cluster: LocalCluster,
        client: Client,
        namespace: str,
        *,
        now: Callable[[], float],
        repair_timeout: float = 60.0,
    ) -> None:
        self.cluster = cluster
        self.client = client
        self.namespace = namespace
        self.now = now
        self.repair_timeout = repair_timeout
        self._undo: Callable[[], None] | None = None
        self._waited = threading.Event()  # never set: a clock for holds

    def run(
        self, fault: Fault, target: str, hold: float, during: Callable[[], None]
    ) -> FaultRecord:
        """Inject ``fault`` on ``target``, keep it ``hold`` seconds (a
        partition: until the node's pods are evicted) while ``during`` (the
        round's operations) runs beside it, undo it, wait until the target
        is whole again and until ``during`` is done (its operations have
        deadlines of their own; they never make a fault last longer)."""
        start = self.now()
        ends = time.monotonic() + hold
        failed: list[BaseException] = []

        def operations() -> None:
            try:
                during()
            except BaseException as e:  # re-raised by run()
                failed.append(e)

        ops = threading.Thread(target=operations, name="operations-during-fault", daemon=True)
        self._inject(fault, target)
        try:
            ops.start()
            if fault.action == PARTITION:
                self._wait(
                    lambda: self._evicted(target), f"{target} not Ready and its pods evicted"
                )
            else:
                self._waited.wait(max(0.0, ends - time.monotonic()))
        finally:
            self.undo()
        end = self.now()
        self._repaired(fault, target)
        ops.join()
        if failed:
            raise failed[0]
        return FaultRecord(fault.name, target, start, end)

    def undo(self) -> None:
        """Undo the fault in progress, if any (also when a run fails)."""
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    # ---- doing and undoing ----------------------------------------------------------

    def _process(self, fault: Fault, target: str) -> Component | EtcdServer:
        if fault.component == "etcd":
            return next(m for m in self.cluster.etcd_members if m.name == target)
        if fault.component == NODE:
            return self.cluster.component(f"kubelet-{target}")
        return self.cluster.component(target)

    def _inject(self, fault: Fault, target: str) -> None:
        if fault.action == "none":
            return
        proc = self._process(fault, target)
        if fault.action == KILL:
            proc.kill()
            self._undo = lambda: _start(proc)
        elif fault.action == PAUSE:
            proc.pause()
            self._undo = proc.resume
        else:  # PARTITION: the kubelet's own process, not its group
            pid = proc.pid
            assert pid is not None, f"{target}'s kubelet is not running"
            os.kill(pid, signal.SIGSTOP)
            self._undo = lambda: os.kill(pid, signal.SIGCONT)

    def _repaired(self, fault: Fault, target: str) -> None:
        if fault.action == "none":
            return
        proc = self._process(fault, target)
        timeout = self.repair_timeout
        if isinstance(proc, EtcdServer):
            proc.wait_ready(timeout)
        elif fault.component == "apiserver":
            index = [c.name for c in self.cluster.components].index(target)
            port = self.cluster.api_ports[index][0]
            creds = self.cluster.client_config().channel_credentials()
            proc.wait_serving(f"127.0.0.1:{port}", timeout, creds)
        elif fault.component in ("controller-manager", "scheduler"):
            health = proc.args[proc.args.index("--health-listen") + 1]
            proc.wait_serving(health, timeout)
        else:  # a kubelet, a node
            node = target.removeprefix("kubelet-")
            self._wait(lambda: proc.running() and self._ready(node), f"node {node} Ready")

    # ---- conditions -------------------------------------------------------------------

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.repair_timeout
        while True:
            try:
                if condition():
                    return
            except (errors.Unavailable, errors.Timeout, errors.InternalError):
                pass  # the API is busy with the fault: ask again
            if time.monotonic() > deadline:
                raise TimeoutError(f"not within {self.repair_timeout}s: {what}")
            self._waited.wait(0.1)

    def _ready(self, node: str) -> bool:
        return is_true(self.client.nodes().get(node).status.conditions, NODE_READY)

    def _evicted(self, node: str) -> bool:
        """The node is not Ready, and every pod of the run's namespace on it
        that is not a DaemonSet's is being deleted or finished."""
        if self._ready(node):
            return False
        pods = self.client.pods(self.namespace).list(field_selector=f"spec.nodeName={node}").items
        return all(
            p.metadata.deletion_timestamp
            or is_pod_terminal(p)
            or any(r.kind == "DaemonSet" for r in p.metadata.owner_references)
            for p in pods
        )


def _start(proc: Component | EtcdServer) -> None:
    proc.start()

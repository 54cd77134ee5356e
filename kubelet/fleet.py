"""Many hollow kubelets in one process (``pinnace-kubelet --runtime hollow
--nodes N --node-name-prefix hollow-``), as Kubernetes' kubemark runs
hollow nodes and kwok simulates them: for scale tests of the control plane.

Each hollow node is the real kubelet's own parts over the hollow runtime
(hollow.py): a NodeManager registers its Node, writes its status and renews
its Lease (node.py); a PodManager admits the pods bound to it and runs a
PodWorker per pod, which reports the pod's status and finishes its
deletion through the API exactly as a kubelet's does (manager.py,
podworker/). What the nodes of one process share:

* one API connection (one AsyncClient);
* one pod informer, watching every bound pod (``spec.nodeName!=``) and
  indexed by node; each event goes to the node it names (``NodePods``, a
  dict lookup), and pods of nodes not in this fleet are ignored;
* one Service informer (the containers' Service variables);
* one kubelet server: every Node names its port, and logs and exec find
  the pod on whichever node of the fleet runs it;
* the machine's facts, read once; the hollow runtime.

Node ``i`` (0 ≤ i < N) is named ``<prefix><i>``, zero-padded to the width
of N-1 (``hollow-000`` … ``hollow-999``), with its own directory
``<root-dir>/<name>``. At most ``REGISTER_CONCURRENCY`` nodes register at
a time; a node's lease and status loops start when it is registered, so
their periods are spread over the registration (1,000 nodes with 10 s
periods renew at about 100 leases/s, not in bursts).

Stop: the loops and pod workers of every node end; hollow containers are
stopped only with ``kill_pods_on_exit``, like the kubelet's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from kubelet.app import machine_of, start_server
from kubelet.cgroups import Cgroups
from kubelet.context import Config, Context
from kubelet.hollow import HollowRuntime
from kubelet.manager import PodManager
from kubelet.network import HostNetwork
from kubelet.node import Machine, NodeManager
from kubelet.paths import RootPaths
from kubelet.podfiles import secure_root, warn_untraversable
from kubelet.podworker import PodWorker
from kubelet.server import KubeletServer
from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.client.informer import DeletedFinalStateUnknown, Informer

__all__ = ["NODE_INDEX", "HollowFleet", "NodePods", "fleet_node_names"]

log = logging.getLogger(__name__)

NODE_INDEX = "nodeName"
# Nodes registering at once (each is a few API calls).
REGISTER_CONCURRENCY = 32
# How long start() waits for the Service informer's first list (seconds).
SERVICES_SYNC_WAIT = 5.0


def fleet_node_names(prefix: str, count: int) -> list[str]:
    """``count`` node names: ``prefix`` and an index padded to one width."""
    width = len(str(max(count - 1, 0)))
    return [f"{prefix}{i:0{width}d}" for i in range(count)]


def _node_index(pod: Any) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []


Handler = tuple[
    Callable[[Any], None] | None,
    Callable[[Any, Any], None] | None,
    Callable[[Any], None] | None,
]


class NodePods:
    """One node's share of the fleet's pod informer: a PodSource (manager.py)
    and its store, holding only the pods bound to ``node``."""

    def __init__(self, informer: Informer, node: str) -> None:
        self.informer = informer
        self.node = node
        self._handlers: list[Handler] = []

    @property
    def store(self) -> NodePods:
        return self

    def get_by_name(self, namespace: str, name: str) -> Any | None:
        pod = self.informer.store.get_by_name(namespace, name)
        return pod if pod is not None and pod.spec.node_name == self.node else None

    def list(self) -> list[Any]:
        return self.informer.store.by_index(NODE_INDEX, self.node)

    async def wait_synced(self, timeout: float | None = None) -> bool:
        return await self.informer.wait_synced(timeout)

    def add_handler(
        self,
        on_add: Callable[[Any], None] | None = None,
        on_update: Callable[[Any, Any], None] | None = None,
        on_delete: Callable[[Any], None] | None = None,
    ) -> Handler:
        """Register callbacks; this node's cached pods go to ``on_add`` now."""
        handler = (on_add, on_update, on_delete)
        self._handlers.append(handler)
        if on_add is not None:
            for pod in self.list():
                on_add(pod)
        return handler

    def added(self, pod: Any) -> None:
        for on_add, _, _ in self._handlers:
            if on_add is not None:
                on_add(pod)

    def updated(self, old: Any, new: Any) -> None:
        for _, on_update, _ in self._handlers:
            if on_update is not None:
                on_update(old, new)

    def deleted(self, obj: Any) -> None:
        for _, _, on_delete in self._handlers:
            if on_delete is not None:
                on_delete(obj)


@dataclasses.dataclass
class HollowNode:
    """One node of the fleet: its context and the kubelet parts that run it."""

    ctx: Context
    pods: NodePods
    manager: PodManager
    recorder: EventRecorder
    node: NodeManager | None = None


class HollowFleet:
    """``names`` hollow kubelets sharing one process (see the module docstring).
    ``config`` is every node's but for ``node_name`` and ``root_dir``
    (``<root_dir>/<name>``)."""

    def __init__(
        self, config: Config, names: list[str], *, kill_pods_on_exit: bool = False
    ) -> None:
        self.config = config
        self.names = names
        self.kill_pods_on_exit = kill_pods_on_exit
        self.nodes: dict[str, HollowNode] = {}
        self.client: AsyncClient | None = None
        self.pods: Informer | None = None
        self.server: KubeletServer | None = None
        self.runtime = HollowRuntime()
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    async def start(self) -> None:
        cfg = self.config
        await asyncio.to_thread(cfg.root_dir.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(warn_untraversable, cfg.root_dir)
        self.client = AsyncClient(cfg.apiserver, kubeconfig=cfg.kubeconfig)
        self.pods = Informer(
            self.client,
            "pods",
            field_selector="spec.nodeName!=",
            indexers={NODE_INDEX: _node_index},
            name="pods@hollow-fleet",
        )
        self.pods.add_handler(self._on_add, self._on_update, self._on_delete)
        services = Informer(self.client, "services", name="services@hollow-fleet")
        self._spawn(self.pods.run(), "pod-informer")
        self._spawn(services.run(), "service-informer")
        self.server, port = await start_server(cfg, self, f"{self.names[0]}…{self.names[-1]}")
        machine = await machine_of(cfg)
        for name in self.names:
            self.nodes[name] = self._node(name, services)
        if not await services.wait_synced(timeout=SERVICES_SYNC_WAIT):
            log.warning("services not listed after %.0fs; starting pods anyway", SERVICES_SYNC_WAIT)
        slots = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def bring_up(hn: HollowNode) -> None:
            async with slots:
                await self._bring_up(hn, port, machine)

        await asyncio.gather(*(bring_up(hn) for hn in self.nodes.values()))
        self.ready.set()
        log.info("%d hollow nodes ready (%s … %s)", len(self.names), self.names[0], self.names[-1])

    def _node(self, name: str, services: Informer) -> HollowNode:
        assert self.client is not None and self.pods is not None
        cfg = dataclasses.replace(self.config, node_name=name, root_dir=self.config.root_dir / name)
        recorder = EventRecorder(self.client, "kubelet", host=name)
        ctx = Context(
            config=cfg,
            client=self.client,
            recorder=recorder,
            runtime=self.runtime,
            cgroups=Cgroups(),
            paths=RootPaths(cfg.root_dir.resolve()),
            network=HostNetwork(cfg.node_ip),
            services=services,
        )
        pods = NodePods(self.pods, name)
        return HollowNode(ctx, pods, PodManager(ctx, pods), recorder)

    async def _bring_up(self, hn: HollowNode, port: int, machine: Machine) -> None:
        """Register one node, start its heartbeats, then its pods."""
        cfg = hn.ctx.config
        await asyncio.to_thread(secure_root, hn.ctx.paths, cfg.local_volumes)
        hn.recorder.start()
        hn.node = NodeManager(hn.ctx, kubelet_port=port, machine=machine)
        await hn.node.register()
        self._spawn(hn.node.lease_loop(), f"lease-{cfg.node_name}")
        self._spawn(hn.node.status_loop(), f"node-status-{cfg.node_name}")
        await hn.manager.start()

    # ---- the shared informer's events, each to its node ------------------------------

    def _view(self, pod: Any) -> NodePods | None:
        hn = self.nodes.get(pod.spec.node_name)
        return hn.pods if hn is not None else None

    def _on_add(self, pod: Any) -> None:
        if (view := self._view(pod)) is not None:
            view.added(pod)

    def _on_update(self, old: Any, new: Any) -> None:
        if (view := self._view(new)) is not None:
            view.updated(old, new)

    def _on_delete(self, obj: Any) -> None:
        pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        if (view := self._view(pod)) is not None:
            view.deleted(obj)

    # ---- the kubelet server's lookups (PodFinder) --------------------------------------

    def find(self, namespace: str, name: str) -> PodWorker | None:
        """The worker of pod ``namespace/name`` on whichever node runs it."""
        pod = self.pods.store.get_by_name(namespace, name) if self.pods is not None else None
        hn = self.nodes.get(pod.spec.node_name) if pod is not None else None
        if hn is not None:
            return hn.manager.find(namespace, name)
        # Deleted from the cache but still stopping: look everywhere.
        for other in self.nodes.values():
            worker = other.manager.find(namespace, name)
            if worker is not None:
                return worker
        return None

    # ---- lifecycle -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(
            *(
                hn.manager.stop(kill_containers=self.kill_pods_on_exit)
                for hn in self.nodes.values()
            ),
            return_exceptions=True,
        )
        if self.server is not None:
            await self.server.stop()
        await asyncio.gather(
            *(hn.recorder.stop(timeout=2) for hn in self.nodes.values()), return_exceptions=True
        )
        if self.client is not None:
            await self.client.close()

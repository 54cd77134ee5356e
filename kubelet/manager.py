"""The pods bound to this node: one PodWorker each, admission, orphans, housekeeping.

The pods come from a ``PodSource``: the kubelet's informer, watching only
``spec.nodeName=<this node>``, or one node's share of a hollow fleet's
informer (fleet.py). Its handlers
do no I/O: they admit a new pod (pure, admission.py) and hand every object
to its worker (the podworker package), keyed by uid, so a pod deleted and created
again under the same name gets a new worker.

On start, after the first list: pods are admitted in creation order (as
the kubelet's HandlePodAdditions), then pod directories under the root
dir that belong to no pod bound here are orphans: their processes are
killed and the directories removed. A pod whose directory existed at
start was admitted before (by an earlier kubelet process) and is not
admitted again. The pod directories are listed once, at start, in a
thread, like every other file-system access here.

Housekeeping every ``--housekeeping-period``: rotate the log files of
running containers that grew past the size cap (in a thread), and remove
the node-local volume directories whose PersistentVolume is gone
(volumes.py).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kubelet.admission import admit
from kubelet.context import Context
from kubelet.logs import rotate_if_needed
from kubelet.logtimes import LogTimes
from kubelet.paths import PodPaths
from kubelet.podworker import PodWorker
from kubelet.runtime import Instance, Runtime
from kubelet.volumes import cleanup_local_volumes
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.informer import DeletedFinalStateUnknown
from pinnace.machinery import wellknown
from pinnace.machinery.podutil import is_pod_terminal

__all__ = ["PodManager", "PodSource", "PodStore"]

log = logging.getLogger(__name__)


class PodStore(Protocol):
    """The cached pods of this node."""

    def get_by_name(self, namespace: str, name: str) -> Any | None: ...

    def list(self) -> list[Any]: ...


class PodSource(Protocol):
    """Where the pods bound to this node come from (an Informer, or a fleet's node view)."""

    @property
    def store(self) -> PodStore: ...

    async def wait_synced(self, timeout: float | None = None) -> bool: ...

    def add_handler(
        self,
        on_add: Callable[[Any], None] | None = None,
        on_update: Callable[[Any, Any], None] | None = None,
        on_delete: Callable[[Any], None] | None = None,
    ) -> Any: ...


class PodManager:
    def __init__(self, ctx: Context, informer: PodSource) -> None:
        self.ctx = ctx
        self.informer = informer
        self.workers: dict[str, PodWorker] = {}
        # Pods whose nodeSelector did not match our cached labels: the labels
        # may be older than the scheduler's view, so read the Node once more
        # before rejecting (a label added just before the bind).
        self._rechecked: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Pod directories found at start: pods an earlier kubelet admitted.
        self._previous_uids: set[str] = set()
        self.log_times = LogTimes()
        # Rotation and sampling (both in threads) never interleave on one file.
        self._log_lock = threading.Lock()

    # ---- informer handlers (no I/O) ----------------------------------------------------

    def on_add(self, pod: pod_pb2.Pod) -> None:
        self._upsert(pod)

    def on_update(self, old: pod_pb2.Pod, new: pod_pb2.Pod) -> None:
        self._upsert(new)

    def on_delete(self, obj: pod_pb2.Pod | DeletedFinalStateUnknown) -> None:
        pod: pod_pb2.Pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        worker = self.workers.get(pod.metadata.uid)
        if worker is not None:
            worker.update(None)

    def _upsert(self, pod: pod_pb2.Pod) -> None:
        uid = pod.metadata.uid
        worker = self.workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        rejection = None
        if self._needs_admission(pod):
            rejection = admit(
                pod,
                node_labels=self.ctx.node_labels,
                allocatable=self.ctx.allocatable,
                admitted=[w.last_pod for w in self.workers.values() if w.active],
                host_network_ports=self.ctx.pod_network == wellknown.POD_NETWORK_HOST,
            )
            if (
                rejection is not None
                and rejection.reason == "NodeAffinity"
                and uid not in self._rechecked
            ):
                self._rechecked.add(uid)
                task = asyncio.get_running_loop().create_task(self._recheck_labels(pod))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return
            if rejection is not None:
                log.info(
                    "pod %s/%s rejected: %s",
                    pod.metadata.namespace,
                    pod.metadata.name,
                    rejection.message,
                )
                self.ctx.recorder.event(pod, "Warning", rejection.reason, rejection.message)
        worker = PodWorker(self.ctx, pod, rejection=rejection, on_done=self._done)
        self.workers[uid] = worker
        worker.start()

    async def _recheck_labels(self, pod: pod_pb2.Pod) -> None:
        """Refresh the node's labels from the API, then admit the pod again."""
        try:
            node = await self.ctx.client.nodes().get(self.ctx.config.node_name)
            self.ctx.node_labels = dict(node.metadata.labels)
        except Exception as e:
            log.warning("could not re-read node labels: %s", e)
        current = self.informer.store.get_by_name(pod.metadata.namespace, pod.metadata.name)
        if current is not None and current.metadata.uid == pod.metadata.uid:
            self._upsert(current)

    def _needs_admission(self, pod: pod_pb2.Pod) -> bool:
        if is_pod_terminal(pod) or pod.metadata.deletion_timestamp:
            return False
        if pod.status.container_statuses or pod.status.init_container_statuses:
            return False  # an earlier kubelet admitted and ran it
        return pod.metadata.uid not in self._previous_uids

    def _done(self, uid: str) -> None:
        self.workers.pop(uid, None)
        self._rechecked.discard(uid)

    # ---- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Admit the pods already bound here, clean up orphans, then follow events."""
        await self.informer.wait_synced()
        self._previous_uids = set(await asyncio.to_thread(self.ctx.paths.known_pod_uids))
        pods = sorted(
            self.informer.store.list(),
            key=lambda p: (p.metadata.creation_timestamp, p.metadata.name),
        )
        for pod in pods:
            self._upsert(pod)
        await self.cleanup_orphans()
        self.informer.add_handler(
            on_add=self.on_add, on_update=self.on_update, on_delete=self.on_delete
        )

    async def cleanup_orphans(self) -> None:
        """Kill the processes of pod dirs that belong to no pod here; remove
        the dirs and the network sandboxes of pods that are not here."""
        for ns in await self.ctx.network.cleanup(set(self.workers)):
            log.info("removed the network namespace %s of a pod that is gone", ns)
        for uid in await asyncio.to_thread(self.ctx.paths.known_pod_uids):
            if uid in self.workers:
                continue
            paths = self.ctx.paths.pod(uid)
            info, running = await asyncio.to_thread(_orphan, self.ctx.runtime, paths)
            killed = sum(self.ctx.runtime.signal(inst, signal.SIGKILL) for inst in running)
            log.info(
                "orphaned pod dir %s (%s/%s): killed %d process group(s), removing it",
                uid,
                info.get("namespace", "?"),
                info.get("name", "?"),
                killed,
            )
            await asyncio.to_thread(shutil.rmtree, paths.dir, True)
        await self.sweep_cgroups()

    async def sweep_cgroups(self) -> None:
        """Remove the cgroups of pods whose directory is gone (cgroups.py)."""
        if not self.ctx.cgroups.hierarchies:
            return
        keep = set(await asyncio.to_thread(self.ctx.paths.known_pod_uids))
        for cg in await asyncio.to_thread(self.ctx.cgroups.sweep, keep):
            log.info("removed cgroup %s of a pod that is gone", cg)

    async def stop(self, *, kill_containers: bool = False, grace: float = 5.0) -> None:
        """Stop every worker; with ``kill_containers`` also stop every container."""
        workers = list(self.workers.values())
        for w in workers:
            await w.stop()
        if not kill_containers:
            return
        rt = self.ctx.runtime
        running = [
            cs.instance
            for w in workers
            for cs in w.containers.values()
            if cs.instance is not None and cs.instance.exit is None
        ]
        for inst in running:
            rt.signal(inst, signal.SIGTERM)
        waits = [asyncio.ensure_future(rt.wait(inst)) for inst in running]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=grace)
            for inst in running:
                if inst.exit is None:
                    rt.signal(inst, signal.SIGKILL)
            for t in pending:
                t.cancel()

    def _running_logs(self) -> list[Path]:
        """The live log files of the running containers."""
        return [
            cs.instance.log_path
            for w in list(self.workers.values())
            for cs in w.containers.values()
            if cs.instance is not None and cs.instance.exit is None and cs.instance.log_path
        ]

    async def sample_log_times(self) -> None:
        """Index the growth of the running containers' logs (logtimes.py),
        every log-times period."""
        while True:
            await asyncio.sleep(self.ctx.config.log_times_period)
            logs = self._running_logs()
            try:
                await asyncio.to_thread(self._sample_logs, logs)
            except OSError as e:
                log.warning("sampling container log sizes failed: %s", e)

    async def housekeeping(self) -> None:
        """Rotate oversized logs of running containers, every housekeeping period."""
        cfg = self.ctx.config
        while True:
            await asyncio.sleep(cfg.housekeeping_period)
            logs = self._running_logs()
            if logs:
                await asyncio.to_thread(self._rotate, logs)
            await self.sweep_cgroups()
            try:
                await self.cleanup_local_volumes()
            except Exception as e:  # an apiserver hiccup: next period
                log.warning("cleaning up local volumes failed: %s", e)

    async def cleanup_local_volumes(self) -> list[str]:
        """Remove local volume directories whose PV no longer exists."""
        local_dir = self.ctx.config.local_volumes
        names = await asyncio.to_thread(_subdirs, local_dir)
        if not names:
            return []
        pvs = await self.ctx.client.persistent_volumes().list()
        existing = {pv.metadata.name for pv in pvs.items}
        removed = await asyncio.to_thread(cleanup_local_volumes, local_dir, names, existing)
        for name in removed:
            log.info("removed the directory of deleted persistent volume %s", name)
        return removed

    def _rotate(self, paths: list[Path]) -> None:
        cfg = self.ctx.config
        with self._log_lock:
            for p in paths:
                try:
                    rotate_if_needed(p, max_size=cfg.log_max_size, max_files=cfg.log_max_files)
                except OSError as e:
                    log.warning("rotating %s failed: %s", p, e)

    def _sample_logs(self, paths: list[Path]) -> None:
        with self._log_lock:
            self.log_times.sample(paths)

    # ---- lookups (the kubelet server) -----------------------------------------------------

    def wake_all(self) -> None:
        """Every worker syncs again now (the pod network became ready)."""
        for worker in self.workers.values():
            worker.wake()

    def find(self, namespace: str, name: str) -> PodWorker | None:
        found = [
            w
            for w in self.workers.values()
            if w.last_pod.metadata.namespace == namespace and w.last_pod.metadata.name == name
        ]
        if not found:
            return None
        return max(found, key=lambda w: w.last_pod.metadata.creation_timestamp)


def _orphan(runtime: Runtime, paths: PodPaths) -> tuple[dict[str, str], list[Instance]]:
    """What an orphaned pod directory says: whose it was, and its running
    instances (blocking: call it in a thread)."""
    info = paths.read_info() or {}
    running: list[Instance] = []
    states = paths.private / "containers"
    if not states.is_dir():
        return info, running
    for ctr_dir in states.iterdir():
        for attempt in ctr_dir.iterdir():
            inst = runtime.load(attempt)
            if inst is not None and inst.exit is None:
                running.append(inst)
    return info, running


def _subdirs(path: Path) -> list[str]:
    try:
        return [p.name for p in path.iterdir() if p.is_dir()]
    except FileNotFoundError:
        return []

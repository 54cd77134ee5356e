"""The scheduling loop and the informer handlers that feed it.

Handlers (fast, no API calls) keep two structures current:

* pending pods this scheduler is responsible for go to the ``queue``:
  ``spec.schedulerName`` is ours (or empty), no ``spec.nodeName``, not being
  deleted, not Succeeded/Failed;
* bound pods and nodes go to the ``cache``; a node added or changed in a
  way that matters for scheduling, or a bound pod going away, moves the
  unschedulable pods back (``queue.move_all``).

``run()`` pops one pod at a time and ``schedule_one`` decides synchronously
(filter every node, score the feasible ones, pick the best, ties broken at
random), assumes the pod on that node in the cache and starts the bind as a
task (first ``pre_bind``: the pod's unbound claims get the chosen node and
are waited for, plugins/volume_binding.py), so the next pod is scheduled while the bind is in flight (at most
``max_binds_in_flight`` at once). A failed bind forgets the assumed pod and
requeues it with backoff, unless the pod is gone or already bound.

A pod that fits nowhere goes to the unschedulable queue, gets a Warning
``FailedScheduling`` event and ``PodScheduled=False`` (written by a task).
A successful bind records a Normal ``Scheduled`` event.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from pinnace.client.informer import DeletedFinalStateUnknown
from pinnace.machinery import errors
from pinnace.machinery.podutil import is_pod_terminal
from pinnace.machinery.wellknown import ANNOTATION_POD_NETWORK
from scheduler import metrics
from scheduler.cache import Cache
from scheduler.control import PodControl
from scheduler.failure import fit_error_message
from scheduler.framework import Framework, num_feasible_nodes_to_find
from scheduler.nodeinfo import NodeInfo, PodInfo, effective_taints, machine_key, pod_key
from scheduler.queue import QueuedPod, SchedulingQueue

log = logging.getLogger(__name__)

DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_MAX_BINDS_IN_FLIGHT = 128
EXPIRY_CHECK_PERIOD = 1.0


class Recorder(Protocol):
    def event(self, obj: Any, type: str, reason: str, message: str) -> None: ...


class PodLister(Protocol):
    def get_by_name(self, namespace: str, name: str) -> Any | None: ...


def _unwrap(obj: Any) -> Any:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def node_scheduling_changed(old: Any, new: Any) -> bool:
    """Whether a node update can let pods fit that did not before (kubelet
    heartbeats alone do not)."""
    return (
        old.spec.unschedulable != new.spec.unschedulable
        or old.metadata.labels != new.metadata.labels
        or list(old.spec.taints) != list(new.spec.taints)
        or old.status.allocatable != new.status.allocatable
        or old.status.capacity != new.status.capacity
        or list(effective_taints(old)) != list(effective_taints(new))
        or _pod_network(old) != _pod_network(new)
        or machine_key(old) != machine_key(new)
    )


def _pod_network(node: Any) -> str:
    """How the node networks its pods (decides which ports are host ports)."""
    return str(node.metadata.annotations.get(ANNOTATION_POD_NETWORK, ""))


class Scheduler:
    def __init__(
        self,
        *,
        pods: PodLister,
        cache: Cache,
        queue: SchedulingQueue,
        framework: Framework,
        control: PodControl,
        recorder: Recorder,
        scheduler_name: str = DEFAULT_SCHEDULER_NAME,
        max_binds_in_flight: int = DEFAULT_MAX_BINDS_IN_FLIGHT,
        percentage_of_nodes_to_score: int = 0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        pre_bind: Callable[[Any, str], Awaitable[None]] | None = None,
    ) -> None:
        self.pods = pods
        self.cache = cache
        self.queue = queue
        self.framework = framework
        self.control = control
        self.recorder = recorder
        self.scheduler_name = scheduler_name
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self._next_start = 0
        self._rng = rng or random.Random()
        self._clock = clock
        self.pre_bind = pre_bind
        self._bind_slots = asyncio.Semaphore(max_binds_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- which pods are ours -----------------------------------------------------------

    def responsible_for(self, pod: Any) -> bool:
        return pod.spec.scheduler_name in ("", self.scheduler_name)

    def wants_scheduling(self, pod: Any) -> bool:
        return (
            not pod.spec.node_name
            and not pod.metadata.deletion_timestamp
            and not is_pod_terminal(pod)
            and self.responsible_for(pod)
        )

    # ---- informer handlers (fast; no API calls) ----------------------------------------

    def on_pod_add(self, pod: Any) -> None:
        if pod.spec.node_name:
            self.cache.add_pod(pod)
        elif self.wants_scheduling(pod) and not self.cache.is_assumed(pod_key(pod)):
            self.queue.add(pod)

    def on_pod_update(self, old: Any, new: Any) -> None:
        key = pod_key(new)
        if new.spec.node_name:
            self.queue.delete(new)
            self.cache.update_pod(new)
            if is_pod_terminal(new) and not is_pod_terminal(old):
                self.queue.move_all("AssignedPodTerminated")
        elif self.wants_scheduling(new):
            if not self.cache.is_assumed(key):
                self.queue.update(old, new)
        else:
            self.queue.delete(new)

    def on_pod_delete(self, obj: Any) -> None:
        pod = _unwrap(obj)
        self.queue.delete(pod)
        self.cache.remove_pod(pod)
        if pod.spec.node_name:
            self.queue.move_all("AssignedPodDelete")

    def on_node_add(self, node: Any) -> None:
        self.cache.add_node(node)
        self.queue.move_all("NodeAdd")

    def on_node_update(self, old: Any, new: Any) -> None:
        self.cache.update_node(new)
        if node_scheduling_changed(old, new):
            self.queue.move_all("NodeUpdate")

    def on_node_delete(self, obj: Any) -> None:
        self.cache.remove_node(_unwrap(obj).metadata.name)

    # ---- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Schedule until cancelled; then wait for binds in flight."""
        background = [
            asyncio.create_task(self.queue.run(), name="scheduling-queue"),
            asyncio.create_task(self._expire_assumed(), name="assumed-pod-expiry"),
        ]
        metrics.is_leader.set(1)
        log.info("scheduling pods (scheduler name %r)", self.scheduler_name)
        try:
            while True:
                qp = await self.queue.pop()
                self.schedule_one(qp)
                # Let handlers and binds run between pods under a burst.
                await asyncio.sleep(0)
        finally:
            metrics.is_leader.set(0)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.drain()

    async def drain(self) -> None:
        """Wait for the binds and status writes in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def schedule_one(self, qp: QueuedPod) -> None:
        """Decide where qp goes and start binding it (or record why not)."""
        pod = qp.pod
        if not self.wants_scheduling(pod) or self.cache.is_assumed(qp.key):
            return
        cycle = self.queue.scheduling_cycle
        start = self._clock()
        try:
            info = PodInfo.of(pod)
            node, message = self.find_node(info)
        except Exception:
            log.exception("scheduling %s failed; retrying after backoff", qp.key)
            metrics.schedule_attempts.labels(result=metrics.ERROR).inc()
            self.queue.add_backoff(qp)
            return
        elapsed = self._clock() - start
        if node is None:
            metrics.schedule_attempts.labels(result=metrics.UNSCHEDULABLE).inc()
            metrics.scheduling_attempt_duration.labels(result=metrics.UNSCHEDULABLE).observe(
                elapsed
            )
            log.info("pod %s is unschedulable: %s", qp.key, message)
            self.queue.add_unschedulable(qp, cycle)
            self.recorder.event(pod, "Warning", "FailedScheduling", message)
            self._spawn(self.control.set_unschedulable(pod, message), f"status-{qp.key}")
            return
        metrics.scheduling_attempt_duration.labels(result=metrics.SCHEDULED).observe(elapsed)
        self.cache.assume_pod(info, node)
        self._spawn(self._bind(qp, info, node), f"bind-{qp.key}")

    def find_node(self, info: PodInfo) -> tuple[str | None, str]:
        """The chosen node's name, or None and the fit error message."""
        nodes = self.cache.node_infos()
        if not nodes:
            return None, fit_error_message(0, ())
        limit = num_feasible_nodes_to_find(len(nodes), self.percentage_of_nodes_to_score)
        start = self._next_start % len(nodes)
        result = self.framework.find_feasible(info, nodes, limit=limit, start=start)
        # The next pod starts where this one stopped looking (Kubernetes'
        # nextStartNodeIndex), so large clusters are covered in turn.
        self._next_start = start + len(result.feasible) + len(result.failed)
        if not result.feasible:
            return None, fit_error_message(len(nodes), result.failed.values())
        if len(result.feasible) == 1:
            return result.feasible[0].name, ""
        scores = self.framework.score(info, result.feasible)
        return self.select_host(result.feasible, scores), ""

    def select_host(self, nodes: Sequence[NodeInfo], scores: Sequence[int]) -> str:
        """The highest-scoring node; ties broken uniformly at random (as
        Kubernetes' selectHost, with one draw among the tied instead of one
        per tie: with hundreds of equal nodes that is hundreds of draws less)."""
        top = max(scores)
        tied = [i for i, score in enumerate(scores) if score == top]
        return nodes[tied[self._rng.randrange(len(tied))] if len(tied) > 1 else tied[0]].name

    # ---- binding -----------------------------------------------------------------------

    async def _bind(self, qp: QueuedPod, info: PodInfo, node: str) -> None:
        pod = qp.pod
        namespace, name = pod.metadata.namespace, pod.metadata.name
        async with self._bind_slots:
            start = self._clock()
            try:
                if self.pre_bind is not None:
                    await self.pre_bind(pod, node)
                await self.control.bind(namespace, name, node)
            except asyncio.CancelledError:
                self.cache.forget_pod(qp.key)
                raise
            except Exception as err:
                self._bind_failed(qp, node, err)
                return
            finally:
                metrics.binding_duration.observe(self._clock() - start)
        self.cache.finish_binding(qp.key)
        metrics.schedule_attempts.labels(result=metrics.SCHEDULED).inc()
        metrics.pod_scheduling_sli_duration.observe(self._clock() - qp.initial_timestamp)
        log.debug("bound %s to %s", qp.key, node)
        self.recorder.event(
            pod, "Normal", "Scheduled", f"Successfully assigned {namespace}/{name} to {node}"
        )

    def _bind_failed(self, qp: QueuedPod, node: str, err: Exception) -> None:
        self.cache.forget_pod(qp.key)
        metrics.schedule_attempts.labels(result=metrics.ERROR).inc()
        current = self.pods.get_by_name(qp.pod.metadata.namespace, qp.pod.metadata.name)
        if isinstance(err, (errors.NotFound, errors.Conflict)) or current is None:
            # Gone, being deleted or bound by someone else: the informer
            # tells the cache the rest.
            log.info("not binding %s to %s: %s", qp.key, node, err)
            return
        log.warning("binding %s to %s failed: %s; retrying after backoff", qp.key, node, err)
        if current.metadata.uid == qp.pod.metadata.uid:
            qp.pod = current
        if self.wants_scheduling(qp.pod):
            self.queue.add_backoff(qp)
        self.recorder.event(qp.pod, "Warning", "FailedScheduling", f"Binding rejected: {err}")

    # ---- housekeeping ------------------------------------------------------------------

    async def _expire_assumed(self) -> None:
        while True:
            await asyncio.sleep(EXPIRY_CHECK_PERIOD)
            for key in self.cache.cleanup_expired():
                namespace, _, name = key.partition("/")
                pod = self.pods.get_by_name(namespace, name)
                if pod is not None and self.wants_scheduling(pod):
                    self.queue.add(pod)

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(self._logged(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(coro: Any, name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task %s failed", name)

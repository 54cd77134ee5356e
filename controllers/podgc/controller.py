"""The pod garbage collector (Kubernetes' pkg/controller/podgc).

Every ``--pod-gc-period`` (and soon after a node is deleted) one sync:

1. terminated pods (Succeeded or Failed) beyond
   ``--terminated-pod-gc-threshold`` are deleted, oldest first (0 turns
   this off). Worked example: threshold 2, terminated pods created at t1 <
   t2 < t3 < t4 → t1 and t2 are deleted;
2. pods bound to a node that does not exist are deleted, after a
   quarantine: the node must have been missing from the cache for
   ``QUARANTINE`` seconds and a GET of the node must say NotFound (a node
   just created may not be in the cache yet);
3. terminating pods never scheduled are deleted (no kubelet will finish them);
4. terminating pods on a NotReady node tainted
   ``node.kubernetes.io/out-of-service`` are deleted.

A pod that is not yet terminal is first given phase Failed and the condition
``DisruptionTarget`` (reason ``DeletionByPodGC``); deletes are forced (grace
0) and guarded by the pod's uid.
"""

from __future__ import annotations

from typing import Any, ClassVar

from controllers import nodeutil
from controllers.base import Controller, ControllerContext, unwrap
from controllers.disruption import mark_and_delete
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.podutil import is_pod_terminal, parse_time
from pinnace.machinery.wellknown import REASON_DELETION_BY_POD_GC, TAINT_NODE_OUT_OF_SERVICE

KEY = "podgc"
QUARANTINE = 1.0
MESSAGE = "PodGC: node no longer exists"


def _opt(opts: Any, name: str, default: Any) -> Any:
    value = getattr(opts, name, None)
    return default if value is None else value


def oldest_terminated(pods: list[pod_pb2.Pod], threshold: int) -> list[pod_pb2.Pod]:
    """The terminated pods beyond ``threshold``, oldest first (0: none)."""
    if threshold <= 0:
        return []
    done = [p for p in pods if is_pod_terminal(p) and not p.metadata.deletion_timestamp]
    excess = len(done) - threshold
    if excess <= 0:
        return []

    def age(p: pod_pb2.Pod) -> tuple[str, str]:
        created = parse_time(p.metadata.creation_timestamp)
        return (created.isoformat() if created else "", p.metadata.name)

    return sorted(done, key=age)[:excess]


class PodGCController(Controller):
    name: ClassVar[str] = "podgc"
    default_workers: ClassVar[int] = 1

    def __init__(self, ctx: ControllerContext) -> None:
        self.threshold = int(_opt(ctx.options, "terminated_pod_gc_threshold", 12500))
        self.period = float(_opt(ctx.options, "pod_gc_period", 20.0))
        self._missing_since: dict[str, float] = {}
        super().__init__(ctx)
        self.queue.add(KEY)

    def setup(self) -> None:
        self.nodes = self.ctx.informer(node_pb2.Node)
        self.pods = self.ctx.informer(pod_pb2.Pod)
        self.nodes.add_handler(on_delete=self.node_deleted)

    def node_deleted(self, obj: Any) -> None:
        self._missing_since.setdefault(unwrap(obj).metadata.name, self.ctx.clock.monotonic())
        self.queue.add_after(KEY, QUARANTINE + 0.05)

    async def sync(self, key: str) -> float | None:
        pods = self.pods.store.list()
        errs: list[Exception] = []
        for pod in oldest_terminated(pods, self.threshold):
            await self._try(errs, self.delete(pod, fail=False))
        wait = await self.gc_orphans(pods, errs)
        for pod in pods:
            if pod.metadata.deletion_timestamp and not pod.spec.node_name:
                await self._try(errs, self.delete(pod, fail=False))
        for pod in self._out_of_service(pods):
            await self._try(errs, self.delete(pod, fail=True))
        errors.raise_aggregate(errs)
        return min(self.period, wait) if wait is not None else self.period

    async def gc_orphans(self, pods: list[pod_pb2.Pod], errs: list[Exception]) -> float | None:
        """Delete pods bound to nodes gone past the quarantine; returns when
        a node still in quarantine is due."""
        known = {n.metadata.name for n in self.nodes.store.list()}
        now = self.ctx.clock.monotonic()
        for name in [n for n in self._missing_since if n in known]:
            del self._missing_since[name]
        wait: float | None = None
        checked: dict[str, bool] = {}
        for pod in pods:
            node = pod.spec.node_name
            if not node or node in known:
                continue
            since = self._missing_since.setdefault(node, now)
            left = since + QUARANTINE - now
            if left > 0:
                wait = left + 0.05 if wait is None else min(wait, left + 0.05)
                continue
            if node not in checked:
                checked[node] = await self._node_gone(node)
            if checked[node]:
                await self._try(errs, self.delete(pod, fail=True))
        return wait

    async def _node_gone(self, name: str) -> bool:
        try:
            await self.client.nodes().get(name)
        except errors.NotFound:
            return True
        return False

    def _out_of_service(self, pods: list[pod_pb2.Pod]) -> list[pod_pb2.Pod]:
        out = []
        for pod in pods:
            if not pod.metadata.deletion_timestamp or not pod.spec.node_name:
                continue
            node = self.nodes.store.get(pod.spec.node_name)
            if node is None or nodeutil.ready_status(node) == "True":
                continue
            if any(t.key == TAINT_NODE_OUT_OF_SERVICE for t in node.spec.taints):
                out.append(pod)
        return out

    async def delete(self, pod: pod_pb2.Pod, *, fail: bool) -> None:
        """Force-delete the pod; first mark it Failed with DisruptionTarget
        if it is not terminal and ``fail``."""
        if fail and not is_pod_terminal(pod):
            done = await mark_and_delete(
                self.client,
                pod,
                reason=REASON_DELETION_BY_POD_GC,
                message=MESSAGE,
                now=self.ctx.clock.now(),
                fail=True,
                grace_period_seconds=0,
            )
            if not done:
                return
        else:
            try:
                await self.client.pods(pod.metadata.namespace).delete(
                    pod.metadata.name, grace_period_seconds=0, uid=pod.metadata.uid
                )
            except errors.NotFound:
                return
        self.log.info("deleted pod %s/%s", pod.metadata.namespace, pod.metadata.name)

    @staticmethod
    async def _try(errs: list[Exception], call: Any) -> None:
        try:
            await call
        except errors.ApiError as e:
            errs.append(e)

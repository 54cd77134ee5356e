"""Taint-based eviction (Kubernetes' pkg/controller/tainteviction, the
former NoExecuteTaintManager).

For a pod bound to a node with NoExecute taints:

* a taint no toleration of the pod tolerates → the pod is deleted now;
* all tolerated → deleted once the smallest ``tolerationSeconds`` among the
  matching tolerations has passed since the taint was added (its
  ``timeAdded``; the time the controller first saw it when that is
  missing); tolerations without ``tolerationSeconds`` tolerate forever;
* the taints are gone before then → nothing happens (the pending eviction is
  cancelled simply because the next sync finds no reason for it);
* when an eviction is due by the cache, the node's taints are read again
  from the API, and only an eviction still due by those happens: a
  controller that has just started (a new leader) or whose watch lags may
  hold a taint the node controller has already removed (the chaos suite
  saw a new leader evict three pods from a node that had been Ready and
  untainted for 100 ms).

Before deleting, the pod gets the condition ``DisruptionTarget=True``
(reason ``DeletionByTaintManager``), and an event ``TaintManagerEviction``.
Handlers map a pod (bound, changed node or tolerations) to its key and a
node whose NoExecute taints changed to the keys of all pods on it; ``sync``
returns the time left until a pending eviction is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from controllers import nodeutil
from controllers.base import Controller, ControllerContext
from controllers.disruption import mark_and_delete
from controllers.nodelifecycle.controller import NODE_NAME_INDEX, node_name_index
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import errors, nodematch
from pinnace.machinery.podutil import parse_time
from pinnace.machinery.wellknown import REASON_DELETION_BY_TAINT_MANAGER, TAINT_EFFECT_NO_EXECUTE

MESSAGE = "Taint manager: deleting due to NoExecute taint"
SKEW = 0.05


def no_execute_taints(node: node_pb2.Node) -> list[Any]:
    return [t for t in node.spec.taints if t.effect == TAINT_EFFECT_NO_EXECUTE]


def min_toleration_seconds(tolerations: Any, taints: list[Any]) -> float | None:
    """The smallest tolerationSeconds among the tolerations matching any of
    ``taints`` (negative counts as 0); None when none is limited (forever)."""
    best: float | None = None
    for taint in taints:
        for tol in tolerations:
            if not nodematch.tolerates(tol, taint) or not tol.HasField("toleration_seconds"):
                continue
            seconds = max(0, tol.toleration_seconds)
            best = seconds if best is None else min(best, seconds)
    return best


def eviction_time(pod: pod_pb2.Pod, taints: list[Any], first_seen: datetime) -> datetime | None:
    """When the pod must go (None: never, while these taints stay)."""
    if not taints:
        return None
    tols = list(pod.spec.tolerations)
    if nodeutil.untolerated(taints, tols, (TAINT_EFFECT_NO_EXECUTE,)):
        return first_seen - timedelta(days=1)  # now
    seconds = min_toleration_seconds(tols, taints)
    if seconds is None:
        return None
    added = [parse_time(t.time_added) for t in taints]
    start = max((a for a in added if a is not None), default=first_seen)
    return start + timedelta(seconds=seconds)


class TaintEvictionController(Controller):
    name: ClassVar[str] = "taint-eviction-controller"
    default_workers: ClassVar[int] = 8

    def __init__(self, ctx: ControllerContext) -> None:
        # pod uid -> when we first saw it on a NoExecute-tainted node
        self._first_seen: dict[str, datetime] = {}
        super().__init__(ctx)

    def setup(self) -> None:
        self.nodes = self.ctx.informer(node_pb2.Node)
        self.pods = self.ctx.informer(pod_pb2.Pod, indexers={NODE_NAME_INDEX: node_name_index})
        self.pods.add_handler(on_add=self.add_pod, on_update=self.update_pod)
        self.nodes.add_handler(
            on_add=lambda node: self.node_changed(None, node), on_update=self.node_changed
        )

    def add_pod(self, pod: pod_pb2.Pod) -> None:
        if pod.spec.node_name:
            self.enqueue(pod)

    def update_pod(self, old: pod_pb2.Pod, cur: pod_pb2.Pod) -> None:
        if not cur.spec.node_name or old.metadata.resource_version == cur.metadata.resource_version:
            return
        if old.spec.node_name != cur.spec.node_name or list(old.spec.tolerations) != list(
            cur.spec.tolerations
        ):
            self.enqueue(cur)

    def node_changed(self, old: node_pb2.Node | None, cur: node_pb2.Node) -> None:
        before = no_execute_taints(old) if old is not None else []
        after = no_execute_taints(cur)
        if before == after:
            return
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, cur.metadata.name):
            self.enqueue(pod)

    async def sync(self, key: str) -> float | None:
        pod = self.pods.store.get(key)
        if pod is None or pod.metadata.deletion_timestamp or not pod.spec.node_name:
            return None
        node = self.nodes.store.get(pod.spec.node_name)
        taints = no_execute_taints(node) if node is not None else []
        uid = pod.metadata.uid
        if not taints:
            self._first_seen.pop(uid, None)
            return None
        now = self.ctx.clock.now()
        first = self._first_seen.setdefault(uid, now)
        due = eviction_time(pod, taints, first)
        if due is None:
            return None
        if due > now:
            return (due - now).total_seconds() + SKEW
        due = await self._still_due(pod, first)
        if due is None:
            return None
        if due > now:
            return (due - now).total_seconds() + SKEW
        await self.evict(pod)
        self._first_seen.pop(uid, None)
        return None

    async def _still_due(self, pod: pod_pb2.Pod, first: datetime) -> datetime | None:
        """When the pod must go by its node's taints as the API has them now
        (None: not at all); by the cache's when the API cannot say."""
        try:
            node = await self.client.nodes().get(pod.spec.node_name)
        except errors.NotFound:
            return None
        except errors.ApiError as e:
            self.log.info("node %s: taints not confirmed from the API: %s", pod.spec.node_name, e)
            return self.ctx.clock.now()
        return eviction_time(pod, no_execute_taints(node), first)

    async def evict(self, pod: pod_pb2.Pod) -> None:
        namespace, name = pod.metadata.namespace, pod.metadata.name
        self.recorder.event(
            pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {namespace}/{name}"
        )
        gone = not await mark_and_delete(
            self.client,
            pod,
            reason=REASON_DELETION_BY_TAINT_MANAGER,
            message=MESSAGE,
            now=self.ctx.clock.now(),
        )
        if gone:
            return
        self.log.info("evicted pod %s/%s from node %s", namespace, name, pod.spec.node_name)

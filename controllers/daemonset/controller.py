"""The DaemonSet controller: informer wiring, handlers and the sync loop
(Kubernetes' pkg/controller/daemon).

Handlers only map objects to DaemonSet keys:

* DaemonSet added/updated/deleted → its key (a delete forgets its
  expectations);
* pod added/updated/deleted → the DaemonSet its controllerRef names (an
  orphan → every DaemonSet of its namespace whose selector matches, to
  adopt it). Pod adds and deletes are observed by the expectations;
* node added/deleted, or changed in labels, taints, unschedulable or
  conditions → every DaemonSet (which nodes should run a pod may change);
* ControllerRevision changed → its owner (an orphan → every DaemonSet of its
  namespace whose selector matches, to adopt it).

``sync(key)`` claims pods and ControllerRevisions (claim.py: matching
orphans are adopted, so a DaemonSet created again after an orphaning delete
takes over its predecessor's pods and history), finds or makes the current
ControllerRevision (history.py), then, while expectations are satisfied, carries out one plan
(plan.py): first the per-node plan (create missing pods, delete failed,
extra and misscheduled ones); when that has nothing to do, one step of the
rolling update. It prunes old revisions, writes the status if it changed and
returns when to look again (a failed pod's backoff, a pod becoming
available after minReadySeconds). Never run concurrently for one key.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, key_of, split_key, unwrap
from controllers.claim import claim_pods, claim_revisions
from controllers.controllerref import controller_ref
from controllers.daemonset.backoff import FailedPodBackoff
from controllers.daemonset.history import (
    History,
    cleanup_history,
    construct_history,
)
from controllers.daemonset.plan import calculate_status, plan_nodes, plan_rolling_update
from controllers.daemonset.sync import ApiRevisionControl, carry_out
from controllers.daemonset.util import (
    DaemonSet,
    is_rolling_update,
    pinned_node,
    should_run,
)
from controllers.expectations import Expectations
from controllers.podcontrol import ApiPodControl, PodControl
from controllers.selectors import SelectorCache
from pinnace.api.apps.v1 import controllerrevision_pb2, daemonset_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery import errors
from pinnace.machinery.intstr import IntOrStringError
from pinnace.machinery.labels import Selector, selector_from_label_selector
from pinnace.machinery.podutil import available_in

AVAILABILITY_SKEW = 0.05
STATUS_RETRIES = 1


class DaemonSetController(Controller):
    """Runs one pod of every DaemonSet on every node that should run it."""

    name: ClassVar[str] = "daemonset"

    def __init__(
        self,
        ctx: ControllerContext,
        *,
        pod_control: PodControl | None = None,
        revision_control: Any = None,
    ) -> None:
        self.creations = Expectations(clock=ctx.clock.monotonic)
        self.deletions = Expectations(clock=ctx.clock.monotonic)
        self.backoff = FailedPodBackoff(clock=ctx.clock.monotonic)
        self.pod_control: PodControl = pod_control or ApiPodControl(ctx.client, ctx.recorder)
        self._revision_control = revision_control
        super().__init__(ctx)

    # ---- wiring ----------------------------------------------------------------

    def setup(self) -> None:
        self.selectors = SelectorCache(
            lambda ds: selector_from_label_selector(ds.spec.selector),
            kind="DaemonSet",
            log=self.log,
            empty_selects_nothing=True,
        )
        self.daemonsets = self.ctx.informer(daemonset_pb2.DaemonSet)
        self.pods = self.ctx.informer(pod_pb2.Pod)
        self.nodes = self.ctx.informer(node_pb2.Node)
        self.revisions = self.ctx.informer(controllerrevision_pb2.ControllerRevision)
        self.daemonsets.add_handler(
            on_add=self.enqueue,
            on_update=lambda old, cur: self.enqueue(cur),
            on_delete=self.delete_daemonset,
        )
        self.pods.add_handler(
            on_add=self.add_pod, on_update=self.update_pod, on_delete=self.delete_pod
        )
        self.nodes.add_handler(
            on_add=lambda node: self.enqueue_all(),
            on_update=self.update_node,
            on_delete=lambda node: self.enqueue_all(),
        )
        self.revisions.add_handler(
            on_add=self.revision_changed,
            on_update=lambda old, cur: self.revision_changed(cur),
            on_delete=self.revision_changed,
        )

    # ---- handlers --------------------------------------------------------------

    def delete_daemonset(self, obj: Any) -> None:
        key = key_of(obj)
        self.creations.forget(key)
        self.deletions.forget(key)
        self.selectors.forget(unwrap(obj))
        self.queue.add(key)

    def enqueue_all(self) -> None:
        for ds in self.daemonsets.store.list():
            self.enqueue(ds)

    def update_node(self, old: node_pb2.Node, cur: node_pb2.Node) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return
        if (
            dict(old.metadata.labels) != dict(cur.metadata.labels)
            or list(old.spec.taints) != list(cur.spec.taints)
            or old.spec.unschedulable != cur.spec.unschedulable
            or [(c.type, c.status) for c in old.status.conditions]
            != [(c.type, c.status) for c in cur.status.conditions]
        ):
            self.enqueue_all()

    def add_pod(self, pod: pod_pb2.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self.delete_pod(pod)
            return
        ds = self.resolve(pod)
        if ds is not None:
            key = key_of(ds)
            self.creations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            for ds in self.matching(pod):
                self.enqueue(ds)

    def update_pod(self, old: pod_pb2.Pod, cur: pod_pb2.Pod) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return
        if cur.metadata.deletion_timestamp:
            self.delete_pod(cur)
        old_ref, cur_ref = controller_ref(old), controller_ref(cur)
        if old_ref != cur_ref and old_ref is not None:
            previous = self.resolve(old)
            if previous is not None:
                self.enqueue(previous)
        ds = self.resolve(cur)
        if ds is not None:
            self.enqueue(ds)
            min_ready = ds.spec.min_ready_seconds
            if min_ready > 0:
                self.enqueue_after(ds, min_ready + AVAILABILITY_SKEW)
        elif cur_ref is None:
            for ds in self.matching(cur):
                self.enqueue(ds)

    def delete_pod(self, obj: Any) -> None:
        pod = unwrap(obj)
        ds = self.resolve(pod)
        if ds is None:
            return
        key = key_of(ds)
        self.deletions.deletion_observed(key, pod.metadata.uid)
        self.queue.add(key)

    def revision_changed(self, obj: Any) -> None:
        cr = unwrap(obj)
        ref = controller_ref(cr)
        if ref is None:
            for ds in self.matching(cr):
                self.enqueue(ds)
            return
        if ref.kind != "DaemonSet":
            return
        owner = self.daemonsets.store.get_by_name(cr.metadata.namespace, ref.name)
        if owner is not None and owner.metadata.uid == ref.uid:
            self.enqueue(owner)

    def resolve(self, pod: Any) -> DaemonSet | None:
        ref = controller_ref(pod)
        if ref is None or ref.kind != "DaemonSet":
            return None
        ds = self.daemonsets.store.get_by_name(pod.metadata.namespace, ref.name)
        if ds is None or ds.metadata.uid != ref.uid:
            return None
        return ds

    def matching(self, obj: Any) -> list[DaemonSet]:
        """The DaemonSets of obj's namespace whose selector matches its labels."""
        return self.selectors.selecting(
            self.daemonsets.store.by_index(NAMESPACE_INDEX, obj.metadata.namespace), obj
        )

    def selector(self, ds: DaemonSet) -> Selector | None:
        """The DaemonSet's selector; None if malformed or empty (it selects nothing)."""
        return self.selectors.get(ds)

    # ---- sync ------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        namespace, _ = split_key(key)
        ds = self.daemonsets.store.get(key)
        if ds is None:
            self.creations.forget(key)
            self.deletions.forget(key)
            return None
        selector = self.selector(ds)
        if selector is None:
            return None
        claimed = await claim_pods(
            ds,
            self.pods.store.by_index(NAMESPACE_INDEX, namespace),
            selector=selector,
            patch_pod=self.client.pods(namespace).patch,
            recheck_owner=lambda: self.client.daemon_sets(namespace).get(ds.metadata.name),
        )
        pods_by_node: dict[str, list[pod_pb2.Pod]] = defaultdict(list)
        for pod in claimed:
            node = pinned_node(pod)
            if node:
                pods_by_node[node].append(pod)
        if ds.metadata.deletion_timestamp:
            return None  # being deleted: the garbage collector removes the pods
        history = await self._history(ds, selector)
        nodes = self.nodes.store.list()
        eligibility_by_node = {n.metadata.name: should_run(ds, n) for n in nodes}

        def eligibility(node: node_pb2.Node) -> Any:
            return eligibility_by_node[node.metadata.name]

        requeue: float | None = None
        if self._satisfied(key):
            plan = plan_nodes(
                ds,
                nodes,
                pods_by_node,
                hash_value=history.hash,
                eligibility=eligibility,
                backoff_remaining=lambda node: self.backoff.remaining(f"{ds.metadata.uid}/{node}"),
            )
            requeue = plan.requeue
            if not plan and is_rolling_update(ds):
                desired = sum(1 for e in eligibility_by_node.values() if e.should_run)
                try:
                    plan = plan_rolling_update(
                        ds,
                        pods_by_node,
                        hash_value=history.hash,
                        desired=desired,
                        should_run=lambda n: bool(
                            n in eligibility_by_node and eligibility_by_node[n].should_run
                        ),
                        now=self.ctx.clock.now(),
                    )
                except IntOrStringError as e:
                    self.log.error("DaemonSet %s: bad rolling update settings: %s", key, e)
            await carry_out(
                ds,
                key,
                plan,
                history.hash,
                pod_control=self.pod_control,
                creations=self.creations,
                deletions=self.deletions,
                backoff=self.backoff,
                recorder=self.recorder,
            )
        live = [p for p in claimed if not p.metadata.deletion_timestamp]
        await cleanup_history(ds, history.old, live, control=self._revisions(namespace))
        status = self._status(ds, pods_by_node, history.hash, eligibility)
        await self._write_status(ds, status)
        wait = self._availability_wait(ds, claimed)
        for delay in (requeue, wait):
            if delay is not None:
                requeue = delay if requeue is None else min(requeue, delay)
        return requeue

    def _satisfied(self, key: str) -> bool:
        return self.creations.satisfied(key) and self.deletions.satisfied(key)

    def _revisions(self, namespace: str) -> Any:
        return self._revision_control or ApiRevisionControl(self.client, namespace)

    async def _history(self, ds: DaemonSet, selector: Selector) -> History:
        namespace = ds.metadata.namespace
        owned = await claim_revisions(
            ds,
            self.revisions.store.by_index(NAMESPACE_INDEX, namespace),
            selector=selector,
            patch_revision=self._revisions(namespace).patch,
            recheck_owner=lambda: self.client.daemon_sets(namespace).get(ds.metadata.name),
        )

        async def bump(count: int) -> None:
            copy = DaemonSet()
            copy.CopyFrom(ds)
            copy.status.collision_count = count
            await self.client.daemon_sets(namespace).update_status(copy)

        return await construct_history(
            ds, owned, control=self._revisions(namespace), bump_collision=bump
        )

    def _status(
        self,
        ds: DaemonSet,
        pods_by_node: dict[str, list[pod_pb2.Pod]],
        hash_value: str,
        eligibility: Any = None,
    ) -> daemonset_pb2.DaemonSetStatus:
        return calculate_status(
            ds,
            self.nodes.store.list(),
            pods_by_node,
            hash_value=hash_value,
            eligibility=eligibility or (lambda node: should_run(ds, node)),
            now=self.ctx.clock.now(),
        )

    async def _write_status(self, ds: DaemonSet, status: daemonset_pb2.DaemonSetStatus) -> None:
        if ds.status == status:
            return
        handle = self.client.daemon_sets(ds.metadata.namespace)
        current = DaemonSet()
        current.CopyFrom(ds)
        for attempt in range(STATUS_RETRIES + 1):
            collision = (
                current.status.collision_count
                if current.status.HasField("collision_count")
                else None
            )
            current.status.CopyFrom(status)
            if collision is not None:
                current.status.collision_count = max(collision, status.collision_count)
            try:
                await handle.update_status(current)
                return
            except errors.NotFound:
                return
            except errors.Conflict:
                if attempt >= STATUS_RETRIES:
                    raise
                current = await handle.get(ds.metadata.name)
                if current.metadata.uid != ds.metadata.uid:
                    return

    def _availability_wait(self, ds: DaemonSet, pods: list[pod_pb2.Pod]) -> float | None:
        if ds.spec.min_ready_seconds <= 0:
            return None
        now = self.ctx.clock.now()
        waits = [
            w for p in pods if (w := available_in(p, ds.spec.min_ready_seconds, now)) is not None
        ]
        return min(waits) + AVAILABILITY_SKEW if waits else None

"""The ReplicaSet and ReplicationController controllers: informer wiring,
handlers and the sync loop (Kubernetes' pkg/controller/replicaset, whose
ReplicationController manager is the same code behind an adapter).

Handlers only map objects to owner keys:

* ReplicaSet added/updated/deleted → its own key (a delete also forgets its
  expectations, so a new one of the same name starts clean);
* pod added/updated/deleted → the owner its controllerRef names, if that
  is of our kind and the cached owner has the same uid; an orphan pod →
  every owner in its namespace whose selector matches it (to adopt it).
  A pod add is a creation observed, a pod delete (or a deletionTimestamp
  appearing) a deletion observed, for the owner's expectations.

``sync(key)`` re-reads the caches, claims pods (sync.py), creates or deletes
pods only while the owner's expectations are satisfied, writes the status if
it changed (status.py) and returns when to look again if a ready pod is
still waiting out ``minReadySeconds``. It is never run concurrently for one
key (the work queue guarantees it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, key_of, split_key, unwrap
from controllers.claim import claim_pods
from controllers.controllerref import (
    CONTROLLER_UID_INDEX,
    controller_ref,
    controller_uid_index,
    orphan_index_value,
)
from controllers.expectations import Expectations
from controllers.podcontrol import ApiPodControl, PodControl
from controllers.replicaset.status import availability_requeue, calculate_status, write_status
from controllers.replicaset.sync import manage_replicas
from controllers.replicaset.util import (
    BURST_REPLICAS,
    REPLICA_SET,
    REPLICATION_CONTROLLER,
    ReplicaKind,
)
from controllers.selectors import SelectorCache
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery.labels import Selector
from pinnace.machinery.podutil import is_pod_active, is_pod_ready, is_pod_terminating

# A little past the moment a pod becomes available, so the status computed
# then counts it (availability is "ready since strictly before now").
AVAILABILITY_SKEW = 0.05


class ReplicaSetController(Controller):
    """Keeps ``spec.replicas`` pods for every ReplicaSet."""

    name: ClassVar[str] = "replicaset"
    kind: ClassVar[ReplicaKind] = REPLICA_SET

    def __init__(
        self,
        ctx: ControllerContext,
        *,
        pod_control: PodControl | None = None,
        burst_replicas: int = BURST_REPLICAS,
    ) -> None:
        self.expectations = Expectations(clock=ctx.clock.monotonic)
        self.pod_control: PodControl = pod_control or ApiPodControl(ctx.client, ctx.recorder)
        self.burst_replicas = burst_replicas
        super().__init__(ctx)

    # ---- wiring ----------------------------------------------------------------

    def setup(self) -> None:
        self.selectors = SelectorCache(self.kind.selector, kind=self.kind.kind, log=self.log)
        self.owners = self.ctx.informer(self.kind.message)
        self.pods = self.ctx.informer(
            pod_pb2.Pod, indexers={CONTROLLER_UID_INDEX: controller_uid_index}
        )
        self.owners.add_handler(
            on_add=self.add_owner, on_update=self.update_owner, on_delete=self.delete_owner
        )
        self.pods.add_handler(
            on_add=self.add_pod, on_update=self.update_pod, on_delete=self.delete_pod
        )

    # ---- owner handlers ----------------------------------------------------------

    def add_owner(self, owner: Any) -> None:
        self.enqueue(owner)

    def update_owner(self, old: Any, cur: Any) -> None:
        if old.metadata.uid != cur.metadata.uid:
            self.delete_owner(old)
        # Any update, not only spec changes: a resync then retries owners whose
        # last creates failed, and owners waiting on expectations do not act.
        self.enqueue(cur)

    def delete_owner(self, obj: Any) -> None:
        owner = unwrap(obj)
        key = key_of(obj)
        self.expectations.forget(key)
        self.selectors.forget(owner)
        self.queue.add(key)

    # ---- pod handlers --------------------------------------------------------------

    def add_pod(self, pod: pod_pb2.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            # After a restart a pod may first be seen already being deleted:
            # that is no creation to observe.
            self.delete_pod(pod)
            return
        ref = controller_ref(pod)
        if ref is not None:
            owner = self.resolve(pod.metadata.namespace, ref)
            if owner is not None:
                key = key_of(owner)
                self.expectations.creation_observed(key)
                self.queue.add(key)
            return
        # An orphan: wake every owner that might adopt it. Not a creation
        # observed: nobody waits for an orphan.
        for owner in self.owners_matching(pod):
            self.enqueue(owner)

    def update_pod(self, old: pod_pb2.Pod, cur: pod_pb2.Pod) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return  # a resync: nothing changed
        # (Label maps are compared only where it matters: most updates are
        # status changes of a controlled pod, and the comparison copies both.)
        if cur.metadata.deletion_timestamp:
            # A graceful delete: the owner should replace the pod now, not when
            # the kubelet finally removes it.
            self.delete_pod(cur)
            if old.metadata.labels != cur.metadata.labels:
                self.delete_pod(old)
            return
        cur_ref, old_ref = controller_ref(cur), controller_ref(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            previous = self.resolve(old.metadata.namespace, old_ref)
            if previous is not None:
                self.enqueue(previous)
        if cur_ref is not None:
            owner = self.resolve(cur.metadata.namespace, cur_ref)
            if owner is None:
                return
            self.enqueue(owner)
            min_ready = owner.spec.min_ready_seconds
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(cur):
                # Look again once it may have become available.
                self.enqueue_after(owner, min_ready + AVAILABILITY_SKEW)
            return
        if ref_changed or old.metadata.labels != cur.metadata.labels:
            for owner in self.owners_matching(cur):
                self.enqueue(owner)

    def delete_pod(self, obj: Any) -> None:
        pod = unwrap(obj)
        ref = controller_ref(pod)
        if ref is None:
            return  # nobody cares about an orphan going away
        owner = self.resolve(pod.metadata.namespace, ref)
        if owner is None:
            return
        key = key_of(owner)
        self.expectations.deletion_observed(key, pod.metadata.uid)
        self.queue.add(key)

    def resolve(self, namespace: str, ref: Any) -> Any | None:
        """The cached owner a controllerRef names, if it is of our kind and
        has the referenced uid (a re-created namesake is another object)."""
        if ref.kind != self.kind.kind:
            return None
        owner = self.owners.store.get_by_name(namespace, ref.name)
        if owner is None or owner.metadata.uid != ref.uid:
            return None
        return owner

    def owners_matching(self, pod: pod_pb2.Pod) -> list[Any]:
        """Cached owners in the pod's namespace whose selector selects it."""
        found = self.selectors.selecting(
            self.owners.store.by_index(NAMESPACE_INDEX, pod.metadata.namespace), pod
        )
        if len(found) > 1:
            self.log.warning(
                "more than one %s selects pod %s/%s (labels %s): a user error",
                self.kind.kind,
                pod.metadata.namespace,
                pod.metadata.name,
                dict(pod.metadata.labels),
            )
        return found

    def selector(self, owner: Any) -> Selector | None:
        """The owner's selector (None if malformed), memoized per generation."""
        return self.selectors.get(owner)

    # ---- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        namespace, _ = split_key(key)
        owner = self.owners.store.get(key)
        if owner is None:
            self.log.debug("%s %s has been deleted", self.kind.kind, key)
            self.expectations.forget(key)
            return None
        needs_sync = self.expectations.satisfied(key)
        selector = self.selector(owner)
        if selector is None:
            return None  # logged; a fixed selector is a new generation and a new sync
        # Only its own pods and the namespace's orphans can be claimed (a pod
        # another controller controls is skipped by claiming anyway).
        candidates = self.owned_or_orphan_pods(owner)
        claimed = await claim_pods(
            owner,
            [p for p in candidates if is_pod_active(p)],
            selector=selector,
            patch_pod=self.client.pods(namespace).patch,
            recheck_owner=lambda: self.kind.resource(self.client, namespace).get(
                owner.metadata.name
            ),
        )
        # Claiming awaited the API: re-read the pods from the cache so no pod
        # whose delete the informer has already delivered is counted (or
        # chosen as a victim, which would wait on a deletion never observed).
        active = self._current(claimed, owner.metadata.uid)
        manage_error: Exception | None = None
        if needs_sync and not owner.metadata.deletion_timestamp:
            try:
                await manage_replicas(
                    owner,
                    active,
                    key=key,
                    kind=self.kind,
                    pod_control=self.pod_control,
                    expectations=self.expectations,
                    related=lambda: self.related_pods(owner),
                    now=self.ctx.clock.now(),
                    burst=self.burst_replicas,
                )
            except Exception as e:
                manage_error = e
        terminating = [
            p
            for p in self.owned_pods(owner)
            if is_pod_terminating(p) and selector.matches(p.metadata.labels)
        ]
        now = self.ctx.clock.now()
        status = calculate_status(
            owner,
            kind=self.kind,
            active=active,
            terminating=terminating,
            manage_error=manage_error,
            now=now,
        )
        await write_status(self.client, self.kind, owner, status)
        if manage_error is not None:
            raise manage_error  # retried with backoff
        wait = availability_requeue(owner, active, now)
        return None if wait is None else wait + AVAILABILITY_SKEW

    def owned_pods(self, owner: Any) -> list[pod_pb2.Pod]:
        """The cached pods in the owner's namespace whose controllerRef names
        its uid, in key order."""
        namespace = owner.metadata.namespace
        return [
            p
            for p in self.pods.store.by_index(CONTROLLER_UID_INDEX, owner.metadata.uid)
            if p.metadata.namespace == namespace
        ]

    def owned_or_orphan_pods(self, owner: Any) -> list[pod_pb2.Pod]:
        """The owner's pods (``owned_pods``) and its namespace's orphans, in
        key order: every pod a claim can keep, adopt or release."""
        namespace = owner.metadata.namespace
        values = (owner.metadata.uid, orphan_index_value(namespace))
        return [
            p
            for p in self.pods.store.by_index_values(CONTROLLER_UID_INDEX, values)
            if p.metadata.namespace == namespace
        ]

    def _current(self, pods: list[pod_pb2.Pod], owner_uid: str) -> list[pod_pb2.Pod]:
        """The cached version of each pod still cached with the same uid and active."""
        out = []
        for pod in pods:
            meta = pod.metadata
            cached = self.pods.store.get_by_name(meta.namespace, meta.name)
            if cached is None or cached.metadata.uid != pod.metadata.uid:
                continue
            ref = controller_ref(cached)
            if ref is None:
                latest = pod  # just adopted: the cache has not seen the patch yet
            elif ref.uid == owner_uid:
                latest = cached
            else:
                continue  # another controller took it meanwhile
            if is_pod_active(latest):
                out.append(latest)
        return out

    def related_pods(self, owner: Any) -> list[pod_pb2.Pod]:
        """Active pods of every owner with the same controller as ``owner``
        (a Deployment's ReplicaSets); none if ``owner`` has no controller."""
        ref = controller_ref(owner)
        if ref is None:
            return []
        namespace = owner.metadata.namespace
        seen: dict[str, pod_pb2.Pod] = {}
        pods = self.pods.store.by_index(NAMESPACE_INDEX, namespace)
        for sibling in self.owners.store.by_index(NAMESPACE_INDEX, namespace):
            sibling_ref = controller_ref(sibling)
            if sibling_ref is None or sibling_ref.uid != ref.uid:
                continue
            selector = self.selector(sibling)
            if selector is None:
                continue
            for pod in pods:
                if selector.matches(pod.metadata.labels):
                    seen.setdefault(pod.metadata.uid, pod)
        return list(seen.values())


class ReplicationManager(ReplicaSetController):
    """Keeps ``spec.replicas`` pods for every ReplicationController: the
    ReplicaSet controller with a map selector and core/v1 kind."""

    name: ClassVar[str] = "replicationcontroller"
    kind: ClassVar[ReplicaKind] = REPLICATION_CONTROLLER

"""The Deployment controller: informer wiring, handlers and the sync entry
(Kubernetes' deployment_controller.go).

Handlers only map objects to Deployment keys:

* Deployment added/updated/deleted → its own key;
* ReplicaSet added/updated/deleted → the Deployment its controllerRef
  names (same uid in the cache); an orphan ReplicaSet (added, or its labels
  or controllerRef changed) → every Deployment in its namespace whose
  selector matches it, to adopt it; a controllerRef that moved also wakes
  the previous owner;
* pod deleted → its Deployment (through its ReplicaSet) if that uses the
  Recreate strategy and has no pods left: Recreate waits for that.

``sync(key)`` re-reads the caches, claims ReplicaSets (adopting and
releasing), and dispatches as Kubernetes' syncDeployment does: a
Deployment being deleted only gets its status; a paused one is scaled
(proportionally) but not rolled out; the legacy rollback annotation is
honoured; a change of spec.replicas alone is a scaling event; otherwise the
strategy (rolling.py or recreate.py) takes one step. It returns the delay
until the progress deadline must be checked, if any. It is never run
concurrently for one key (the work queue guarantees it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, split_key, unwrap
from controllers.controllerref import (
    CONTROLLER_UID_INDEX,
    controller_ref,
    controller_uid_index,
)
from controllers.deployment.recreate import rollout_recreate
from controllers.deployment.rollback import rollback, rollback_target
from controllers.deployment.rolling import rollout_rolling
from controllers.deployment.sync import DeploymentControl, Syncer
from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery import labels

Deployment = deployment_pb2.Deployment
ReplicaSet = replicaset_pb2.ReplicaSet


# Pods by the uid of their controller (our own index name: informers are shared).
class ApiDeploymentControl:
    """DeploymentControl through the API, with events on the recorder."""

    def __init__(self, client: AsyncClient, recorder: EventRecorder) -> None:
        self._client = client
        self._recorder = recorder

    async def create_replica_set(self, rs: ReplicaSet) -> ReplicaSet:
        return await self._client.replica_sets(rs.metadata.namespace).create(rs)

    async def update_replica_set(self, rs: ReplicaSet) -> ReplicaSet:
        return await self._client.replica_sets(rs.metadata.namespace).update(rs)

    async def patch_replica_set(self, namespace: str, name: str, patch: dict) -> ReplicaSet:
        return await self._client.replica_sets(namespace).patch(name, patch)

    async def delete_replica_set(self, namespace: str, name: str, *, uid: str) -> None:
        await self._client.replica_sets(namespace).delete(name, uid=uid)

    async def get_deployment(self, namespace: str, name: str) -> Deployment:
        return await self._client.deployments(namespace).get(name)

    async def update_deployment(self, d: Deployment) -> Deployment:
        return await self._client.deployments(d.metadata.namespace).update(d)

    async def patch_deployment(self, namespace: str, name: str, patch: dict) -> Deployment:
        return await self._client.deployments(namespace).patch(name, patch)

    async def update_deployment_status(self, d: Deployment) -> Deployment:
        return await self._client.deployments(d.metadata.namespace).update_status(d)

    def event(self, obj: Any, type: str, reason: str, message: str) -> None:
        self._recorder.event(obj, type, reason, message)


class DeploymentController(Controller):
    """Rolls Deployments out through ReplicaSets."""

    name: ClassVar[str] = "deployment"

    def __init__(self, ctx: ControllerContext, *, control: DeploymentControl | None = None) -> None:
        self.control: DeploymentControl = control or ApiDeploymentControl(ctx.client, ctx.recorder)
        super().__init__(ctx)

    # ---- wiring ------------------------------------------------------------------

    def setup(self) -> None:
        self.deployments = self.ctx.informer(Deployment)
        self.replica_sets = self.ctx.informer(ReplicaSet)
        self.pods = self.ctx.informer(
            pod_pb2.Pod, indexers={CONTROLLER_UID_INDEX: controller_uid_index}
        )
        self.deployments.add_handler(
            on_add=self.enqueue,
            on_update=lambda old, new: self.enqueue(new),
            on_delete=self.enqueue,
        )
        self.replica_sets.add_handler(
            on_add=self.add_replica_set,
            on_update=self.update_replica_set,
            on_delete=self.delete_replica_set,
        )
        self.pods.add_handler(on_delete=self.delete_pod)

    # ---- handlers ------------------------------------------------------------------

    def resolve_controller_ref(self, namespace: str, ref: Any) -> Deployment | None:
        """The cached Deployment a controllerRef names (same uid), or None."""
        if ref is None or ref.kind != "Deployment":
            return None
        d = self.deployments.store.get_by_name(namespace, ref.name)
        if d is None or d.metadata.uid != ref.uid:
            return None
        return d

    def deployments_for_replica_set(self, rs: ReplicaSet) -> list[Deployment]:
        """Deployments in rs's namespace whose (non-empty) selector matches it."""
        found = []
        for d in self.deployments.store.by_index(NAMESPACE_INDEX, rs.metadata.namespace):
            selector = _selector(d)
            if selector is not None and not selector.empty and selector.matches(rs.metadata.labels):
                found.append(d)
        if len(found) > 1:
            self.log.info(
                "replica set %s/%s matches %d deployments; the first to adopt it wins",
                rs.metadata.namespace,
                rs.metadata.name,
                len(found),
            )
        return found

    def add_replica_set(self, rs: ReplicaSet) -> None:
        if rs.metadata.deletion_timestamp:
            self.delete_replica_set(rs)
            return
        ref = controller_ref(rs)
        if ref is not None:
            d = self.resolve_controller_ref(rs.metadata.namespace, ref)
            if d is not None:
                self.enqueue(d)
            return
        for d in self.deployments_for_replica_set(rs):
            self.enqueue(d)

    def update_replica_set(self, old: ReplicaSet, cur: ReplicaSet) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return  # a resync: nothing changed
        cur_ref, old_ref = controller_ref(cur), controller_ref(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            d = self.resolve_controller_ref(old.metadata.namespace, old_ref)
            if d is not None:
                self.enqueue(d)
        if cur_ref is not None:
            d = self.resolve_controller_ref(cur.metadata.namespace, cur_ref)
            if d is not None:
                self.enqueue(d)
            return
        if ref_changed or dict(cur.metadata.labels) != dict(old.metadata.labels):
            for d in self.deployments_for_replica_set(cur):
                self.enqueue(d)

    def delete_replica_set(self, obj: Any) -> None:
        rs = unwrap(obj)
        d = self.resolve_controller_ref(rs.metadata.namespace, controller_ref(rs))
        if d is not None:
            self.enqueue(d)

    def delete_pod(self, obj: Any) -> None:
        pod = unwrap(obj)
        d = self.deployment_for_pod(pod)
        if d is None or d.spec.strategy.type != "Recreate":
            return
        rs_list = [
            rs
            for rs in self.replica_sets.store.by_index(NAMESPACE_INDEX, d.metadata.namespace)
            if _controlled_by(rs, d)
        ]
        if not any(self.pods_by_rs(d, rs_list).values()):
            self.enqueue(d)

    def deployment_for_pod(self, pod: pod_pb2.Pod) -> Deployment | None:
        ref = controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return None
        rs = self.replica_sets.store.get_by_name(pod.metadata.namespace, ref.name)
        if rs is None or rs.metadata.uid != ref.uid:
            return None
        return self.resolve_controller_ref(rs.metadata.namespace, controller_ref(rs))

    # ---- sync ----------------------------------------------------------------------

    def pods_by_rs(
        self, d: Deployment, rs_list: Sequence[ReplicaSet]
    ) -> dict[str, list[pod_pb2.Pod]]:
        """Pods matching d's selector, by the uid of the ReplicaSet (of
        rs_list) controlling them, terminating and finished ones included."""
        selector = _selector(d)
        out: dict[str, list[pod_pb2.Pod]] = {rs.metadata.uid: [] for rs in rs_list}
        if selector is None:
            return out
        for uid, pods in out.items():
            for pod in self.pods.store.by_index(CONTROLLER_UID_INDEX, uid):
                if pod.metadata.namespace == d.metadata.namespace and selector.matches(
                    pod.metadata.labels
                ):
                    pods.append(pod)
        return out

    async def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        cached = self.deployments.store.get_by_name(namespace, name)
        if cached is None:
            self.log.debug("deployment %s has been deleted", key)
            return None
        d = Deployment()
        d.CopyFrom(cached)  # never mutate the cache
        s = Syncer(
            api=self.control,
            clock=self.ctx.clock,
            get_cached_rs=self.replica_sets.store.get_by_name,
        )
        selector = _selector(d)
        if selector is None or selector.empty:
            self.control.event(
                d,
                "Warning",
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            if d.status.observed_generation < d.metadata.generation:
                d.status.observed_generation = d.metadata.generation
                await s.write_status(d)
            return None
        candidates = self.replica_sets.store.by_index(NAMESPACE_INDEX, namespace)
        rs_list = await s.claim_replica_sets(d, candidates)
        return await reconcile(s, d, rs_list, self.pods_by_rs(d, rs_list))


async def reconcile(
    s: Syncer,
    d: Deployment,
    rs_list: Sequence[ReplicaSet],
    pods_by_rs: dict[str, list[pod_pb2.Pod]],
) -> float | None:
    """Kubernetes' syncDeployment after claiming: pick what this sync does."""
    if d.metadata.deletion_timestamp:
        await s.sync_status_only(d, rs_list)
        return None
    await s.check_paused_conditions(d)
    if d.spec.paused:
        await s.sync(d, rs_list)
        return None
    if rollback_target(d) is not None:
        await rollback(s, d, rs_list)
        return None
    if await s.is_scaling_event(d, rs_list):
        await s.sync(d, rs_list)
        return None
    if d.spec.strategy.type == "Recreate":
        return await rollout_recreate(s, d, rs_list, pods_by_rs)
    return await rollout_rolling(s, d, rs_list)


def _selector(d: Deployment) -> labels.Selector | None:
    try:
        return labels.selector_from_label_selector(d.spec.selector)
    except labels.SelectorError:
        return None


def _controlled_by(rs: ReplicaSet, d: Deployment) -> bool:
    ref = controller_ref(rs)
    return ref is not None and ref.uid == d.metadata.uid

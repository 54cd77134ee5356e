"""The StatefulSet controller: informer wiring, handlers and the sync loop
(Kubernetes' pkg/controller/statefulset).

Handlers only map objects to the key of the set that owns them:

* StatefulSet added/updated/deleted → its key;
* pod → the StatefulSet its controllerRef names (same uid); an orphan pod
  → every set in its namespace whose selector matches it (adoption);
* ControllerRevision → its controlling set (an orphan → every set whose
  selector matches it, to adopt it);
* PersistentVolumeClaim updated/deleted → every set of the namespace (a
  pod may be waiting for a claim of its ordinal to finish being deleted).

``sync(key)`` re-reads the caches, claims pods (adopting orphans whose name
is ``<set>-<ordinal>`` and whose labels match, releasing pods whose labels
no longer match), claims ControllerRevisions the same way (claim.py: a set
created again after an orphaning delete takes over its predecessor's
history, numbers included, so its pods stay at their revision), settles the
revisions (history.py), plans (plan.py) and acts through
``StatefulPodControl`` (sync.py), writes the status if it changed (status.py) and trims the history to
``revisionHistoryLimit``. No expectations are needed: pods have
deterministic names, so a create the cache has not seen yet fails with
AlreadyExists, and a replacement is never created while the old pod object
exists (terminating or not). The work queue never runs one key twice at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, key_of, unwrap
from controllers.claim import claim_pods, claim_revisions
from controllers.controllerref import controller_ref
from controllers.selectors import SelectorCache
from controllers.statefulset import history, util
from controllers.statefulset.plan import Inputs, plan
from controllers.statefulset.status import availability_requeue, calculate_status, write_status
from controllers.statefulset.sync import StatefulPodControl
from controllers.statefulset.util import Pod, StatefulSet
from pinnace.api.apps.v1 import controllerrevision_pb2, statefulset_pb2
from pinnace.api.core.v1 import pod_pb2, volume_pb2
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery import errors
from pinnace.machinery.labels import Selector, selector_from_label_selector

AVAILABILITY_SKEW = 0.05
KIND = "StatefulSet"


class StatefulSetController(Controller):
    """Keeps every StatefulSet's pods, claims and revisions as its spec says."""

    name: ClassVar[str] = "statefulset"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)

    # ---- wiring ------------------------------------------------------------------------

    def setup(self) -> None:
        self.selectors = SelectorCache(
            lambda s: selector_from_label_selector(
                s.spec.selector if s.spec.HasField("selector") else None
            ),
            kind="StatefulSet",
            log=self.log,
        )
        self.sets = self.ctx.informer(statefulset_pb2.StatefulSet)
        self.pods = self.ctx.informer(pod_pb2.Pod)
        self.revisions = self.ctx.informer(controllerrevision_pb2.ControllerRevision)
        self.claims = self.ctx.informer(volume_pb2.PersistentVolumeClaim)
        self.pod_control = StatefulPodControl(
            self.client, self.recorder, self.claims.store.get_by_name
        )
        self.sets.add_handler(
            on_add=self.enqueue,
            on_update=lambda old, cur: self.enqueue(cur),
            on_delete=self.on_set_deleted,
        )
        self.pods.add_handler(
            on_add=self.on_child, on_update=self.on_pod_update, on_delete=self.on_child
        )
        self.revisions.add_handler(
            on_add=self.on_child,
            on_update=lambda old, cur: self.on_child(cur),
            on_delete=self.on_child,
        )
        self.claims.add_handler(
            on_update=lambda old, cur: self.on_claim(cur), on_delete=self.on_claim
        )

    # ---- handlers ----------------------------------------------------------------------

    def on_set_deleted(self, obj: Any) -> None:
        self.selectors.forget(unwrap(obj))
        self.queue.add(key_of(obj))

    def on_child(self, obj: Any) -> None:
        """A pod or revision → the set controlling it, or (an orphan) every
        set that may adopt it."""
        child = unwrap(obj)
        if not self.on_owned(child):
            for set_ in self.sets_matching(child):
                self.enqueue(set_)

    def on_pod_update(self, old: Pod, cur: Pod) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return
        if controller_ref(old) != controller_ref(cur) or old.metadata.labels != cur.metadata.labels:
            self.on_child(old)
        self.on_child(cur)

    def on_owned(self, obj: Any) -> bool:
        """Enqueue the set controlling obj; False when obj has no
        StatefulSet controller at all (an orphan)."""
        item = unwrap(obj)
        ref = controller_ref(item)
        if ref is None or ref.kind != KIND:
            return False
        set_ = self.sets.store.get_by_name(item.metadata.namespace, ref.name)
        if set_ is None or set_.metadata.uid != ref.uid:
            return True
        self.enqueue(set_)
        return True

    def on_claim(self, obj: Any) -> None:
        for set_ in self.sets.store.by_index(NAMESPACE_INDEX, unwrap(obj).metadata.namespace):
            self.enqueue(set_)

    def sets_matching(self, obj: Any) -> list[StatefulSet]:
        """The sets of obj's namespace whose selector matches its labels."""
        return self.selectors.selecting(
            self.sets.store.by_index(NAMESPACE_INDEX, obj.metadata.namespace), obj
        )

    def selector(self, set_: StatefulSet) -> Selector | None:
        """The set's selector; None if malformed."""
        return self.selectors.get(set_)

    # ---- sync --------------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        cached = self.sets.store.get(key)
        if cached is None:
            return None
        set_ = StatefulSet()
        set_.CopyFrom(cached)  # never mutate the cache
        selector = self.selector(set_)
        if selector is None:
            return None
        namespace = set_.metadata.namespace
        pods = await self.claim(set_, selector)
        revisions = await claim_revisions(
            set_,
            self.revisions.store.by_index(NAMESPACE_INDEX, namespace),
            selector=selector,
            patch_revision=self.client.controller_revisions(namespace).patch,
            recheck_owner=lambda: self.client.stateful_sets(namespace).get(set_.metadata.name),
        )
        update_rev, collision = await self.settle_update_revision(set_, revisions)
        current_rev = history.find_current(set_, revisions, update_rev)
        current_set = history.apply_revision(set_, current_rev)
        update_set = history.apply_revision(set_, update_rev)
        actions = plan(
            Inputs(
                set=set_,
                pods=pods,
                current_set=current_set,
                update_set=update_set,
                current_revision=current_rev.metadata.name,
                update_revision=update_rev.metadata.name,
                now=self.ctx.clock.now(),
                claims_ok=lambda pod: self.pod_control.claims_ok(set_, pod),
                claim_stale=lambda ordinal: self.pod_control.claim_stale(set_, ordinal),
            )
        )
        error: BaseException | None = None
        try:
            await self.pod_control.execute(set_, actions)
        except errors.ApiError as e:
            error = e
        pods = self.owned_pods(set_)
        now = self.ctx.clock.now()
        status = calculate_status(
            set_,
            pods,
            current_revision=current_rev.metadata.name,
            update_revision=update_rev.metadata.name,
            collision_count=collision,
            now=now,
        )
        await write_status(self.client, set_, status)
        await self.truncate_history(set_, revisions, pods, status)
        if error is not None:
            raise error
        wait = availability_requeue(set_, pods, now)
        return None if wait is None else wait + AVAILABILITY_SKEW

    async def claim(self, set_: StatefulSet, selector: Selector) -> list[Pod]:
        """The pods the set controls after adoption and release."""
        namespace = set_.metadata.namespace
        candidates = [
            p
            for p in self.pods.store.by_index(NAMESPACE_INDEX, namespace)
            if util.is_member_of(set_, p)
            or ((ref := controller_ref(p)) is not None and ref.uid == set_.metadata.uid)
        ]
        claimed = await claim_pods(
            set_,
            candidates,
            selector=selector,
            patch_pod=self.client.pods(namespace).patch,
            recheck_owner=lambda: self.client.stateful_sets(namespace).get(set_.metadata.name),
        )
        return [p for p in claimed if util.is_member_of(set_, p)]

    def owned_pods(self, set_: StatefulSet) -> list[Pod]:
        return [
            p
            for p in self.pods.store.by_index(NAMESPACE_INDEX, set_.metadata.namespace)
            if (ref := controller_ref(p)) is not None
            and ref.uid == set_.metadata.uid
            and util.is_member_of(set_, p)
        ]

    # ---- revisions ---------------------------------------------------------------------

    async def settle_update_revision(
        self, set_: StatefulSet, revisions: list[Any]
    ) -> tuple[Any, int | None]:
        """The update revision, created or renumbered in the API as needed;
        and the collision count to record."""
        api = self.client.controller_revisions(set_.metadata.namespace)
        collision = set_.status.collision_count if set_.status.HasField("collision_count") else None
        for _ in range(5):
            choice = history.choose_update_revision(set_, revisions)
            if choice.action == "reuse":
                return choice.revision, collision
            if choice.action == "renumber":
                updated = await api.update(choice.revision)
                revisions[:] = [
                    updated if r.metadata.name == updated.metadata.name else r for r in revisions
                ]
                return updated, collision
            try:
                made = await api.create(choice.revision)
                revisions.append(made)
                return made, collision
            except errors.AlreadyExists:
                existing = await api.get(choice.revision.metadata.name)
                ref = controller_ref(existing)
                if (
                    history.equal(existing, choice.revision)
                    and ref is not None
                    and ref.uid == set_.metadata.uid
                ):
                    revisions.append(existing)
                    return existing, collision
                # A hash collision: another revision holds the name.
                collision = (collision or 0) + 1
                set_.status.collision_count = collision
        raise errors.Conflict("could not find a free ControllerRevision name")

    async def truncate_history(
        self, set_: StatefulSet, revisions: Sequence[Any], pods: Sequence[Pod], status: Any
    ) -> None:
        live = {util.revision_of(p) for p in pods}
        live |= {status.current_revision, status.update_revision}
        limit = (
            set_.spec.revision_history_limit if set_.spec.HasField("revision_history_limit") else 10
        )
        api = self.client.controller_revisions(set_.metadata.namespace)
        for rev in history.revisions_to_delete(revisions, live=live, limit=limit):
            try:
                await api.delete(rev.metadata.name, uid=rev.metadata.uid)
            except errors.NotFound:
                pass

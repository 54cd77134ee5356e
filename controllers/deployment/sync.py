"""What every Deployment sync shares (Kubernetes' sync.go): claiming
ReplicaSets, finding or creating the new one with its revision, scaling
(proportionally in the middle of a rollout), history cleanup and status.

A ``Syncer`` lives for one sync of one Deployment. It acts through a
``DeploymentControl`` (the API, or a fake that records actions in tests)
and remembers every ReplicaSet it wrote, so later steps of the same sync
use what was written rather than the informer cache, which lags behind
(``fresh``). The Deployment ``d`` it is given is the sync's own copy: its
status, annotations and resourceVersion are updated in place as they are
written. Writes carry resourceVersions, so acting on a stale cache fails
with a conflict and the sync is retried; it never acts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, overload

from controllers.controllerref import adoption_patch, controller_ref, owner_reference, release_patch
from controllers.deployment import plan, util
from controllers.deployment.status import calculate_status, new_condition, set_condition
from pinnace.machinery import errors, labels
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.timeutil import Clock
from pinnace.machinery.wellknown import (
    ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
    ANNOTATION_DEPLOYMENT_REVISION,
    ANNOTATION_DEPLOYMENT_ROLLBACK_TO,
    DEPLOYMENT_PROGRESSING,
    LABEL_POD_TEMPLATE_HASH,
)

log = logging.getLogger("controllers.deployment")

Deployment = util.Deployment
ReplicaSet = util.ReplicaSet


class DeploymentControl(Protocol):
    """The writes (and the one uncached read) a Deployment sync makes."""

    async def create_replica_set(self, rs: ReplicaSet) -> ReplicaSet: ...

    async def update_replica_set(self, rs: ReplicaSet) -> ReplicaSet: ...

    async def patch_replica_set(self, namespace: str, name: str, patch: dict) -> ReplicaSet: ...

    async def delete_replica_set(self, namespace: str, name: str, *, uid: str) -> None: ...

    async def get_deployment(self, namespace: str, name: str) -> Deployment: ...

    async def update_deployment(self, d: Deployment) -> Deployment: ...

    async def patch_deployment(self, namespace: str, name: str, patch: dict) -> Deployment: ...

    async def update_deployment_status(self, d: Deployment) -> Deployment: ...

    def event(self, obj: Any, type: str, reason: str, message: str) -> None: ...


@dataclass
class Syncer:
    """One sync of one Deployment: the seam to the API, the clock and a
    lookup of ReplicaSets in the cache (for AlreadyExists)."""

    api: DeploymentControl
    clock: Clock
    get_cached_rs: Callable[[str, str], ReplicaSet | None] = lambda ns, name: None
    written: dict[str, ReplicaSet] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock.now()

    @overload
    def fresh(self, rs: ReplicaSet) -> ReplicaSet: ...
    @overload
    def fresh(self, rs: None) -> None: ...
    @overload
    def fresh(self, rs: ReplicaSet | None) -> ReplicaSet | None: ...

    def fresh(self, rs: ReplicaSet | None) -> ReplicaSet | None:
        """The latest version of rs this sync knows (written or cached)."""
        if rs is None:
            return None
        return self.written.get(rs.metadata.uid, rs)

    def _wrote(self, rs: ReplicaSet) -> ReplicaSet:
        self.written[rs.metadata.uid] = rs
        return rs

    # ---- deployment writes ----------------------------------------------------------

    async def write_status(self, d: Deployment) -> None:
        """Write d.status (guarded by d's resourceVersion)."""
        updated = await self.api.update_deployment_status(d)
        d.metadata.resource_version = updated.metadata.resource_version

    async def write_revision(self, d: Deployment, rev: str) -> None:
        """Set the Deployment's revision annotation (a metadata write: a
        status write cannot change metadata)."""
        if not util.set_deployment_revision(d, rev):
            return
        updated = await self.api.patch_deployment(
            d.metadata.namespace,
            d.metadata.name,
            {"metadata": {"annotations": {ANNOTATION_DEPLOYMENT_REVISION: rev}}},
        )
        if updated.metadata.generation != d.metadata.generation:
            # The spec changed under us: this sync's decisions are stale.
            raise errors.Conflict(f"deployment {d.metadata.name} changed during its sync")
        d.metadata.resource_version = updated.metadata.resource_version

    # ---- claiming ------------------------------------------------------------------

    async def claim_replica_sets(
        self, d: Deployment, candidates: Sequence[ReplicaSet]
    ) -> list[ReplicaSet]:
        """The ReplicaSets d controls after adopting matching orphans and
        releasing owned ones whose labels no longer match (Kubernetes'
        ClaimReplicaSets). Adoption first re-reads d from the API: a
        Deployment being deleted (or re-created under its name) adopts nothing."""
        selector = labels.selector_from_label_selector(d.spec.selector)
        deleting = bool(d.metadata.deletion_timestamp)
        can_adopt: bool | None = None
        claimed: list[ReplicaSet] = []
        for rs in candidates:
            ref = controller_ref(rs)
            matches = selector.matches(rs.metadata.labels)
            if ref is not None:
                if ref.uid != d.metadata.uid:
                    continue
                if matches or deleting:
                    if matches:
                        claimed.append(rs)
                    continue
                await self._release(d, rs)
                continue
            if deleting or not matches or rs.metadata.deletion_timestamp:
                continue
            if can_adopt is None:
                can_adopt = await self._can_adopt(d)
            if not can_adopt:
                continue
            adopted = await self._adopt(d, rs)
            if adopted is not None:
                claimed.append(adopted)
        return claimed

    async def _can_adopt(self, d: Deployment) -> bool:
        try:
            fresh = await self.api.get_deployment(d.metadata.namespace, d.metadata.name)
        except errors.NotFound:
            return False
        if fresh.metadata.uid != d.metadata.uid:
            raise errors.Conflict(
                f"original Deployment {d.metadata.namespace}/{d.metadata.name} is gone: "
                f"got uid {fresh.metadata.uid}, wanted {d.metadata.uid}"
            )
        return not fresh.metadata.deletion_timestamp

    async def _adopt(self, d: Deployment, rs: ReplicaSet) -> ReplicaSet | None:
        try:
            adopted = await self.api.patch_replica_set(
                rs.metadata.namespace, rs.metadata.name, adoption_patch(d, rs)
            )
        except errors.NotFound:
            return None  # gone: nothing to adopt
        log.info("deployment %s adopted replica set %s", d.metadata.name, rs.metadata.name)
        return self._wrote(adopted)

    async def _release(self, d: Deployment, rs: ReplicaSet) -> None:
        try:
            released = await self.api.patch_replica_set(
                rs.metadata.namespace, rs.metadata.name, release_patch(d, rs)
            )
        except errors.NotFound:
            return
        self._wrote(released)

    # ---- new and old ReplicaSets -------------------------------------------------

    async def get_all_replica_sets_and_sync_revision(
        self, d: Deployment, rs_list: Sequence[ReplicaSet], *, create: bool
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """(new ReplicaSet or None, all old ReplicaSets), the new one created
        when ``create`` and its revision brought to max(old)+1."""
        rs_list = [self.fresh(rs) for rs in rs_list]
        _, old = util.find_old_replica_sets(d, rs_list)
        new = await self.get_new_replica_set(d, rs_list, old, create=create)
        return new, old

    async def get_new_replica_set(
        self,
        d: Deployment,
        rs_list: Sequence[ReplicaSet],
        old_rss: Sequence[ReplicaSet],
        *,
        create: bool,
    ) -> ReplicaSet | None:
        """The ReplicaSet running d's template, its annotations synced.

        An existing one gets the Deployment's annotations and revision
        max(old)+1 (a rollback to an old template reuses its ReplicaSet and
        records the previous revision in revision-history). Otherwise, with
        ``create``, ``<deployment>-<pod-template-hash>`` is created, sized by
        what the surge allows. Its name is deterministic, so AlreadyExists
        means either the cache is behind (it is ours and has our template:
        use it) or a hash collision (bump status.collisionCount and retry
        with a different hash)."""
        existing = util.find_new_replica_set(d, rs_list)
        new_revision = str(util.max_revision(old_rss) + 1)
        if existing is not None:
            return await self._sync_existing_new_rs(d, existing, new_revision)
        if not create:
            return None
        rs = self._new_replica_set(d)
        replicas = plan.new_rs_new_replicas(d, [*old_rss, rs], rs)
        rs.spec.replicas = replicas
        util.set_new_replica_set_annotations(d, rs, new_revision, exists=False)
        already_exists = False
        try:
            created = await self.api.create_replica_set(rs)
        except errors.AlreadyExists:
            cached = self.get_cached_rs(rs.metadata.namespace, rs.metadata.name)
            if cached is None:
                raise
            ref = controller_ref(cached)
            if (
                ref is None
                or ref.uid != d.metadata.uid
                or not util.equal_ignore_hash(d.spec.template, cached.spec.template)
            ):
                await self._bump_collision_count(d, rs.metadata.name)
                raise
            created, already_exists = cached, True
        except errors.ApiError as e:
            msg = f'Failed to create new replica set "{rs.metadata.name}": {e.message}'
            if util.has_progress_deadline(d):
                set_condition(
                    d.status,
                    new_condition(
                        DEPLOYMENT_PROGRESSING,
                        "False",
                        util.FAILED_RS_CREATE_REASON,
                        msg,
                        now=self.now(),
                    ),
                )
                try:
                    await self.write_status(d)
                except errors.ApiError:
                    pass
            self.api.event(d, "Warning", util.FAILED_RS_CREATE_REASON, msg)
            raise
        self._wrote(created)
        if not already_exists and replicas > 0:
            self.api.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {created.metadata.name} from 0 to {replicas}",
            )
        await self.write_revision(d, new_revision)
        if not already_exists and util.has_progress_deadline(d):
            await self._progressing(
                d, util.NEW_RS_REASON, f'Created new replica set "{created.metadata.name}"'
            )
        return created

    async def _progressing(self, d: Deployment, reason: str, message: str) -> None:
        """Set Progressing=True with reason and message, and write the status."""
        set_condition(
            d.status, new_condition(DEPLOYMENT_PROGRESSING, "True", reason, message, now=self.now())
        )
        await self.write_status(d)

    async def _sync_existing_new_rs(
        self, d: Deployment, existing: ReplicaSet, new_revision: str
    ) -> ReplicaSet:
        rs = ReplicaSet()
        rs.CopyFrom(existing)
        changed = util.set_new_replica_set_annotations(d, rs, new_revision, exists=True)
        if changed or rs.spec.min_ready_seconds != d.spec.min_ready_seconds:
            rs.spec.min_ready_seconds = d.spec.min_ready_seconds
            return self._wrote(await self.api.update_replica_set(rs))
        await self.write_revision(
            d, rs.metadata.annotations.get(ANNOTATION_DEPLOYMENT_REVISION, "")
        )
        if (
            util.has_progress_deadline(d)
            and find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING) is None
        ):
            await self._progressing(
                d, util.FOUND_NEW_RS_REASON, f'Found new replica set "{rs.metadata.name}"'
            )
        return rs

    def _new_replica_set(self, d: Deployment) -> ReplicaSet:
        """The new ReplicaSet for d's template (not yet sized)."""
        collision = d.status.collision_count if d.status.HasField("collision_count") else None
        pod_hash = util.compute_hash(d.spec.template, collision)
        rs = ReplicaSet(api_version="apps/v1", kind="ReplicaSet")
        rs.metadata.name = f"{d.metadata.name}-{pod_hash}"
        rs.metadata.namespace = d.metadata.namespace
        rs.metadata.owner_references.append(owner_reference(d))
        rs.spec.template.CopyFrom(d.spec.template)
        rs.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH] = pod_hash
        rs.metadata.labels.update(rs.spec.template.metadata.labels)
        rs.spec.selector.CopyFrom(d.spec.selector)
        rs.spec.selector.match_labels[LABEL_POD_TEMPLATE_HASH] = pod_hash
        rs.spec.min_ready_seconds = d.spec.min_ready_seconds
        rs.spec.replicas = 0
        return rs

    async def _bump_collision_count(self, d: Deployment, name: str) -> None:
        before = d.status.collision_count if d.status.HasField("collision_count") else 0
        d.status.collision_count = before + 1
        try:
            await self.write_status(d)
        except errors.ApiError as e:
            log.info("deployment %s: writing collisionCount failed: %s", d.metadata.name, e)
            return
        log.info(
            "deployment %s: hash collision on replica set %s; collisionCount %d -> %d",
            d.metadata.name,
            name,
            before,
            before + 1,
        )

    # ---- scaling -------------------------------------------------------------------

    async def scale(
        self, d: Deployment, new_rs: ReplicaSet | None, old_rss: list[ReplicaSet]
    ) -> None:
        """Bring the ReplicaSets to the Deployment's size outside a rollout
        step (a scaling event, or a paused Deployment).

        One active ReplicaSet (or none: the newest) takes the whole size; a
        saturated new ReplicaSet means the old ones go to 0; otherwise, in a
        rolling update, the change is shared proportionally (see
        plan.proportional_sizes)."""
        target = plan.find_active_or_latest(new_rs, old_rss)
        if target is not None:
            if target.spec.replicas != d.spec.replicas:
                await self.scale_replica_set_and_record_event(target, d.spec.replicas, d)
            return
        if plan.is_saturated(d, new_rs):
            for old in util.filter_active(old_rss):
                await self.scale_replica_set_and_record_event(old, 0, d)
            return
        if not util.is_rolling_update(d):
            return
        for rs, size in plan.proportional_sizes(d, new_rs, old_rss):
            op = "up" if size > rs.spec.replicas else "down"
            await self.scale_replica_set(rs, size, d, op)

    async def scale_replica_set_and_record_event(
        self, rs: ReplicaSet, new_scale: int, d: Deployment
    ) -> tuple[bool, ReplicaSet]:
        """Scale rs to new_scale if it is not there; (scaled, latest rs)."""
        if rs.spec.replicas == new_scale:
            return False, rs
        op = "up" if rs.spec.replicas < new_scale else "down"
        return await self.scale_replica_set(rs, new_scale, d, op)

    async def scale_replica_set(
        self, rs: ReplicaSet, new_scale: int, d: Deployment, op: str
    ) -> tuple[bool, ReplicaSet]:
        """Write rs's size and the desired/max replicas annotations when
        either differs; a size change is a ScalingReplicaSet event."""
        desired, ceiling = d.spec.replicas, d.spec.replicas + util.max_surge(d)
        resize = rs.spec.replicas != new_scale
        if not resize and not util.replicas_annotations_need_update(rs, desired, ceiling):
            return False, rs
        old_scale = rs.spec.replicas
        copy = ReplicaSet()
        copy.CopyFrom(rs)
        copy.spec.replicas = new_scale
        util.set_replicas_annotations(copy, desired, ceiling)
        updated = self._wrote(await self.api.update_replica_set(copy))
        if resize:
            self.api.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {op} replica set {rs.metadata.name} from {old_scale} to {new_scale}",
            )
        return resize, updated

    async def is_scaling_event(self, d: Deployment, rs_list: Sequence[ReplicaSet]) -> bool:
        """Whether spec.replicas differs from the desired-replicas an active
        ReplicaSet was last scaled under (a scale, not a template change)."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(
            d, rs_list, create=False
        )
        for rs in util.filter_active([*old_rss, new_rs]):
            desired = rs.metadata.annotations.get(ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS)
            if desired is None:
                continue
            try:
                if int(desired) != d.spec.replicas:
                    return True
            except ValueError:
                continue
        return False

    # ---- history and status -----------------------------------------------------------

    async def cleanup_deployment(self, old_rss: Sequence[ReplicaSet], d: Deployment) -> None:
        """Delete the oldest old ReplicaSets beyond revisionHistoryLimit, but
        only ones that are scaled to 0, have no pods and whose latest spec
        their controller has seen."""
        if not util.has_revision_history_limit(d):
            return
        alive = [rs for rs in old_rss if rs is not None and not rs.metadata.deletion_timestamp]
        excess = len(alive) - d.spec.revision_history_limit
        if excess <= 0:
            return
        failures: list[Exception] = []
        for rs in util.sorted_by_revision(alive)[:excess]:
            if (
                rs.status.replicas != 0
                or rs.spec.replicas != 0
                or rs.metadata.generation > rs.status.observed_generation
            ):
                continue
            log.info(
                "deployment %s: deleting old replica set %s", d.metadata.name, rs.metadata.name
            )
            try:
                await self.api.delete_replica_set(
                    rs.metadata.namespace, rs.metadata.name, uid=rs.metadata.uid
                )
            except errors.NotFound:
                continue
            except errors.ApiError as e:
                failures.append(e)
        errors.raise_aggregate(failures)

    async def sync_deployment_status(
        self, d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None
    ) -> None:
        """Write calculate_status() if it differs from the stored status."""
        status = calculate_status(
            d, [self.fresh(rs) for rs in all_rss], self.fresh(new_rs), now=self.now()
        )
        if status == d.status:
            return
        d.status.CopyFrom(status)
        await self.write_status(d)

    async def sync_status_only(self, d: Deployment, rs_list: Sequence[ReplicaSet]) -> None:
        """Status without any other action (a Deployment being deleted)."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(
            d, rs_list, create=False
        )
        await self.sync_deployment_status(d, [*old_rss, new_rs], new_rs)

    async def sync(self, d: Deployment, rs_list: Sequence[ReplicaSet]) -> None:
        """Scaling events and paused Deployments: scale, clean up history
        (paused only), write status. No new ReplicaSet is created."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(
            d, rs_list, create=False
        )
        await self.scale(d, new_rs, old_rss)
        if d.spec.paused and ANNOTATION_DEPLOYMENT_ROLLBACK_TO not in d.metadata.annotations:
            await self.cleanup_deployment([self.fresh(rs) for rs in old_rss], d)
        await self.sync_deployment_status(d, [*old_rss, new_rs], new_rs)

    async def check_paused_conditions(self, d: Deployment) -> None:
        """Progressing=Unknown with DeploymentPaused when paused, and
        DeploymentResumed when resumed, so time spent paused never counts
        against the progress deadline. A timed-out condition is kept."""
        if not util.has_progress_deadline(d):
            return
        cond = find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING)
        if cond is not None and cond.reason == util.TIMED_OUT_REASON:
            return
        paused_cond = cond is not None and cond.reason == util.PAUSED_REASON
        if d.spec.paused and not paused_cond:
            reason, msg = util.PAUSED_REASON, "Deployment is paused"
        elif not d.spec.paused and paused_cond:
            reason, msg = util.RESUMED_REASON, "Deployment is resumed"
        else:
            return
        set_condition(
            d.status, new_condition(DEPLOYMENT_PROGRESSING, "Unknown", reason, msg, now=self.now())
        )
        await self.write_status(d)

"""The RollingUpdate strategy (Kubernetes' rolling.go).

Each sync takes at most one kind of step, then writes status:

1. grow the new ReplicaSet as far as maxSurge allows (total pods asked for
   never above replicas + maxSurge);
2. otherwise shrink old ReplicaSets as far as maxUnavailable allows
   (available pods never below replicas - maxUnavailable): first their
   unavailable pods (they do not count towards availability, and a stuck
   intermediate ReplicaSet of a rollover is shrunk this way), then the
   oldest ReplicaSets first;
3. otherwise, once complete, clean up history.

The ReplicaSet controller turns sizes into pods; the next sync (woken by
its status changes) takes the next step.
"""

from __future__ import annotations

from collections.abc import Sequence

from controllers.deployment import plan, progress, util
from controllers.deployment.sync import Syncer

ReplicaSet = util.ReplicaSet


async def rollout_rolling(
    s: Syncer, d: util.Deployment, rs_list: Sequence[ReplicaSet]
) -> float | None:
    """One rolling-update step; returns when to sync again (deadline check)."""
    new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rs_list, create=True)
    assert new_rs is not None
    if await reconcile_new_replica_set(s, [*old_rss, new_rs], new_rs, d):
        return await progress.sync_rollout_status(s, d, [*old_rss, new_rs], new_rs)
    new_rs = s.fresh(new_rs)
    old_rss = [s.fresh(rs) for rs in old_rss]
    if await reconcile_old_replica_sets(
        s, [*old_rss, new_rs], util.filter_active(old_rss), new_rs, d
    ):
        return await progress.sync_rollout_status(s, d, [*old_rss, new_rs], new_rs)
    if plan.deployment_complete(d, d.status):
        await s.cleanup_deployment(old_rss, d)
    return await progress.sync_rollout_status(s, d, [*old_rss, new_rs], new_rs)


async def reconcile_new_replica_set(
    s: Syncer, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet, d: util.Deployment
) -> bool:
    """Grow (or, above spec.replicas, shrink) the new ReplicaSet; True if it
    was scaled."""
    if new_rs.spec.replicas == d.spec.replicas:
        return False
    if new_rs.spec.replicas > d.spec.replicas:
        scaled, _ = await s.scale_replica_set_and_record_event(new_rs, d.spec.replicas, d)
        return scaled
    count = plan.new_rs_new_replicas(d, all_rss, new_rs)
    scaled, _ = await s.scale_replica_set_and_record_event(new_rs, count, d)
    return scaled


def max_scaled_down(all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet, d: util.Deployment) -> int:
    """How many old replicas may go now without availability falling below
    replicas - maxUnavailable, counting the new ReplicaSet's unavailable
    pods as lost already.

    Example: 10 replicas, maxUnavailable 2 (min available 8), maxSurge 3;
    old RS at 10 (all available), new RS just grown to 3 (none available):
    13 - 8 - 3 = 2 old replicas may go. Scaled down to 8, the new RS grows
    to 5; then 13 - 8 - 5 = 0: nothing more goes until new pods are
    available (with a bad image that is where it stays: 8 old, 5 new)."""
    min_available = d.spec.replicas - util.max_unavailable(d)
    new_unavailable = new_rs.spec.replicas - new_rs.status.available_replicas
    return util.spec_replicas(all_rss) - min_available - new_unavailable


async def reconcile_old_replica_sets(
    s: Syncer,
    all_rss: Sequence[ReplicaSet],
    old_rss: list[ReplicaSet],
    new_rs: ReplicaSet,
    d: util.Deployment,
) -> bool:
    """Shrink old ReplicaSets within maxUnavailable; True if any shrank."""
    if util.spec_replicas(old_rss) == 0:
        return False
    budget = max_scaled_down(all_rss, new_rs, d)
    if budget <= 0:
        return False
    old_rss, cleaned = await cleanup_unhealthy_replicas(s, old_rss, d, budget)
    scaled = await scale_down_old_replica_sets_for_rolling_update(s, [*old_rss, new_rs], old_rss, d)
    return cleaned + scaled > 0


def unhealthy_cleanup_plan(
    old_rss: Sequence[ReplicaSet], budget: int
) -> list[tuple[ReplicaSet, int]]:
    """(ReplicaSet, new size) for removing up to ``budget`` unavailable
    replicas of old ReplicaSets, oldest first. Removing them costs no
    availability; the ReplicaSet controller deletes not-ready pods first."""
    plan: list[tuple[ReplicaSet, int]] = []
    total = 0
    for rs in util.sorted_by_creation(old_rss):
        if total >= budget:
            break
        if rs.spec.replicas == 0 or rs.spec.replicas == rs.status.available_replicas:
            continue
        count = min(budget - total, rs.spec.replicas - rs.status.available_replicas)
        if count <= 0:
            continue  # more available than asked for (status lag): nothing unhealthy
        plan.append((rs, rs.spec.replicas - count))
        total += count
    return plan


async def cleanup_unhealthy_replicas(
    s: Syncer, old_rss: list[ReplicaSet], d: util.Deployment, budget: int
) -> tuple[list[ReplicaSet], int]:
    """Apply unhealthy_cleanup_plan; (old ReplicaSets as now, replicas removed)."""
    removed = 0
    for rs, size in unhealthy_cleanup_plan(old_rss, budget):
        await s.scale_replica_set_and_record_event(rs, size, d)
        removed += rs.spec.replicas - size
    return [s.fresh(rs) for rs in old_rss], removed


def rolling_scale_down_plan(
    all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], d: util.Deployment
) -> list[tuple[ReplicaSet, int]]:
    """(ReplicaSet, new size) for shrinking old ReplicaSets, oldest first, by
    the available pods above replicas - maxUnavailable."""
    min_available = d.spec.replicas - util.max_unavailable(d)
    # Not util.available_replicas: a ReplicaSet scaled down by the previous
    # step may still report the pods it is deleting.
    available = util.available_within_spec(all_rss)
    if available <= min_available:
        return []
    want = available - min_available
    plan: list[tuple[ReplicaSet, int]] = []
    total = 0
    for rs in util.sorted_by_creation(old_rss):
        if total >= want:
            break
        if rs.spec.replicas == 0:
            continue
        count = min(rs.spec.replicas, want - total)
        plan.append((rs, rs.spec.replicas - count))
        total += count
    return plan


async def scale_down_old_replica_sets_for_rolling_update(
    s: Syncer, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], d: util.Deployment
) -> int:
    """Apply rolling_scale_down_plan; returns the replicas removed."""
    removed = 0
    for rs, size in rolling_scale_down_plan(all_rss, old_rss, d):
        await s.scale_replica_set_and_record_event(rs, size, d)
        removed += rs.spec.replicas - size
    return removed

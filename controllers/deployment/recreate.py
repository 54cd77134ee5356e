"""The Recreate strategy (Kubernetes' recreate.go).

Old and new pods never run together: every old ReplicaSet is scaled to 0,
then the sync waits until no pod of an old ReplicaSet is left that has not
finished (terminating pods count: their processes may still run), and only
then creates (or scales up) the new ReplicaSet to spec.replicas. A pod
deletion wakes the Deployment (controller.py), so the wait is not a poll.
"""

from __future__ import annotations

from collections.abc import Sequence

from controllers.deployment import plan, progress, util
from controllers.deployment.sync import Syncer
from pinnace.api.core.v1 import pod_pb2

ReplicaSet = util.ReplicaSet


async def rollout_recreate(
    s: Syncer,
    d: util.Deployment,
    rs_list: Sequence[ReplicaSet],
    pods_by_rs: dict[str, list[pod_pb2.Pod]],
) -> float | None:
    """One Recreate step; returns when to sync again (deadline check)."""
    new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rs_list, create=False)
    if await scale_down_old_replica_sets_for_recreate(s, util.filter_active(old_rss), d):
        return await progress.sync_rollout_status(s, d, [*old_rss, new_rs], new_rs)
    if plan.old_pods_running(new_rs, old_rss, pods_by_rs):
        return await progress.sync_rollout_status(s, d, [*old_rss, new_rs], new_rs)
    if new_rs is None:
        new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rs_list, create=True)
    assert new_rs is not None
    await s.scale_replica_set_and_record_event(s.fresh(new_rs), d.spec.replicas, d)
    if plan.deployment_complete(d, d.status):
        await s.cleanup_deployment(old_rss, d)
    return await progress.sync_rollout_status(s, d, [*old_rss, new_rs], new_rs)


async def scale_down_old_replica_sets_for_recreate(
    s: Syncer, old_rss: Sequence[ReplicaSet], d: util.Deployment
) -> bool:
    """Scale every old ReplicaSet to 0; True if any was scaled."""
    scaled_any = False
    for rs in old_rss:
        if rs.spec.replicas == 0:
            continue
        scaled, _ = await s.scale_replica_set_and_record_event(rs, 0, d)
        scaled_any = scaled_any or scaled
    return scaled_any

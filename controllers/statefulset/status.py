"""StatefulSet status, computed purely from the pods (Kubernetes'
computeReplicaStatus and completeRollingUpdate), written only when changed.

* ``replicas``: pods the set controls that exist (terminating ones too);
* ``readyReplicas`` / ``availableReplicas``: Running and Ready / and ready
  for ``minReadySeconds``;
* ``currentReplicas`` / ``updatedReplicas``: pods not being deleted at the
  current / update revision;
* a rolling update is complete when every pod is updated and ready: the
  current revision then becomes the update revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from controllers.statefulset import util
from controllers.statefulset.util import Pod, StatefulSet
from pinnace.api.apps.v1 import statefulset_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors
from pinnace.machinery.podutil import available_in


def calculate_status(
    set_: StatefulSet,
    pods: Sequence[Pod],
    *,
    current_revision: str,
    update_revision: str,
    collision_count: int | None,
    now: datetime,
) -> statefulset_pb2.StatefulSetStatus:
    status = statefulset_pb2.StatefulSetStatus()
    status.CopyFrom(set_.status)
    status.observed_generation = set_.metadata.generation
    status.current_revision = current_revision
    status.update_revision = update_revision
    if collision_count is not None:
        status.collision_count = collision_count
    counts = dict.fromkeys(("replicas", "ready", "available", "current", "updated"), 0)
    min_ready = set_.spec.min_ready_seconds
    for pod in pods:
        counts["replicas"] += 1
        if util.is_running_and_ready(pod):
            counts["ready"] += 1
            if util.is_running_and_available(pod, min_ready, now):
                counts["available"] += 1
        if not util.is_terminating(pod):
            rev = util.revision_of(pod)
            counts["current"] += rev == current_revision
            counts["updated"] += rev == update_revision
    status.replicas = counts["replicas"]
    status.ready_replicas = counts["ready"]
    status.available_replicas = counts["available"]
    status.current_replicas = counts["current"]
    status.updated_replicas = counts["updated"]
    if (
        set_.spec.update_strategy.type == util.ROLLING_UPDATE
        and status.updated_replicas == status.replicas
        and status.ready_replicas == status.replicas
    ):
        status.current_replicas = status.updated_replicas
        status.current_revision = status.update_revision
    return status


def availability_requeue(set_: StatefulSet, pods: Sequence[Pod], now: datetime) -> float | None:
    """Seconds until the next ready pod becomes available (minReadySeconds)."""
    waits = [
        w
        for p in pods
        if p.status.phase == "Running"
        and (w := available_in(p, set_.spec.min_ready_seconds, now)) is not None
    ]
    return min(waits, default=None)


async def write_status(
    client: AsyncClient, set_: StatefulSet, status: statefulset_pb2.StatefulSetStatus
) -> None:
    if status == set_.status:
        return
    updated = StatefulSet()
    updated.CopyFrom(set_)
    updated.status.CopyFrom(status)
    try:
        await client.stateful_sets(set_.metadata.namespace).update_status(updated)
    except errors.NotFound:
        return

"""ReplicaSet / ReplicationController status: computed purely, written only
when it changed (Kubernetes' calculateStatus and updateReplicaSetStatus,
pkg/controller/replicaset/replica_set_utils.go).

* ``replicas``: active pods the owner controls (not terminal, not deleting).
* ``fullyLabeledReplicas``: those whose labels include every template label.
* ``readyReplicas``: those with Ready=True.
* ``availableReplicas``: those ready for at least ``minReadySeconds``.
* ``terminatingReplicas`` (ReplicaSet only): controlled pods being deleted.
* ``observedGeneration``: the generation this status was computed for.
* condition ``ReplicaFailure``: set (reason FailedCreate when pods were
  missing, FailedDelete when there were too many) when creating or deleting
  failed and no such condition exists yet; removed after a sync without
  failure. An existing condition keeps its transition time and message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from controllers.replicaset.util import FAILED_CREATE, FAILED_DELETE, ReplicaKind, desired_replicas
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors
from pinnace.machinery.conditions import find_condition, remove_condition
from pinnace.machinery.podutil import available_in, is_pod_available, is_pod_ready
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import REPLICASET_REPLICA_FAILURE

log = logging.getLogger(__name__)

# Kubernetes' statusUpdateRetries: after a conflict, re-read and write once more.
STATUS_UPDATE_RETRIES = 1


def calculate_status(
    owner: Any,
    *,
    kind: ReplicaKind,
    active: Sequence[pod_pb2.Pod],
    terminating: Sequence[pod_pb2.Pod] = (),
    manage_error: BaseException | None = None,
    now: datetime,
) -> Any:
    """The status ``owner`` should have, given the active pods it controls,
    its terminating pods and the error (if any) of this sync's creates or
    deletes. Does not modify ``owner``."""
    status = type(owner.status)()
    status.CopyFrom(owner.status)
    template_labels = list(owner.spec.template.metadata.labels.items())
    min_ready = owner.spec.min_ready_seconds
    fully_labeled = ready = available = 0
    for p in active:  # one pass: a sync may count hundreds of pods
        labels = p.metadata.labels
        if all(labels.get(k) == v for k, v in template_labels):
            fully_labeled += 1
        if is_pod_ready(p):
            ready += 1
            if min_ready == 0 or is_pod_available(p, min_ready, now):
                available += 1
    status.replicas = len(active)
    status.fully_labeled_replicas = fully_labeled
    status.ready_replicas = ready
    status.available_replicas = available
    if kind.has_terminating_replicas:
        status.terminating_replicas = len(terminating)
    status.observed_generation = owner.metadata.generation

    failure = find_condition(status.conditions, REPLICASET_REPLICA_FAILURE)
    if manage_error is not None and failure is None:
        diff = len(active) - desired_replicas(owner)
        reason = FAILED_CREATE if diff < 0 else FAILED_DELETE if diff > 0 else ""
        status.conditions.add(
            type=REPLICASET_REPLICA_FAILURE,
            status="True",
            reason=reason,
            message=_message(manage_error),
            last_transition_time=format_rfc3339(now),
        )
    elif manage_error is None and failure is not None:
        remove_condition(status.conditions, REPLICASET_REPLICA_FAILURE)
    return status


def _message(err: BaseException) -> str:
    return err.message if isinstance(err, errors.ApiError) else str(err)


def availability_requeue(owner: Any, active: Sequence[pod_pb2.Pod], now: datetime) -> float | None:
    """Seconds until the next ready pod becomes available (so the status can
    count it then), or None when no pod is waiting out minReadySeconds."""
    waits = [
        w for p in active if (w := available_in(p, owner.spec.min_ready_seconds, now)) is not None
    ]
    return min(waits) if waits else None


async def write_status(client: AsyncClient, kind: ReplicaKind, owner: Any, status: Any) -> Any:
    """Write ``status`` unless ``owner`` already has it; returns the owner as
    stored (``owner`` itself when nothing was written). On a conflict the
    owner is read again and the write tried once more."""
    if owner.status == status:
        return owner
    handle = kind.resource(client, owner.metadata.namespace)
    current = type(owner)()
    current.CopyFrom(owner)
    for attempt in range(STATUS_UPDATE_RETRIES + 1):
        current.status.CopyFrom(status)
        try:
            return await handle.update_status(current)
        except errors.Conflict:
            if attempt >= STATUS_UPDATE_RETRIES:
                raise
            log.debug("status of %s/%s conflicted; re-reading", kind.kind, owner.metadata.name)
            current = await handle.get(owner.metadata.name)
            if current.metadata.uid != owner.metadata.uid:
                raise errors.NotFound(f"{kind.kind} {owner.metadata.name} was re-created") from None
    raise AssertionError("unreachable")

"""Mark a pod as a disruption target, then delete it: the one procedure the
taint eviction controller and the pod garbage collector share (Kubernetes'
addConditionAndDeletePod in tainteviction and
markFailedAndDeletePodWithCondition in podgc).

The pod's status first gets the ``DisruptionTarget=True`` condition with the
caller's reason and message (and, for the pod GC, phase ``Failed``), so a
Job's pod failure policy can tell a disruption from a failure of the pod's
own; then the pod is deleted with a uid precondition. The status write is
skipped when the pod already says exactly that. A pod gone meanwhile is no
error: the procedure says it did nothing.
"""

from __future__ import annotations

from datetime import datetime

from pinnace.api.core.v1 import pod_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors
from pinnace.machinery.conditions import set_condition
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import POD_DISRUPTION_TARGET


async def mark_and_delete(
    client: AsyncClient,
    pod: pod_pb2.Pod,
    *,
    reason: str,
    message: str,
    now: datetime,
    fail: bool = False,
    grace_period_seconds: int | None = None,
) -> bool:
    """Write DisruptionTarget (and phase Failed when ``fail``) to the pod's
    status, then delete it (``grace_period_seconds`` None: the pod's own).
    Returns False when the pod was already gone."""
    handle = client.pods(pod.metadata.namespace)
    marked = pod_pb2.Pod()
    marked.CopyFrom(pod)
    condition = pod_pb2.PodCondition(
        type=POD_DISRUPTION_TARGET,
        status="True",
        reason=reason,
        message=message,
        last_transition_time=format_rfc3339(now),
    )
    changed = set_condition(marked.status.conditions, condition)
    if fail and marked.status.phase != "Failed":
        marked.status.phase = "Failed"
        changed = True
    try:
        if changed:
            await handle.update_status(marked)
        options = (
            {} if grace_period_seconds is None else {"grace_period_seconds": grace_period_seconds}
        )
        await handle.delete(pod.metadata.name, uid=pod.metadata.uid, **options)
    except errors.NotFound:
        return False
    return True

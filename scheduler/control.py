"""The scheduler's writes to the API, behind a small interface so the
scheduling loop can be tested with a fake (``PodControl``).

* ``bind``: the Binding subresource (pods/binding), which sets
  ``spec.nodeName`` once and refuses a pod already bound or being deleted.
* ``set_unschedulable``: the ``PodScheduled=False`` condition with reason
  ``Unschedulable`` and the fit message, written only when it changes
  (Kubernetes ignores lastProbeTime/lastTransitionTime when comparing), on
  the resourceVersion read, re-reading on conflicts. A pod that got bound
  or is being deleted meanwhile is left alone.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pinnace.api.core.v1 import pod_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors
from pinnace.machinery.conditions import set_condition
from pinnace.machinery.timeutil import now_rfc3339
from pinnace.machinery.wellknown import POD_SCHEDULED, REASON_UNSCHEDULABLE

log = logging.getLogger(__name__)

STATUS_WRITE_ATTEMPTS = 3


class PodControl(Protocol):
    async def bind(self, namespace: str, name: str, node: str) -> None: ...

    async def set_unschedulable(self, pod: Any, message: str) -> None: ...


def with_unschedulable_condition(pod: Any, message: str, now: str) -> Any | None:
    """A copy of pod with PodScheduled=False/Unschedulable/message, or None
    when the pod already says exactly that."""
    cond = pod_pb2.PodCondition(
        type=POD_SCHEDULED,
        status="False",
        reason=REASON_UNSCHEDULABLE,
        message=message,
        last_transition_time=now,
    )
    out = type(pod)()
    out.CopyFrom(pod)
    return out if set_condition(out.status.conditions, cond) else None


class ApiPodControl:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def bind(self, namespace: str, name: str, node: str) -> None:
        await self._client.pods(namespace).bind(name, node)

    async def set_unschedulable(self, pod: Any, message: str) -> None:
        pods = self._client.pods(pod.metadata.namespace)
        current = pod
        for _ in range(STATUS_WRITE_ATTEMPTS):
            if current.spec.node_name or current.metadata.deletion_timestamp:
                return
            updated = with_unschedulable_condition(current, message, now_rfc3339())
            if updated is None:
                return
            try:
                await pods.update_status(updated)
                return
            except errors.Conflict:
                try:
                    current = await pods.get(pod.metadata.name)
                except errors.NotFound:
                    return
                if current.metadata.uid != pod.metadata.uid:
                    return  # deleted and re-created: not the pod we tried
            except errors.NotFound:
                return
        log.info(
            "gave up writing PodScheduled=False on %s/%s after %d conflicts",
            pod.metadata.namespace,
            pod.metadata.name,
            STATUS_WRITE_ATTEMPTS,
        )

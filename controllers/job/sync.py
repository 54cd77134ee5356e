"""One sync of a Job, and the step that removes the tracking finalizer.

``JobController.sync`` (controller.py) is the orchestration; every decision
is in a pure module: plan.py (which pods to create and delete), tracking.py
(what finished pods add, counted once), status.py (verdict and conditions),
backoff.py (when to replace failed pods), indexed.py (which indexes to run),
pod_failure_policy.py, success_policy.py. Order:

1. classify terminal pods and write them as uncounted (phase 1, if any);
2. with a verdict (SuccessCriteriaMet / FailureTarget) delete the active
   pods; suspended, delete them without counting (finalizer removed first);
   otherwise create or delete pods toward parallelism, while expectations
   are satisfied and the failure backoff has passed;
3. remove the tracking finalizer of the uncounted pods (``remove_finalizers``),
   move them into the counters, add Complete / Failed once nothing runs,
   write the status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from controllers.job.plan import finalizer_patch
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors


async def remove_finalizers(
    patch_pod: Callable[[str, dict], Awaitable[object]], pods: list[pod_pb2.Pod]
) -> set[str]:
    """Remove the tracking finalizer from pods; returns the uids that still
    have it (their patch failed). A pod gone meanwhile has lost it."""

    async def one(pod: pod_pb2.Pod) -> str | None:
        try:
            await patch_pod(pod.metadata.name, finalizer_patch(pod))
        except (errors.NotFound, errors.Conflict):
            return None  # gone, or a namesake: the uid guard protects us
        except errors.ApiError:
            return pod.metadata.uid
        return None

    results = await asyncio.gather(*(one(p) for p in pods))
    return {uid for uid in results if uid}

"""Claiming pods: which pods an owner controls (Kubernetes' ``ClaimPods`` in
controller_ref_manager.go), shared by every controller that owns pods.

Claiming decides which pods an owner controls, pod by pod:

* controlled by the owner (by uid) and matching its selector: kept;
* controlled by the owner but no longer matching: released (its
  ownerReference removed), unless the owner is being deleted;
* controlled by anybody else: never touched;
* an orphan that matches, is not being deleted, and whose owner is not
  being deleted: adopted (a controller ownerReference added). Before the
  first adoption of a sync the owner is read from the API (not the cache),
  so a deleted or re-created owner never adopts (Kubernetes #42639).

Adoption and release are merge patches guarded by the pod's uid and
resourceVersion: a pod changed since the cache saw it (another controller
adopted it first) makes the patch fail with a conflict, and the sync is
retried on fresh data.

"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from controllers.controllerref import adoption_patch, controller_ref, release_patch
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.labels import Selector

log = logging.getLogger(__name__)


class OwnerGone(errors.Conflict):
    """The owner was deleted or re-created since the cache saw it: it must not adopt."""


PatchPod = Callable[[str, dict], Awaitable[pod_pb2.Pod]]
"""patch(name, merge patch) -> the patched pod."""


async def claim_pods(
    owner: Any,
    pods: Sequence[pod_pb2.Pod],
    *,
    selector: Selector,
    patch_pod: PatchPod,
    recheck_owner: Callable[[], Awaitable[Any]],
    adopt_finalizers: Sequence[str] = (),
) -> list[pod_pb2.Pod]:
    """The pods of ``pods`` that ``owner`` controls after adopting matching
    orphans and releasing non-matching pods. ``recheck_owner`` returns the
    owner as the API has it now (or raises NotFound). Raises the first
    adoption or release error after trying every pod (pods gone meanwhile are
    skipped). ``adopt_finalizers`` are added to a pod when it is adopted and
    removed when it is released (the Job controller's tracking finalizer)."""
    uid = owner.metadata.uid
    owner_deleting = bool(owner.metadata.deletion_timestamp)
    claimed: list[pod_pb2.Pod] = []
    failures: list[Exception] = []
    can_adopt: bool | None = None
    for pod in pods:
        matches = selector.matches(pod.metadata.labels)
        ref = controller_ref(pod)
        if ref is not None:
            if ref.uid != uid:
                continue  # someone else's
            if matches:
                claimed.append(pod)
            elif not owner_deleting:
                await _try(failures, _release(owner, pod, patch_pod, adopt_finalizers))
            continue
        if owner_deleting or not matches or pod.metadata.deletion_timestamp:
            continue
        if can_adopt is None:
            can_adopt = await _owner_still_there(owner, recheck_owner, failures)
        if not can_adopt:
            continue
        patch = adoption_patch(owner, pod)
        missing = [f for f in adopt_finalizers if f not in pod.metadata.finalizers]
        if missing:
            patch["metadata"]["finalizers"] = [*pod.metadata.finalizers, *missing]
        adopted = await _try(failures, patch_pod(pod.metadata.name, _guarded(patch, pod)))
        if adopted is not None:
            claimed.append(adopted)
    if failures:
        raise failures[0]
    return claimed


async def _release(
    owner: Any, pod: pod_pb2.Pod, patch_pod: PatchPod, finalizers: Sequence[str]
) -> pod_pb2.Pod:
    log.info(
        "releasing pod %s/%s: its labels no longer match", pod.metadata.namespace, pod.metadata.name
    )
    patch = release_patch(owner, pod)
    if any(f in pod.metadata.finalizers for f in finalizers):
        kept = [f for f in pod.metadata.finalizers if f not in finalizers]
        patch["metadata"]["finalizers"] = kept or None
    return await patch_pod(pod.metadata.name, _guarded(patch, pod))


def _guarded(patch: dict, pod: pod_pb2.Pod) -> dict:
    """Add the pod's resourceVersion to a patch: it applies only to the pod
    as the cache saw it."""
    patch["metadata"]["resourceVersion"] = pod.metadata.resource_version
    return patch


async def _try(failures: list[Exception], call: Awaitable[Any]) -> Any | None:
    try:
        return await call
    except errors.NotFound:
        return None  # the pod is gone: nothing to claim
    except errors.ApiError as e:
        failures.append(e)
        return None


async def _owner_still_there(
    owner: Any, recheck_owner: Callable[[], Awaitable[Any]], failures: list[Exception]
) -> bool:
    meta = owner.metadata
    try:
        fresh = await recheck_owner()
    except errors.ApiError as e:
        failures.append(e)
        return False
    if fresh.metadata.uid != meta.uid:
        failures.append(OwnerGone(f"{meta.namespace}/{meta.name} is gone: its uid changed"))
        return False
    if fresh.metadata.deletion_timestamp:
        failures.append(OwnerGone(f"{meta.namespace}/{meta.name} is being deleted; cannot adopt"))
        return False
    return True

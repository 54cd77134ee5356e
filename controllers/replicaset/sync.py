"""Claiming pods and keeping their number right (Kubernetes'
``ClaimPods`` in controller_ref_manager.go and ``manageReplicas`` in
replica_set.go).

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

``manage_replicas`` then creates or deletes the difference to
``spec.replicas``, at most ``BURST_REPLICAS`` per sync. Expectations are
recorded before the first call: creations are made in slow-start batches
(1, 2, 4, ...) and a failed batch stops the rest, whose expectations are
lowered again (they will never be observed); deletions pick victims by rank
(ranking.py) and a failed delete lowers its expectation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from controllers.controllerref import adoption_patch, controller_ref, release_patch
from controllers.expectations import Expectations
from controllers.podcontrol import PodControl, slow_start_batch
from controllers.replicaset.ranking import pods_to_delete
from controllers.replicaset.util import BURST_REPLICAS, ReplicaKind, desired_replicas, pod_key
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
) -> list[pod_pb2.Pod]:
    """The pods of ``pods`` that ``owner`` controls after adopting matching
    orphans and releasing non-matching pods. ``recheck_owner`` returns the
    owner as the API has it now (or raises NotFound). Raises the first
    adoption or release error after trying every pod (pods gone meanwhile are
    skipped)."""
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
                await _try(failures, _release(owner, pod, patch_pod))
            continue
        if owner_deleting or not matches or pod.metadata.deletion_timestamp:
            continue
        if can_adopt is None:
            can_adopt = await _owner_still_there(owner, recheck_owner, failures)
        if not can_adopt:
            continue
        adopted = await _try(
            failures, patch_pod(pod.metadata.name, _guarded(adoption_patch(owner, pod), pod))
        )
        if adopted is not None:
            claimed.append(adopted)
    if failures:
        raise failures[0]
    return claimed


async def _release(owner: Any, pod: pod_pb2.Pod, patch_pod: PatchPod) -> pod_pb2.Pod:
    log.info("releasing pod %s: its labels no longer match", pod_key(pod))
    return await patch_pod(pod.metadata.name, _guarded(release_patch(owner, pod), pod))


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


async def manage_replicas(
    owner: Any,
    pods: Sequence[pod_pb2.Pod],
    *,
    key: str,
    kind: ReplicaKind,
    pod_control: PodControl,
    expectations: Expectations,
    related: Sequence[pod_pb2.Pod] = (),
    now: datetime | None = None,
    burst: int = BURST_REPLICAS,
) -> None:
    """Create or delete pods so that ``owner`` has ``spec.replicas`` active
    pods. ``pods`` are the active pods it controls; ``related`` the active
    pods of its sibling ReplicaSets (for ranking). Raises the first error.
    Not to be called concurrently for the same key."""
    diff = len(pods) - desired_replicas(owner)
    if diff < 0:
        await _create(
            owner,
            min(-diff, burst),
            key=key,
            kind=kind,
            pod_control=pod_control,
            expectations=expectations,
        )
    elif diff > 0:
        victims = pods_to_delete(pods, related, min(diff, burst), now=now)
        await _delete(
            owner, victims, key=key, kind=kind, pod_control=pod_control, expectations=expectations
        )


async def _create(
    owner: Any,
    count: int,
    *,
    key: str,
    kind: ReplicaKind,
    pod_control: PodControl,
    expectations: Expectations,
) -> None:
    meta = owner.metadata
    log.info(
        "too few replicas for %s %s: need %d, creating %d",
        kind.kind,
        key,
        desired_replicas(owner),
        count,
    )
    expectations.expect_creations(key, count)

    async def create(_: int) -> None:
        try:
            await pod_control.create_pod(meta.namespace, owner.spec.template, owner)
        except errors.Forbidden as e:
            if "being terminated" in e.message:
                return  # the namespace is going away: every create would fail
            raise

    done, err = await slow_start_batch(count, create)
    skipped = count - done
    if skipped > 0:
        log.info(
            "slow-start failure for %s %s: skipping %d pods, lowering expectations",
            kind.kind,
            key,
            skipped,
        )
        for _ in range(skipped):
            expectations.creation_observed(key)
    if err is not None:
        raise err


async def _delete(
    owner: Any,
    victims: Sequence[pod_pb2.Pod],
    *,
    key: str,
    kind: ReplicaKind,
    pod_control: PodControl,
    expectations: Expectations,
) -> None:
    log.info(
        "too many replicas for %s %s: need %d, deleting %d",
        kind.kind,
        key,
        desired_replicas(owner),
        len(victims),
    )
    # Snapshot the uids before any call, so each deletion is observed once,
    # whether seen as a deletionTimestamp update or as the delete itself.
    expectations.expect_deletions(key, [p.metadata.uid for p in victims])

    async def delete(pod: pod_pb2.Pod) -> None:
        try:
            await pod_control.delete_pod(
                pod.metadata.namespace, pod.metadata.name, owner, uid=pod.metadata.uid
            )
        except Exception:
            # The informer will not observe this deletion.
            expectations.deletion_observed(key, pod.metadata.uid)
            raise

    results = await asyncio.gather(*(delete(p) for p in victims), return_exceptions=True)
    for r in results:
        if isinstance(r, asyncio.CancelledError):
            raise r
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]

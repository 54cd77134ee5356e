"""Keeping the number of pods right (Kubernetes' ``manageReplicas`` in
replica_set.go); claiming which pods an owner controls is in
controllers/claim.py.

``manage_replicas`` then creates or deletes the difference to
``spec.replicas``, at most ``BURST_REPLICAS`` per sync. Expectations are
recorded before the first call: creations are made in slow-start batches
(1, 2, 4, ...) and a failed batch stops the rest, whose expectations are
lowered again (they will never be observed); deletions pick victims by rank
(plan.py); every victim is tried, a failed delete lowers its expectation, and
the failures are raised together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from controllers.expectations import Expectations
from controllers.podcontrol import PodControl, slow_start_batch
from controllers.replicaset.plan import pods_to_delete
from controllers.replicaset.util import BURST_REPLICAS, ReplicaKind, desired_replicas
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors

log = logging.getLogger(__name__)


async def manage_replicas(
    owner: Any,
    pods: Sequence[pod_pb2.Pod],
    *,
    key: str,
    kind: ReplicaKind,
    pod_control: PodControl,
    expectations: Expectations,
    related: Callable[[], Sequence[pod_pb2.Pod]] = tuple,
    now: datetime | None = None,
    burst: int = BURST_REPLICAS,
) -> None:
    """Create or delete pods so that ``owner`` has ``spec.replicas`` active
    pods. ``pods`` are the active pods it controls; ``related()`` gives the
    active pods of its sibling ReplicaSets (for ranking; called only for a
    scale-down, as finding them walks the namespace's pods). Raises the first failed
    create batch's error, or every failed deletion as one aggregate error.
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
        victims = pods_to_delete(pods, related(), min(diff, burst), now=now)
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
    errors.raise_aggregate([r for r in results if isinstance(r, BaseException)])

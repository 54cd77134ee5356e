"""Which pods a scale-down deletes first (pure).

Kubernetes' ``ActivePodsWithRanks.Less`` (pkg/controller/controller_utils.go)
and ``getPodsToDelete`` (pkg/controller/replicaset/replica_set.go). Pods are
compared rule by rule; the first rule that tells them apart decides, and the
pod that sorts first is deleted first:

1. not assigned to a node before assigned;
2. phase Pending before Unknown before Running;
3. not ready before ready;
4. lower ``controller.kubernetes.io/pod-deletion-cost`` first;
5. higher rank first: the rank is the number of related active pods on the
   pod's node, so doubled-up nodes lose a pod first;
6. both ready: the one ready for less time first;
7. more container restarts first;
8. newer creation time first (no creation time before any).

Rules 6 and 8 compare times on a logarithmic scale, as Kubernetes does with
LogarithmicScaleDown: the ages (now - time, in nanoseconds) are bucketed by
floor(log2(age)), so pods created within the same power-of-two age band are
equivalent and ordered by uid, a pseudo-random but stable choice. For
example, at now = T, pods created at T-10s and T-12s (age ~2^33.2 and
~2^33.5 ns) share bucket 33 and fall back to the uid, while a pod created
at T-20s (bucket 34) sorts after both. A missing time sorts first.

Related pods are the pods of every ReplicaSet with the same controller (the
Deployment's), so rule 5 spreads a Deployment's pods over nodes. A
ReplicaSet without a controller has no related pods and every rank is 0.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from controllers.replicaset.util import deletion_cost
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.podutil import (
    is_pod_active,
    is_pod_ready,
    less_active_by_state,
    max_container_restarts,
    parse_time,
    ready_since,
)


def pods_to_delete(
    pods: Sequence[pod_pb2.Pod],
    related: Sequence[pod_pb2.Pod],
    count: int,
    *,
    now: datetime | None,
) -> list[pod_pb2.Pod]:
    """The ``count`` pods of ``pods`` to delete first."""
    if count >= len(pods):
        return list(pods)  # all of them: no need to rank
    return rank_for_deletion(pods, related, now=now)[:count]


def rank_for_deletion(
    pods: Sequence[pod_pb2.Pod], related: Sequence[pod_pb2.Pod], *, now: datetime | None
) -> list[pod_pb2.Pod]:
    """``pods`` ordered most deletable first."""
    on_node = Counter(p.spec.node_name for p in related if is_pod_active(p))
    ranked = [(p, on_node[p.spec.node_name]) for p in pods]

    def compare(a: tuple[pod_pb2.Pod, int], b: tuple[pod_pb2.Pod, int]) -> int:
        if deleted_before(a[0], a[1], b[0], b[1], now=now):
            return -1
        if deleted_before(b[0], b[1], a[0], a[1], now=now):
            return 1
        return 0

    ranked.sort(key=functools.cmp_to_key(compare))
    return [p for p, _ in ranked]


def deleted_before(
    a: pod_pb2.Pod, rank_a: int, b: pod_pb2.Pod, rank_b: int, *, now: datetime | None
) -> bool:
    """Whether a is preferred for deletion over b (Kubernetes' Less)."""
    # 1-3. unassigned < assigned; Pending < Unknown < Running; not ready < ready
    by_state = less_active_by_state(a, b)
    if by_state is not None:
        return by_state
    both_ready = is_pod_ready(a)  # the tie above: both ready or neither
    # 4. lower deletion cost < higher
    cost_a, cost_b = deletion_cost(a), deletion_cost(b)
    if cost_a != cost_b:
        return cost_a < cost_b
    # 5. doubled up < not doubled up
    if rank_a != rank_b:
        return rank_a > rank_b
    # 6. ready for less time < more time
    if both_ready:
        since_a, since_b = ready_since(a), ready_since(b)
        if since_a != since_b:
            return _newer_first(since_a, since_b, a, b, now)
    # 7. more restarts < fewer
    restarts_a, restarts_b = max_container_restarts(a), max_container_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    # 8. newer < older
    created_a = parse_time(a.metadata.creation_timestamp)
    created_b = parse_time(b.metadata.creation_timestamp)
    if created_a != created_b:
        return _newer_first(created_a, created_b, a, b, now)
    return False


def _newer_first(
    t_a: datetime | None,
    t_b: datetime | None,
    a: pod_pb2.Pod,
    b: pod_pb2.Pod,
    now: datetime | None,
) -> bool:
    if now is None or t_a is None or t_b is None:
        return _after_or_zero(t_a, t_b)
    diff = _log_bucket(now, t_a) - _log_bucket(now, t_b)
    if diff == 0:
        return a.metadata.uid < b.metadata.uid
    return diff < 0


def _after_or_zero(t_a: datetime | None, t_b: datetime | None) -> bool:
    if t_a is None or t_b is None:
        return t_a is None
    return t_a > t_b


def _log_bucket(now: datetime, t: datetime) -> int:
    """floor(log2(age in nanoseconds)), -1 for an age <= 0."""
    delta = now - t
    nanos = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    return int(math.log2(nanos)) if nanos > 0 else -1

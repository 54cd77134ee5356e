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
from dataclasses import dataclass
from datetime import datetime

from controllers.replicaset.util import deletion_cost
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.podutil import (
    is_pod_active,
    is_pod_ready,
    max_container_restarts,
    parse_time,
    phase_ordinal,
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
    """``pods`` ordered most deletable first.

    What each rule compares is read from each pod once (``RankFacts``), not
    once per comparison: a sort of 500 pods makes ~4,500 comparisons, and
    parsing the two times of both pods in each cost ~70 us."""
    on_node = Counter(p.spec.node_name for p in related if is_pod_active(p))
    ranked = [RankFacts.of(p, on_node[p.spec.node_name], now=now) for p in pods]
    ranked.sort(key=functools.cmp_to_key(_compare))
    return [f.pod for f in ranked]


def deleted_before(
    a: pod_pb2.Pod, rank_a: int, b: pod_pb2.Pod, rank_b: int, *, now: datetime | None
) -> bool:
    """Whether a is preferred for deletion over b (Kubernetes' Less)."""
    return RankFacts.of(a, rank_a, now=now).before(RankFacts.of(b, rank_b, now=now))


@dataclass(frozen=True, slots=True)
class RankFacts:
    """What the deletion rules read of one pod, at one ``now``.

    The ``*_bucket`` fields are ``_log_bucket(now, time)``, None when ``now``
    or the time is missing (the rules then compare the times themselves)."""

    pod: pod_pb2.Pod
    rank: int
    node_name: str
    phase: int
    ready: bool
    cost: int
    ready_since: datetime | None
    ready_bucket: int | None
    restarts: int
    created: datetime | None
    created_bucket: int | None

    @classmethod
    def of(cls, pod: pod_pb2.Pod, rank: int, *, now: datetime | None) -> RankFacts:
        ready = is_pod_ready(pod)
        since = ready_since(pod) if ready else None
        created = parse_time(pod.metadata.creation_timestamp)
        return cls(
            pod=pod,
            rank=rank,
            node_name=pod.spec.node_name,
            phase=phase_ordinal(pod),
            ready=ready,
            cost=deletion_cost(pod),
            ready_since=since,
            ready_bucket=_bucket(now, since),
            restarts=max_container_restarts(pod),
            created=created,
            created_bucket=_bucket(now, created),
        )

    def before(self, b: RankFacts) -> bool:
        """Whether this pod is preferred for deletion over b (Kubernetes' Less)."""
        a = self
        # 1. unassigned < assigned
        if a.node_name != b.node_name and (not a.node_name or not b.node_name):
            return not a.node_name
        # 2. Pending < Unknown < Running
        if a.phase != b.phase:
            return a.phase < b.phase
        # 3. not ready < ready
        if a.ready != b.ready:
            return not a.ready
        # 4. lower deletion cost < higher
        if a.cost != b.cost:
            return a.cost < b.cost
        # 5. doubled up < not doubled up
        if a.rank != b.rank:
            return a.rank > b.rank
        # 6. ready for less time < more time (both ready, or neither)
        if a.ready and a.ready_since != b.ready_since:
            return _newer_first(a.ready_since, a.ready_bucket, b.ready_since, b.ready_bucket, a, b)
        # 7. more restarts < fewer
        if a.restarts != b.restarts:
            return a.restarts > b.restarts
        # 8. newer < older
        if a.created != b.created:
            return _newer_first(a.created, a.created_bucket, b.created, b.created_bucket, a, b)
        return False


def _compare(a: RankFacts, b: RankFacts) -> int:
    if a.before(b):
        return -1
    if b.before(a):
        return 1
    return 0


def _newer_first(
    t_a: datetime | None,
    bucket_a: int | None,
    t_b: datetime | None,
    bucket_b: int | None,
    a: RankFacts,
    b: RankFacts,
) -> bool:
    if bucket_a is None or bucket_b is None:
        return _after_or_zero(t_a, t_b)
    diff = bucket_a - bucket_b
    if diff == 0:
        return a.pod.metadata.uid < b.pod.metadata.uid
    return diff < 0


def _after_or_zero(t_a: datetime | None, t_b: datetime | None) -> bool:
    if t_a is None or t_b is None:
        return t_a is None
    return t_a > t_b


def _bucket(now: datetime | None, t: datetime | None) -> int | None:
    return None if now is None or t is None else _log_bucket(now, t)


def _log_bucket(now: datetime, t: datetime) -> int:
    """floor(log2(age in nanoseconds)), -1 for an age <= 0."""
    delta = now - t
    nanos = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    return int(math.log2(nanos)) if nanos > 0 else -1

"""Completion indexes of Indexed Jobs (Kubernetes' indexed_job_utils.go).

Sets of indexes are kept in status in a compressed interval form: sorted,
comma separated, with runs of three or more consecutive indexes written as
"first-last" and a run of two written out ("0,1,3-5,7" for {0,1,3,4,5,7}).
A pod's index comes from its ``batch.kubernetes.io/job-completion-index``
annotation; the pod gets it as the ``JOB_COMPLETION_INDEX`` environment
variable through a fieldRef, and the hostname ``<job>-<index>``.
"""

from __future__ import annotations

from collections.abc import Iterable

from controllers.job.util import COMPLETION_INDEX_ENV
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.wellknown import (
    ANNOTATION_JOB_COMPLETION_INDEX,
    ANNOTATION_JOB_INDEX_FAILURE_COUNT,
    ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT,
)


def parse_indexes(text: str, limit: int | None = None) -> set[int]:
    """The set written as ``text`` ("1,3-5"); indexes >= limit are dropped,
    malformed parts skipped (status written by someone else must not crash us)."""
    out: set[int] = set()
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            continue
        if limit is not None:
            hi = min(hi, limit - 1)
        out.update(range(lo, hi + 1))
    return out


def format_indexes(indexes: Iterable[int]) -> str:
    """The compressed form of a set of indexes: {1,3,4,5} -> "1,3-5"."""
    parts: list[str] = []
    ordered = sorted(set(indexes))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = ordered[i], ordered[j]
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts += [str(first), str(last)]
        else:
            parts.append(f"{first}-{last}")
        i = j + 1
    return ",".join(parts)


def pod_index(pod: pod_pb2.Pod) -> int | None:
    """The completion index of a pod, or None if it has none (or a bad one)."""
    text = pod.metadata.annotations.get(ANNOTATION_JOB_COMPLETION_INDEX, "")
    if not text.isdigit():
        return None
    return int(text)


def failure_count(pod: pod_pb2.Pod, *, ignored: bool = False) -> int:
    key = (
        ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT
        if ignored
        else ANNOTATION_JOB_INDEX_FAILURE_COUNT
    )
    text = pod.metadata.annotations.get(key, "0")
    return int(text) if text.isdigit() else 0


def indexes_to_create(
    *, completions: int, want: int, busy: set[int], completed: set[int], failed: set[int]
) -> list[int]:
    """The lowest ``want`` indexes in [0, completions) that are neither
    completed, failed, nor running (Kubernetes' firstPendingIndexes)."""
    out: list[int] = []
    for i in range(completions):
        if len(out) >= want:
            break
        if i not in busy and i not in completed and i not in failed:
            out.append(i)
    return out


def decorate_pod(
    pod: pod_pb2.Pod,
    *,
    job_name: str,
    index: int,
    failures: int | None = None,
    ignored: int = 0,
) -> None:
    """Give a new pod its index: annotation and label, JOB_COMPLETION_INDEX
    from the annotation (every container and init container), hostname, and
    the per-index failure counts (backoffLimitPerIndex)."""
    meta = pod.metadata
    meta.annotations[ANNOTATION_JOB_COMPLETION_INDEX] = str(index)
    meta.labels[ANNOTATION_JOB_COMPLETION_INDEX] = str(index)
    for container in (*pod.spec.init_containers, *pod.spec.containers):
        if any(e.name == COMPLETION_INDEX_ENV for e in container.env):
            continue
        env = container.env.add(name=COMPLETION_INDEX_ENV)
        env.value_from.field_ref.field_path = (
            f"metadata.annotations['{ANNOTATION_JOB_COMPLETION_INDEX}']"
        )
    if not pod.spec.hostname:
        pod.spec.hostname = f"{job_name}-{index}"
    meta.generate_name = f"{job_name}-{index}-"
    if failures is not None:  # backoffLimitPerIndex: the counts so far, "0" included
        meta.annotations[ANNOTATION_JOB_INDEX_FAILURE_COUNT] = str(failures)
        meta.annotations[ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT] = str(ignored)

"""Delay before replacing failed pods (Kubernetes' backoff_utils.go).

After ``n`` consecutive failures (failures since the last success, counted
over the Job's terminal pods) a new pod waits ``base * 2**(n-1)`` seconds
from the last failure, capped at ``cap``: with Kubernetes' defaults
(DefaultJobPodFailureBackOff 10 s, MaxJobPodFailureBackOff 10 min) the
waits are 10 s, 20 s, 40 s, ... 320 s, then 600 s. The documentation says a
6-minute cap; the code's 10 minutes is what we follow. Both are flags of
the controller-manager so tests can run with a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from controllers.job.util import finish_time
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.podutil import is_pod_terminal

DEFAULT_BACKOFF = 10.0
MAX_BACKOFF = 600.0


@dataclass(frozen=True)
class BackoffRecord:
    """Failures since the last success and when the last one happened."""

    failures: int = 0
    last_failure: datetime | None = None


def record_of(pods: Iterable[pod_pb2.Pod]) -> BackoffRecord:
    """The record from terminal pods (others are ignored), in finish order."""
    finished = []
    for pod in pods:
        if not is_pod_terminal(pod):
            continue
        when = finish_time(pod)
        if when is not None:
            finished.append((when, pod.status.phase))
    finished.sort(key=lambda item: item[0])
    failures, last = 0, None
    for when, phase in finished:
        if phase == "Succeeded":
            failures, last = 0, None
        else:
            failures, last = failures + 1, when
    return BackoffRecord(failures, last)


def remaining(
    record: BackoffRecord, now: datetime, *, base: float = DEFAULT_BACKOFF, cap: float = MAX_BACKOFF
) -> float:
    """Seconds still to wait before creating a pod (0: create now)."""
    if record.failures == 0 or record.last_failure is None:
        return 0.0
    delay = min(base * 2 ** (record.failures - 1), cap)
    waited = (now - record.last_failure).total_seconds()
    return max(0.0, delay - waited)

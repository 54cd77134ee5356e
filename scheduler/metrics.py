"""Prometheus metrics of the scheduler (names as kube-scheduler's)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

SCHEDULED = "scheduled"
UNSCHEDULABLE = "unschedulable"
ERROR = "error"

schedule_attempts = Counter(
    "scheduler_schedule_attempts",
    "Scheduling attempts by result (scheduled, unschedulable, error).",
    ["result"],
)
pending_pods = Gauge(
    "scheduler_pending_pods",
    "Pending pods by sub-queue (active, backoff, unschedulable).",
    ["queue"],
)
scheduling_attempt_duration = Histogram(
    "scheduler_scheduling_attempt_duration_seconds",
    "Time to decide where a pod goes (filter + score), by result.",
    ["result"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
)
pod_scheduling_sli_duration = Histogram(
    "scheduler_pod_scheduling_sli_duration_seconds",
    "From a pod first entering the queue until its bind succeeded.",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 60),
)
binding_duration = Histogram(
    "scheduler_binding_duration_seconds",
    "Latency of the Binding API call.",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
)
is_leader = Gauge("scheduler_leader", "1 while this instance leads (schedules and binds).")


def watch_queue(pending: Callable[[], dict[str, int]]) -> None:
    """Report the queue's sizes at each scrape."""
    for name in ("active", "backoff", "unschedulable"):
        pending_pods.labels(queue=name).set_function(_size_of(pending, name))


def _size_of(pending: Callable[[], dict[str, int]], name: str) -> Callable[[], float]:
    return lambda: pending().get(name, 0)

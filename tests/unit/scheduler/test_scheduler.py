"""The scheduling loop's decisions with a fake PodControl and recorder:
binding, failure reporting, bind errors, and the informer handlers."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from prometheus_client import generate_latest

from pinnace.machinery import errors
from scheduler import metrics
from scheduler.cache import Cache
from scheduler.plugins import default_framework
from scheduler.queue import ACTIVE, BACKOFF, UNSCHEDULABLE, SchedulingQueue
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.builders import bound, node, pod


class FakeControl:
    def __init__(self) -> None:
        self.binds: list[tuple[str, str, str]] = []
        self.unschedulable: list[tuple[str, str]] = []
        self.bind_error: Exception | None = None

    async def bind(self, namespace: str, name: str, node: str) -> None:
        if self.bind_error is not None:
            raise self.bind_error
        self.binds.append((namespace, name, node))

    async def set_unschedulable(self, pod: Any, message: str) -> None:
        self.unschedulable.append((pod.metadata.name, message))


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str) -> None:
        self.events.append((obj.metadata.name, type, reason, message))


class FakeStore:
    def __init__(self) -> None:
        self.pods: dict[str, Any] = {}

    def get_by_name(self, namespace: str, name: str) -> Any:
        return self.pods.get(f"{namespace}/{name}")


@pytest.fixture
def parts():
    store, control, recorder = FakeStore(), FakeControl(), FakeRecorder()
    sched = Scheduler(
        pods=store,
        cache=Cache(),
        queue=SchedulingQueue(initial_backoff=1, max_backoff=10),
        framework=default_framework(),
        control=control,
        recorder=recorder,
        rng=random.Random(1),
    )
    return sched, store, control, recorder


def add_pod(sched, store, p):
    store.pods[f"{p.metadata.namespace}/{p.metadata.name}"] = p
    sched.on_pod_add(p)


async def park_unschedulable(sched):
    """Pop the next pod and put it back as unschedulable (as a failed cycle would)."""
    qp = await asyncio.wait_for(sched.queue.pop(), 0.1)
    sched.queue.add_unschedulable(qp, sched.queue.scheduling_cycle)
    assert sched.queue.where(qp.key) == UNSCHEDULABLE


async def one(sched):
    qp = await asyncio.wait_for(sched.queue.pop(), 0.1)
    sched.schedule_one(qp)
    await sched.drain()
    return qp


async def test_binds_to_the_only_fitting_node(parts):
    sched, store, control, recorder = parts
    sched.on_node_add(node("small", cpu="1"))
    sched.on_node_add(node("big", cpu="8"))
    add_pod(sched, store, pod("p", cpu="2"))
    await one(sched)
    assert control.binds == [("default", "p", "big")]
    assert recorder.events == [
        ("p", "Normal", "Scheduled", "Successfully assigned default/p to big")
    ]
    assert sched.cache.node_info("big").requested.milli_cpu == 2000


async def test_assumed_pods_count_before_bind_is_observed(parts):
    sched, store, control, _ = parts
    sched.on_node_add(node("n", cpu="1"))
    add_pod(sched, store, pod("a", cpu="600m"))
    add_pod(sched, store, pod("b", cpu="600m"))
    await one(sched)
    await one(sched)
    assert [b[1] for b in control.binds] == ["a"]
    assert sched.queue.where("default/b") == UNSCHEDULABLE


async def test_unschedulable_reports_and_waits_for_a_node(parts):
    sched, store, control, recorder = parts
    sched.on_node_add(node("n1", cpu="1"))
    add_pod(sched, store, pod("p", cpu="2"))
    await one(sched)
    message = "0/1 nodes are available: 1 Insufficient cpu."
    assert control.unschedulable == [("p", message)]
    assert recorder.events == [("p", "Warning", "FailedScheduling", message)]
    assert sched.queue.where("default/p") == UNSCHEDULABLE
    sched.on_node_add(node("n2", cpu="4"))
    assert sched.queue.where("default/p") in (ACTIVE, BACKOFF)


async def test_bind_error_forgets_and_backs_off(parts):
    sched, store, control, _ = parts
    sched.on_node_add(node("n1"))
    add_pod(sched, store, pod("p", cpu="1"))
    control.bind_error = errors.Unavailable("apiserver down")
    await one(sched)
    assert not sched.cache.is_assumed("default/p")
    assert sched.cache.node_info("n1").requested.milli_cpu == 0
    assert sched.queue.where("default/p") == BACKOFF


async def test_bind_conflict_is_not_retried(parts):
    sched, store, control, _ = parts
    sched.on_node_add(node("n1"))
    add_pod(sched, store, pod("p"))
    control.bind_error = errors.Conflict('pod p is already assigned to node "x"')
    await one(sched)
    assert "default/p" not in sched.queue
    assert not sched.cache.is_assumed("default/p")


@pytest.mark.parametrize(
    ("spec", "status", "queued"),
    [
        pytest.param({}, {}, True, id="pending"),
        pytest.param({"schedulerName": "default-scheduler"}, {}, True, id="our-name"),
        pytest.param({"schedulerName": "other"}, {}, False, id="other-scheduler"),
        pytest.param({}, {"phase": "Failed"}, False, id="terminal"),
    ],
)
def test_which_pods_are_queued(parts, spec, status, queued):
    sched, store, _, _ = parts
    p = pod("p", spec=spec)
    if status:
        p.status.phase = status["phase"]
    add_pod(sched, store, p)
    assert ("default/p" in sched.queue) is queued


def test_bound_pods_go_to_the_cache_not_the_queue(parts):
    sched, store, _, _ = parts
    sched.on_node_add(node("n1"))
    add_pod(sched, store, bound(pod("p", cpu="1"), "n1"))
    assert "default/p" not in sched.queue
    assert sched.cache.node_info("n1").requested.milli_cpu == 1000


async def test_deleting_a_bound_pod_moves_unschedulable_pods(parts):
    sched, store, _, _ = parts
    sched.on_node_add(node("n1"))
    running = bound(pod("r", cpu="4"), "n1")
    add_pod(sched, store, running)
    waiting = pod("w", cpu="1")
    add_pod(sched, store, waiting)
    await park_unschedulable(sched)
    sched.on_pod_delete(running)
    assert sched.queue.where("default/w") in (ACTIVE, BACKOFF)
    assert sched.cache.node_info("n1").requested.milli_cpu == 0


async def test_node_heartbeat_does_not_move_pods(parts):
    sched, store, _, _ = parts
    old = node("n1")
    sched.on_node_add(old)
    add_pod(sched, store, pod("w"))
    await park_unschedulable(sched)
    beat = node("n1")
    beat.status.conditions[0].last_heartbeat_time = "2026-01-01T00:00:00Z"
    sched.on_node_update(old, beat)
    assert sched.queue.where("default/w") == UNSCHEDULABLE
    cordoned = node("n1", unschedulable=True)
    sched.on_node_update(beat, cordoned)
    assert sched.queue.where("default/w") != UNSCHEDULABLE


async def test_no_nodes_at_all(parts):
    sched, store, control, _ = parts
    add_pod(sched, store, pod("p"))
    await one(sched)
    assert control.unschedulable == [("p", "no nodes available to schedule pods")]


async def test_metrics_exposed(parts):
    sched, store, _, _ = parts
    metrics.watch_queue(sched.queue.pending)
    sched.on_node_add(node("n1"))
    add_pod(sched, store, pod("p"))
    text = generate_latest().decode()
    assert 'scheduler_pending_pods{queue="active"} 1.0' in text
    await one(sched)
    text = generate_latest().decode()
    assert 'scheduler_schedule_attempts_total{result="scheduled"}' in text
    assert "scheduler_scheduling_attempt_duration_seconds_bucket" in text

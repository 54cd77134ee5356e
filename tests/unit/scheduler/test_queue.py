"""The scheduling queue: ordering, backoff, unschedulable pods and the
events that move them, with a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from pinnace.machinery.timeutil import FakeClock
from scheduler.queue import ACTIVE, BACKOFF, UNSCHEDULABLE, QueuedPod, SchedulingQueue
from tests.unit.scheduler.builders import pod


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(monotonic=1000.0)


@pytest.fixture
def queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(
        initial_backoff=1, max_backoff=10, max_unschedulable=60, clock=clock.monotonic
    )


async def pop_now(q: SchedulingQueue) -> QueuedPod:
    return await asyncio.wait_for(q.pop(), 0.1)


async def test_active_ordered_by_priority_then_age(queue, clock):
    queue.add(pod("old-low", priority=0))
    clock.advance(1)
    queue.add(pod("high", priority=100))
    clock.advance(1)
    queue.add(pod("new-low"))
    clock.advance(1)
    queue.add(pod("mid", priority=5))
    order = [(await pop_now(queue)).pod.metadata.name for _ in range(4)]
    assert order == ["high", "mid", "old-low", "new-low"]


async def test_pop_waits_for_a_pod(queue):
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    queue.add(pod("p"))
    qp = await asyncio.wait_for(waiter, 1)
    assert qp.key == "default/p" and qp.attempts == 1


async def test_duplicate_add_keeps_one_entry(queue):
    queue.add(pod("p"))
    queue.add(pod("p"))
    assert queue.pending() == {ACTIVE: 1, BACKOFF: 0, UNSCHEDULABLE: 0}
    await pop_now(queue)
    assert queue.pending()[ACTIVE] == 0


@pytest.mark.parametrize(
    ("attempts", "want"),
    [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)],
    ids=lambda v: str(v),
)
def test_backoff_duration_doubles_to_max(queue, attempts, want):
    qp = QueuedPod(pod(), "default/p", 0, 0, attempts=attempts)
    assert queue.backoff_duration(qp) == want


async def test_unschedulable_moves_on_cluster_event_after_backoff(queue, clock):
    queue.add(pod("p"))
    qp = await pop_now(queue)
    queue.add_unschedulable(qp, queue.scheduling_cycle)
    assert queue.where("default/p") == UNSCHEDULABLE
    # A node is added while still backing off (1 s): backoff queue.
    assert queue.move_all("NodeAdd") == 1
    assert queue.where("default/p") == BACKOFF
    clock.advance(0.5)
    assert queue.flush_backoff() == 0
    clock.advance(0.6)
    assert queue.flush_backoff() == 1
    assert queue.where("default/p") == ACTIVE
    assert (await pop_now(queue)).attempts == 2


async def test_unschedulable_moves_straight_to_active_when_backoff_expired(queue, clock):
    queue.add(pod("p"))
    qp = await pop_now(queue)
    queue.add_unschedulable(qp, queue.scheduling_cycle)
    clock.advance(5)
    queue.move_all("NodeAdd")
    assert queue.where("default/p") == ACTIVE


async def test_unschedulable_stays_without_events(queue, clock):
    queue.add(pod("p"))
    qp = await pop_now(queue)
    queue.add_unschedulable(qp, queue.scheduling_cycle)
    clock.advance(30)
    assert queue.flush_backoff() == 0
    assert queue.flush_unschedulable() == 0
    assert queue.where("default/p") == UNSCHEDULABLE


async def test_unschedulable_flushed_after_max_duration(queue, clock):
    queue.add(pod("p"))
    qp = await pop_now(queue)
    queue.add_unschedulable(qp, queue.scheduling_cycle)
    clock.advance(61)
    assert queue.flush_unschedulable() == 1
    assert queue.where("default/p") == ACTIVE


async def test_move_during_cycle_sends_failed_pod_to_backoff(queue):
    """A node added while the pod was being tried must not be missed."""
    queue.add(pod("p"))
    qp = await pop_now(queue)
    cycle = queue.scheduling_cycle
    queue.move_all("NodeAdd")  # arrives mid-cycle
    queue.add_unschedulable(qp, cycle)
    assert queue.where("default/p") == BACKOFF


async def test_spec_update_requeues_unschedulable_but_status_update_does_not(queue, clock):
    old = pod("p")
    queue.add(old)
    qp = await pop_now(queue)
    queue.add_unschedulable(qp, queue.scheduling_cycle)
    clock.advance(5)
    status_only = pod("p")
    status_only.status.conditions.add(type="PodScheduled", status="False")
    queue.update(old, status_only)
    assert queue.where("default/p") == UNSCHEDULABLE
    tolerating = pod("p", spec={"tolerations": [{"operator": "Exists"}]})
    queue.update(status_only, tolerating)
    assert queue.where("default/p") == ACTIVE
    assert (await pop_now(queue)).pod is tolerating


async def test_delete_removes_from_every_subqueue(queue):
    for name in ("a", "b", "c"):
        queue.add(pod(name))
    qa = await pop_now(queue)
    qb = await pop_now(queue)
    queue.add_unschedulable(qa, queue.scheduling_cycle)
    queue.add_backoff(qb)
    for name in ("a", "b", "c"):
        queue.delete(pod(name))
    assert queue.pending() == {ACTIVE: 0, BACKOFF: 0, UNSCHEDULABLE: 0}
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.pop(), 0.05)


async def test_add_after_informer_readded_is_ignored(queue):
    queue.add(pod("p"))
    qp = await pop_now(queue)
    queue.add(pod("p"))  # an informer event while the pod was being tried
    queue.add_unschedulable(qp, queue.scheduling_cycle)
    assert queue.where("default/p") == ACTIVE


async def test_run_moves_expired_backoff_in_real_time():
    q = SchedulingQueue(initial_backoff=0.05, max_backoff=0.1)
    q.add(pod("p"))
    qp = await pop_now(q)
    q.add_backoff(qp)
    runner = asyncio.create_task(q.run())
    try:
        again = await asyncio.wait_for(q.pop(), 1)
        assert again.attempts == 2
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

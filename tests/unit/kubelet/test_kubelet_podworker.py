"""kubelet.podworker.worker: the pod worker's timing (deadline, sync retries) on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kubelet.podworker import PodWorker
from pinnace.client.fake import FakeClient
from pinnace.machinery.timeutil import FakeClock
from tests.unit.kubelet.kubelet_fakes import FakeRecorder, make_pod, make_state

START = "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("deadline", "start_time", "elapsed", "remaining"),
    [
        pytest.param(None, START, 30, None, id="no-deadline"),
        pytest.param(60, "", 30, None, id="not-started"),
        pytest.param(60, START, 30, 30.0, id="half-way"),
        pytest.param(60, START, 90, -30.0, id="exceeded"),
    ],
)
def test_deadline_remaining(
    tmp_path: Path, deadline: int | None, start_time: str, elapsed: float, remaining: float | None
) -> None:
    spec = {} if deadline is None else {"activeDeadlineSeconds": deadline}
    pod = make_pod(**spec)
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    clock.advance(elapsed)
    worker = PodWorker(make_state(tmp_path, pod, clock=clock).ctx, pod)
    worker.state.start_time = start_time
    assert worker._deadline_remaining(pod) == remaining


@pytest.mark.parametrize(
    ("base", "cap", "outcomes", "sleeps"),
    [
        pytest.param(0.5, 10, "EEEEEEE", [0.5, 1, 2, 4, 8, 10, 10], id="doubles-to-the-cap"),
        pytest.param(0.5, 10, "EEES", [0.5, 1, 2, 3], id="success-returns-its-delay"),
        pytest.param(0.5, 10, "EEESEE", [0.5, 1, 2, 3, 0.5, 1], id="success-resets"),
        pytest.param(1, 1, "EEE", [1, 1, 1], id="base-equals-cap"),
        pytest.param(0.5, 10, "SS", [3, 3], id="no-failures"),
    ],
)
async def test_sync_retry_backoff(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    base: float,
    cap: float,
    outcomes: str,
    sleeps: list[float],
) -> None:
    """A failing sync ("E") is retried after a per-pod back-off; a sync that
    succeeds ("S", asking to sleep 3 s) resets it. The worker sleeps what
    run_once returns; time moves on a fake clock."""
    pod = make_pod()
    clock = FakeClock()
    ctx = make_state(tmp_path, pod, clock=clock, sync_retry_base=base, sync_retry_max=cap).ctx
    worker = PodWorker(ctx, pod)
    script = iter(outcomes)

    async def sync() -> float:
        if next(script) == "E":
            raise RuntimeError("apiserver unavailable")
        return 3.0

    monkeypatch.setattr(worker, "sync", sync)
    got = []
    for _ in outcomes:
        delay = await worker.run_once()
        got.append(delay)
        clock.advance(delay)
    assert got == sleeps


async def test_a_pod_that_cannot_be_set_up_backs_off(tmp_path: Path) -> None:
    """FailedMount: reported (event, ContainerCreating), then retried with back-off."""
    pod = make_pod(volumes=[{"name": "cfg", "configMap": {"name": "settings"}}])
    client = FakeClient(pod)
    clock = FakeClock()
    ctx = make_state(tmp_path, pod, clock=clock, client=client).ctx
    worker = PodWorker(ctx, pod)
    delays = []
    for _ in range(4):
        delays.append(await worker.run_once())
        clock.advance(delays[-1])
    assert delays == [0.5, 1, 2, 4]
    recorder = ctx.recorder
    assert isinstance(recorder, FakeRecorder)
    assert recorder.reasons().count("FailedMount") == 4
    written = await client.pods("ns").get("p")
    waiting = written.status.container_statuses[0].state.waiting
    assert waiting.reason == "ContainerCreating"
    assert "configMap volumes are not supported" in waiting.message
    assert not worker.state.prepared

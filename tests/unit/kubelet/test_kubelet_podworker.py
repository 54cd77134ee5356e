"""kubelet.podworker.worker: the pod worker's timing on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kubelet.podworker import PodWorker
from pinnace.machinery.timeutil import FakeClock
from tests.unit.kubelet.kubelet_fakes import make_pod, make_state

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

"""kubelet.probes: probe thresholds (ProbeState) and timing (ProbeWorker with a fake sleep)."""

from __future__ import annotations

import asyncio

import pytest

from kubelet.probes import Outcome, ProbeState, ProbeWorker, Result
from pinnace.api.core.v1 import container_pb2
from pinnace.machinery.timeutil import FakeClock

_RESULTS = {"S": Result.SUCCESS, "F": Result.FAILURE, "U": Result.UNKNOWN}


@pytest.mark.parametrize(
    ("kind", "success", "failure", "results", "changes"),
    [
        pytest.param("readiness", 1, 3, "S", "1", id="readiness-ready-on-first-success"),
        pytest.param("readiness", 2, 3, "SFSS", "...1", id="readiness-successes-in-a-row"),
        pytest.param("readiness", 1, 3, "SFFF", "1..0", id="readiness-unready-after-3"),
        pytest.param("readiness", 1, 2, "SFFFF", "1.0..", id="readiness-reported-once"),
        pytest.param("liveness", 1, 3, "SSFFF", "....0", id="liveness-starts-ok"),
        pytest.param("liveness", 1, 2, "FFFF", ".0.0", id="liveness-every-threshold"),
        pytest.param("liveness", 1, 3, "FFUF", "...0", id="unknown-changes-nothing"),
        pytest.param("liveness", 1, 3, "FFSFF", ".....", id="success-resets-failures"),
        pytest.param("startup", 1, 3, "FFS", "..1", id="startup-starts-failed"),
        pytest.param("startup", 1, 1, "F", "0", id="startup-fails-at-threshold"),
    ],
)
def test_thresholds(kind: str, success: int, failure: int, results: str, changes: str) -> None:
    """``changes``: per result, "." no change, "1" became ok, "0" became failed."""
    probe = container_pb2.Probe(success_threshold=success, failure_threshold=failure)
    state = ProbeState.for_probe(kind, probe)
    got = ""
    for r in results:
        got += ("1" if state.ok else "0") if state.observe(Outcome(_RESULTS[r])) else "."
    assert got == changes


@pytest.mark.parametrize(
    ("probe", "sleeps", "timeouts"),
    [
        pytest.param({}, [0, 10, 10], [1, 1, 1], id="defaults"),
        pytest.param(
            {"initial_delay_seconds": 5, "period_seconds": 2, "timeout_seconds": 3},
            [5, 2, 2],
            [3, 3, 3],
            id="given",
        ),
        pytest.param(
            {"period_seconds": 0, "timeout_seconds": 0}, [0, 10, 10], [1, 1, 1], id="zero"
        ),
    ],
)
async def test_timing(probe: dict, sleeps: list[float], timeouts: list[float]) -> None:
    """The worker waits initialDelaySeconds, then runs every periodSeconds with
    timeoutSeconds; time moves on a fake clock, nothing sleeps."""
    clock = FakeClock()
    slept: list[float] = []
    ran_at: list[float] = []
    given: list[float] = []

    async def sleep(seconds: float) -> None:
        if len(given) == len(timeouts):
            raise asyncio.CancelledError  # enough runs: end the worker as a cancel would
        slept.append(seconds)
        clock.advance(seconds)

    async def run(timeout: float) -> Outcome:
        given.append(timeout)
        ran_at.append(clock.monotonic())
        return Outcome(Result.SUCCESS)

    worker = ProbeWorker(
        "readiness", container_pb2.Probe(**probe), run, lambda *_: None, sleep=sleep
    )
    with pytest.raises(asyncio.CancelledError):
        await worker.run()
    assert slept == sleeps
    assert given == timeouts
    assert ran_at == [sum(sleeps[: i + 1]) for i in range(len(sleeps))]
    assert worker.ok


async def test_on_change_is_called_with_the_new_state() -> None:
    changes: list[tuple[str, bool, str]] = []
    script = iter([Result.FAILURE, Result.SUCCESS, Result.FAILURE])

    async def run(timeout: float) -> Outcome:
        try:
            return Outcome(next(script), "why")
        except StopIteration:
            raise asyncio.CancelledError from None

    async def no_sleep(seconds: float) -> None:
        return None

    probe = container_pb2.Probe(failure_threshold=1)
    worker = ProbeWorker("liveness", probe, run, lambda *a: changes.append(a), sleep=no_sleep)
    with pytest.raises(asyncio.CancelledError):
        await worker.run()
    assert changes == [
        ("liveness", False, "why"),
        ("liveness", True, "why"),
        ("liveness", False, "why"),
    ]

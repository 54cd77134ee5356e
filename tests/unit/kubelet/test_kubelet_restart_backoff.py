"""CrashLoopBackOff in the pod worker (podworker/containers.py), on a fake clock.

Each row runs a container, lets it exit after ``run_for`` seconds with
``code``, syncs, and records how long the restart was held back (0: at
once; None: no restart, as the restartPolicy says). Time moves only by
``FakeClock.advance``: nothing sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.env import ConfigError
from kubelet.podworker.containers import sync_containers
from kubelet.podworker.state import IDLE_RESYNC, PodState
from kubelet.runtime import Instance
from pinnace.machinery.timeutil import FakeClock
from tests.unit.kubelet.kubelet_fakes import FakeRecorder, FakeRuntime, make_pod, make_state


async def _exit(ps: PodState, code: int) -> Instance:
    """Let the container's current instance exit with ``code``; that instance."""
    cs = ps.containers["c"]
    inst = cs.instance
    assert inst is not None and cs.watch is not None
    runtime = ps.ctx.runtime
    assert isinstance(runtime, FakeRuntime)
    runtime.exit(inst, code)
    await cs.watch.exited.wait()
    return inst


async def _exit_and_sync(ps: PodState, clock: FakeClock, run_for: float, code: int) -> float | None:
    """Let the container exit; how long its restart was held back (None: no restart).
    Syncs only when the previous sync asked to be woken (its returned delay)."""
    cs = ps.containers["c"]
    clock.advance(run_for)
    inst = await _exit(ps, code)
    assert ps.pod is not None
    delay = await sync_containers(ps, ps.pod)
    if cs.instance is not inst:
        return 0.0
    if cs.waiting is None:
        assert delay == IDLE_RESYNC
        return None
    waited = 0.0
    while cs.instance is inst:  # as the worker does: sleep what sync says, sync again
        assert cs.waiting is not None and cs.waiting.reason == "CrashLoopBackOff"
        clock.advance(delay)
        waited += delay
        delay = await sync_containers(ps, ps.pod)
    assert cs.waiting is None
    return waited


@pytest.mark.parametrize(
    ("policy", "base", "cap", "exits", "waits"),
    [
        pytest.param(
            "Always",
            10,
            300,
            [(1, 1)] * 8,
            [0, 10, 20, 40, 80, 160, 300, 300],
            id="always-doubles-to-the-cap",
        ),
        pytest.param("Always", 10, 300, [(1, 0)] * 3, [0, 10, 20], id="always-also-after-success"),
        pytest.param(
            "Always",
            10,
            300,
            [(1, 1), (1, 1), (1, 1), (601, 1), (1, 1)],
            [0, 10, 20, 0, 10],
            id="ran-over-2x-cap-starts-over",
        ),
        pytest.param(
            "Always",
            10,
            300,
            [(1, 1), (1, 1), (1, 1), (600, 1)],
            [0, 10, 20, 40],
            id="ran-exactly-2x-cap-keeps-doubling",
        ),
        pytest.param("OnFailure", 1, 4, [(1, 2)] * 5, [0, 1, 2, 4, 4], id="onfailure-failing"),
        pytest.param("OnFailure", 1, 4, [(1, 2), (1, 0)], [0, None], id="onfailure-then-success"),
        pytest.param("Never", 1, 4, [(1, 1)], [None], id="never"),
    ],
)
async def test_restart_backoff(
    tmp_path: Path,
    policy: str,
    base: float,
    cap: float,
    exits: list[tuple[float, int]],
    waits: list[float | None],
) -> None:
    clock = FakeClock(monotonic=1000.0)
    ps = make_state(tmp_path, make_pod(policy), clock=clock, backoff_base=base, backoff_max=cap)
    assert ps.pod is not None
    await sync_containers(ps, ps.pod)  # the first start
    got = []
    for run_for, code in exits:
        got.append(await _exit_and_sync(ps, clock, run_for, code))
    assert got == waits
    recorder = ps.ctx.recorder
    assert isinstance(recorder, FakeRecorder)
    assert recorder.reasons().count("BackOff") == sum(1 for w in waits if w)


async def test_backoff_message_names_the_delay(tmp_path: Path) -> None:
    clock = FakeClock()
    ps = make_state(tmp_path, make_pod(), clock=clock, backoff_base=10, backoff_max=300)
    assert ps.pod is not None
    await sync_containers(ps, ps.pod)
    cs = ps.containers["c"]
    for _ in range(2):
        await _exit(ps, 1)
        await sync_containers(ps, ps.pod)
    assert cs.waiting is not None
    assert cs.waiting.message.startswith("back-off 10s restarting failed container=c pod=p_ns")


async def test_a_failed_restart_is_retried_without_counting_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart that fails before the process starts (CreateContainerConfigError)
    is retried at the next sync without waiting or doubling the back-off."""
    clock = FakeClock()
    ps = make_state(tmp_path, make_pod(), clock=clock, backoff_base=10, backoff_max=300)
    assert ps.pod is not None
    await sync_containers(ps, ps.pod)
    assert await _exit_and_sync(ps, clock, 1, 1) == 0  # restarted at once, 10 armed
    cs = ps.containers["c"]
    inst = await _exit(ps, 1)
    clock.advance(10)
    build = ps.build_environment

    def broken(_: object) -> object:
        raise ConfigError("bad env")

    monkeypatch.setattr(ps, "build_environment", broken)
    await sync_containers(ps, ps.pod)
    assert cs.instance is inst and cs.waiting is not None
    assert cs.waiting.reason == "CreateContainerConfigError"
    assert ps.crash_backoff.get("c") == 20
    monkeypatch.setattr(ps, "build_environment", build)
    await sync_containers(ps, ps.pod)  # no time passed: not held back
    assert cs.instance is not inst and cs.waiting is None
    assert ps.crash_backoff.get("c") == 20

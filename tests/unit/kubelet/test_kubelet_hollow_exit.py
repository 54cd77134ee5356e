"""kubelet.hollow: containers that exit by themselves when their pod says so."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from kubelet.hollow import HollowRuntime, HollowSpecError, PlannedExit, planned_exit
from kubelet.runtime import LaunchSpec

CODE = "pinnace.io/hollow-exit-code"
AFTER = "pinnace.io/hollow-exit-after"


def spec(tmp: Path, annotations: dict[str, str]) -> LaunchSpec:
    return LaunchSpec(
        pod_uid="uid",
        container="c",
        attempt=0,
        argv=["anything"],
        env={"PATH": os.environ["PATH"]},
        workdir=tmp,
        log_path=tmp / "logs" / "0.log",
        state_dir=tmp / "state" / "0",
        annotations=annotations,
    )


@pytest.mark.parametrize(
    ("annotations", "want"),
    [
        ({}, None),
        ({"other": "1"}, None),
        ({CODE: "0"}, PlannedExit(0, 100.0)),
        ({CODE: " 3 ", AFTER: "2.5"}, PlannedExit(3, 102.5)),
        ({AFTER: "1"}, PlannedExit(0, 101.0)),
        ({CODE: "255", AFTER: "0"}, PlannedExit(255, 100.0)),
    ],
    ids=["none", "unrelated", "code-only", "code-and-after", "after-only", "max-code"],
)
def test_planned_exit(annotations: dict[str, str], want: PlannedExit | None) -> None:
    assert planned_exit(annotations, 100.0) == want


@pytest.mark.parametrize(
    ("annotations", "named", "allowed"),
    [
        ({CODE: "x"}, CODE, "an integer from 0 to 255"),
        ({CODE: "256"}, CODE, "an integer from 0 to 255"),
        ({CODE: "-1"}, CODE, "an integer from 0 to 255"),
        ({CODE: "1", AFTER: "soon"}, AFTER, "0 or more"),
        ({AFTER: "-2"}, AFTER, "0 or more"),
        ({AFTER: "nan"}, AFTER, "0 or more"),
        ({AFTER: "inf"}, AFTER, "0 or more"),
    ],
    ids=[
        "code-text",
        "code-too-big",
        "code-negative",
        "after-text",
        "after-negative",
        "nan",
        "inf",
    ],
)
def test_bad_annotations_are_named(annotations: dict[str, str], named: str, allowed: str) -> None:
    with pytest.raises(HollowSpecError) as e:
        planned_exit(annotations, 0.0)
    assert named in str(e.value) and allowed in str(e.value)


def test_a_bad_annotation_starts_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError, match=CODE):
        HollowRuntime().start(spec(tmp_path, {CODE: "many"}))
    assert not (tmp_path / "state" / "0" / "state.json").exists()


async def test_a_container_exits_with_its_code_after_its_time(tmp_path: Path) -> None:
    rt = HollowRuntime()
    inst = rt.start(spec(tmp_path, {CODE: "7", AFTER: "0.2"}))
    assert rt.alive(inst)
    ex = await rt.wait(inst)
    assert ex.exit_code == 7
    assert HollowRuntime().load(tmp_path / "state" / "0").exit.exit_code == 7


async def test_a_signal_before_the_planned_exit_wins(tmp_path: Path) -> None:
    rt = HollowRuntime()
    inst = rt.start(spec(tmp_path, {CODE: "0", AFTER: "60"}))
    rt.signal(inst, signal.SIGKILL)
    assert (await rt.wait(inst)).exit_code == 137


async def test_a_restarted_kubelet_keeps_the_planned_time(tmp_path: Path) -> None:
    """The plan is on disk: a new runtime (a restarted hollow kubelet) that
    loads the container sees it exit when planned, not never."""
    HollowRuntime().start(spec(tmp_path, {CODE: "4", AFTER: "0.2"}))
    again = HollowRuntime()
    inst = again.load(tmp_path / "state" / "0")
    assert inst is not None and inst.exit is None
    assert (await again.wait(inst)).exit_code == 4


async def test_without_annotations_it_runs_until_stopped(tmp_path: Path) -> None:
    rt = HollowRuntime()
    inst = rt.start(spec(tmp_path, {}))
    rt.signal(inst, signal.SIGTERM)
    assert (await rt.wait(inst)).exit_code == 143


async def test_a_signal_after_a_cancelled_wait_reaches_the_next_wait(tmp_path: Path) -> None:
    """A kubelet stopping cancels the worker's wait, then signals every
    container and waits again (--kill-pods-on-exit): the signal must not be
    lost with the cancelled wait."""
    rt = HollowRuntime()
    inst = rt.start(spec(tmp_path, {}))
    first = asyncio.ensure_future(rt.wait(inst))
    await asyncio.sleep(0)
    first.cancel()
    rt.signal(inst, signal.SIGTERM)
    assert (await asyncio.wait_for(rt.wait(inst), 5)).exit_code == 143
    assert first.cancelled()

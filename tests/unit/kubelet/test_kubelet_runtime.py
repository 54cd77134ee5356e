"""kubelet.runtime: the wrapper convention with real (tiny) processes."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from kubelet.hollow import HollowRuntime
from kubelet.runtime import LOST_EXIT_CODE, LaunchSpec, ProcessRuntime
from tests.waiting import wait_until


def spec(tmp: Path, argv: list[str], attempt: int = 0) -> LaunchSpec:
    return LaunchSpec(
        pod_uid="uid",
        container="c",
        attempt=attempt,
        argv=argv,
        env={"PATH": os.environ["PATH"]},
        workdir=tmp,
        log_path=tmp / "logs" / f"{attempt}.log",
        state_dir=tmp / "state" / str(attempt),
    )


async def test_exit_code_output_and_workdir(tmp_path: Path) -> None:
    rt = ProcessRuntime()
    inst = rt.start(spec(tmp_path, ["sh", "-c", "pwd; echo err >&2; exit 3"]))
    ex = await rt.wait(inst)
    assert ex.exit_code == 3 and ex.finished_at
    assert (tmp_path / "logs" / "0.log").read_text() == f"{tmp_path}\nerr\n"
    assert (tmp_path / "state" / "0" / "exit").read_text().strip() == "3"


async def test_signal_reaches_the_command_and_the_wrapper_records_it(tmp_path: Path) -> None:
    rt = ProcessRuntime()
    trapped, started = tmp_path / "trapped", tmp_path / "started"
    trap = ProcessRuntime().start(
        spec(
            tmp_path,
            ["sh", "-c", f"trap 'exit 7' TERM; touch {trapped}; while :; do sleep 0.02; done"],
            1,
        )
    )
    plain = rt.start(spec(tmp_path, ["sh", "-c", f"touch {started}; exec sleep 30"], 2))
    # Signal only once both commands run (the trap set; the wrapper's own
    # handlers are in place before it starts a command).
    await wait_until(lambda: trapped.exists() and started.exists(), 5, "both commands running")
    assert rt.signal(trap, signal.SIGTERM) and rt.signal(plain, signal.SIGTERM)
    assert (await rt.wait(trap)).exit_code == 7
    assert (await rt.wait(plain)).exit_code == 143
    assert not rt.signal(plain, signal.SIGTERM)


async def test_readopt_running_then_exit_while_not_a_child(tmp_path: Path) -> None:
    rt = ProcessRuntime()
    running = tmp_path / "running"
    first = rt.start(
        spec(
            tmp_path,
            [
                "sh",
                "-c",
                f"touch {running}; while [ ! -f {tmp_path}/go ]; do sleep 0.02; done; exit 5",
            ],
        )
    )
    await wait_until(running.exists, 5, "the command running")
    again = ProcessRuntime().load(tmp_path / "state" / "0")  # "a restarted kubelet"
    assert again is not None and again.exit is None and again.pid == first.pid and not again.child
    (tmp_path / "go").touch()
    waited = asyncio.ensure_future(ProcessRuntime().wait(again))
    assert (await asyncio.wait_for(waited, 5)).exit_code == 5
    await rt.wait(first)  # reap our child


async def test_exit_while_nobody_watches_and_lost_instances(tmp_path: Path) -> None:
    rt = ProcessRuntime()
    inst = rt.start(spec(tmp_path, ["sh", "-c", "exit 4"]))
    await rt.wait(inst)
    loaded = ProcessRuntime().load(tmp_path / "state" / "0")
    assert loaded.exit.exit_code == 4 and loaded.exit.reason == ""
    started = tmp_path / "started"
    lost = rt.start(spec(tmp_path, ["sh", "-c", f"touch {started}; exec sleep 30"], 1))
    await wait_until(started.exists, 5, "the command running")
    os.killpg(lost.pid, signal.SIGKILL)  # wrapper and command die: no exit file
    await rt.wait(lost)
    gone = ProcessRuntime().load(tmp_path / "state" / "1")
    assert gone.exit.exit_code == LOST_EXIT_CODE and gone.exit.reason == "ContainerStatusUnknown"


async def test_start_error(tmp_path: Path) -> None:
    rt = ProcessRuntime()
    inst = rt.start(spec(tmp_path, ["no-such-command-here"]))
    assert inst.exit is not None and inst.exit.exit_code == 128 and inst.exit.reason == "StartError"
    assert "executable file not found" in inst.exit.message
    assert ProcessRuntime().load(tmp_path / "state" / "0").exit.reason == "StartError"


async def test_hollow(tmp_path: Path) -> None:
    rt = HollowRuntime()
    inst = rt.start(spec(tmp_path, ["anything"]))
    assert HollowRuntime().load(tmp_path / "state" / "0").exit is None
    rt.signal(inst, signal.SIGTERM)
    assert (await rt.wait(inst)).exit_code == 143
    assert HollowRuntime().load(tmp_path / "state" / "0").exit.exit_code == 143


async def test_many_quick_exits_are_never_lost(tmp_path: Path) -> None:
    """Regression: right after posix_spawn the child can still be inside
    execve (empty /proc cmdline); its exit must not be taken as lost."""
    rt = ProcessRuntime()
    insts = [rt.start(spec(tmp_path, ["sh", "-c", "exit 1"], i)) for i in range(40)]
    codes = await asyncio.gather(*(rt.wait(i) for i in insts))
    assert {c.exit_code for c in codes} == {1}


def test_leftover_kill_spares_a_process_that_recycled_the_wrapper_pid(tmp_path: Path) -> None:
    """After a container's wrapper is gone, its pid (= its process group id)
    may belong to an unrelated session leader: only processes carrying the
    pod's PINNACE_POD_DIR are killed, never a stranger (a real incident:
    a restarted kubelet killed the cluster's apiserver this way)."""
    import subprocess

    pod_dir = tmp_path / "pods" / "uid-1"
    state = pod_dir / ".pinnace" / "containers" / "c" / "0"
    state.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "PINNACE_POD_DIR"}
    stranger = subprocess.Popen(["sleep", "30"], start_new_session=True, env=env)
    ours = subprocess.Popen(
        ["sleep", "30"], start_new_session=True, env={**env, "PINNACE_POD_DIR": str(pod_dir)}
    )
    try:
        rt = ProcessRuntime()
        rt._kill_group(stranger.pid, state)
        assert stranger.poll() is None, "an unrelated process group must survive"
        rt._kill_group(ours.pid, state)
        assert ours.wait(5) == -signal.SIGKILL
    finally:
        stranger.kill()
        ours.kill()
        stranger.wait(5)
        ours.wait(5)

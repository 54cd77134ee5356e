"""The hollow runtime (``--runtime=hollow``): containers without processes.

For scale tests, like Kubernetes' kubemark and kwok: a container "starts"
at once and "runs" until the kubelet signals it (SIGTERM → exit 143,
SIGKILL → 137, anything else → 128+N), or, when its pod says so, exits by
itself: the annotation ``pinnace.io/hollow-exit-code`` (0-255) makes each
container of the pod exit with that code after
``pinnace.io/hollow-exit-after`` seconds (default 0), so Jobs complete and
flaky containers restart on hollow nodes. A bad value is the container's
RunContainerError naming the annotation.

It uses the same state directories as the process runtime (runtime.py),
so a restarted hollow kubelet finds its containers still running, and a
planned exit keeps its time (kept as wall-clock time in ``state.json``).
There is no output (the log file is created empty) and probes are not run
against hollow containers.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kubelet.runtime import Exit, Instance, LaunchSpec, container_id, now_rfc3339
from pinnace.machinery.wellknown import ANNOTATION_HOLLOW_EXIT_AFTER, ANNOTATION_HOLLOW_EXIT_CODE

__all__ = ["HollowRuntime", "HollowSpecError", "PlannedExit", "planned_exit"]


class HollowSpecError(OSError):
    """A pod's hollow exit annotations are malformed (the container's RunContainerError)."""


@dataclass(frozen=True)
class PlannedExit:
    """A hollow container exits with ``code`` at wall-clock time ``at``."""

    code: int
    at: float


def planned_exit(annotations: Mapping[str, str], now: float) -> PlannedExit | None:
    """The exit a pod's annotations plan for a container started at ``now``
    (None: it runs until stopped); HollowSpecError names a bad annotation."""
    code_text = annotations.get(ANNOTATION_HOLLOW_EXIT_CODE)
    after_text = annotations.get(ANNOTATION_HOLLOW_EXIT_AFTER)
    if code_text is None and after_text is None:
        return None
    code = 0
    if code_text is not None:
        try:
            code = int(code_text.strip())
        except ValueError:
            code = -1
        if not 0 <= code <= 255:
            raise HollowSpecError(
                f'annotation {ANNOTATION_HOLLOW_EXIT_CODE}: "{code_text}" is not an exit code '
                "(an integer from 0 to 255)"
            )
    after = 0.0
    if after_text is not None:
        try:
            after = float(after_text.strip())
        except ValueError:
            after = -1.0
        if not math.isfinite(after) or after < 0:
            raise HollowSpecError(
                f'annotation {ANNOTATION_HOLLOW_EXIT_AFTER}: "{after_text}" is not a number of '
                "seconds (0 or more, e.g. 2.5)"
            )
    return PlannedExit(code, now + after)


class HollowRuntime:
    name = "hollow"
    needs_command = False

    def __init__(self) -> None:
        self._stops: dict[Path, asyncio.Future[int]] = {}
        self._planned: dict[Path, PlannedExit] = {}

    def start(self, spec: LaunchSpec) -> Instance:
        plan = planned_exit(spec.annotations, time.time())
        spec.state_dir.mkdir(parents=True, exist_ok=True)
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        spec.log_path.touch()
        started = now_rfc3339()
        inst = Instance(
            state_dir=spec.state_dir,
            attempt=spec.attempt,
            started_at=started,
            container_id=container_id(spec.pod_uid, spec.container, spec.attempt, started),
            log_path=spec.log_path,
        )
        data: dict[str, object] = {
            "pid": 0,
            "attempt": inst.attempt,
            "startedAt": started,
            "containerID": inst.container_id,
            "log": str(spec.log_path),
            "hollow": True,
        }
        if plan is not None:
            data["exitCode"], data["exitAt"] = plan.code, plan.at
            self._planned[spec.state_dir] = plan
        (spec.state_dir / "state.json").write_text(json.dumps(data))
        return inst

    def load(self, state_dir: Path) -> Instance | None:
        try:
            data = json.loads((state_dir / "state.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        inst = Instance(
            state_dir=state_dir,
            attempt=int(data["attempt"]),
            started_at=data["startedAt"],
            container_id=data["containerID"],
            log_path=Path(data["log"]) if data.get("log") else None,
        )
        exit_file = state_dir / "exit"
        if exit_file.exists():
            inst.exit = Exit(int(exit_file.read_text().strip() or 137), now_rfc3339())
        elif "exitCode" in data:
            self._planned[state_dir] = PlannedExit(int(data["exitCode"]), float(data["exitAt"]))
        return inst

    def _stop(self, inst: Instance) -> asyncio.Future[int]:
        fut = self._stops.get(inst.state_dir)
        if fut is None:
            fut = self._stops[inst.state_dir] = asyncio.get_running_loop().create_future()
        return fut

    async def wait(self, inst: Instance) -> Exit:
        if inst.exit is not None:
            return inst.exit
        # asyncio.wait leaves the stop future alone when this wait is
        # cancelled (a worker stopping): a signal sent after that still
        # reaches the next wait (the kubelet's shutdown with
        # --kill-pods-on-exit).
        stop = self._stop(inst)
        plan = self._planned.get(inst.state_dir)
        timeout = None if plan is None else max(0.0, plan.at - time.time())
        done, _ = await asyncio.wait([stop], timeout=timeout)
        code = stop.result() if done or plan is None else plan.code
        self._stops.pop(inst.state_dir, None)
        self._planned.pop(inst.state_dir, None)
        await asyncio.to_thread((inst.state_dir / "exit").write_text, f"{code}\n")
        inst.exit = Exit(code, now_rfc3339())
        return inst.exit

    def signal(self, inst: Instance, sig: int) -> bool:
        if inst.exit is not None:
            return False
        fut = self._stop(inst)
        if not fut.done():
            fut.set_result(128 + int(sig))
        return True

    def alive(self, inst: Instance) -> bool:
        return inst.exit is None

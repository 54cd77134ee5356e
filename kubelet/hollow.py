"""The hollow runtime (``--runtime=hollow``): containers without processes.

For scale tests, like Kubernetes' kubemark and kwok: a container "starts"
at once and "runs" until the kubelet signals it (SIGTERM → exit 143,
SIGKILL → 137, anything else → 128+N). It uses the same state directories
as the process runtime (runtime.py), so a restarted hollow kubelet finds
its containers still running. There is no output (the log file is
created empty) and probes are not run against hollow containers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from kubelet.runtime import Exit, Instance, LaunchSpec, container_id, now_rfc3339

__all__ = ["HollowRuntime"]


class HollowRuntime:
    name = "hollow"

    def __init__(self) -> None:
        self._stops: dict[Path, asyncio.Future[int]] = {}

    def start(self, spec: LaunchSpec) -> Instance:
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
        data = {
            "pid": 0,
            "attempt": inst.attempt,
            "startedAt": started,
            "containerID": inst.container_id,
            "log": str(spec.log_path),
            "hollow": True,
        }
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
        return inst

    def _stop(self, inst: Instance) -> asyncio.Future[int]:
        fut = self._stops.get(inst.state_dir)
        if fut is None:
            fut = self._stops[inst.state_dir] = asyncio.get_running_loop().create_future()
        return fut

    async def wait(self, inst: Instance) -> Exit:
        if inst.exit is not None:
            return inst.exit
        try:
            code = await self._stop(inst)
        finally:
            self._stops.pop(inst.state_dir, None)
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

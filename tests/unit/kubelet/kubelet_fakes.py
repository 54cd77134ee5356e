"""Fakes for the kubelet's unit tests: a runtime whose containers exit when
told, an event recorder, and a PodState on a FakeClock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from kubelet.context import Config, Context
from kubelet.paths import RootPaths
from kubelet.podworker.state import PodState
from kubelet.runtime import Exit, Instance, LaunchSpec
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec
from pinnace.machinery.timeutil import FakeClock


class FakeRuntime:
    """Containers that run until ``exit(instance, code)``; nothing is spawned."""

    name = "fake"
    needs_command = True

    def __init__(self) -> None:
        self.started: list[LaunchSpec] = []
        self._exits: dict[Path, asyncio.Future[int]] = {}

    def _exit(self, inst: Instance) -> asyncio.Future[int]:
        fut = self._exits.get(inst.state_dir)
        if fut is None:
            fut = self._exits[inst.state_dir] = asyncio.get_running_loop().create_future()
        return fut

    def start(self, spec: LaunchSpec) -> Instance:
        self.started.append(spec)
        return Instance(
            state_dir=spec.state_dir,
            attempt=spec.attempt,
            started_at="2024-01-01T00:00:00Z",
            container_id=f"fake://{spec.container}/{spec.attempt}",
        )

    async def wait(self, inst: Instance) -> Exit:
        code = await self._exit(inst)
        inst.exit = Exit(code, "2024-01-01T00:00:00Z")
        return inst.exit

    def signal(self, inst: Instance, sig: int) -> bool:
        fut = self._exit(inst)
        if not fut.done():
            fut.set_result(128 + int(sig))
        return True

    def load(self, state_dir: Path) -> Instance | None:
        return None

    def exit(self, inst: Instance, code: int) -> None:
        self._exit(inst).set_result(code)


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


def make_pod(restart_policy: str = "Always", **spec: Any) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": "ns", "uid": "uid-1", "resourceVersion": "1"},
            "spec": {
                "nodeName": "n1",
                "restartPolicy": restart_policy,
                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                **spec,
            },
        },
    )


def make_state(
    tmp: Path,
    pod: pod_pb2.Pod,
    *,
    clock: FakeClock,
    runtime: FakeRuntime | None = None,
    client: Any = None,
    **config: Any,
) -> PodState:
    ctx = Context(
        config=Config(node_name="n1", root_dir=tmp, **config),
        client=client,
        recorder=FakeRecorder(),
        runtime=runtime or FakeRuntime(),
        paths=RootPaths(tmp),
        clock=clock,
    )
    return PodState.new(ctx, pod, rejection=None, wake=lambda: None)

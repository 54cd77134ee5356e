"""Pod GC: the terminated-pods threshold and the orphan pass over a fake API."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.base import ControllerContext
from controllers.podgc.controller import QUARANTINE, PodGCController, oldest_terminated
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery import errors
from pinnace.machinery.timeutil import FakeClock


def pod(
    name: str, *, phase: str = "Running", created: int = 0, node: str = "", deleting: bool = False
) -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.name = name
    p.metadata.namespace = "ns"
    p.metadata.uid = f"uid-{name}"
    p.metadata.creation_timestamp = f"2024-01-01T00:00:{created:02d}Z"
    if deleting:
        p.metadata.deletion_timestamp = "2024-01-01T00:01:00Z"
    p.spec.node_name = node
    p.status.phase = phase
    return p


THRESHOLD = [
    ("under", 5, ["a", "b"], []),
    ("over-oldest-first", 2, ["d", "a", "c", "b"], ["a", "b"]),
    ("off", 0, ["a", "b", "c"], []),
]


@pytest.mark.parametrize(
    ("threshold", "names", "want"), [c[1:] for c in THRESHOLD], ids=[c[0] for c in THRESHOLD]
)
def test_oldest_terminated(threshold: int, names: list[str], want: list[str]) -> None:
    pods = [pod(n, phase="Succeeded", created=ord(n) - ord("a")) for n in names]
    pods.append(pod("running"))
    assert [p.metadata.name for p in oldest_terminated(pods, threshold)] == want


class FakePods:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    async def update_status(self, obj: Any) -> Any:
        self.api.actions.append(("update_status", obj.metadata.name, obj.status.phase))
        return obj

    async def delete(self, name: str, **options: Any) -> Any:
        self.api.actions.append(("delete", name, options.get("grace_period_seconds")))


class FakeNodes:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    async def get(self, name: str) -> Any:
        if name not in self.api.node_names:
            raise errors.NotFound(f'nodes "{name}" not found')
        return node_pb2.Node()


class FakeApi:
    def __init__(self, *nodes: str) -> None:
        self.node_names = set(nodes)
        self.actions: list[tuple] = []

    def resource(self, kind: Any, namespace: str = "") -> Any:
        return None

    def pods(self, namespace: str = "") -> FakePods:
        return FakePods(self)

    def nodes(self) -> FakeNodes:
        return FakeNodes(self)


def controller(api: Any, clock: FakeClock) -> PodGCController:
    ctx = ControllerContext(
        client=api,
        informers=SharedInformerFactory(api),
        recorder=None,  # type: ignore[arg-type]
        clock=clock,
    )
    return PodGCController(ctx)


async def test_orphans_deleted_after_quarantine_and_unscheduled_terminating() -> None:
    api = FakeApi()
    clock = FakeClock(monotonic=100.0)
    gc = controller(api, clock)
    n = node_pb2.Node()
    n.metadata.name = "alive"
    gc.nodes.store.upsert(n)
    for p in (
        pod("on-gone", node="gone"),
        pod("on-alive", node="alive"),
        pod("stuck", deleting=True),
    ):
        gc.pods.store.upsert(p)
    api.node_names = {"alive"}
    wait = await gc.sync("podgc")
    assert api.actions == [("delete", "stuck", 0)]
    assert wait is not None and wait <= QUARANTINE + 0.1
    clock.advance(QUARANTINE + 0.1)
    api.actions.clear()
    await gc.sync("podgc")
    assert ("update_status", "on-gone", "Failed") in api.actions
    assert ("delete", "on-gone", 0) in api.actions
    assert not any(a[1] == "on-alive" for a in api.actions)

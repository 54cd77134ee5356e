"""Pod GC: the terminated-pods threshold and the orphan pass over a fake API."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.base import ControllerContext
from controllers.podgc.controller import QUARANTINE, PodGCController, oldest_terminated
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import SharedInformerFactory
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


def calls(client: FakeClient) -> list[tuple[str, str, str, Any]]:
    """(verb, resource, name, the written phase or the delete's grace period)."""
    out = []
    for a in client.actions:
        detail = a.object.status.phase if a.subresource == "status" else None
        out.append((a.verb, a.resource, a.name, a.options.get("grace_period_seconds", detail)))
    return out


def controller(client: FakeClient, clock: FakeClock) -> PodGCController:
    ctx = ControllerContext(
        client=client,  # type: ignore[arg-type]  # the fake stands in for AsyncClient
        informers=SharedInformerFactory(client),  # type: ignore[arg-type]
        recorder=None,  # type: ignore[arg-type]
        clock=clock,
    )
    return PodGCController(ctx)


async def test_orphans_deleted_after_quarantine_and_unscheduled_terminating() -> None:
    n = node_pb2.Node()
    n.metadata.name = "alive"
    pods = [pod("on-gone", node="gone"), pod("on-alive", node="alive"), pod("stuck", deleting=True)]
    client = FakeClient(n, *pods)
    clock = FakeClock(monotonic=100.0)
    gc = controller(client, clock)
    gc.nodes.store.upsert(n)
    for p in pods:
        gc.pods.store.upsert(p)
    wait = await gc.sync("podgc")
    assert calls(client) == [("delete", "pods", "stuck", 0)]
    assert wait is not None and wait <= QUARANTINE + 0.1
    gc.pods.store.delete("ns/stuck")  # as the informer would see the delete
    clock.advance(QUARANTINE + 0.1)
    client.actions.clear()
    await gc.sync("podgc")
    assert calls(client) == [
        ("get", "nodes", "gone", None),
        ("update", "pods", "on-gone", "Failed"),
        ("delete", "pods", "on-gone", 0),
    ]

"""Taint eviction over a fake API: an eviction due by the cache happens only
if the node's taints, read again from the API, still call for it (a new
leader's cache may hold a taint the node controller has just removed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from controllers.base import ControllerContext
from controllers.nodelifecycle.tainteviction import TaintEvictionController
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery import codec
from pinnace.machinery.timeutil import FakeClock

UNREACHABLE = "node.kubernetes.io/unreachable"


def node(*, tainted: bool) -> node_pb2.Node:
    taints = [{"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2024-01-01T00:00:00Z"}]
    return codec.from_dict(
        node_pb2.Node, {"metadata": {"name": "n1"}, "spec": {"taints": taints if tainted else []}}
    )


def pod() -> pod_pb2.Pod:
    toleration = {
        "key": UNREACHABLE,
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 2,
    }
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "web", "namespace": "ns", "uid": "uid-web"},
            "spec": {"nodeName": "n1", "tolerations": [toleration]},
        },
    )


class Recorder:
    def event(self, *args: Any) -> None:
        """Events are not what these tests look at."""


@pytest.mark.parametrize(
    ("api_tainted", "evicted"),
    [pytest.param(True, True, id="still-tainted"), pytest.param(False, False, id="taint-removed")],
)
async def test_an_eviction_due_by_the_cache_is_confirmed_by_the_api(
    api_tainted: bool, evicted: bool
) -> None:
    client = FakeClient(node(tainted=api_tainted), pod())
    ctx = ControllerContext(
        client=client,  # type: ignore[arg-type]  # the fake stands in for AsyncClient
        informers=SharedInformerFactory(client),  # type: ignore[arg-type]
        recorder=Recorder(),  # type: ignore[arg-type]
        clock=FakeClock(datetime(2024, 1, 1, 0, 1, tzinfo=UTC)),  # a minute after the taint
    )
    controller = TaintEvictionController(ctx)
    controller.nodes.store.upsert(node(tainted=True))  # the cache: tainted long ago
    controller.pods.store.upsert(pod())
    assert await controller.sync("ns/web") is None
    deleted = [a.name for a in client.actions if a.verb == "delete"]
    assert deleted == (["web"] if evicted else [])
    assert ("get", "nodes", "n1") in [(a.verb, a.resource, a.name) for a in client.actions]

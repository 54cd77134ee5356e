"""Node IPAM sync over the fake API: allocation, claims on start, release,
a full range, and CIDRs that cannot be claimed."""

from __future__ import annotations

from typing import Any

from controllers.base import ControllerContext
from controllers.nodeipam.controller import NodeIPAMController
from controllers.nodeipam.plan import config_from
from pinnace.api.core.v1 import node_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery import errors
from pinnace.machinery.timeutil import FakeClock
from pinnace.machinery.wellknown import REASON_CIDR_NOT_AVAILABLE


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str) -> None:
        self.events.append((obj.metadata.name, type, reason, message))


def node(name: str, cidr: str = "") -> node_pb2.Node:
    n = node_pb2.Node()
    n.metadata.name = name
    if cidr:
        n.spec.pod_cidr = cidr
        n.spec.pod_cidrs.append(cidr)
    return n


class Fixture:
    """A controller over a FakeClient whose informer cache holds ``nodes``."""

    def __init__(self, *nodes: node_pb2.Node, cluster: str = "10.244.0.0/16") -> None:
        self.client = FakeClient(*nodes)
        self.recorder = FakeRecorder()
        ctx = ControllerContext(
            client=self.client,  # type: ignore[arg-type]  # the fake stands in for AsyncClient
            informers=SharedInformerFactory(self.client),  # type: ignore[arg-type]
            recorder=self.recorder,  # type: ignore[arg-type]  # records events in a list
            clock=FakeClock(),
        )
        config = config_from(cluster_cidr=cluster, mask_size=24)
        self.ctl = NodeIPAMController(ctx, config)
        for n in nodes:
            self.ctl.nodes.store.upsert(n)

    async def sync(self, name: str) -> float | None:
        """Sync, then show the informer what the server now holds."""
        wait = await self.ctl.sync(name)
        stored = self.client.tracker.get("nodes", "", name)
        if stored is not None:
            self.ctl.nodes.store.upsert(stored)
        return wait

    def patches(self) -> list[tuple[str, Any]]:
        return [(a.name, a.patch) for a in self.client.verbs("patch")]

    def cidr_of(self, name: str) -> str:
        stored = self.client.tracker.get("nodes", "", name)
        assert isinstance(stored, node_pb2.Node)
        return stored.spec.pod_cidr


def patch(cidr: str) -> dict[str, Any]:
    return {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}


async def test_nodes_get_distinct_ranges_by_merge_patch() -> None:
    f = Fixture(node("a"), node("b"))
    assert await f.sync("a") is None
    assert await f.sync("b") is None
    assert f.patches() == [("a", patch("10.244.0.0/24")), ("b", patch("10.244.1.0/24"))]
    assert f.cidr_of("b") == "10.244.1.0/24"
    f.client.actions.clear()
    await f.sync("a")  # already has one: nothing written
    assert f.patches() == []


async def test_start_claims_every_existing_range_before_allocating() -> None:
    """A restarted controller: b (synced first) must not get a's range."""
    f = Fixture(node("a", "10.244.0.0/24"), node("c", "10.244.1.0/24"), node("b"))
    await f.sync("b")
    assert f.patches() == [("b", patch("10.244.2.0/24"))]


async def test_deleted_node_range_is_reused_only_once_gone() -> None:
    f = Fixture(node("a"), node("b"), node("c"))
    await f.sync("a")
    await f.sync("b")
    f.client.tracker.remove("nodes", "", "a")
    await f.sync("c")  # a still in the cache: its range stays a's
    assert f.cidr_of("c") == "10.244.2.0/24"
    f.ctl.nodes.store.delete("a")
    assert await f.sync("a") is None
    await f.client.create(node("d"))
    f.ctl.nodes.store.upsert(node("d"))
    await f.sync("d")
    assert f.cidr_of("d") == "10.244.0.0/24"


async def test_full_range_warns_and_retries_with_backoff_then_takes_a_freed_range() -> None:
    f = Fixture(node("a"), node("b"), node("c"), cluster="10.244.0.0/23")
    await f.sync("a")
    await f.sync("b")
    assert await f.sync("c") == 1.0
    assert await f.sync("c") == 2.0
    assert f.patches() == [("a", patch("10.244.0.0/24")), ("b", patch("10.244.1.0/24"))]
    assert [(e[0], e[1], e[2]) for e in f.recorder.events] == [
        ("c", "Warning", REASON_CIDR_NOT_AVAILABLE)
    ] * 2
    assert "all 2 /24 ranges of 10.244.0.0/23 are allocated" in f.recorder.events[0][3]
    f.client.tracker.remove("nodes", "", "a")
    f.ctl.nodes.store.delete("a")
    await f.sync("a")
    assert f.ctl.queue.len() == 1  # the waiting node is woken at once
    assert await f.sync("c") is None
    assert f.cidr_of("c") == "10.244.0.0/24"


async def test_existing_cidr_outside_or_taken_is_left_with_a_warning_once() -> None:
    f = Fixture(node("a", "10.244.3.0/24"), node("b", "10.244.3.0/24"), node("o", "10.0.0.0/24"))
    await f.sync("a")
    await f.sync("b")
    await f.sync("o")
    await f.sync("o")
    assert f.patches() == []
    assert [(e[0], e[2], e[3]) for e in f.recorder.events] == [
        (
            "b",
            REASON_CIDR_NOT_AVAILABLE,
            "podCIDR 10.244.3.0/24 is already allocated to node a; left as it is",
        ),
        (
            "o",
            REASON_CIDR_NOT_AVAILABLE,
            "podCIDR 10.0.0.0/24 is not inside the cluster CIDR 10.244.0.0/16; left as it is",
        ),
    ]
    assert f.ctl.cidrs.owner_of("10.244.3.0/24") == "a"


async def test_failed_patch_keeps_the_range_for_the_retry() -> None:
    f = Fixture(node("a"), node("b"))
    f.client.fail("patch", "nodes", errors.Unavailable("apiserver restarting"), times=1)
    try:
        await f.sync("a")
    except errors.ApiError:
        pass
    else:
        raise AssertionError("the failed patch should be retried by the queue")
    await f.sync("b")
    await f.sync("a")
    assert f.patches() == [
        ("a", patch("10.244.0.0/24")),
        ("b", patch("10.244.1.0/24")),
        ("a", patch("10.244.0.0/24")),
    ]
    assert f.cidr_of("a") == "10.244.0.0/24"


async def test_node_gone_before_the_patch_is_done() -> None:
    f = Fixture(node("a"))
    f.client.tracker.remove("nodes", "", "a")
    assert await f.sync("a") is None
    assert f.ctl.cidrs.owner_of("10.244.0.0/24") == "a"  # until its delete is seen
    f.ctl.nodes.store.delete("a")
    await f.sync("a")
    assert f.ctl.cidrs.owner_of("10.244.0.0/24") is None

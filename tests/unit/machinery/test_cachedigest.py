"""The /debug/caches page (pinnace.machinery.cachedigest, metrics_http): a
running informer is reported with its resourceVersion, count and a digest
of its (key, resourceVersion) pairs, read on its own event loop; it is no
longer reported once it stops; a loop that does not answer is an error
entry, not a read from another thread."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import pytest

from pinnace.api.core.v1 import pod_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import Informer
from pinnace.machinery import cachedigest
from pinnace.machinery.kinds import by_resource
from pinnace.machinery.metrics_http import CACHES_PATH, serve_metrics
from tests.waiting import wait_until


def pod(name: str, node: str = "n1") -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.name = name
    p.metadata.namespace = "ns"
    p.spec.node_name = node
    return p


def mine(entries: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["name"] == name]


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        pytest.param(
            [("ns/a", "1"), ("ns/b", "2")], [("ns/b", "2"), ("ns/a", "1")], True, id="order"
        ),
        pytest.param([("ns/a", "1")], [("ns/a", "2")], False, id="other-rv"),
        pytest.param([("ns/a", "1")], [("ns/a", "1"), ("ns/b", "1")], False, id="one-more"),
        pytest.param([], [], True, id="empty"),
    ],
)
def test_digest_is_equal_exactly_for_equal_pairs(
    a: list[tuple[str, str]], b: list[tuple[str, str]], equal: bool
) -> None:
    assert (cachedigest.digest(a) == cachedigest.digest(b)) is equal


async def test_a_running_informer_is_reported_and_a_stopped_one_is_not() -> None:
    client = FakeClient(pod("a"), pod("b", node="n2"))
    informer = Informer(
        client,  # type: ignore[arg-type]  # a stand-in for AsyncClient
        "pods",
        field_selector="spec.nodeName=n1",
        name="pods@test-report",
    )
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(2)
        await client.pods("ns").create(pod("c"))
        await wait_until(lambda: len(informer.store) == 2, 2, "c in the cache")
        entries = mine(await asyncio.to_thread(cachedigest.report, items=True), "pods@test-report")
        pairs = sorted(
            (f"ns/{p.metadata.name}", p.metadata.resource_version) for p in informer.store.list()
        )
        assert entries == [
            {
                "name": "pods@test-report",
                "resource": "pods",
                "group": "",
                "namespace": "",
                "labelSelector": "",
                "fieldSelector": "spec.nodeName=n1",
                "synced": True,
                "resourceVersion": informer.last_resource_version,
                "count": 2,
                "digest": cachedigest.digest(pairs),
                "items": [list(pair) for pair in pairs],
            }
        ]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert mine(await asyncio.to_thread(cachedigest.report), "pods@test-report") == []


class _Source:
    """A cache whose loop never runs: report must not read it from outside."""

    name = "stuck"
    info = by_resource("pods")
    namespace = ""
    label_selector = ""
    field_selector = ""
    last_resource_version = "1"

    class store:
        @staticmethod
        def list() -> list[Any]:
            raise AssertionError("read outside its loop")

    def has_synced(self) -> bool:
        return True


def test_a_loop_that_does_not_answer_is_an_error_entry() -> None:
    loop = asyncio.new_event_loop()
    source = _Source()

    async def register() -> None:
        cachedigest.track(source)

    loop.run_until_complete(register())  # tracked on a loop that then stops running
    try:
        started = time.monotonic()
        entries = mine(cachedigest.report(timeout=0.2), "stuck")
        assert time.monotonic() - started < 5
        assert len(entries) == 1 and entries[0]["error"].startswith("TimeoutError")
    finally:
        cachedigest.untrack(source)
        loop.run_until_complete(asyncio.sleep(0))  # the cancelled read ends
        loop.close()


async def test_the_metrics_listener_serves_caches_and_metrics() -> None:
    client = FakeClient(pod("a"))
    informer = Informer(client, "pods", name="pods@test-http")  # type: ignore[arg-type]
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(2)
        port = serve_metrics("127.0.0.1:0")

        def get(path: str) -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
                return bytes(resp.read())

        page = json.loads(await asyncio.to_thread(get, CACHES_PATH))
        [entry] = mine(page["caches"], "pods@test-http")
        assert entry["count"] == 1 and "items" not in entry
        with_items = json.loads(await asyncio.to_thread(get, CACHES_PATH + "?items=1"))
        [entry] = mine(with_items["caches"], "pods@test-http")
        assert entry["items"] == [["ns/a", informer.store.list()[0].metadata.resource_version]]
        assert b"python_info" in await asyncio.to_thread(get, "/metrics")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

"""Watch: every event from an old resourceVersion in order, the initial state
for "", bookmarks, selectors on watches, and Expired past the window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pinnace.client import AsyncClient, WatchEvent
from pinnace.machinery import errors
from tests.integration.api.objects import pod

TIMEOUT = 5.0


async def take(stream: AsyncIterator[WatchEvent], n: int, *, skip_bookmarks: bool = True):
    """The next n events (bookmarks skipped), within TIMEOUT."""
    out: list[WatchEvent] = []

    async def collect() -> None:
        async for ev in stream:
            if skip_bookmarks and ev.type == "BOOKMARK":
                continue
            out.append(ev)
            if len(out) == n:
                return

    try:
        await asyncio.wait_for(collect(), TIMEOUT)
    except TimeoutError:
        pytest.fail(f"got {len(out)} of {n} events within {TIMEOUT}s: {_summary(out)}")
    return out


def _summary(events: list[WatchEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.object.metadata.name if e.object else "") for e in events]


async def test_watch_from_old_resource_version_delivers_everything_in_order(
    aclient: AsyncClient, namespace: str
) -> None:
    pods = aclient.pods(namespace)
    start = (await pods.list()).resource_version
    expected: list[tuple[str, str, str]] = []
    for i in range(5):
        made = await pods.create(pod(f"p{i}"))
        expected.append(("ADDED", f"p{i}", made.metadata.resource_version))
    for i in range(5):
        changed = await pods.patch(f"p{i}", {"metadata": {"labels": {"step": str(i)}}})
        expected.append(("MODIFIED", f"p{i}", changed.metadata.resource_version))
    bound = await pods.bind("p0", "node-a")
    expected.append(("MODIFIED", "p0", bound.metadata.resource_version))
    for i in (3, 1):
        await pods.delete(f"p{i}")
    # Everything happened before the watch starts: it must replay it all.
    stream = pods.watch(resource_version=start)
    try:
        events = await take(stream, len(expected) + 2)
    finally:
        await stream.aclose()
    got = [(e.type, e.object.metadata.name, e.resource_version) for e in events]
    assert got[: len(expected)] == expected
    assert [(t, n) for t, n, _ in got[len(expected) :]] == [("DELETED", "p3"), ("DELETED", "p1")]
    rvs = [int(rv) for _, _, rv in got]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)
    assert events[len(expected) - 1].object.spec.node_name == "node-a"
    # Each event's object carries that event's resourceVersion.
    assert all(e.object.metadata.resource_version == e.resource_version for e in events[:-2])


async def test_watch_live_events(aclient: AsyncClient, namespace: str) -> None:
    pods = aclient.pods(namespace)
    await pods.create(pod("before"))
    stream = pods.watch()  # "": current objects as ADDED, then changes
    try:
        first = await take(stream, 1)
        assert _summary(first) == [("ADDED", "before")]
        await pods.create(pod("after"))
        await pods.patch("before", {"metadata": {"labels": {"x": "y"}}})
        await pods.delete("after")
        events = await take(stream, 3)
    finally:
        await stream.aclose()
    assert _summary(events) == [("ADDED", "after"), ("MODIFIED", "before"), ("DELETED", "after")]
    assert events[1].object.metadata.labels["x"] == "y"


async def test_watch_all_namespaces_and_cluster_scoped(
    aclient: AsyncClient, namespace: str
) -> None:
    stream = aclient.pods("").watch(
        resource_version=(await aclient.pods("").list()).resource_version,
        label_selector=f"mark={namespace}",
    )
    try:
        await aclient.pods(namespace).create(pod("a", labels={"mark": namespace}))
        await aclient.pods("default").create(pod(f"{namespace}-b", labels={"mark": namespace}))
        events = await take(stream, 2)
        assert [(e.object.metadata.namespace, e.type) for e in events] == [
            (namespace, "ADDED"),
            ("default", "ADDED"),
        ]
    finally:
        await stream.aclose()
        await aclient.pods("default").delete(f"{namespace}-b")


async def test_bookmarks(aclient: AsyncClient, namespace: str) -> None:
    """An idle watch with allow_bookmarks gets BOOKMARKs (the shared apiserver
    sends them every 0.5 s) carrying a resourceVersion at least the list's."""
    pods = aclient.pods(namespace)
    made = await pods.create(pod("p"))
    stream = pods.watch(resource_version=made.metadata.resource_version, allow_bookmarks=True)
    try:
        events = await take(stream, 1, skip_bookmarks=False)
    finally:
        await stream.aclose()
    assert events[0].type == "BOOKMARK" and events[0].object is None
    assert int(events[0].resource_version) >= int(made.metadata.resource_version)


async def test_no_bookmarks_unless_asked(aclient: AsyncClient, namespace: str) -> None:
    pods = aclient.pods(namespace)
    made = await pods.create(pod("p"))
    stream = pods.watch(resource_version=made.metadata.resource_version, allow_bookmarks=False)
    first = asyncio.ensure_future(anext(stream))
    try:
        # The thing under test is silence: nothing may arrive during three
        # bookmark intervals (the shared apiserver sends one every 0.5 s to
        # watches that asked), so a bookmark leaking through would be seen.
        done, _ = await asyncio.wait({first}, timeout=1.5)
        assert not done, f"unexpected event on an idle watch: {first.result()}"
        await pods.create(pod("q"))  # then a real event is the first one
        event = await asyncio.wait_for(first, TIMEOUT)
    finally:
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await stream.aclose()
    assert _summary([event]) == [("ADDED", "q")]


async def test_label_selector_watch_translates_events(aclient: AsyncClient, namespace: str) -> None:
    """An object that starts matching arrives as ADDED, one that stops
    matching as DELETED; objects that never match are not seen."""
    pods = aclient.pods(namespace)
    start = (await pods.list()).resource_version
    await pods.create(pod("p", labels={"app": "other"}))
    await pods.create(pod("noise", labels={"app": "other"}))
    await pods.patch("p", {"metadata": {"labels": {"app": "web"}}})
    await pods.patch("p", {"metadata": {"labels": {"tier": "x"}}})
    await pods.patch("p", {"metadata": {"labels": {"app": "db"}}})
    await pods.create(pod("q", labels={"app": "web"}))
    await pods.delete("q")
    stream = pods.watch(resource_version=start, label_selector="app=web")
    try:
        events = await take(stream, 5)
    finally:
        await stream.aclose()
    assert _summary(events) == [
        ("ADDED", "p"),
        ("MODIFIED", "p"),
        ("DELETED", "p"),
        ("ADDED", "q"),
        ("DELETED", "q"),
    ]
    assert events[2].object.metadata.labels["app"] == "db", "DELETED carries the new state"


async def test_field_selector_watch(aclient: AsyncClient, namespace: str) -> None:
    """A kubelet-style watch on spec.nodeName sees a pod when it is bound."""
    pods = aclient.pods(namespace)
    start = (await pods.list()).resource_version
    stream = pods.watch(resource_version=start, field_selector="spec.nodeName=node-a")
    try:
        await pods.create(pod("p"))
        await pods.create(pod("elsewhere"))
        await pods.bind("elsewhere", "node-b")
        await pods.bind("p", "node-a")
        done = await pods.get("p")
        done.status.phase = "Running"
        await pods.update_status(done)
        await pods.delete("p", grace_period_seconds=0)
        events = await take(stream, 3)
    finally:
        await stream.aclose()
    assert _summary(events) == [("ADDED", "p"), ("MODIFIED", "p"), ("DELETED", "p")]
    assert events[1].object.status.phase == "Running"


async def test_bad_watch_requests(aclient: AsyncClient, namespace: str) -> None:
    pods = aclient.pods(namespace)
    cases = [
        ({"resource_version": "abc"}, errors.BadRequest),
        ({"label_selector": "a in"}, errors.BadRequest),
        ({"field_selector": "spec.hostname=x"}, errors.BadRequest),
    ]
    for kwargs, cls in cases:
        stream = pods.watch(**kwargs)
        with pytest.raises(cls):
            await asyncio.wait_for(stream.__anext__(), TIMEOUT)
        await stream.aclose()
    stream = aclient.resource("pods").watch()
    await stream.aclose()


async def test_watch_from_a_version_older_than_the_window_is_expired(
    start_apiserver, namespace: str
) -> None:
    """With a 10-event window, a watch from before the last 10 events of a
    resource is Expired (Kubernetes' 410): the client must relist."""
    server = start_apiserver("--watch-cache-size", "10")
    try:
        async with AsyncClient(config=server.config, timeout=10) as c:
            leases = c.leases(namespace)
            from tests.integration.api.objects import BY_RESOURCE

            made = await leases.create(BY_RESOURCE["leases.coordination.k8s.io"].new("l"))
            old = made.metadata.resource_version
            for i in range(12):
                await leases.patch("l", {"spec": {"leaseTransitions": i}})
            stream = leases.watch(resource_version=old)
            with pytest.raises(errors.Expired) as info:
                await asyncio.wait_for(stream.__anext__(), TIMEOUT)
            await stream.aclose()
            assert "too old resource version" in info.value.message
            assert info.value.status.code == 410
            # A relist gives a resourceVersion to watch from again.
            fresh = (await leases.list()).resource_version
            stream = leases.watch(resource_version=fresh)
            await leases.patch("l", {"spec": {"leaseTransitions": 99}})
            events = await take(stream, 1)
            await stream.aclose()
            assert events[0].object.spec.lease_transitions == 99
    finally:
        server.component.stop()


async def test_initial_events_end_with_a_bookmark_at_the_snapshot(
    aclient: AsyncClient, namespace: str
) -> None:
    """A watch from "" sends the current objects, then a BOOKMARK whose
    resourceVersion is the snapshot's (so a resume neither replays nor skips)."""
    pods = aclient.pods(namespace)
    for i in range(3):
        await pods.create(pod(f"b{i}"))
    listed = await pods.list()
    stream = pods.watch(resource_version="", allow_bookmarks=True)
    try:
        events = await take(stream, 4, skip_bookmarks=False)
    finally:
        await stream.aclose()
    assert [e.type for e in events] == ["ADDED", "ADDED", "ADDED", "BOOKMARK"]
    assert int(events[3].resource_version) >= int(listed.resource_version)


async def test_watch_from_a_future_resource_version_waits_then_times_out(
    aclient: AsyncClient, namespace: str
) -> None:
    """A resourceVersion ahead of the cache is waited for (failover from a
    newer apiserver), not answered with a replay; one that never comes is
    a Timeout."""
    pods = aclient.pods(namespace)
    now = int((await pods.list()).resource_version)
    stream = pods.watch(resource_version=str(now + 1_000_000))
    with pytest.raises(errors.Timeout, match="did not reach revision"):
        await asyncio.wait_for(stream.__anext__(), 10)

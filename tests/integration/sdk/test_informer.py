"""Informers against a real apiserver: ordering, handlers, selectors, shared
watches, and convergence after an apiserver is killed or the watch window
has moved past the informer."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pinnace.client import AsyncClient, Expired
from pinnace.client.informer import DeletedFinalStateUnknown, Informer, SharedInformerFactory


class Recorder:
    """Every handler call, as (what, name, resourceVersion, uid)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []

    def _note(self, what: str, obj: Any) -> None:
        m = obj.metadata
        self.calls.append((what, m.name, m.resource_version, m.uid))

    def on_add(self, obj: Any) -> None:
        self._note("add", obj)

    def on_update(self, old: Any, new: Any) -> None:
        self._note("update", new)

    def on_delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            self._note("tombstone", obj.obj)
        else:
            self._note("delete", obj)

    def register(self, informer: Informer) -> Recorder:
        informer.add_handler(self.on_add, self.on_update, self.on_delete)
        return self

    def of(self, name: str) -> list[str]:
        return [what for what, n, _, _ in self.calls if n == name]

    def adds_per_uid(self) -> Counter[str]:
        return Counter(uid for what, _, _, uid in self.calls if what == "add")


async def running(informer: Informer) -> asyncio.Task[None]:
    task = asyncio.create_task(informer.run())
    assert await informer.wait_synced(10), f"{informer.name} did not sync"
    return task


async def cancel(*tasks: asyncio.Task[Any]) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def versions(objs: list[Any]) -> dict[str, str]:
    return {o.metadata.name: o.metadata.resource_version for o in objs}


async def server_versions(client: AsyncClient, namespace: str) -> dict[str, str]:
    return versions((await client.pods(namespace).list()).items)


@pytest.fixture
async def tasks() -> AsyncIterator[list[asyncio.Task[Any]]]:
    """Tasks cancelled at the end of the test."""
    started: list[asyncio.Task[Any]] = []
    yield started
    await cancel(*started)


async def test_sees_creates_updates_deletes_in_order(
    aclient: AsyncClient, namespace: str, pod_factory: Callable, eventually: Callable, tasks: list
) -> None:
    """Each object's notifications come in the order the server changed it,
    and the store ends equal to the server."""
    pods = aclient.pods(namespace)
    await pods.create(pod_factory("before", namespace))
    inf = Informer(aclient, "pods", namespace=namespace)
    rec = Recorder().register(inf)
    tasks.append(await running(inf))
    assert rec.of("before") == ["add"]

    a = await pods.create(pod_factory("a", namespace))
    await pods.create(pod_factory("b", namespace))
    for i in range(3):
        a = await pods.patch("a", {"metadata": {"labels": {"step": str(i)}}})
    await pods.delete("b")
    await pods.delete("before")

    await eventually(lambda: rec.of("before") == ["add", "delete"])
    await eventually(lambda: rec.of("b") == ["add", "delete"])
    await eventually(lambda: rec.of("a") == ["add", "update", "update", "update"])
    a_versions = [rv for what, n, rv, _ in rec.calls if n == "a"]
    assert a_versions[-1] == a.metadata.resource_version
    assert a_versions == sorted(a_versions, key=int)
    assert inf.store.get_by_name(namespace, "a").metadata.labels["step"] == "2"
    assert versions(inf.store.list()) == await server_versions(aclient, namespace)
    assert [o.metadata.name for o in inf.store.by_index("namespace", namespace)] == ["a"]


async def test_two_informers_and_a_late_handler(
    aclient: AsyncClient, namespace: str, pod_factory: Callable, eventually: Callable, tasks: list
) -> None:
    """Two informers on one kind both converge; a handler added after sync
    is first told about every cached object."""
    pods = aclient.pods(namespace)
    for n in ("x", "y"):
        await pods.create(pod_factory(n, namespace))
    first = Informer(aclient, "pods", namespace=namespace)
    second = Informer(aclient, "pods", namespace=namespace)
    tasks.append(await running(first))
    tasks.append(await running(second))
    late = Recorder().register(second)
    assert sorted(n for what, n, _, _ in late.calls if what == "add") == ["x", "y"]

    await pods.create(pod_factory("z", namespace))
    await pods.delete("x")
    want = await server_versions(aclient, namespace)
    await eventually(lambda: versions(first.store.list()) == want)
    await eventually(lambda: versions(second.store.list()) == want)
    await eventually(lambda: late.of("z") == ["add"] and late.of("x") == ["add", "delete"])


async def test_label_and_field_selector_informers(
    aclient: AsyncClient, namespace: str, pod_factory: Callable, eventually: Callable, tasks: list
) -> None:
    """Objects entering a selector are adds, objects leaving it deletes."""
    pods = aclient.pods(namespace)
    by_label = Informer(aclient, "pods", namespace=namespace, label_selector="app=web")
    by_field = Informer(aclient, "pods", namespace=namespace, field_selector="spec.nodeName=n1")
    labels, fields = Recorder().register(by_label), Recorder().register(by_field)
    tasks.append(await running(by_label))
    tasks.append(await running(by_field))

    await pods.create(pod_factory("web", namespace, app="web"))
    await pods.create(pod_factory("db", namespace, app="db"))
    await pods.bind("db", "n1")
    await eventually(lambda: labels.of("web") == ["add"])
    await eventually(lambda: fields.of("db") == ["add"])
    await pods.patch("web", {"metadata": {"labels": {"app": "db"}}})
    await pods.patch("db", {"metadata": {"labels": {"app": "web"}}})
    await eventually(lambda: labels.of("web") == ["add", "delete"] and labels.of("db") == ["add"])
    assert sorted(by_label.store.keys()) == [f"{namespace}/db"]
    assert sorted(by_field.store.keys()) == [f"{namespace}/db"]
    assert fields.of("web") == []


async def test_shared_factory(
    aclient: AsyncClient, namespace: str, pod_factory: Callable, eventually: Callable
) -> None:
    await aclient.pods(namespace).create(pod_factory("p", namespace))
    factory = SharedInformerFactory(aclient)
    pods = factory.informer("pods", namespace=namespace)
    assert factory.informer("po", namespace=namespace) is pods
    factory.start()
    try:
        assert await factory.wait_for_cache_sync(10)
        assert pods.store.keys() == [f"{namespace}/p"]
    finally:
        await factory.stop()


async def test_converges_after_its_apiserver_is_killed(
    start_apiserver: Callable,
    namespace: str,
    pod_factory: Callable,
    eventually: Callable,
    tasks: list,
) -> None:
    """An informer on apiserver A; A is SIGKILLed; pods change through B
    (same etcd); A comes back. The informer ends with exactly the server's
    objects, each added once, the deleted ones deleted."""
    a, b = start_apiserver(), start_apiserver()
    async with (
        AsyncClient(config=a.config, timeout=10) as ca,
        AsyncClient(config=b.config, timeout=10) as cb,
    ):
        pods = cb.pods(namespace)
        for n in ("keep", "change", "remove"):
            await pods.create(pod_factory(n, namespace))
        inf = Informer(ca, "pods", namespace=namespace)
        rec = Recorder().register(inf)
        tasks.append(await running(inf))
        await eventually(lambda: len(inf.store) == 3)

        a.component.kill()
        await pods.create(pod_factory("new1", namespace))
        await pods.create(pod_factory("new2", namespace))
        await pods.patch("change", {"metadata": {"labels": {"changed": "yes"}}})
        await pods.delete("remove")
        await pods.create(pod_factory("short", namespace))
        await pods.delete("short")
        want = await server_versions(cb, namespace)
        await asyncio.to_thread(a.restart)

        await eventually(lambda: versions(inf.store.list()) == want, timeout=10)
        assert set(want) == {"keep", "change", "new1", "new2"}
        assert rec.of("remove")[-1] in ("delete", "tombstone")
        assert rec.of("change")[-1] == "update"
        assert all(n == 1 for n in rec.adds_per_uid().values()), rec.calls
        assert rec.of("keep") == ["add"]
        assert rec.of("short") == []  # born and gone while nobody watched
        assert inf.relists == 1  # A's new watch cache starts after our point


async def test_expired_watch_relists_without_duplicates(
    start_apiserver: Callable, namespace: str, pod_factory: Callable, eventually: Callable
) -> None:
    """With a 5-event watch window: a watch from an old resourceVersion
    raises Expired; an informer resuming from such a point relists, and its
    handlers see each change once."""
    small = start_apiserver("--watch-cache-size", "5")
    async with AsyncClient(config=small.config, timeout=10) as client:
        pods = client.pods(namespace)
        for n in ("p0", "p1", "p2"):
            await pods.create(pod_factory(n, namespace))
        inf = Informer(client, "pods", namespace=namespace)
        rec = Recorder().register(inf)
        task = await running(inf)
        await cancel(task)
        old = inf.last_resource_version

        for n in ("p3", "p4", "p5"):
            await pods.create(pod_factory(n, namespace))
        await pods.patch("p0", {"metadata": {"labels": {"v": "1"}}})
        await pods.patch("p1", {"metadata": {"labels": {"v": "1"}}})
        await pods.delete("p2")
        await pods.patch("p0", {"metadata": {"labels": {"v": "2"}}})

        with pytest.raises(Expired):
            async for _ in pods.watch(resource_version=old):
                pass

        task = asyncio.create_task(inf.run())  # resumes from `old`: too old
        try:
            want = await server_versions(client, namespace)
            await eventually(lambda: versions(inf.store.list()) == want)
            assert inf.relists == 1
        finally:
            await cancel(task)
        assert all(n == 1 for n in rec.adds_per_uid().values()), rec.calls
        assert sorted(n for what, n, _, _ in rec.calls if what == "add") == [
            "p0",
            "p1",
            "p2",
            "p3",
            "p4",
            "p5",
        ]
        assert rec.of("p2") == ["add", "tombstone"]
        assert rec.of("p0") == ["add", "update"]  # two changes while away: one update
        assert rec.of("p1") == ["add", "update"]

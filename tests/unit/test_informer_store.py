"""The informer's Store (keys, indexes, replace diff), and the informer's
event bookkeeping over a fake resource that records nothing but answers
list and watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pinnace.api.core.v1 import namespace_pb2, pod_pb2
from pinnace.client._requests import ObjectList, WatchEvent
from pinnace.client.informer import (
    DeletedFinalStateUnknown,
    Informer,
    SharedInformerFactory,
    Store,
    object_key,
)
from pinnace.machinery import errors


def pod(name: str, ns: str = "default", *, rv: str = "1", uid: str = "", **labels: str) -> Any:
    p = pod_pb2.Pod()
    p.metadata.name = name
    p.metadata.namespace = ns
    p.metadata.resource_version = rv
    p.metadata.uid = uid or f"uid-{ns}-{name}"
    p.metadata.labels.update(labels)
    return p


def by_app(obj: Any) -> list[str]:
    app = obj.metadata.labels.get("app")
    return [app] if app else []


def names(objs: list[Any]) -> list[str]:
    return sorted(object_key(o) for o in objs)


# ---- Store -------------------------------------------------------------------------


def test_keys_for_namespaced_and_cluster_scoped() -> None:
    s = Store()
    s.upsert(pod("a", "ns1"))
    ns = namespace_pb2.Namespace()
    ns.metadata.name = "ns1"
    s.upsert(ns)
    assert sorted(s.keys()) == ["ns1", "ns1/a"]
    assert s.get_by_name("ns1", "a") is s.get("ns1/a")
    assert s.get_by_name("", "ns1") is ns
    assert "ns1/a" in s and len(s) == 2


def test_namespace_index_is_there_by_default() -> None:
    s = Store()
    for o in (pod("a", "x"), pod("b", "x"), pod("c", "y")):
        s.upsert(o)
    assert names(s.by_index("namespace", "x")) == ["x/a", "x/b"]
    assert s.index_values("namespace") == ["x", "y"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param([], {"web": ["d/a", "d/b"], "db": ["d/c"]}, id="initial"),
        pytest.param(
            [("upsert", pod("a", "d", app="db"))],
            {"web": ["d/b"], "db": ["d/a", "d/c"]},
            id="relabel",
        ),
        pytest.param([("delete", "d/c")], {"web": ["d/a", "d/b"], "db": []}, id="delete"),
        pytest.param([("upsert", pod("a", "d"))], {"web": ["d/b"], "db": ["d/c"]}, id="unlabel"),
    ],
)
def test_custom_index_follows_changes(changes: list[tuple[str, Any]], expected: dict) -> None:
    s = Store({"app": by_app})
    for o in (pod("a", "d", app="web"), pod("b", "d", app="web"), pod("c", "d", app="db")):
        s.upsert(o)
    for op, arg in changes:
        getattr(s, op)(arg)
    for value, keys in expected.items():
        assert names(s.by_index("app", value)) == keys
    assert s.index_values("app") == sorted(v for v, keys in expected.items() if keys)


def test_indexer_added_later_indexes_existing_objects() -> None:
    s = Store()
    s.upsert(pod("a", "d", app="web"))
    s.add_indexers({"app": by_app})
    assert names(s.by_index("app", "web")) == ["d/a"]
    with pytest.raises(KeyError, match="no index named"):
        s.by_index("nope", "x")


def test_failing_indexer_does_not_lose_the_object() -> None:
    s = Store({"boom": lambda o: 1 / 0})  # type: ignore[arg-type,return-value]
    s.upsert(pod("a"))
    assert s.get("default/a") is not None
    assert s.by_index("boom", "x") == []


def test_replace_diff() -> None:
    s = Store({"app": by_app})
    for o in (
        pod("same", rv="5"),
        pod("changed", rv="5", app="old"),
        pod("gone", rv="5"),
        pod("recreated", rv="5", uid="u1"),
    ):
        s.upsert(o)
    same = s.get("default/same")
    diff = s.replace(
        [
            pod("same", rv="5"),
            pod("changed", rv="9", app="new"),
            pod("recreated", rv="9", uid="u2"),
            pod("new", rv="9"),
        ]
    )
    assert names(diff.added) == ["default/new", "default/recreated"]
    assert [
        (o.metadata.resource_version, n.metadata.resource_version) for o, n in diff.updated
    ] == [("5", "9")]
    assert sorted(k for k, _ in diff.deleted) == ["default/gone", "default/recreated"]
    assert {k: o.metadata.uid for k, o in diff.deleted}["default/recreated"] == "u1"
    assert diff.unchanged == 1 and diff
    assert s.get("default/same") is same  # an unchanged object keeps its identity
    assert sorted(s.keys()) == [
        "default/changed",
        "default/new",
        "default/recreated",
        "default/same",
    ]
    assert names(s.by_index("app", "new")) == ["default/changed"]
    assert s.by_index("app", "old") == []
    assert not s.replace(s.list())


# ---- informer over a fake resource -------------------------------------------------


class FakeResource:
    """Answers list from `objects` and watch from `events` (a queue fed by the
    test); a watch from a resourceVersion in `expired` raises Expired."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.rv = "10"
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.expired: set[str] = set()
        self.lists = 0
        self.watched_from: list[str] = []

    async def list(self, **kw: Any) -> ObjectList:
        self.lists += 1
        return ObjectList(items=list(self.objects), resource_version=self.rv)

    async def watch(self, *, resource_version: str, **kw: Any) -> AsyncIterator[WatchEvent]:
        self.watched_from.append(resource_version)
        if resource_version in self.expired:
            raise errors.Expired(f"too old resource version: {resource_version}")
        while True:
            item = await self.events.get()
            if isinstance(item, BaseException):
                raise item
            yield item


class FakeClient:
    def __init__(self, resource: FakeResource) -> None:
        self._resource = resource

    def resource(self, kind: Any, namespace: str = "") -> FakeResource:
        return self._resource


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def add(self, obj: Any) -> None:
        self.calls.append(("add", object_key(obj), obj.metadata.resource_version))

    def update(self, old: Any, new: Any) -> None:
        self.calls.append(("update", object_key(new), new.metadata.resource_version))

    def delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            self.calls.append(("tombstone", obj.key, obj.obj.metadata.resource_version))
        else:
            self.calls.append(("delete", object_key(obj), obj.metadata.resource_version))


async def until(predicate: Any, timeout: float = 2.0) -> None:
    """Poll predicate until it holds; TimeoutError after timeout seconds."""
    async with asyncio.timeout(timeout):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


@pytest.fixture
def fake() -> FakeResource:
    return FakeResource()


def informer_and_recorder(fake: FakeResource, **kw: Any) -> tuple[Informer, Recorder]:
    inf = Informer(FakeClient(fake), "pods", **kw)  # type: ignore[arg-type]
    rec = Recorder()
    inf.add_handler(rec.add, rec.update, rec.delete)
    return inf, rec


async def test_events_apply_in_order_and_repeats_are_dropped(fake: FakeResource) -> None:
    fake.objects = [pod("a", rv="7")]
    inf, rec = informer_and_recorder(fake)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    for ev in (
        WatchEvent("ADDED", pod("b", rv="11"), "11"),
        WatchEvent("MODIFIED", pod("a", rv="12"), "12"),
        WatchEvent("MODIFIED", pod("a", rv="12"), "12"),  # repeated by the server
        WatchEvent("BOOKMARK", None, "13"),
        WatchEvent("DELETED", pod("b", rv="14"), "14"),
    ):
        fake.events.put_nowait(ev)
    await until(lambda: inf.last_resource_version == "14")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rec.calls == [
        ("add", "default/a", "7"),
        ("add", "default/b", "11"),
        ("update", "default/a", "12"),
        ("delete", "default/b", "14"),
    ]
    assert fake.watched_from == ["10"]


async def test_expired_relists_with_tombstones_and_no_duplicates(fake: FakeResource) -> None:
    fake.objects = [pod("keep", rv="3"), pod("change", rv="3"), pod("vanish", rv="3")]
    inf, rec = informer_and_recorder(fake)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    rec.calls.clear()
    fake.expired.add("10")
    fake.objects = [pod("keep", rv="3"), pod("change", rv="20"), pod("born", rv="21")]
    fake.rv = "22"
    fake.events.put_nowait(errors.InternalError("stream broke"))
    await until(lambda: inf.last_resource_version == "22" and inf.relists == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert sorted(rec.calls) == [
        ("add", "default/born", "21"),
        ("tombstone", "default/vanish", "3"),
        ("update", "default/change", "20"),
    ]
    assert fake.watched_from == ["10", "10", "22"]


async def test_handler_errors_are_contained_and_late_handlers_catch_up(
    fake: FakeResource, caplog: pytest.LogCaptureFixture
) -> None:
    fake.objects = [pod("a", rv="5"), pod("b", rv="6")]
    inf = Informer(FakeClient(fake), "pods")  # type: ignore[arg-type]
    inf.add_handler(on_add=lambda o: 1 / 0)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    late = Recorder()
    inf.add_handler(on_add=late.add)
    assert sorted(late.calls) == [("add", "default/a", "5"), ("add", "default/b", "6")]
    fake.events.put_nowait(WatchEvent("ADDED", pod("c", rv="11"), "11"))
    await until(lambda: len(late.calls) == 3)
    assert "on_add handler failed for default/a" in caplog.text
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_resync_redelivers_updates(fake: FakeResource) -> None:
    fake.objects = [pod("a", rv="5")]
    inf, rec = informer_and_recorder(fake, resync_period=0.02)
    task = asyncio.create_task(inf.run())
    await until(lambda: rec.calls.count(("update", "default/a", "5")) >= 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_rerun_resumes_from_last_resource_version(fake: FakeResource) -> None:
    inf, _ = informer_and_recorder(fake)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    fake.events.put_nowait(WatchEvent("ADDED", pod("a", rv="15"), "15"))
    await until(lambda: inf.last_resource_version == "15")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    task = asyncio.create_task(inf.run())
    await until(lambda: len(fake.watched_from) == 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert fake.lists == 1 and fake.watched_from == ["10", "15"]


async def test_factory_shares_informers(fake: FakeResource) -> None:
    factory = SharedInformerFactory(FakeClient(fake))  # type: ignore[arg-type]
    a = factory.informer("pods", namespace="x")
    assert factory.informer("po", namespace="x", indexers={"app": by_app}) is a
    assert factory.informer("pods", namespace="x", label_selector="a=b") is not a
    assert factory.informer("nodes", namespace="ignored") is factory.informer("nodes")
    factory.start()
    assert await factory.wait_for_cache_sync(2)
    await factory.stop()
    assert len(factory.informers) == 3

"""The informer's Store (keys, indexes, replace diff), and the informer's
event bookkeeping over the fake API client (lists and watches it answers,
events and errors the tests inject)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pinnace.api.core.v1 import namespace_pb2, pod_pb2
from pinnace.client._requests import WatchEvent
from pinnace.client.fake import Action, FakeClient
from pinnace.client.informer import (
    DeletedFinalStateUnknown,
    Informer,
    SharedInformerFactory,
    Store,
    object_key,
)
from pinnace.machinery import errors
from tests.waiting import wait_until


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


def test_by_index_values_joins_values_in_key_order() -> None:
    store = Store({"app": by_app})
    for p in (pod("c", app="web"), pod("a", app="db"), pod("b", app="web"), pod("d")):
        store.upsert(p)
    names = [p.metadata.name for p in store.by_index_values("app", ["web", "db", "web", "x"])]
    assert names == ["a", "b", "c"]
    assert store.by_index_values("app", []) == []


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


# ---- informer over the fake client ---------------------------------------------------


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


@pytest.fixture
def fake() -> FakeClient:
    """A fake API at resourceVersion 10, whose objects the tests set."""
    client = FakeClient()
    client.tracker.resource_version = 10
    return client


def set_objects(fake: FakeClient, *objects: Any, rv: int | None = None) -> None:
    """The pods the server holds now (changed behind any watch's back)."""
    fake.tracker.objects.clear()
    fake.tracker.add(*objects)
    if rv is not None:
        fake.tracker.resource_version = rv


def expire(fake: FakeClient, resource_version: str) -> None:
    """A watch from `resource_version` is answered with Expired."""

    def reaction(action: Action) -> tuple[bool, Any]:
        if action.options["resource_version"] == resource_version:
            raise errors.Expired(f"too old resource version: {resource_version}")
        return False, None

    fake.prepend_reactor("watch", "pods", reaction)


def watched_from(fake: FakeClient) -> list[str]:
    return [a.options["resource_version"] for a in fake.verbs("watch")]


def informer_and_recorder(fake: FakeClient, **kw: Any) -> tuple[Informer, Recorder]:
    inf = Informer(fake, "pods", **kw)  # type: ignore[arg-type]
    rec = Recorder()
    inf.add_handler(rec.add, rec.update, rec.delete)
    return inf, rec


async def test_events_apply_in_order_and_repeats_are_dropped(fake: FakeClient) -> None:
    set_objects(fake, pod("a", rv="7"), rv=10)
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
        fake.inject_watch("pods", ev)
    await wait_until(lambda: inf.last_resource_version == "14")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rec.calls == [
        ("add", "default/a", "7"),
        ("add", "default/b", "11"),
        ("update", "default/a", "12"),
        ("delete", "default/b", "14"),
    ]
    assert watched_from(fake) == ["10"]


async def test_expired_relists_with_tombstones_and_no_duplicates(fake: FakeClient) -> None:
    set_objects(fake, pod("keep", rv="3"), pod("change", rv="3"), pod("vanish", rv="3"), rv=10)
    inf, rec = informer_and_recorder(fake)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    rec.calls.clear()
    expire(fake, "10")
    set_objects(fake, pod("keep", rv="3"), pod("change", rv="20"), pod("born", rv="21"), rv=22)
    fake.inject_watch("pods", errors.InternalError("stream broke"))
    await wait_until(lambda: inf.last_resource_version == "22" and inf.relists == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert sorted(rec.calls) == [
        ("add", "default/born", "21"),
        ("tombstone", "default/vanish", "3"),
        ("update", "default/change", "20"),
    ]
    assert watched_from(fake) == ["10", "10", "22"]


async def test_handler_errors_are_contained_and_late_handlers_catch_up(
    fake: FakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    set_objects(fake, pod("a", rv="5"), pod("b", rv="6"), rv=10)
    inf = Informer(fake, "pods")  # type: ignore[arg-type]
    inf.add_handler(on_add=lambda o: 1 / 0)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    late = Recorder()
    inf.add_handler(on_add=late.add)
    assert sorted(late.calls) == [("add", "default/a", "5"), ("add", "default/b", "6")]
    fake.inject_watch("pods", WatchEvent("ADDED", pod("c", rv="11"), "11"))
    await wait_until(lambda: len(late.calls) == 3)
    assert "on_add handler failed for default/a" in caplog.text
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_resync_redelivers_updates(fake: FakeClient) -> None:
    set_objects(fake, pod("a", rv="5"), rv=10)
    inf, rec = informer_and_recorder(fake, resync_period=0.02)
    task = asyncio.create_task(inf.run())
    await wait_until(lambda: rec.calls.count(("update", "default/a", "5")) >= 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_rerun_resumes_from_last_resource_version(fake: FakeClient) -> None:
    inf, _ = informer_and_recorder(fake)
    task = asyncio.create_task(inf.run())
    assert await inf.wait_synced(2)
    fake.inject_watch("pods", WatchEvent("ADDED", pod("a", rv="15"), "15"))
    await wait_until(lambda: inf.last_resource_version == "15")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    task = asyncio.create_task(inf.run())
    await wait_until(lambda: len(watched_from(fake)) == 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(fake.verbs("list")) == 1 and watched_from(fake) == ["10", "15"]


async def test_factory_shares_informers(fake: FakeClient) -> None:
    factory = SharedInformerFactory(fake)  # type: ignore[arg-type]
    a = factory.informer("pods", namespace="x")
    assert factory.informer("po", namespace="x", indexers={"app": by_app}) is a
    assert factory.informer("pods", namespace="x", label_selector="a=b") is not a
    assert factory.informer("nodes", namespace="ignored") is factory.informer("nodes")
    factory.start()
    assert await factory.wait_for_cache_sync(2)
    await factory.stop()
    assert len(factory.informers) == 3

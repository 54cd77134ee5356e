"""The garbage collector's sync paths over a fake API (FakeOps records every
action), table-driven: what one attempt-to-delete or attempt-to-orphan pass
does for a given set of objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from controllers.garbagecollector.controller import GarbageCollector
from controllers.garbagecollector.graph import FOREGROUND, ORPHAN, Identity
from pinnace.machinery import codec, kinds

NS = "ns"


class FakeOps:
    """ApiOps over a dict of objects by uid; records actions as tuples."""

    def __init__(self, objects: list[Any]) -> None:
        self.objects = {o.metadata.uid: o for o in objects}
        self.actions: list[tuple] = []

    async def get(self, who: Identity) -> Any | None:
        return await self.lookup(who.api_version, who.kind, who.namespace, who.name, who.uid)

    async def lookup(self, api_version, kind, namespace, name, uid) -> Any | None:
        info = kinds.by_kind(api_version, kind)
        obj = self.objects.get(uid)
        if obj is None or kinds.by_message(obj) is not info:
            return None
        meta = obj.metadata
        return obj if (meta.namespace, meta.name) == (namespace, name) else None

    async def delete(self, who: Identity, propagation: str) -> bool:
        self.actions.append(("delete", who.name, propagation))
        return True

    async def edit_owner_refs(self, who: Identity, edit) -> bool:
        obj = self.objects[who.uid]
        new = edit(list(obj.metadata.owner_references))
        if new is None:
            return False
        self.actions.append(
            ("refs", who.name, tuple((r.name, r.block_owner_deletion) for r in new))
        )
        return True

    async def remove_finalizer(self, who: Identity, finalizer: str) -> bool:
        self.actions.append(("unfinalize", who.name, finalizer))
        return True


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str) -> None:
        self.events.append((obj.metadata.name, reason))


class NoInformer:
    def add_handler(self, **_: Any) -> None:
        pass


def collector(objects: list[Any], unobserved: list[Any]) -> GarbageCollector:
    ctx = SimpleNamespace(
        client=None,
        recorder=FakeRecorder(),
        metrics=None,
        options=None,
        informer=lambda info: NoInformer(),
    )
    gc = GarbageCollector(ctx)  # type: ignore[arg-type]
    gc.ops = FakeOps(objects + unobserved)  # type: ignore[assignment]
    for obj in objects:
        gc._observe(kinds.by_message(obj), obj)
    return gc


def obj(
    resource: str,
    name: str,
    *owners: Any,
    ns: str = NS,
    fin: tuple[str, ...] = (),
    deleting: bool = False,
    block: bool = True,
) -> Any:
    info = kinds.by_resource(resource)
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "ownerReferences": [
            {
                "apiVersion": kinds.by_message(o).api_version,
                "kind": kinds.by_message(o).kind,
                "name": o.metadata.name,
                "uid": o.metadata.uid,
                "blockOwnerDeletion": block,
            }
            for o in owners
        ],
        "finalizers": list(fin),
    }
    if ns and info.namespaced:
        meta["namespace"] = ns
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return codec.from_dict(info.message_class, {"metadata": meta})


def gone(resource: str, name: str, ns: str = NS) -> Any:
    """An object that is referenced but not in the fake API."""
    return obj(resource, name, ns=ns)


RS = obj("replicasets.apps", "rs")
RS2 = obj("replicasets.apps", "rs2")
GHOST = gone("replicasets.apps", "ghost")
RS_FG = obj("replicasets.apps", "rs", fin=(FOREGROUND,), deleting=True)
RS_ORPHAN = obj("replicasets.apps", "rs", fin=(ORPHAN,), deleting=True)
FAR = obj("replicasets.apps", "far", ns="other")


@dataclass
class Case:
    objects: list[Any]
    sync: str  # the name whose uid is synced
    want: list[tuple] = field(default_factory=list)
    queue: str = "delete"  # or "orphan"
    requeued: set[str] = field(default_factory=set)  # names added to attempt-to-delete
    events: list[tuple[str, str]] = field(default_factory=list)
    unobserved: list[Any] = field(default_factory=list)  # in the API, not yet in informers


CASES = {
    "owner alive: nothing": Case([RS, obj("pods", "p", RS)], "p"),
    "owner gone: background delete": Case(
        [obj("pods", "p", GHOST)], "p", [("delete", "p", "Background")]
    ),
    "one of two owners gone: its reference removed": Case(
        [RS, obj("pods", "p", GHOST, RS)], "p", [("refs", "p", (("rs", True),))]
    ),
    "owner waiting, dependent owns nothing: background delete": Case(
        [RS_FG, obj("pods", "p", RS_FG)], "p", [("delete", "p", "Background")]
    ),
    "owner waiting, dependent owns something: foreground delete": Case(
        [RS_FG, obj("pods", "p", RS_FG), obj("pods", "q", obj("pods", "p"))],
        "p",
        [("delete", "p", "Foreground")],
    ),
    "owner waiting and another alive: waiting reference removed": Case(
        [RS_FG, RS2, obj("pods", "p", RS_FG, RS2)], "p", [("refs", "p", (("rs2", True),))]
    ),
    "dependent being deleted already: nothing": Case(
        [obj("pods", "p", GHOST, deleting=True, fin=("x.io/hold",))], "p"
    ),
    "foreground owner, no blocking dependent: finalizer removed": Case(
        [RS_FG, obj("pods", "p", RS_FG, block=False)],
        "rs",
        [("unfinalize", "rs", FOREGROUND)],
    ),
    "foreground owner with a blocking dependent: dependent queued": Case(
        [RS_FG, obj("pods", "p", RS_FG)], "rs", requeued={"p"}
    ),
    "orphan owner: references stripped, then the finalizer": Case(
        [RS_ORPHAN, obj("pods", "p", RS_ORPHAN), obj("pods", "q", RS_ORPHAN, RS2), RS2],
        "rs",
        [("refs", "p", ()), ("refs", "q", (("rs2", True),)), ("unfinalize", "rs", ORPHAN)],
        queue="orphan",
    ),
    "virtual owner not found: its dependents queued": Case(
        [obj("pods", "p", GHOST)], "ghost", requeued={"p"}
    ),
    "virtual owner found: nothing yet": Case([obj("pods", "p", RS)], "rs", unobserved=[RS]),
    "cluster-scoped dependent of a namespaced owner: deleted, warned": Case(
        [RS, obj("persistentvolumes", "pv", RS, ns="")],
        "pv",
        [("delete", "pv", "Background")],
        events=[("pv", "OwnerRefInvalidNamespace")],
    ),
    "owner in another namespace: deleted, warned": Case(
        [FAR, obj("pods", "p", FAR)],
        "p",
        [("delete", "p", "Background")],
        events=[("p", "OwnerRefInvalidNamespace")],
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_sync(case: Case) -> None:
    # GHOST is only named in references: it is not in the API.
    api = [o for o in case.objects if o is not GHOST]
    gc = collector(api, case.unobserved)
    while len(gc.queue):  # drop what observing queued
        gc.queue.done(await gc.queue.get())
    uid = f"uid-{case.sync}"
    if case.queue == "orphan":
        await gc.sync_orphan(uid)
    else:
        await gc.sync(uid)
    assert gc.ops.actions == case.want  # type: ignore[attr-defined]
    queued = set()
    while len(gc.queue):
        queued.add(await gc.queue.get())
    assert queued == {f"uid-{n}" for n in case.requeued}
    assert gc.recorder.events == case.events  # type: ignore[attr-defined]

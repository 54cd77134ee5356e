"""Claiming ControllerRevisions (claim.py, Kubernetes' ClaimControllerRevisions)
and what the DaemonSet and StatefulSet histories make of adopted revisions:
an orphaned history is taken over with its numbers, no new revision made."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest

from controllers.claim import claim_revisions
from controllers.controllerref import controller_uid_index, orphan_index_value
from controllers.daemonset import history as ds_history
from controllers.statefulset import history as sts_history
from pinnace.api.apps.v1 import controllerrevision_pb2, daemonset_pb2, statefulset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.labels import selector_from_map
from pinnace.machinery.wellknown import LABEL_CONTROLLER_REVISION_HASH

ControllerRevision = controllerrevision_pb2.ControllerRevision
T = TypeVar("T", daemonset_pb2.DaemonSet, statefulset_pb2.StatefulSet)
NS = "ns"
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "image": "v1"}]},
}


def workload(kind: type[T], uid: str, image: str) -> T:
    """A DaemonSet or StatefulSet "web" selecting app=web, running ``image``."""
    template = {**TEMPLATE, "spec": {"containers": [{"name": "c", "image": image}]}}
    return codec.from_dict(
        kind,
        {
            "metadata": {"name": "web", "namespace": NS, "uid": uid},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
        },
    )


def daemon_set(uid: str = "uid-new", image: str = "v1") -> daemonset_pb2.DaemonSet:
    return workload(daemonset_pb2.DaemonSet, uid, image)


def stateful_set(uid: str = "uid-new", image: str = "v1") -> statefulset_pb2.StatefulSet:
    return workload(statefulset_pb2.StatefulSet, uid, image)


def orphaned(revision: ControllerRevision, *, rv: str = "7") -> ControllerRevision:
    """The revision as an orphaning delete of its owner leaves it."""
    out = ControllerRevision()
    out.CopyFrom(revision)
    del out.metadata.owner_references[:]
    out.metadata.uid = f"uid-{out.metadata.name}"
    out.metadata.resource_version = rv
    return out


class RecordingPatch:
    """patch(name, body) that records its calls and applies the ownerReferences."""

    def __init__(self, *revisions: ControllerRevision, fail: set[str] = frozenset()) -> None:
        self.stored = {r.metadata.name: r for r in revisions}
        self.fail = fail
        self.calls: list[tuple[str, dict]] = []

    async def __call__(self, name: str, body: dict) -> ControllerRevision:
        self.calls.append((name, body))
        if name in self.fail:
            raise errors.Conflict(f"{name} changed")
        out = ControllerRevision()
        out.CopyFrom(self.stored[name])
        del out.metadata.owner_references[:]
        for ref in body["metadata"]["ownerReferences"] or []:
            codec.from_dict(out.metadata.owner_references.add(), ref)
        return out


async def claim(owner: Any, revisions: list[ControllerRevision], patch: RecordingPatch) -> list:
    async def recheck() -> Any:
        return owner

    return await claim_revisions(
        owner,
        revisions,
        selector=selector_from_map({"app": "web"}),
        patch_revision=patch,
        recheck_owner=recheck,
    )


def _labelled(labels: dict[str, str]) -> ControllerRevision:
    rev = orphaned(ds_history.new_revision(daemon_set("uid-old"), 1, None))
    rev.metadata.labels.clear()
    rev.metadata.labels.update(labels)
    return rev


def _owned_by(uid: str) -> ControllerRevision:
    rev = ds_history.new_revision(daemon_set(uid), 1, None)
    rev.metadata.uid = "uid-rev"
    return rev


@pytest.mark.parametrize(
    ("revision", "claimed", "patched"),
    [
        pytest.param(_owned_by("uid-new"), True, False, id="owned-kept"),
        pytest.param(_owned_by("uid-other"), False, False, id="someone-elses"),
        pytest.param(_labelled({"app": "web", "x": "y"}), True, True, id="orphan-adopted"),
        pytest.param(_labelled({"app": "db"}), False, False, id="orphan-not-matching"),
    ],
)
async def test_claim_revisions(revision: Any, claimed: bool, patched: bool) -> None:
    patch = RecordingPatch(revision)
    got = await claim(daemon_set(), [revision], patch)
    assert [r.metadata.name for r in got] == ([revision.metadata.name] if claimed else [])
    assert bool(patch.calls) == patched
    if patched:
        ((_, body),) = patch.calls
        assert body["metadata"]["uid"] == revision.metadata.uid
        assert body["metadata"]["resourceVersion"] == revision.metadata.resource_version
        (ref,) = body["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["uid"], ref["controller"]) == ("DaemonSet", "uid-new", True)


async def test_claim_releases_an_owned_revision_that_stopped_matching() -> None:
    rev = _owned_by("uid-new")
    rev.metadata.labels["app"] = "db"
    patch = RecordingPatch(rev)
    assert await claim(daemon_set(), [rev], patch) == []
    ((name, body),) = patch.calls
    assert name == rev.metadata.name and body["metadata"]["ownerReferences"] is None


async def test_claim_tries_every_revision_before_raising() -> None:
    revs = [orphaned(ds_history.new_revision(daemon_set("old", f"v{i}"), i, None)) for i in (1, 2)]
    patch = RecordingPatch(*revs, fail={revs[0].metadata.name})
    with pytest.raises(errors.Conflict):
        await claim(daemon_set(), revs, patch)
    assert [name for name, _ in patch.calls] == [r.metadata.name for r in revs]


# ---- histories of adopted revisions -------------------------------------------------


class RevisionApi:
    """The DaemonSet history's RevisionControl; every call is recorded."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str]] = []

    async def create(self, cr: Any) -> Any:
        self.actions.append(("create", cr.metadata.name))
        return cr

    async def update(self, cr: Any) -> Any:
        self.actions.append(("update", cr.metadata.name))
        return cr

    async def get(self, name: str) -> Any:
        raise errors.NotFound(name)

    async def patch(self, name: str, body: dict) -> Any:
        raise AssertionError("not used")

    async def delete(self, name: str, uid: str) -> None:
        self.actions.append(("delete", name))


async def _no_bump(count: int) -> None:
    raise AssertionError("no collision expected")


@pytest.mark.parametrize(
    ("image", "number", "actions"),
    [
        pytest.param("v2", 2, [], id="newest-kept-as-is"),
        pytest.param("v1", 3, ["update"], id="older-renumbered-as-a-rollback"),
    ],
)
async def test_daemonset_takes_over_an_orphaned_history(
    image: str, number: int, actions: list[str]
) -> None:
    old = [
        orphaned(ds_history.new_revision(daemon_set("uid-old", f"v{i}"), i, None)) for i in (1, 2)
    ]
    new = daemon_set("uid-new", image)
    adopted = await claim(new, old, RecordingPatch(*old))
    api = RevisionApi()
    h = await ds_history.construct_history(new, adopted, control=api, bump_collision=_no_bump)
    assert [a for a, _ in api.actions] == actions
    assert h.current.metadata.name == old[int(image[1]) - 1].metadata.name
    assert h.current.revision == number
    assert h.hash == old[int(image[1]) - 1].metadata.labels[LABEL_CONTROLLER_REVISION_HASH]
    assert all(ref.uid == "uid-new" for r in adopted for ref in r.metadata.owner_references)


@pytest.mark.parametrize(
    ("image", "action", "number"),
    [
        pytest.param("v2", "reuse", 2, id="newest-reused"),
        pytest.param("v1", "renumber", 3, id="older-renumbered-as-a-rollback"),
    ],
)
async def test_statefulset_takes_over_an_orphaned_history(
    image: str, action: str, number: int
) -> None:
    old = [
        orphaned(sts_history.new_revision(stateful_set("uid-old", f"v{i}"), i, None))
        for i in (1, 2)
    ]
    new = stateful_set("uid-new", image)
    adopted = await claim(new, old, RecordingPatch(*old))
    choice = sts_history.choose_update_revision(new, adopted)
    assert choice.action == action
    assert choice.revision.metadata.name == old[int(image[1]) - 1].metadata.name
    assert choice.revision.revision == number
    current = sts_history.find_current(new, adopted, choice.revision)
    assert current.metadata.name == choice.revision.metadata.name


@pytest.mark.parametrize(
    ("refs", "want"),
    [
        pytest.param([], ["orphan:ns"], id="orphan"),
        pytest.param([("u1", True)], ["u1"], id="controlled"),
        pytest.param([("u1", False)], ["orphan:ns"], id="owner-not-controller"),
        pytest.param([("u1", False), ("u2", True)], ["u2"], id="controller-among-owners"),
    ],
)
def test_controller_uid_index(refs: list[tuple[str, bool]], want: list[str]) -> None:
    pod = pod_pb2.Pod()
    pod.metadata.namespace = "ns"
    for uid, controller in refs:
        pod.metadata.owner_references.add(uid=uid, kind="ReplicaSet", controller=controller)
    assert controller_uid_index(pod) == want
    assert orphan_index_value("ns") == "orphan:ns"

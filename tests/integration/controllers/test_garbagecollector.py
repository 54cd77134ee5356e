"""The garbage collector against a real apiserver: a controller-manager
process running only the garbagecollector controller, and owner/dependent
chains built by hand from plain objects (ReplicaSets with replicas 0 owning
pods through ownerReferences we set ourselves; no workload controller runs).

Pods here are never scheduled, so the apiserver deletes them at once (no
kubelet needed); a pod that must linger while deleting holds a finalizer of
our own (HOLD) until the test removes it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pinnace.machinery import codec, errors, kinds
from tests.integration.controllers.conftest import stays, wait_for

HOLD = "example.com/hold"
TIMEOUT = 15.0

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def gc(controller_manager):
    return controller_manager("garbagecollector")


# ---- building objects --------------------------------------------------------------


def ref(owner: Any, *, controller: bool = True, block: bool = True) -> dict[str, Any]:
    info = kinds.by_message(owner)
    return {
        "apiVersion": info.api_version,
        "kind": info.kind,
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "controller": controller,
        "blockOwnerDeletion": block,
    }


def make(client, resource: str, namespace: str, body: dict[str, Any]) -> Any:
    info = kinds.by_resource(resource)
    return client.resource(info, namespace).create(codec.from_dict(info.message_class, body))


def make_owner(client, namespace: str, resource: str = "replicasets.apps", name: str = "") -> Any:
    name = name or f"owner-{uuid.uuid4().hex[:6]}"
    labels = {"app": name}
    template = {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}],
            "restartPolicy": "Never" if resource == "jobs.batch" else "Always",
        },
    }
    if resource == "jobs.batch":
        spec: dict[str, Any] = {"template": template, "parallelism": 0}
    elif resource == "replicationcontrollers":
        spec = {"replicas": 0, "selector": labels, "template": template}
    else:
        spec = {"replicas": 0, "selector": {"matchLabels": labels}, "template": template}
    return make(client, resource, namespace, {"metadata": {"name": name}, "spec": spec})


def make_pod(
    client, namespace: str, name: str, *owner_refs: dict[str, Any], hold: bool = False
) -> Any:
    meta: dict[str, Any] = {"name": name, "ownerReferences": list(owner_refs)}
    if hold:
        meta["finalizers"] = [HOLD]
    return make(
        client,
        "pods",
        namespace,
        {
            "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["true"]}]},
        },
    )


# ---- reading state -----------------------------------------------------------------


def get(client, resource: str, namespace: str, name: str) -> Any | None:
    try:
        return client.resource(kinds.by_resource(resource), namespace).get(name)
    except errors.NotFound:
        return None


def gone(client, resource: str, namespace: str, *names: str) -> bool:
    return all(get(client, resource, namespace, n) is None for n in names)


def owner_uids(obj: Any) -> list[str]:
    return [r.uid for r in obj.metadata.owner_references]


def release_hold(client, namespace: str, name: str) -> None:
    client.pods(namespace).patch(name, {"metadata": {"finalizers": None}})


# ---- the policies ------------------------------------------------------------------


def test_background_deletes_dependents(client, namespace, gc) -> None:
    rs = make_owner(client, namespace)
    pods = [make_pod(client, namespace, f"p{i}", ref(rs)).metadata.name for i in range(3)]
    other = make_pod(client, namespace, "unowned")
    client.replica_sets(namespace).delete(rs.metadata.name)  # RS default: Background
    assert gone(client, "replicasets.apps", namespace, rs.metadata.name)
    wait_for(lambda: gone(client, "pods", namespace, *pods), TIMEOUT, "pods of the RS deleted")
    assert get(client, "pods", namespace, other.metadata.name) is not None


def test_foreground_keeps_owner_until_blocking_dependents_are_gone(client, namespace, gc) -> None:
    rs = make_owner(client, namespace)
    plain = [make_pod(client, namespace, f"p{i}", ref(rs)).metadata.name for i in range(2)]
    loose = make_pod(client, namespace, "loose", ref(rs, controller=False, block=False))
    held = make_pod(client, namespace, "held", ref(rs), hold=True)
    client.replica_sets(namespace).delete(rs.metadata.name, propagation_policy="Foreground")

    wait_for(
        lambda: gone(client, "pods", namespace, *plain, loose.metadata.name),
        TIMEOUT,
        "the dependents deleted",
    )
    wait_for(
        lambda: get(client, "pods", namespace, "held").metadata.deletion_timestamp,
        TIMEOUT,
        "the held pod deleting",
    )

    def owner_waits() -> bool:
        now = get(client, "replicasets.apps", namespace, rs.metadata.name)
        return (
            now is not None
            and bool(now.metadata.deletion_timestamp)
            and list(now.metadata.finalizers) == ["foregroundDeletion"]
        )

    stays(owner_waits, 1.0, "the RS visible with foregroundDeletion while a pod blocks")
    release_hold(client, namespace, held.metadata.name)
    wait_for(
        lambda: gone(client, "replicasets.apps", namespace, rs.metadata.name),
        TIMEOUT,
        "the RS gone once nothing blocks",
    )


@pytest.mark.parametrize(
    ("resource", "options"),
    [
        pytest.param("replicasets.apps", {"propagation_policy": "Orphan"}, id="rs-orphan"),
        pytest.param("replicasets.apps", {"orphan_dependents": True}, id="rs-orphanDependents"),
        pytest.param("replicationcontrollers", {}, id="rc-default"),
        pytest.param("jobs.batch", {}, id="job-default"),
    ],
)
def test_orphan_strips_references(client, namespace, gc, resource, options) -> None:
    owner = make_owner(client, namespace, resource)
    pods = [make_pod(client, namespace, f"p{i}", ref(owner)).metadata.name for i in range(2)]
    handle = client.resource(kinds.by_resource(resource), namespace)
    handle.delete(owner.metadata.name, **options)
    wait_for(
        lambda: gone(client, resource, namespace, owner.metadata.name),
        TIMEOUT,
        "the owner gone once its dependents are orphaned",
    )
    for name in pods:
        pod = get(client, "pods", namespace, name)
        assert pod is not None, f"{name} was deleted"
        assert not pod.metadata.deletion_timestamp
        assert owner_uids(pod) == []


# ---- graph rules -------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_pod_with_two_owners_survives_one(client, namespace, gc, policy) -> None:
    rs1 = make_owner(client, namespace)
    rs2 = make_owner(client, namespace)
    shared = make_pod(client, namespace, "shared", ref(rs1), ref(rs2, controller=False, block=True))
    only1 = make_pod(client, namespace, "only1", ref(rs1))
    client.replica_sets(namespace).delete(rs1.metadata.name, propagation_policy=policy)
    wait_for(
        lambda: (
            gone(client, "pods", namespace, only1.metadata.name)
            and gone(client, "replicasets.apps", namespace, rs1.metadata.name)
        ),
        TIMEOUT,
        "rs1 and its only dependent gone",
    )
    wait_for(
        lambda: owner_uids(get(client, "pods", namespace, "shared")) == [rs2.metadata.uid],
        TIMEOUT,
        "the shared pod loses its reference to rs1",
    )
    pod = get(client, "pods", namespace, shared.metadata.name)
    assert not pod.metadata.deletion_timestamp


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_ownership_cycle_does_not_block(client, namespace, gc, policy) -> None:
    a = make_pod(client, namespace, "a")
    b = make_pod(client, namespace, "b", ref(a))
    c = make_pod(client, namespace, "c", ref(b))
    client.pods(namespace).patch("a", {"metadata": {"ownerReferences": [ref(c)]}})
    client.pods(namespace).delete("a", propagation_policy=policy)
    wait_for(lambda: gone(client, "pods", namespace, "a", "b", "c"), TIMEOUT, "the whole cycle")


def test_dangling_references_are_collected(client, namespace, gc) -> None:
    rs = make_owner(client, namespace)
    never = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "ghost",
        "uid": str(uuid.uuid4()),
        "controller": True,
    }
    wrong_uid = dict(ref(rs), uid=str(uuid.uuid4()))
    make_pod(client, namespace, "ghost-owned", never)
    make_pod(client, namespace, "wrong-uid", wrong_uid)
    make_pod(client, namespace, "well-owned", ref(rs))
    wait_for(
        lambda: gone(client, "pods", namespace, "ghost-owned", "wrong-uid"),
        TIMEOUT,
        "pods whose owner uid does not exist deleted",
    )
    assert get(client, "pods", namespace, "well-owned") is not None


def test_cross_namespace_owner_is_invalid(client, namespace, gc) -> None:
    other = f"{namespace}-o"
    ns = kinds.by_resource("namespaces").new()
    ns.metadata.name = other
    client.namespaces().create(ns)
    try:
        rs = make_owner(client, other)
        make_pod(client, namespace, "foreign", ref(rs))
        wait_for(
            lambda: gone(client, "pods", namespace, "foreign"),
            TIMEOUT,
            "a pod owned from another namespace deleted",
        )
        assert get(client, "replicasets.apps", other, rs.metadata.name) is not None

        def warned() -> bool:
            events = client.events(namespace).list().items
            return any(e.reason == "OwnerRefInvalidNamespace" for e in events)

        wait_for(warned, TIMEOUT, "an OwnerRefInvalidNamespace event")
    finally:
        client.namespaces().delete(other)


# ---- restart -----------------------------------------------------------------------


def test_foreground_deletion_completes_after_controller_manager_sigkill(
    client, namespace, gc
) -> None:
    rs = make_owner(client, namespace)
    make_pod(client, namespace, "plain", ref(rs))
    held = make_pod(client, namespace, "held", ref(rs), hold=True)
    client.replica_sets(namespace).delete(rs.metadata.name, propagation_policy="Foreground")
    wait_for(
        lambda: (
            gone(client, "pods", namespace, "plain")
            and get(client, "pods", namespace, "held").metadata.deletion_timestamp
        ),
        TIMEOUT,
        "the foreground deletion under way",
    )
    gc.kill()
    # While it is down: the blocker goes, and a new blocking dependent appears.
    release_hold(client, namespace, held.metadata.name)
    make_pod(client, namespace, "late", ref(rs))
    assert get(client, "replicasets.apps", namespace, rs.metadata.name) is not None
    gc.start()
    wait_for(
        lambda: (
            gone(client, "pods", namespace, "held", "late")
            and gone(client, "replicasets.apps", namespace, rs.metadata.name)
        ),
        TIMEOUT,
        "the foreground deletion finished after the restart",
    )

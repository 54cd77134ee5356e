"""Create, get, list, update, patch and delete for every served kind, and the
metadata rules every kind shares: server-managed fields, generation,
generateName, status/spec separation, merge and JSON patch, dry run."""

from __future__ import annotations

import uuid

import pytest

from pinnace.client import Client
from pinnace.machinery import codec, errors, kinds
from pinnace.machinery.timeutil import parse_rfc3339
from tests.integration.api.helpers import assert_subset, expect_error, gone, wait_for
from tests.integration.api.objects import BY_RESOURCE, KIND_CASES, KindCase, pod

CASES = [pytest.param(c, id=c.id) for c in KIND_CASES]


def _name(case: KindCase, namespace: str, base: str = "obj") -> str:
    # Cluster-scoped objects share one space: make their names unique per test.
    return base if case.info.namespaced else f"{namespace}-{base}"


@pytest.mark.parametrize("case", CASES)
def test_crud_every_kind(client: Client, namespace: str, case: KindCase) -> None:
    """Create sets server metadata; get and list return it; update and patch
    change it with new resourceVersions; delete removes it."""
    api = client.resource(case.info, namespace)
    name = _name(case, namespace)
    made = api.create(case.new(name, labels={"test": namespace}, namespace=namespace))
    m = made.metadata
    assert (made.api_version, made.kind) == (case.info.api_version, case.info.kind)
    assert m.name == name
    assert m.namespace == (namespace if case.info.namespaced else "")
    assert uuid.UUID(m.uid).version == 4
    parse_rfc3339(m.creation_timestamp)
    assert int(m.resource_version) > 0
    assert m.generation == 1

    assert api.get(name) == made
    listed = api.list(label_selector=f"test={namespace}")
    assert [o.metadata.name for o in listed.items] == [name]
    assert listed.items[0] == made
    assert int(listed.resource_version) >= int(m.resource_version)

    current = api.get(name)
    current.metadata.labels["updated"] = "yes"
    updated = api.update(current)
    assert updated.metadata.labels["updated"] == "yes"
    assert int(updated.metadata.resource_version) > int(m.resource_version)
    assert updated.metadata.uid == m.uid
    assert updated.metadata.generation == 1, "a metadata-only change must not bump generation"

    patched = api.patch(name, {"metadata": {"annotations": {"note": "merge"}}})
    assert patched.metadata.annotations["note"] == "merge"
    assert patched.metadata.labels["updated"] == "yes"
    assert patched.metadata.generation == 1
    if case.spec_patch:
        patched = api.patch(name, case.spec_patch)
        assert_subset(case.spec_patch, codec.to_dict(patched))
        assert patched.metadata.generation == 2, "a spec change bumps generation once"
        assert api.get(name) == patched

    # Background: RC and Job would otherwise orphan (a finalizer the GC removes).
    api.delete(name, propagation_policy="Background")
    # A namespace is finalized (emptied) first; everything else goes at once.
    timeout = 10.0 if case.info.kind == "Namespace" else 0.0
    if timeout:
        wait_for(gone(lambda: api.get(name)), timeout=timeout, what=f"{name} to be deleted")
    else:
        expect_error(errors.NotFound, lambda: api.get(name), contains=(name, "not found"))
    assert name not in [o.metadata.name for o in api.list(label_selector=f"test={namespace}").items]


@pytest.mark.parametrize("case", CASES)
def test_create_twice_is_already_exists(client: Client, namespace: str, case: KindCase) -> None:
    api = client.resource(case.info, namespace)
    name = _name(case, namespace, "dup")
    first = api.create(case.new(name, namespace=namespace))
    try:
        err = expect_error(
            errors.AlreadyExists, lambda: api.create(case.new(name, namespace=namespace))
        )
        assert name in err.message and "already exists" in err.message
        assert api.get(name).metadata.uid == first.metadata.uid
    finally:
        if not case.info.namespaced:
            api.delete(name)


def test_server_managed_metadata_cannot_be_set(client: Client, namespace: str) -> None:
    """uid, creationTimestamp, resourceVersion, generation and deletionTimestamp
    sent by a client are replaced by the server's on create and update."""
    obj = pod("p")
    obj.metadata.uid = "11111111-1111-1111-1111-111111111111"
    obj.metadata.creation_timestamp = "2001-01-01T00:00:00Z"
    obj.metadata.generation = 42
    obj.metadata.deletion_timestamp = "2001-01-01T00:00:00Z"
    made = client.pods(namespace).create(obj)
    assert made.metadata.uid != obj.metadata.uid
    assert made.metadata.creation_timestamp != "2001-01-01T00:00:00Z"
    assert made.metadata.generation == 1
    assert not made.metadata.deletion_timestamp

    change = client.pods(namespace).get("p")
    change.metadata.creation_timestamp = "2001-01-01T00:00:00Z"
    change.metadata.generation = 99
    change.metadata.deletion_timestamp = "2001-01-01T00:00:00Z"
    change.metadata.labels["x"] = "y"
    updated = client.pods(namespace).update(change)
    assert updated.metadata.creation_timestamp == made.metadata.creation_timestamp
    assert updated.metadata.generation == 1
    assert not updated.metadata.deletion_timestamp
    assert updated.metadata.labels["x"] == "y"

    # A uid that is not the object's is a precondition, as in Kubernetes.
    change = client.pods(namespace).get("p")
    change.metadata.uid = "22222222-2222-2222-2222-222222222222"
    expect_error(
        errors.PreconditionFailed, lambda: client.pods(namespace).update(change), contains=("UID",)
    )
    patched = client.pods(namespace).patch(
        "p", {"metadata": {"generation": 7, "creationTimestamp": "2001-01-01T00:00:00Z"}}
    )
    assert patched.metadata.generation == 1
    assert patched.metadata.creation_timestamp == made.metadata.creation_timestamp


def test_generation_bumps_only_on_spec_change(client: Client, namespace: str) -> None:
    deploys = client.deployments(namespace)
    case = BY_RESOURCE["deployments.apps"]
    deploys.create(case.new("d"))
    d = deploys.patch("d", {"metadata": {"labels": {"a": "b"}}})
    assert d.metadata.generation == 1
    d.status.observed_generation = 1
    d.status.replicas = 3
    d = deploys.update_status(d)
    assert d.metadata.generation == 1, "a status write must not bump generation"
    d = deploys.patch("d", {"spec": {"replicas": 4}})
    assert d.metadata.generation == 2
    d = deploys.patch("d", {"spec": {"replicas": 4}})
    assert d.metadata.generation == 2, "a no-op spec patch must not bump generation"
    d = deploys.patch("d", {"spec": {"paused": True}})
    assert d.metadata.generation == 3


def test_generate_name(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    names = set()
    for _ in range(5):
        obj = pod("")
        obj.metadata.name = ""
        obj.metadata.generate_name = "web-"
        made = pods.create(obj)
        assert made.metadata.name.startswith("web-")
        assert len(made.metadata.name) == len("web-") + 5
        assert made.metadata.generate_name == "web-"
        names.add(made.metadata.name)
    assert len(names) == 5
    assert {p.metadata.name for p in pods.list().items} == names


def test_name_or_generate_name_required(client: Client, namespace: str) -> None:
    obj = pod("")
    err = expect_error(errors.Invalid, lambda: client.pods(namespace).create(obj))
    assert [c.field for c in err.causes] == ["metadata.name"]
    assert client.pods(namespace).list().items == []


# One scalar status field per kind with a status subresource: (proto name, JSON
# name, a value the test writes, another value).
STATUS_FIELDS = {
    "pods": ("phase", "phase", "Running", "Failed"),
    "replicationcontrollers": ("replicas", "replicas", 3, 7),
    "deployments.apps": ("replicas", "replicas", 3, 7),
    "replicasets.apps": ("replicas", "replicas", 3, 7),
    "statefulsets.apps": ("replicas", "replicas", 3, 7),
    "daemonsets.apps": ("number_ready", "numberReady", 3, 7),
    "jobs.batch": ("active", "active", 3, 7),
    "cronjobs.batch": (
        "last_schedule_time",
        "lastScheduleTime",
        "2030-01-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    ),
    "persistentvolumeclaims": ("phase", "phase", "Bound", "Lost"),
    "persistentvolumes": ("phase", "phase", "Available", "Released"),
    "nodes": ("phase", "phase", "Running", "Terminated"),
}


@pytest.mark.parametrize(
    "resource", [pytest.param(r, id=kinds.by_resource(r).kind) for r in STATUS_FIELDS]
)
def test_status_and_spec_are_separate(client: Client, namespace: str, resource: str) -> None:
    """Status sent on create is dropped (but a Node's is kept); a status update changes only status;
    a spec update or a merge patch of the main resource keeps the stored status."""
    case = BY_RESOURCE[resource]
    field, json_name, value, other = STATUS_FIELDS[resource]
    api = client.resource(case.info, namespace)
    name = _name(case, namespace, "s")
    obj = case.new(name)
    setattr(obj.status, field, value)
    made = api.create(obj)
    try:
        if case.info.kind == "Node":
            # The kubelet registers its Node with status: it is kept.
            assert getattr(made.status, field) == value, "a Node keeps its status on create"
        else:
            assert getattr(made.status, field) != value, "status must be dropped on create"

        change = api.get(name)
        setattr(change.status, field, value)
        change.metadata.labels["ignored"] = "yes"
        change.spec.CopyFrom(type(change.spec)())
        with_status = api.update_status(change)
        assert getattr(with_status.status, field) == value
        assert with_status.spec == made.spec, "a status write cannot change spec"
        assert "ignored" not in with_status.metadata.labels
        assert with_status.metadata.generation == 1

        change = api.get(name)
        change.status.Clear()
        change.metadata.labels["kept"] = "yes"
        after = api.update(change)
        assert after.status == with_status.status, "a spec write cannot change status"
        assert after.metadata.labels["kept"] == "yes"
        patched = api.patch(name, {"status": {json_name: other}})
        assert patched.status == with_status.status

        patched = api.patch(name, {"status": {json_name: other}}, subresource="status")
        assert getattr(patched.status, field) == other
    finally:
        if not case.info.namespaced:
            api.delete(name)


def test_update_status_of_kind_without_status_is_rejected(client: Client, namespace: str) -> None:
    leases = client.leases(namespace)
    leases.create(BY_RESOURCE["leases.coordination.k8s.io"].new("l"))
    before = leases.get("l")
    expect_error(
        errors.MethodNotAllowed, lambda: leases.update_status(before), contains=("status",)
    )
    assert leases.get("l") == before


def test_json_patch_and_merge_patch(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p", labels={"a": "1", "b": "2"}))
    p = pods.patch("p", {"metadata": {"labels": {"a": None, "c": "3"}}})
    assert dict(p.metadata.labels) == {"b": "2", "c": "3"}, "merge patch: null deletes a key"
    p = pods.patch(
        "p",
        [
            {"op": "test", "path": "/metadata/labels/b", "value": "2"},
            {"op": "add", "path": "/metadata/labels/d", "value": "4"},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx"},
            {"op": "remove", "path": "/metadata/labels/c"},
        ],
        patch_type="json",
    )
    assert dict(p.metadata.labels) == {"b": "2", "d": "4"}
    assert p.spec.containers[0].image == "nginx"
    before = pods.get("p")
    # A failing "test" op applies nothing.
    expect_error(
        errors.Invalid,
        lambda: pods.patch(
            "p",
            [
                {"op": "add", "path": "/metadata/labels/e", "value": "5"},
                {"op": "test", "path": "/metadata/labels/b", "value": "nope"},
            ],
            patch_type="json",
        ),
    )
    assert pods.get("p") == before
    # A patch carrying a stale resourceVersion is a conflict.
    expect_error(
        errors.Conflict,
        lambda: pods.patch("p", {"metadata": {"resourceVersion": "1", "labels": {"z": "z"}}}),
        contains=("modified",),
    )
    expect_error(
        errors.BadRequest,
        lambda: pods.patch("p", {"x": 1}, patch_type="bogus"),
        contains=("merge", "json", "strategic"),
    )
    expect_error(errors.BadRequest, lambda: pods.patch("p", b"{not json"), contains=("JSON",))
    expect_error(errors.NotFound, lambda: pods.patch("missing", {"metadata": {}}))
    assert pods.get("p") == before


def test_dry_run_writes_nothing(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    out = pods.create(pod("dry"), dry_run=True)
    assert out.metadata.uid and out.metadata.name == "dry"
    expect_error(errors.NotFound, lambda: pods.get("dry"))
    made = pods.create(pod("p"))
    made.metadata.labels["dry"] = "run"
    out = pods.update(made, dry_run=True)
    assert out.metadata.labels["dry"] == "run"
    assert "dry" not in pods.get("p").metadata.labels
    out = pods.patch("p", {"metadata": {"labels": {"dry": "run"}}}, dry_run=True)
    assert out.metadata.labels["dry"] == "run"
    assert pods.get("p").metadata.resource_version == made.metadata.resource_version


def test_discovery_lists_every_kind(client: Client) -> None:
    resp = client.discovery()
    served = {(r.group, r.name): r for r in resp.resources}
    for case in KIND_CASES:
        r = served[(case.info.group, case.info.plural)]
        assert r.kind == case.info.kind and r.namespaced == case.info.namespaced
        assert {"create", "get", "list", "watch", "delete"} <= set(r.verbs)
    assert len(served) == len(KIND_CASES) == 21

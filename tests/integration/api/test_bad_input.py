"""Bad input: each request gets the right gRPC code and a message naming the
field and what is allowed; etcd is unchanged; the server keeps serving.

These tests talk raw gRPC where the SDK would refuse to send the request,
and read etcd directly to prove nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2

from pinnace.api.meta.v1 import meta_pb2
from pinnace.api.service.v1 import api_pb2
from pinnace.client import Client
from pinnace.client import _requests as rq
from pinnace.machinery import codec, errors, kinds
from pinnace.machinery.errors import STATUS_METADATA_KEY
from tests.integration.api.helpers import etcd_keys, expect_error
from tests.integration.api.objects import BY_RESOURCE, pod


@pytest.fixture
def raw(apiserver) -> Iterator[Callable[..., Any]]:
    """call(method, request_bytes) on a raw channel: returns (code, details, Status|None)."""
    channel = apiserver.channel()

    def call(method: str, body: bytes) -> tuple[grpc.StatusCode, str, meta_pb2.Status | None]:
        stub = channel.unary_unary(rq.SERVICE + method)
        try:
            stub(body, timeout=10)
        except grpc.RpcError as e:
            status = None
            for key, value in e.trailing_metadata() or ():
                if key == STATUS_METADATA_KEY:
                    status = meta_pb2.Status.FromString(value)
            return e.code(), e.details(), status
        return grpc.StatusCode.OK, "", None

    yield call
    channel.close()


@pytest.fixture
def unchanged(client: Client, etcd_server, namespace: str) -> Iterator[None]:
    """Asserts, after the test, that nothing in the test's namespace (or
    cluster-scoped objects named after it) changed in etcd, and that the
    apiserver still serves."""

    def mine() -> dict[str, int]:
        keys = etcd_keys(etcd_server.endpoint, "/registry/")
        return {k: v for k, v in keys.items() if namespace in k}

    before = mine()
    yield
    assert mine() == before, "a rejected request wrote to etcd"
    assert client.namespaces().get(namespace).status.phase == "Active"


def _create_req(namespace: str, resource: str, obj: Any) -> bytes:
    return api_pb2.CreateRequest(
        resource=resource, namespace=namespace, object=rq.pack(obj)
    ).SerializeToString()


@pytest.mark.usefixtures("unchanged")
def test_malformed_protobuf(raw, client: Client, namespace: str) -> None:
    # The request itself does not parse.
    code, details, status = raw("Create", b"\xff\xff\xff\xff garbage")
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert "malformed CreateRequest" in details and status.reason == "BadRequest"
    # The request parses but the object inside does not.
    bad = any_pb2.Any(type_url=kinds.by_resource("pods").type_url, value=b"\x0a\xff\xff")
    body = api_pb2.CreateRequest(resource="pods", namespace=namespace, object=bad)
    code, details, status = raw("Create", body.SerializeToString())
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed Pod object" in details and status.reason == "BadRequest"
    # An object of another kind.
    code, details, _ = raw("Create", _create_req(namespace, "pods", BY_RESOURCE["nodes"].new("n")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "pinnace.api.core.v1.Node" in details and "pinnace.api.core.v1.Pod" in details
    # No object at all.
    code, details, _ = raw(
        "Create", api_pb2.CreateRequest(resource="pods", namespace=namespace).SerializeToString()
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "object is required" in details
    assert client.pods(namespace).list().items == []


@pytest.mark.usefixtures("unchanged")
def test_unknown_kinds(raw, client: Client, namespace: str) -> None:
    for method, body in [
        ("Get", api_pb2.GetRequest(resource="widgets", namespace=namespace, name="x")),
        ("List", api_pb2.ListRequest(resource="deployments.extensions")),
        ("Watch", None),
        ("Create", api_pb2.CreateRequest(resource="pod", namespace=namespace)),
    ]:
        if body is None:
            continue
        code, details, status = raw(method, body.SerializeToString())
        assert code == grpc.StatusCode.NOT_FOUND, (method, code, details)
        assert "does not serve resource" in details and "deployments.apps" in details
        assert status.code == 404
    code, details, _ = raw("Get", api_pb2.GetRequest(namespace=namespace).SerializeToString())
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "resource is required" in details
    # An unknown subresource.
    client.pods(namespace).create(pod("p"))
    code, details, _ = raw(
        "Get",
        api_pb2.GetRequest(
            resource="pods", namespace=namespace, name="p", subresource="exec"
        ).SerializeToString(),
    )
    assert code == grpc.StatusCode.NOT_FOUND and '"exec"' in details
    client.pods(namespace).delete("p")


def test_unknown_resource_watch(client: Client) -> None:
    stream = client._watch(api_pb2.WatchRequest(resource="widgets"), timeout=5)
    with pytest.raises(grpc.RpcError) as info:
        next(iter(stream))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    malformed = client._channel.unary_stream(rq.SERVICE + "Watch")(b"\xff\xff", timeout=5)
    with pytest.raises(grpc.RpcError) as info:
        next(iter(malformed))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed WatchRequest" in info.value.details()


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("name", "field", "allowed"),
    [
        ("Bad_Name", "metadata.name", "lowercase"),
        ("-leading", "metadata.name", "alphanumeric"),
        ("a" * 254, "metadata.name", "253"),
    ],
    ids=["uppercase-underscore", "leading-dash", "too-long"],
)
def test_invalid_names(
    raw, client: Client, namespace: str, name: str, field: str, allowed: str
) -> None:
    code, details, status = raw("Create", _create_req(namespace, "pods", pod(name)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.reason == "Invalid" and status.code == 422
    assert [c.field for c in status.details.causes] == [field]
    assert allowed in status.details.causes[0].message
    assert allowed in details


@pytest.mark.usefixtures("unchanged")
def test_invalid_metadata_lists_every_error(client: Client, namespace: str) -> None:
    obj = pod("p")
    obj.metadata.labels["bad key!"] = "v"
    obj.metadata.labels["ok"] = "bad value!"
    obj.metadata.finalizers.extend(["orphan", "foregroundDeletion"])
    ref = obj.metadata.owner_references.add(kind="ReplicaSet", name="rs")
    del ref
    err = expect_error(errors.Invalid, lambda: client.pods(namespace).create(obj))
    fields = [c.field for c in err.causes]
    assert "metadata.labels" in fields
    assert "metadata.finalizers" in fields
    assert "metadata.ownerReferences[0].apiVersion" in fields
    assert "metadata.ownerReferences[0].uid" in fields
    assert err.message.startswith('Pod "p" is invalid: [')
    assert all(c.reason.startswith("FieldValue") for c in err.causes)


# A bad object per kind and the field its error must name.
BAD_OBJECTS = [
    pytest.param("pods", {"spec": {"containers": []}}, "spec.containers", id="pod-no-containers"),
    pytest.param(
        "pods",
        {"spec": {"containers": [{"name": "c", "command": ["x"]}]}},
        "spec.containers[0].image",
        id="pod-container-without-image",
    ),
    pytest.param(
        "pods",
        {"spec": {"restartPolicy": "Sometimes"}},
        "spec.restartPolicy",
        id="pod-bad-restart-policy",
    ),
    pytest.param(
        "deployments.apps",
        {"spec": {"selector": {"matchLabels": {"app": "other"}}}},
        "spec.template.metadata.labels",
        id="deployment-selector-not-matching-template",
    ),
    pytest.param(
        "deployments.apps", {"spec": {"replicas": -1}}, "spec.replicas", id="deployment-negative"
    ),
    pytest.param(
        "replicasets.apps", {"spec": {"replicas": -3}}, "spec.replicas", id="replicaset-negative"
    ),
    pytest.param(
        "replicationcontrollers",
        {"spec": {"replicas": -1}},
        "spec.replicas",
        id="rc-negative-replicas",
    ),
    pytest.param(
        "statefulsets.apps",
        {"spec": {"template": {"spec": {"restartPolicy": "Never"}}}},
        "spec.template.spec.restartPolicy",
        id="statefulset-restart-never",
    ),
    pytest.param(
        "jobs.batch",
        {"spec": {"template": {"spec": {"restartPolicy": "Always"}}}},
        "spec.template.spec.restartPolicy",
        id="job-restart-always",
    ),
    pytest.param(
        "cronjobs.batch",
        {"spec": {"schedule": "every day"}},
        "spec.schedule",
        id="cronjob-schedule",
    ),
    pytest.param(
        "daemonsets.apps",
        # A merge patch empties a map with null ({} would merge into it).
        {"spec": {"selector": {"matchLabels": None}}},
        "spec.selector",
        id="daemonset-empty-selector",
    ),
]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("resource", "patch", "field"), BAD_OBJECTS)
def test_invalid_objects_over_grpc(
    raw, namespace: str, resource: str, patch: dict, field: str
) -> None:
    """INVALID_ARGUMENT with the Status's causes naming the field."""
    from pinnace.machinery.patch import merge_patch

    case = BY_RESOURCE[resource]
    data = merge_patch(codec.to_dict(case.new("bad")), patch)
    obj = codec.from_dict(case.info.message_class, data)
    code, details, status = raw("Create", _create_req(namespace, resource, obj))
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert status is not None and status.reason == "Invalid"
    fields = [c.field for c in status.details.causes]
    assert field in fields, f"{field} not in {fields}: {details}"
    assert field in details


@pytest.mark.usefixtures("unchanged")
def test_oversized_object(client: Client, namespace: str) -> None:
    """Over 1.5 MiB stored: RESOURCE_EXHAUSTED / RequestEntityTooLarge."""
    case = BY_RESOURCE["controllerrevisions.apps"]
    data = codec.to_dict(case.new("big"))
    data["data"] = {"blob": "x" * (1_600_000)}
    obj = codec.from_dict(case.info.message_class, data)
    err = expect_error(
        errors.TooLarge,
        lambda: client.controller_revisions(namespace).create(obj),
        contains=("1.5 MiB",),
    )
    assert err.grpc_code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.status.code == 413
    # Just under the limit is fine.
    data["data"] = {"blob": "x" * 1_500_000}
    small = client.controller_revisions(namespace).create(
        codec.from_dict(case.info.message_class, {**data, "metadata": {"name": "ok"}})
    )
    client.controller_revisions(namespace).delete(small.metadata.name)


@pytest.mark.usefixtures("unchanged")
def test_request_over_the_grpc_limit(client: Client, namespace: str) -> None:
    """A request larger than the server's 8 MiB receive limit is refused by
    gRPC itself (RESOURCE_EXHAUSTED), and the server keeps serving."""
    case = BY_RESOURCE["controllerrevisions.apps"]
    data = codec.to_dict(case.new("huge"))
    data["data"] = {"blob": "x" * (9 * 1024 * 1024)}
    obj = codec.from_dict(case.info.message_class, data)
    err = expect_error(errors.TooLarge, lambda: client.controller_revisions(namespace).create(obj))
    assert err.grpc_code == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.usefixtures("unchanged")
def test_stale_and_bad_resource_versions(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    made = pods.create(pod("p"))
    stale = pods.patch("p", {"metadata": {"labels": {"a": "b"}}})
    changed = pods.get("p")
    old = pods.get("p")
    old.metadata.resource_version = made.metadata.resource_version
    old.metadata.labels["c"] = "d"
    expect_error(errors.Conflict, lambda: pods.update(old), contains=("modified",))
    old.metadata.resource_version = "not-a-number"
    expect_error(errors.BadRequest, lambda: pods.update(old), contains=("not-a-number",))
    assert pods.get("p") == changed == stale
    pods.delete("p")


@pytest.mark.usefixtures("unchanged")
def test_immutable_metadata(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p"))
    moved = pods.get("p")
    moved.metadata.namespace = "default"
    expect_error(
        errors.BadRequest,
        lambda: client.resource(kinds.by_resource("pods"), namespace).update(moved),
        contains=("namespace",),
    )
    expect_error(
        errors.BadRequest,
        lambda: pods.patch("p", {"metadata": {"name": "q"}}),
        contains=("metadata.name",),
    )
    # Without a name there is nothing to update.
    nameless = pods.get("p")
    nameless.metadata.name = ""
    expect_error(errors.BadRequest, lambda: pods.update(nameless), contains=("metadata.name",))
    # Updating a name that does not exist is NotFound, never a create.
    renamed = pods.get("p")
    renamed.metadata.name = "q"
    renamed.metadata.resource_version = ""
    expect_error(errors.NotFound, lambda: pods.update(renamed))
    pods.delete("p")


IMMUTABLE = [
    pytest.param(
        "deployments.apps",
        {
            "spec": {
                "selector": {"matchLabels": {"app": "x"}},
                "template": {"metadata": {"labels": {"app": "x"}}},
            }
        },
        "spec.selector",
        id="deployment-selector",
    ),
    pytest.param(
        "jobs.batch",
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "c", "image": "other", "command": ["x"]}]}
                }
            }
        },
        "spec.template",
        id="job-template",
    ),
    pytest.param(
        "statefulsets.apps", {"spec": {"serviceName": "other"}}, "spec", id="statefulset-service"
    ),
    pytest.param(
        "persistentvolumeclaims",
        {"spec": {"accessModes": ["ReadWriteMany"]}},
        "spec",
        id="pvc-spec",
    ),
]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("resource", "patch", "field"), IMMUTABLE)
def test_immutable_fields(
    client: Client, namespace: str, resource: str, patch: dict, field: str
) -> None:
    api = client.resource(kinds.by_resource(resource), namespace)
    api.create(BY_RESOURCE[resource].new("im"))
    before = api.get("im")
    try:
        err = expect_error(errors.Invalid, lambda: api.patch("im", patch))
        assert any(c.field.startswith(field) for c in err.causes), err.message
        assert "immutable" in err.message or "Forbidden" in err.message
        assert api.get("im") == before
    finally:
        api.delete("im", propagation_policy="Background")


def test_server_keeps_serving_after_bad_requests(raw, client: Client, namespace: str) -> None:
    for _ in range(20):
        raw("Create", b"\x00\x01garbage")
        raw("List", api_pb2.ListRequest(resource="nope").SerializeToString())
    assert client.pods(namespace).create(pod("alive")).metadata.uid

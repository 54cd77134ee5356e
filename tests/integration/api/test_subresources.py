"""The scale and binding subresources (status is in test_crud)."""

from __future__ import annotations

import pytest

from pinnace.client import Client
from pinnace.machinery import errors, kinds
from tests.integration.api.helpers import expect_error
from tests.integration.api.objects import BY_RESOURCE, pod

SCALABLE = ["deployments.apps", "replicasets.apps", "statefulsets.apps", "replicationcontrollers"]


@pytest.mark.parametrize("resource", [pytest.param(r, id=r.split(".")[0]) for r in SCALABLE])
def test_scale_get_and_update(client: Client, namespace: str, resource: str) -> None:
    api = client.resource(kinds.by_resource(resource), namespace)
    made = api.create(BY_RESOURCE[resource].new("s"))
    with_status = api.get("s")
    with_status.status.replicas = 1
    api.update_status(with_status)

    scale = api.get_scale("s")
    assert (scale.api_version, scale.kind) == ("autoscaling/v1", "Scale")
    assert scale.metadata.name == "s" and scale.metadata.namespace == namespace
    assert scale.metadata.uid == made.metadata.uid
    assert scale.spec.replicas == 1
    assert scale.status.replicas == 1
    assert scale.status.selector == "app=s"

    scaled = api.scale("s", 4, resource_version=scale.metadata.resource_version)
    assert scaled.spec.replicas == 4
    obj = api.get("s")
    assert obj.spec.replicas == 4
    assert obj.metadata.generation == 2
    assert obj.status.replicas == 1, "scaling must not touch status"
    assert scaled.metadata.resource_version == obj.metadata.resource_version
    assert api.scale("s", 0).spec.replicas == 0
    assert api.get("s").spec.replicas == 0

    err = expect_error(errors.Invalid, lambda: api.scale("s", -1), contains=("spec.replicas",))
    assert [c.field for c in err.causes] == ["spec.replicas"]
    assert api.get("s").spec.replicas == 0
    expect_error(errors.NotFound, lambda: api.get_scale("missing"))
    expect_error(errors.NotFound, lambda: api.scale("missing", 1))


@pytest.mark.parametrize("resource", ["pods", "daemonsets.apps", "jobs.batch"])
def test_scale_of_kind_without_scale(client: Client, namespace: str, resource: str) -> None:
    api = client.resource(kinds.by_resource(resource), namespace)
    api.create(BY_RESOURCE[resource].new("x"))
    expect_error(errors.MethodNotAllowed, lambda: api.get_scale("x"), contains=("scale",))
    expect_error(errors.MethodNotAllowed, lambda: api.scale("x", 2), contains=("scale",))


def test_bind(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    made = pods.create(pod("p"))
    bound = pods.bind("p", "node-a")
    assert bound.spec.node_name == "node-a"
    conds = {c.type: c for c in bound.status.conditions}
    assert conds["PodScheduled"].status == "True"
    assert conds["PodScheduled"].last_transition_time
    assert bound.metadata.generation == made.metadata.generation
    assert pods.get("p") == bound

    err = expect_error(
        errors.Conflict, lambda: pods.bind("p", "node-b"), contains=("already assigned", "node-a")
    )
    assert err.status.code == 409
    assert pods.get("p").spec.node_name == "node-a"
    expect_error(errors.NotFound, lambda: pods.bind("missing", "node-a"))


def test_bind_keeps_an_existing_pod_scheduled_condition_single(
    client: Client, namespace: str
) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p"))
    unschedulable = pods.get("p")
    unschedulable.status.conditions.add(
        type="PodScheduled", status="False", reason="Unschedulable", message="0/1 nodes"
    )
    pods.update_status(unschedulable)
    bound = pods.bind("p", "node-a")
    scheduled = [c for c in bound.status.conditions if c.type == "PodScheduled"]
    assert len(scheduled) == 1
    assert (scheduled[0].status, scheduled[0].reason) == ("True", "")


def test_bad_bindings(client: Client, namespace: str) -> None:
    from pinnace.api.service.v1 import api_pb2
    from pinnace.client import _requests as rq

    pods = client.pods(namespace)
    pods.create(pod("p"))

    def bind_with(node: str, kind: str = "Node", name: str = "p") -> None:
        binding = kinds.BINDING.new()
        binding.metadata.name = name
        binding.target.kind = kind
        binding.target.name = node
        req = api_pb2.CreateRequest(
            resource="pods",
            namespace=namespace,
            name="p",
            subresource="binding",
            object=rq.pack(binding),
        )
        client.call("Create", req)

    err = expect_error(errors.Invalid, lambda: bind_with(""))
    assert [c.field for c in err.causes] == ["target.name"]
    err = expect_error(errors.Invalid, lambda: bind_with("n", kind="Pod"))
    assert [c.field for c in err.causes] == ["target.kind"]
    expect_error(errors.BadRequest, lambda: bind_with("n", name="other"))
    assert pods.get("p").spec.node_name == ""
    req = api_pb2.CreateRequest(
        resource="deployments.apps",
        namespace=namespace,
        name="p",
        subresource="binding",
        object=rq.pack(kinds.BINDING.new()),
    )
    expect_error(errors.NotFound, lambda: client.call("Create", req), contains=("binding",))

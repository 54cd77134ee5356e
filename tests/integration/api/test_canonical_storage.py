"""Objects are stored in one canonical form whichever front door they came
through: a sub-message that is set but empty where Kubernetes has a
non-pointer struct (a container's ``resources``, a status's ``lastState``)
is stored as unset, as JSON would have it. Without this, an object the SDK
built with an explicit empty ``resources`` would change its spec bytes on the
first JSON patch: a generation bump, and for a Deployment a new ReplicaSet
for an unchanged template."""

from __future__ import annotations

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import container_pb2
from pinnace.client import Client
from pinnace.machinery import codec


def _deployment(name: str) -> deployment_pb2.Deployment:
    d = codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "x", "command": ["true"]}]},
                },
            },
        },
    )
    # What an SDK user may write: explicitly empty, non-pointer structs.
    d.spec.template.spec.containers[0].resources.CopyFrom(container_pb2.ResourceRequirements())
    d.spec.strategy.SetInParent()
    return d


def test_grpc_create_stores_the_canonical_form(client: Client, namespace: str) -> None:
    made = client.deployments(namespace).create(_deployment("canon"))
    assert not made.spec.template.spec.containers[0].HasField("resources")
    stored = client.deployments(namespace).get("canon")
    assert not stored.spec.template.spec.containers[0].HasField("resources")


def test_a_json_patch_of_an_sdk_object_bumps_no_generation(client: Client, namespace: str) -> None:
    api = client.deployments(namespace)
    made = api.create(_deployment("patched"))
    patched = api.patch("patched", {"metadata": {"annotations": {"note": "x"}}})
    assert patched.metadata.generation == made.metadata.generation == 1
    assert patched.spec == made.spec


def test_a_grpc_update_with_explicit_empties_bumps_no_generation(
    client: Client, namespace: str
) -> None:
    api = client.deployments(namespace)
    made = api.create(_deployment("updated"))
    again = api.get("updated")
    again.spec.template.spec.containers[0].resources.SetInParent()
    again.metadata.labels["touched"] = "yes"
    updated = api.update(again)
    assert updated.metadata.generation == made.metadata.generation
    assert not updated.spec.template.spec.containers[0].HasField("resources")

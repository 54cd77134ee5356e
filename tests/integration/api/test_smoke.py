"""The apiserver starts, serves CRUD and a watch (smoke test of the harness)."""

from __future__ import annotations

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client, NotFound
from pinnace.machinery import codec


def test_create_get_list_delete(client: Client, namespace: str) -> None:
    pod = codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "x", "command": ["true"]}]},
        },
    )
    made = client.pods(namespace).create(pod)
    assert made.metadata.uid and made.metadata.resource_version
    assert client.pods(namespace).get("p").metadata.uid == made.metadata.uid
    assert [p.metadata.name for p in client.pods(namespace).list().items] == ["p"]
    client.pods(namespace).delete("p")
    try:
        client.pods(namespace).get("p")
    except NotFound:
        pass
    else:
        raise AssertionError("the pod is still there")

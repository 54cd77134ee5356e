"""The pure parts of pods/log, pods/exec and pods/eviction (apiserver/rest/pods.py):
which container, the kubelet's query, the node's kubelet, an Eviction's options."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.rest import pods
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.kubeletaddr import kubelet_endpoint


def _pod(containers: list[str], init: list[str]) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": n} for n in containers],
                "initContainers": [{"name": n} for n in init],
            },
        },
    )  # fmt: skip


@pytest.mark.parametrize(
    ("containers", "init", "wanted", "expected"),
    [
        (["a"], [], "", "a"),
        (["a", "b"], [], "b", "b"),
        (["a"], ["i"], "i", "i"),
        (["a", "b"], [], "", "a container name must be specified for pod p, choose one of: [a b]"),
        (["a", "b"], ["i"], "",
         "a container name must be specified for pod p, choose one of: [a b] "
         "or one of the init containers: [i]"),
        (["a"], [], "z", "container z is not valid for pod p"),
    ],
    ids=["only-one", "named", "init-named", "several-none-named", "several-with-init", "unknown"],
)  # fmt: skip
def test_container_for(containers: list[str], init: list[str], wanted: str, expected: str) -> None:
    pod = _pod(containers, init)
    if expected.startswith(("a container", "container ")):
        with pytest.raises(errors.BadRequest) as e:
            pods.container_for(pod, wanted)
        assert e.value.message == expected
    else:
        assert pods.container_for(pod, wanted) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {}),
        ({"follow": "true", "previous": "false", "tailLines": "5"}, {"follow": "true", "tailLines": "5"}),
        ({"limitBytes": "10", "sinceSeconds": "60"}, {"limitBytes": "10", "sinceSeconds": "60"}),
        ({"sinceTime": "2026-12-03T12:59:30Z"}, {"sinceSeconds": "30"}),
        ({"sinceTime": "2026-12-03T13:05:00Z"}, {"sinceSeconds": "0"}),
        ({"timestamps": "true"}, {"timestamps": "true"}),
    ],
    ids=["none", "follow-tail", "limit-since", "since-time", "since-time-future", "timestamps"],
)  # fmt: skip
def test_log_query(query: dict[str, str], expected: dict[str, str]) -> None:
    now = 1796302800.0  # 2026-12-03T13:00:00Z
    assert pods.log_query(query, now=now) == expected


@pytest.mark.parametrize(
    "query",
    [{"tailLines": "-1"}, {"tailLines": "x"}, {"follow": "maybe"},
     {"sinceSeconds": "5", "sinceTime": "2026-12-03T12:59:30Z"}, {"sinceTime": "yesterday"}],
    ids=["negative", "not-a-number", "not-a-bool", "both-since", "bad-time"],
)  # fmt: skip
def test_log_query_rejects(query: dict[str, str]) -> None:
    with pytest.raises(errors.BadRequest):
        pods.log_query(query, now=0.0)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"addresses": [{"type": "Hostname", "address": "h"}, {"type": "InternalIP", "address": "10.0.0.2"}],
          "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}, ("10.0.0.2", 10250)),
        ({"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}, None),
        ({"daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}, None),
    ],
    ids=["published", "no-port", "no-address"],
)  # fmt: skip
def test_kubelet_endpoint(status: dict[str, Any], expected: tuple[str, int] | None) -> None:
    node = codec.from_dict(node_pb2.Node, {"metadata": {"name": "n"}, "status": status})
    assert kubelet_endpoint(node) == expected


@pytest.mark.parametrize(
    ("body", "grace"),
    [
        ({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"},
          "deleteOptions": {"gracePeriodSeconds": 0}}, 0),
        ({"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "p"}}, None),
    ],
    ids=["v1-with-options", "v1beta1-plain"],
)  # fmt: skip
def test_eviction_delete_options(body: dict[str, Any], grace: int | None) -> None:
    options = pods.eviction_delete_options(body, "p")
    assert (
        options.grace_period_seconds if options.HasField("grace_period_seconds") else None
    ) == grace


@pytest.mark.parametrize(
    "body",
    [{"apiVersion": "v1", "kind": "Pod"}, {"kind": "Eviction", "metadata": {"name": "other"}},
     {"kind": "Eviction", "deleteOptions": {"nope": 1}}],
    ids=["not-an-eviction", "other-name", "bad-options"],
)  # fmt: skip
def test_eviction_rejects(body: dict[str, Any]) -> None:
    with pytest.raises(errors.BadRequest):
        pods.eviction_delete_options(body, "p")

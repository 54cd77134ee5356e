"""pinnace expose: the Service built for each kind, and kubectl's messages
when no selector can be derived."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import Message

from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2, replicationcontroller_pb2, service_pb2
from pinnace.cli.commands.expose import ExposeOptions, build_service
from pinnace.machinery import codec

_TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [
            {
                "name": "c",
                "image": "x",
                "ports": [{"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}],
            }
        ]
    },
}


def _deploy(selector: dict[str, Any], cls: type[Message] = deployment_pb2.Deployment) -> Message:
    return codec.from_dict(
        cls,
        {
            "metadata": {"name": "web", "namespace": "ns", "labels": {"team": "a"}},
            "spec": {"selector": selector, "template": _TEMPLATE},
        },
    )


def _pod(labels: dict[str, str]) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": "ns", "labels": labels},
            "spec": _TEMPLATE["spec"],
        },
    )


def _rc() -> Message:
    return codec.from_dict(
        replicationcontroller_pb2.ReplicationController,
        {
            "metadata": {"name": "rc1", "namespace": "ns"},
            "spec": {"selector": {"app": "old"}, "template": _TEMPLATE},
        },
    )


def _svc(selector: dict[str, str]) -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {
            "metadata": {"name": "s", "namespace": "ns"},
            "spec": {"selector": selector, "ports": [{"port": 443, "protocol": "TCP"}]},
        },
    )


def _dict(svc: service_pb2.Service) -> dict[str, Any]:
    doc = codec.to_dict(svc)
    assert doc.pop("status") == {"loadBalancer": {}}  # the codec's empty status, as kubectl's
    return doc


@pytest.mark.parametrize(
    ("obj", "opts", "want"),
    [
        pytest.param(
            _deploy({"matchLabels": {"app": "web"}}),
            ExposeOptions(port=80, target_port="8080"),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "labels": {"team": "a"}},
                "spec": {
                    "ports": [{"protocol": "TCP", "port": 80, "targetPort": 8080}],
                    "selector": {"app": "web"},
                },
            },
            id="deployment-port-target",
        ),
        pytest.param(
            _deploy({"matchLabels": {"app": "web"}}, replicaset_pb2.ReplicaSet),
            ExposeOptions(port=80, target_port="http", name="front", type="NodePort"),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "front", "labels": {"team": "a"}},
                "spec": {
                    "ports": [{"protocol": "TCP", "port": 80, "targetPort": "http"}],
                    "selector": {"app": "web"},
                    "type": "NodePort",
                },
            },
            id="replicaset-named-target-nodeport",
        ),
        pytest.param(
            _pod({"app": "p"}),
            ExposeOptions(port=53),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "p", "labels": {"app": "p"}},
                "spec": {
                    "ports": [{"protocol": "UDP", "port": 53, "targetPort": 53}],
                    "selector": {"app": "p"},
                },
            },
            id="pod-labels-protocol-from-container-port",
        ),
        pytest.param(
            _rc(),
            ExposeOptions(),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "rc1"},
                "spec": {
                    "ports": [
                        {"name": "port-1", "protocol": "TCP", "port": 8080, "targetPort": 8080},
                        {"name": "port-2", "protocol": "UDP", "port": 53, "targetPort": 53},
                    ],
                    "selector": {"app": "old"},
                },
            },
            id="rc-ports-introspected",
        ),
        pytest.param(
            _svc({"app": "x"}),
            ExposeOptions(name="s2", protocol="UDP"),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "s2"},
                "spec": {
                    "ports": [{"protocol": "UDP", "port": 443, "targetPort": 443}],
                    "selector": {"app": "x"},
                },
            },
            id="service-ports-protocol-flag",
        ),
    ],
)
def test_build_service(obj: Message, opts: ExposeOptions, want: dict[str, Any]) -> None:
    assert _dict(build_service(obj, opts)) == want


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(_pod({}), "the pod has no labels and cannot be exposed", id="pod-no-labels"),
        pytest.param(_svc({}), "the service has no pod selector set", id="service-no-selector"),
        pytest.param(
            _deploy(
                {
                    "matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
                }
            ),
            'couldn\'t convert expressions - "[{Key:tier Operator:In Values:[a b]}]" '
            "to map-based selector format",
            id="match-expressions",
        ),
        pytest.param(
            _deploy({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
            "invalid deployment: no selectors, therefore cannot be exposed",
            id="deployment-no-match-labels",
        ),
        pytest.param(
            _deploy(
                {"matchExpressions": [{"key": "t", "operator": "Exists"}]},
                replicaset_pb2.ReplicaSet,
            ),
            "invalid replicaset: no selectors, therefore cannot be exposed",
            id="replicaset-no-match-labels",
        ),
        pytest.param(job_pb2.Job(), "cannot expose a Job.batch", id="job"),
    ],
)
def test_build_service_errors(obj: Message, message: str) -> None:
    with pytest.raises(ValueError) as e:
        build_service(obj, ExposeOptions(port=80))
    assert str(e.value) == message


def test_no_port_found() -> None:
    pod = codec.from_dict(
        pod_pb2.Pod,
        {"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}},
    )
    with pytest.raises(ValueError, match="couldn't find port via --port flag or introspection"):
        build_service(pod, ExposeOptions())

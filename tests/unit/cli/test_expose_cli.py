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


def _multi_protocol_pod() -> pod_pb2.Pod:
    ports = [
        {"containerPort": 53, "protocol": "TCP"},
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 9153},
    ]
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "dns", "labels": {"k8s-app": "dns"}},
            "spec": {"containers": [{"name": "c", "ports": ports}]},
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
        pytest.param(
            _multi_protocol_pod(),
            ExposeOptions(),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "dns", "labels": {"k8s-app": "dns"}},
                "spec": {
                    "ports": [
                        {"name": "port-1-tcp", "protocol": "TCP", "port": 53, "targetPort": 53},
                        {"name": "port-1-udp", "protocol": "UDP", "port": 53, "targetPort": 53},
                        {"name": "port-2", "protocol": "TCP", "port": 9153, "targetPort": 9153},
                    ],
                    "selector": {"k8s-app": "dns"},
                },
            },
            id="one-port-two-protocols",
        ),
        pytest.param(
            _pod({"app": "p"}),
            ExposeOptions(
                cluster_ip="None",
                selector="role=db,tier=back",
                labels="x=y",
                session_affinity="ClientIP",
                port=5432,
            ),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "p", "labels": {"x": "y"}},
                "spec": {
                    "ports": [{"protocol": "TCP", "port": 5432, "targetPort": 5432}],
                    "selector": {"role": "db", "tier": "back"},
                    "clusterIP": "None",
                    "sessionAffinity": "ClientIP",
                },
            },
            id="headless-selector-labels-affinity",
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
    ],
)
def test_build_service_selector_errors(obj: Message, message: str) -> None:
    with pytest.raises(ValueError) as e:
        build_service(obj, ExposeOptions(port=80))
    assert str(e.value) == (
        "couldn't retrieve selectors via --selector flag or introspection: " + message
    )


@pytest.mark.parametrize(
    ("obj", "opts", "message"),
    [
        pytest.param(job_pb2.Job(), ExposeOptions(port=80), "cannot expose a Job.batch", id="job"),
        pytest.param(
            _pod({"a": "b"}),
            ExposeOptions(port=80, session_affinity="Sticky"),
            "unknown session affinity: Sticky",
            id="session-affinity",
        ),
        pytest.param(
            _pod({"a": "b"}),
            ExposeOptions(port=80, labels="a=b,c"),
            "unexpected label spec: c",
            id="labels",
        ),
        pytest.param(
            _pod({"a": "b"}),
            ExposeOptions(port=80, selector="=x"),
            "couldn't retrieve selectors via --selector flag or introspection: "
            "unexpected empty label key",
            id="selector-flag",
        ),
    ],
)
def test_build_service_errors(obj: Message, opts: ExposeOptions, message: str) -> None:
    with pytest.raises(ValueError) as e:
        build_service(obj, opts)
    assert str(e.value) == message


def test_no_port_found() -> None:
    pod = codec.from_dict(
        pod_pb2.Pod,
        {"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}},
    )
    with pytest.raises(ValueError, match="couldn't find port via --port flag or introspection"):
        build_service(pod, ExposeOptions())

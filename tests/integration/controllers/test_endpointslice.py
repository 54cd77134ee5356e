"""EndpointSlices on a whole cluster (apiserver, scheduler, controller-manager
running every controller, kubelets running real processes): a Deployment's
pods behind a Service, followed through scaling, a readiness change and the
Service's deletion.

Each pod touches a flag file named after it in a directory of the test's own
on start; its readiness probe checks the file, so removing it makes that one
pod unready.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import service_pb2
from pinnace.client import Client
from pinnace.machinery import codec
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME
from tests.waiting import wait_for

TIMEOUT = 60.0


def deployment(name: str, replicas: int, flags: Path) -> deployment_pb2.Deployment:
    container = {
        "name": "c",
        "image": "busybox",
        "command": ["sh", "-c", 'touch "$FLAGS/$POD"; exec sleep 3600'],
        "env": [
            {"name": "FLAGS", "value": str(flags)},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "readinessProbe": {
            "exec": {"command": ["sh", "-c", 'test -f "$FLAGS/$POD"']},
            "periodSeconds": 1,
        },
    }
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
        },
    }
    return codec.from_dict(
        deployment_pb2.Deployment,
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec},
    )


def service(name: str) -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {
                "selector": {"app": name},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080},
                    {"name": "metrics", "port": 9100, "protocol": "UDP"},
                ],
            },
        },
    )


def slices(client: Client, ns: str, svc: str) -> list[Any]:
    return list(client.endpoint_slices(ns).list(label_selector=f"{LABEL_SERVICE_NAME}={svc}").items)


def endpoints(client: Client, ns: str, svc: str) -> dict[str, tuple[bool, bool, bool]] | None:
    """pod name → (ready, serving, terminating) of the Service's one slice;
    None while there is not exactly one slice."""
    found = slices(client, ns, svc)
    if len(found) != 1:
        return None
    c = {e.target_ref.name: e.conditions for e in found[0].endpoints}
    return {name: (x.ready, x.serving, x.terminating) for name, x in c.items()}


def running_pods(client: Client, ns: str) -> set[str]:
    return {
        p.metadata.name
        for p in client.pods(ns).list().items
        if not p.metadata.deletion_timestamp and p.status.phase == "Running"
    }


def all_ready(client: Client, ns: str, svc: str, count: int) -> set[str]:
    """The endpoints' pods once they are exactly `count` ready, not
    terminating ones (empty until then)."""
    eps = endpoints(client, ns, svc)
    if eps is None or len(eps) != count:
        return set()
    if not all(c == (True, True, False) for c in eps.values()):
        return set()
    return set(eps)


def test_slices_follow_deployment_readiness_and_service(
    cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    client, ns = cluster_client, cluster_namespace
    flags = tmp_path / "flags"
    flags.mkdir()
    client.deployments(ns).create(deployment("web", 3, flags))
    svc = client.services(ns).create(service("web"))

    eps = wait_for(lambda: all_ready(client, ns, "web", 3), TIMEOUT, "3 ready endpoints")
    assert eps == running_pods(client, ns)
    (es,) = slices(client, ns, "web")
    assert es.address_type == "IPv4"
    assert es.metadata.name.startswith("web-")
    assert [(p.name, p.protocol, p.port) for p in es.ports] == [
        ("http", "TCP", 8080),
        ("metrics", "UDP", 9100),
    ]
    (ref,) = es.metadata.owner_references
    assert (ref.kind, ref.name, ref.uid, ref.controller) == (
        "Service",
        "web",
        svc.metadata.uid,
        True,
    )
    assert all(e.addresses and e.node_name for e in es.endpoints)

    client.deployments(ns).scale("web", 5)
    eps = wait_for(lambda: all_ready(client, ns, "web", 5), TIMEOUT, "5 ready endpoints")
    client.deployments(ns).scale("web", 2)
    eps = wait_for(lambda: all_ready(client, ns, "web", 2), TIMEOUT, "2 ready endpoints")
    assert eps == running_pods(client, ns)
    assert len(slices(client, ns, "web")) == 1

    unready, other = sorted(eps)
    (flags / unready).unlink()
    wait_for(
        lambda: (
            endpoints(client, ns, "web")
            == {
                unready: (False, False, False),
                other: (True, True, False),
            }
        ),
        TIMEOUT,
        f"{unready} not ready in the slice",
    )

    client.services(ns).delete("web")
    wait_for(lambda: not slices(client, ns, "web"), TIMEOUT, "the slices garbage collected")

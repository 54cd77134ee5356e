"""Services and EndpointSlices through a real apiserver: Kubernetes'
defaults and validation messages, and cluster IPs / node ports allocated
without duplicates across apiservers and restarts, released on delete and
on a type change."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.machinery import codec, errors
from tests.integration.api.helpers import expect_error


def svc(name: str, **spec: Any) -> service_pb2.Service:
    body = {
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}], **spec},
    }
    obj = codec.from_dict(service_pb2.Service, body)
    assert isinstance(obj, service_pb2.Service)
    return obj


def test_defaults_and_an_allocated_cluster_ip(client: Client, namespace: str) -> None:
    made = client.services(namespace).create(svc("web"))
    spec = made.spec
    assert ipaddress.ip_address(spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/12")
    assert list(spec.cluster_ips) == [spec.cluster_ip]
    assert (spec.type, spec.session_affinity, spec.ip_family_policy) == (
        "ClusterIP",
        "None",
        "SingleStack",
    )
    assert spec.ports[0].protocol == "TCP" and spec.ports[0].target_port.int_val == 80
    assert client.services(namespace).get("web").spec.cluster_ip == spec.cluster_ip


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"ports": None}, 'Service "bad" is invalid: spec.ports: Required value'),
        (
            {"ports": [{"port": 80, "nodePort": 30080}]},
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        ),
        (
            {"ports": [{"port": 80, "protocol": "ICMP"}]},
            'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        ),
        (
            {"type": "NodePort", "clusterIP": "None"},
            "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services",
        ),
        (
            {"ports": [{"port": 0, "targetPort": 80}, {"port": 81}]},
            'Service "bad" is invalid: [spec.ports[0].name: Required value, '
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, "
            "spec.ports[1].name: Required value]",
        ),
        (
            {"clusterIP": "10.0.0.10"},
            'spec.clusterIPs: Invalid value: ["10.0.0.10"]: failed to allocate IP 10.0.0.10: '
            "provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12",
        ),
    ],
    ids=[
        "no-ports",
        "node-port-on-cluster-ip",
        "protocol",
        "headless-node-port",
        "several",
        "out-of-range",
    ],
)
def test_invalid_services(
    client: Client, namespace: str, spec: dict[str, Any], message: str
) -> None:
    expect_error(
        errors.Invalid,
        lambda: client.services(namespace).create(svc("bad", **spec)),
        contains=(message,),
    )
    expect_error(errors.NotFound, lambda: client.services(namespace).get("bad"))


def test_an_invalid_endpoint_slice(client: Client, namespace: str) -> None:
    bad = codec.from_dict(
        endpointslice_pb2.EndpointSlice,
        {
            "metadata": {"name": "web-abc"},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.300"]}],
            "ports": [{"port": 80, "protocol": "ICMP"}],
        },
    )
    assert isinstance(bad, endpointslice_pb2.EndpointSlice)
    expect_error(
        errors.Invalid,
        lambda: client.endpoint_slices(namespace).create(bad),
        contains=(
            'EndpointSlice.discovery.k8s.io "web-abc" is invalid: [endpoints[0].addresses[0]: '
            'Invalid value: "10.0.0.300": must be a valid IPv4 address',
            'ports[0].protocol: Unsupported value: "ICMP"',
        ),
    )
    bad.endpoints[0].addresses[0] = "10.0.0.3"
    bad.ports[0].protocol = "TCP"
    made = client.endpoint_slices(namespace).create(bad)
    assert made.endpoints[0].addresses == ["10.0.0.3"]


def test_a_taken_ip_or_node_port_is_refused_and_freed_on_delete(
    client: Client, namespace: str
) -> None:
    services = client.services(namespace)
    first = services.create(svc("a", type="NodePort"))
    ip, node_port = first.spec.cluster_ip, first.spec.ports[0].node_port
    assert 30000 <= node_port <= 32767
    expect_error(
        errors.Invalid,
        lambda: services.create(svc("b", clusterIP=ip)),
        contains=(
            f'Service "b" is invalid: spec.clusterIPs: Invalid value: ["{ip}"]: '
            f"failed to allocate IP {ip}: provided IP is already allocated",
        ),
    )
    expect_error(
        errors.Invalid,
        lambda: services.create(
            svc("b", type="NodePort", ports=[{"port": 80, "nodePort": node_port}])
        ),
        contains=(
            f"spec.ports[0].nodePort: Invalid value: {node_port}: provided port is already allocated",
        ),
    )
    services.delete("a")
    again = services.create(
        svc("b", type="NodePort", clusterIP=ip, ports=[{"port": 80, "nodePort": node_port}])
    )
    assert (again.spec.cluster_ip, again.spec.ports[0].node_port) == (ip, node_port)


def test_a_type_change_releases_node_ports(client: Client, namespace: str) -> None:
    services = client.services(namespace)
    made = services.create(svc("a", type="NodePort"))
    node_port = made.spec.ports[0].node_port
    changed = services.patch("a", {"spec": {"type": "ClusterIP"}})
    assert changed.spec.ports[0].node_port == 0
    assert changed.spec.cluster_ip == made.spec.cluster_ip
    other = services.create(svc("b", type="NodePort", ports=[{"port": 80, "nodePort": node_port}]))
    assert other.spec.ports[0].node_port == node_port
    again = services.patch("a", {"spec": {"type": "NodePort"}})
    assert again.spec.ports[0].node_port not in (0, node_port)


def _create_all(
    config: ClientConfig,
    names: list[str],
    out: list[service_pb2.Service],
    failed: list[BaseException],
) -> None:
    try:
        with Client(config=config, timeout=20) as c:
            for name in names:
                out.append(c.services("default").create(svc(name)))
    except BaseException as e:  # reported by the test
        failed.append(e)


def test_two_apiservers_never_hand_out_one_ip_twice(
    own_etcd, own_apiserver: Callable[..., Any]
) -> None:
    """14 usable addresses (10.0.0.0/28), two apiservers creating 7 Services
    each at once: 14 distinct IPs; the 15th Service finds the range full."""
    flags = ("--service-cluster-ip-range", "10.0.0.0/28")
    servers = [own_apiserver(*flags, etcd=own_etcd.endpoint) for _ in range(2)]
    made: list[service_pb2.Service] = []
    failed: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_create_all, args=(s.config, [f"s{i}-{j}" for j in range(7)], made, failed)
        )
        for i, s in enumerate(servers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failed, failed
    ips = [m.spec.cluster_ip for m in made]
    assert len(ips) == 14 and len(set(ips)) == 14
    with Client(config=servers[0].config, timeout=10) as c:
        expect_error(
            errors.InternalError,
            lambda: c.services("default").create(svc("full")),
            contains=("failed to allocate a serviceIP: range is full",),
        )


def test_allocations_survive_a_restart_and_a_deleted_ip_is_reused(
    own_etcd, own_apiserver: Callable[..., Any]
) -> None:
    """6 usable addresses (10.0.0.0/29): fill them, SIGKILL and restart the
    apiserver, the range is still full; delete one Service and its IP is
    the one the next Service gets."""
    server = own_apiserver("--service-cluster-ip-range", "10.0.0.0/29", etcd=own_etcd.endpoint)
    with Client(config=server.config, timeout=10) as c:
        services = c.services("default")
        made = [services.create(svc(f"s{i}")) for i in range(6)]
        assert len({m.spec.cluster_ip for m in made}) == 6
    server.component.kill()
    server.restart()
    with Client(config=server.config, timeout=10) as c:
        services = c.services("default")
        expect_error(
            errors.InternalError,
            lambda: services.create(svc("s6")),
            contains=("range is full",),
        )
        services.delete("s3")
        reused = services.create(svc("s6"))
        assert reused.spec.cluster_ip == made[3].spec.cluster_ip


def test_load_balancer_status_is_validated_and_kept_apart_from_spec(
    client: Client, namespace: str
) -> None:
    services = client.services(namespace)
    made = services.create(svc("lb", type="LoadBalancer"))
    assert made.spec.ports[0].node_port and not made.status.load_balancer.ingress
    made.status.load_balancer.ingress.add(ip="203.0.113.300")
    expect_error(
        errors.Invalid,
        lambda: services.update_status(made),
        contains=('status.loadBalancer.ingress[0].ip: Invalid value: "203.0.113.300"',),
    )
    made.status.load_balancer.ingress[0].ip = "203.0.113.7"
    written = services.update_status(made)
    assert written.status.load_balancer.ingress[0].ip == "203.0.113.7"
    assert written.spec == made.spec

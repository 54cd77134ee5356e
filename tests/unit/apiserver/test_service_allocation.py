"""ClusterIP and NodePort ranges, picks, and the Service strategy's
allocation hooks (apiserver/registry/allocation.py; no etcd here: the
claimed values come from a dict)."""

from __future__ import annotations

import asyncio
import ipaddress
import random

import pytest

from apiserver.registry.allocation import IP_PREFIX, PORT_PREFIX, IPRange, PortRange, pick
from apiserver.registry.config import RegistryConfig
from apiserver.registry.kinds.services import ServiceStrategy
from pinnace.api.core.v1 import service_pb2
from pinnace.machinery import errors, kinds
from pinnace.machinery.codec import from_dict


@pytest.mark.parametrize(
    ("cidr", "size", "band"),
    [
        ("10.96.0.0/12", 2**20 - 2, 256),
        ("10.0.0.0/24", 254, 16),
        ("10.0.0.0/29", 6, 16),
        ("fd00::/64", 65536, 256),
    ],
)
def test_ip_range_size_and_static_band(cidr: str, size: int, band: int) -> None:
    rng = IPRange.parse(cidr)
    assert (rng.size, rng.static_band) == (size, band)


def test_ip_range_excludes_network_and_broadcast() -> None:
    rng = IPRange.parse("10.0.0.0/24")
    addr = ipaddress.ip_address
    assert addr("10.0.0.0") not in rng
    assert addr("10.0.0.255") not in rng
    assert addr("10.0.0.1") in rng
    assert addr("10.0.0.254") in rng
    assert addr("10.0.1.1") not in rng


@pytest.mark.parametrize(
    ("text", "base", "last", "band"),
    [
        ("30000-32767", 30000, 32767, 86),
        ("30000-30009", 30000, 30009, 16),
        ("8080", 8080, 8080, 16),
    ],
)
def test_port_range(text: str, base: int, last: int, band: int) -> None:
    rng = PortRange.parse(text)
    assert (rng.base, rng.last, rng.static_band) == (base, last, band)
    assert base in rng and last in rng and base - 1 not in rng and last + 1 not in rng


@pytest.mark.parametrize("text", ["", "a-b", "0-10", "20-10", "30000-70000"])
def test_bad_port_ranges(text: str) -> None:
    with pytest.raises(ValueError):
        PortRange.parse(text)


def test_pick_prefers_the_upper_band_and_never_repeats() -> None:
    rng = IPRange.parse("10.0.0.0/24")  # 254 usable, static band 16
    taken: set[str] = set()
    r = random.Random(1)
    for _ in range(254 - 16):
        ip = pick(rng, taken, rand=r)
        assert ip is not None and ip not in taken
        assert int(ip.rsplit(".", 1)[1]) > 16
        taken.add(ip)
    rest = {pick(rng, taken | {f"10.0.0.{i}" for i in range(1, k)}, rand=r) for k in range(1, 17)}
    assert rest == {f"10.0.0.{i}" for i in range(1, 17)}


def test_pick_on_a_full_range_is_none() -> None:
    rng = PortRange.parse("30000-30003")
    assert pick(rng, {str(p) for p in range(30000, 30004)}) is None
    assert pick(rng, {"30000", "30001", "30003"}) == "30002"


def strategy(
    *,
    service_cluster_ip_range: str = "10.96.0.0/12",
    service_node_port_range: str = "30000-32767",
) -> ServiceStrategy:
    config = RegistryConfig(
        service_cluster_ip_range=service_cluster_ip_range,
        service_node_port_range=service_node_port_range,
    )
    return ServiceStrategy(kinds.lookup("svc"), config)


def service(**spec: object) -> service_pb2.Service:
    svc = from_dict(
        service_pb2.Service,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"ports": [{"port": 80}], **spec},
        },
    )
    assert isinstance(svc, service_pb2.Service)
    return svc


def allocate(s: ServiceStrategy, svc: service_pb2.Service, claimed: dict[str, set[str]]) -> None:
    async def lookup(prefix: str) -> set[str]:
        return set(claimed.get(prefix, set()))

    s.default(svc)
    asyncio.run(s.allocate(svc, None, lookup))


def test_allocates_a_cluster_ip_and_node_ports() -> None:
    s = strategy(service_cluster_ip_range="10.0.0.0/29", service_node_port_range="30000-30001")
    svc = service(type="NodePort", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81}])
    allocate(s, svc, {IP_PREFIX: {f"10.0.0.{i}" for i in range(1, 6)}})
    assert svc.spec.cluster_ip == "10.0.0.6"
    assert list(svc.spec.cluster_ips) == ["10.0.0.6"]
    assert sorted(p.node_port for p in svc.spec.ports) == [30000, 30001]
    assert s.claims(svc) == {
        IP_PREFIX + "10.0.0.6": b"default/web",
        PORT_PREFIX + "30000": b"default/web",
        PORT_PREFIX + "30001": b"default/web",
    }


def test_tcp_and_udp_of_one_port_share_a_node_port() -> None:
    s = strategy()
    svc = service(
        type="NodePort",
        ports=[{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}],
    )
    allocate(s, svc, {})
    assert svc.spec.ports[0].node_port == svc.spec.ports[1].node_port != 0


def test_headless_and_external_name_get_nothing() -> None:
    s = strategy()
    headless = service(clusterIP="None")
    allocate(s, headless, {})
    assert list(headless.spec.cluster_ips) == ["None"]
    assert s.claims(headless) == {}
    external = service(type="ExternalName", externalName="db.example.com")
    allocate(s, external, {})
    assert not external.spec.cluster_ip
    assert s.claims(external) == {}


def test_a_full_range_is_an_internal_error() -> None:
    s = strategy(service_cluster_ip_range="10.0.0.0/30")  # two usable addresses
    svc = service()
    with pytest.raises(errors.InternalError, match="failed to allocate a serviceIP: range is full"):
        allocate(s, svc, {IP_PREFIX: {"10.0.0.1", "10.0.0.2"}})
    s = strategy(service_node_port_range="30000-30000")
    svc = service(type="NodePort")
    with pytest.raises(errors.InternalError, match="failed to allocate a nodePort: range is full"):
        allocate(s, svc, {PORT_PREFIX: {"30000"}})


def test_claim_errors_use_kubernetes_wording() -> None:
    s = strategy()
    svc = service(type="NodePort", clusterIP="10.96.0.10", ports=[{"port": 80, "nodePort": 30080}])
    s.default(svc)
    texts = [str(e) for e in s.claim_errors(svc, [IP_PREFIX + "10.96.0.10", PORT_PREFIX + "30080"])]
    assert texts == [
        'spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: '
        "provided IP is already allocated",
        "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated",
    ]


def test_the_configured_range_is_what_validation_checks() -> None:
    s = strategy(service_cluster_ip_range="10.19.0.0/18", service_node_port_range="8000-9000")
    svc = service(type="NodePort", clusterIP="10.96.0.10", ports=[{"port": 80, "nodePort": 30080}])
    s.default(svc)
    assert [str(e) for e in s.validate(svc)] == [
        "spec.ports[0].nodePort: Invalid value: 30080: provided port is not in the valid range. "
        "The range of valid ports is 8000-9000",
        'spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: '
        "provided IP is not in the valid range. The range of valid IPs is 10.19.0.0/18",
    ]


def test_apiserver_flags_choose_the_ranges() -> None:
    from apiserver.app import Options
    from apiserver.main import parse_args

    args = parse_args(["--etcd-servers", "127.0.0.1:2379"])
    assert (args.service_cluster_ip_range, args.service_node_port_range) == (
        "10.96.0.0/12",
        "30000-32767",
    )
    opts = Options(
        etcd_servers=[],
        service_cluster_ip_range="10.19.0.0/18",
        service_node_port_range="8000-9000",
    )
    config = opts.registry_config()
    assert (config.service_cluster_ip_range, config.service_node_port_range) == (
        "10.19.0.0/18",
        "8000-9000",
    )
    for flag, value in (
        ("--service-cluster-ip-range", "10.0.0.300/24"),
        ("--service-node-port-range", "32767-30000"),
    ):
        with pytest.raises(SystemExit):
            parse_args(["--etcd-servers", "127.0.0.1:2379", flag, value])

"""pinnace-proxy on the real kernel: a real apiserver, the real proxy process,
real nftables rules, and two HTTP servers in network namespaces of the test's
own, reached from the host through a Service's ClusterIP and NodePort.

The test's network (``testnet``): a bridge ``pinnacebrt<tag>`` holding
10.244.<n>.1/24 (inside the proxy's default cluster CIDR; route_localnet=1,
as the kubelet sets it on its bridges), and two namespaces
``pinnace-test-<tag><i>``, each with ``eth0`` (10.244.<n>.<10+i>) on the
bridge and ``python3 -m http.server --protocol HTTP/1.1`` serving a
directory whose file ``id`` names the backend (alpha, beta). Traffic only
goes from the host to these addresses and to Service addresses the proxy
maps to them; no forwarding is involved (host to bridge is local output),
so net.ipv4.ip_forward is left as it is. Everything is removed at the end,
also on failure: the servers (by pid), the namespaces, the bridge, and the
proxy's table and routes (``pinnace-proxy --cleanup``).

The Services are selector-less, with a hand-written EndpointSlice (label
``kubernetes.io/service-name``, no managed-by), so no controller is involved.
The tests run in file order and share one proxy; the last one stops it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pinnace.api.core.v1 import namespace_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.client import Client
from pinnace.localcluster import process
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME
from tests.waiting import wait_for


def _missing() -> str:
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables)"
    for tool in ("nft", "ip"):
        if shutil.which(tool) is None:
            return f"needs the {tool!r} command"
    return ""


pytestmark = pytest.mark.skipif(bool(_missing()), reason=_missing() or "runs")

BACKEND_PORT = 8080
TIMEOUT = 20.0
REQUESTS = 40  # a backend missed by 40 random picks out of 2: p = 2^-39


def sh(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class Backend:
    name: str
    netns: str
    ip: str
    proc: subprocess.Popen[bytes] | None = None


@dataclass
class TestNet:
    __test__ = False
    bridge: str
    gateway: str
    backends: list[Backend] = field(default_factory=list)


def _make_backend(net: TestNet, tag: str, i: int, name: str, root: Path) -> Backend:
    subnet_base = net.gateway.rsplit(".", 1)[0]
    b = Backend(name, f"pinnace-test-{tag}{i}", f"{subnet_base}.{10 + i}")
    net.backends.append(b)
    host_end = f"pinnacet{tag}{i}"
    sh("ip", "netns", "add", b.netns)
    sh("ip", "-n", b.netns, "link", "set", "lo", "up")
    sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", b.netns)
    sh("ip", "link", "set", host_end, "master", net.bridge, "up")
    # Hairpin, as the kubelet must set it (CNI bridge's hairpinMode): with
    # br_netfilter loaded, a pod's connection to its own Service is DNATed
    # back to itself and bridged out of the port it came in on.
    sh("ip", "link", "set", host_end, "type", "bridge_slave", "hairpin", "on")
    sh("ip", "-n", b.netns, "addr", "add", f"{b.ip}/24", "dev", "eth0")
    sh("ip", "-n", b.netns, "link", "set", "eth0", "up")
    sh("ip", "-n", b.netns, "route", "add", "default", "via", net.gateway)
    www = root / name
    www.mkdir()
    (www / "id").write_text(name)
    b.proc = subprocess.Popen(
        [
            *("ip", "netns", "exec", b.netns, sys.executable, "-m", "http.server"),
            *(str(BACKEND_PORT), "--bind", b.ip, "--protocol", "HTTP/1.1", "--directory", str(www)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return b


def _remove_testnet(net: TestNet) -> None:
    for b in net.backends:
        if b.proc is not None and b.proc.poll() is None:
            os.killpg(b.proc.pid, signal.SIGKILL)
            b.proc.wait(5)
        sh("ip", "netns", "delete", b.netns, check=False)
    sh("ip", "link", "delete", net.bridge, check=False)


@pytest.fixture(scope="module")
def testnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestNet]:
    tag = uuid.uuid4().hex[:5]
    n = random.randint(200, 254)
    net = TestNet(bridge=f"pinnacebrt{tag}", gateway=f"10.244.{n}.1")
    root = tmp_path_factory.mktemp("www")
    try:
        sh("ip", "link", "add", net.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{net.gateway}/24", "dev", net.bridge)
        sh("ip", "link", "set", net.bridge, "up")
        conf = Path("/proc/sys/net/ipv4/conf", net.bridge)
        (conf / "route_localnet").write_text("1")
        # Pods reaching a Service are forwarded by the host (in on the bridge,
        # DNAT, out again): forwarding for this bridge only, not the global
        # net.ipv4.ip_forward; it goes with the bridge.
        (conf / "forwarding").write_text("1")
        for i, name in enumerate(("alpha", "beta")):
            _make_backend(net, tag, i, name, root)
        for b in net.backends:
            _wait_serving(b)
        yield net
    finally:
        _remove_testnet(net)


def _wait_serving(b: Backend) -> None:
    wait_for(
        lambda: _get_id(b.ip, BACKEND_PORT) == b.name,
        TIMEOUT,
        f"backend {b.name} serving on {b.ip}",
        not_yet=(OSError, http.client.HTTPException),
    )


def _get_id(host: str, port: int, timeout: float = 2.0) -> str:
    """GET /id on a new connection; the backend's name."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/id")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def _ids(host: str, port: int, n: int = REQUESTS) -> set[str]:
    return {_get_id(host, port) for _ in range(n)}


FETCH_IN_POD = """
import http.client, json, sys
seen = set()
for _ in range(int(sys.argv[3])):
    c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=5)
    c.request("GET", "/id")
    seen.add(c.getresponse().read().decode())
    c.close()
print(json.dumps(sorted(seen)))
"""


def _ids_from_pod(b: Backend, host: str, port: int, n: int = REQUESTS) -> set[str]:
    """The backends seen by n new connections made inside b's namespace."""
    out = sh(
        "ip", "netns", "exec", b.netns, sys.executable, "-c", FETCH_IN_POD, host, str(port), str(n)
    )
    return set(json.loads(out))


# ---- API objects -------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(apiserver: Any) -> Iterator[Client]:
    with Client(config=apiserver.config, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def ns(api: Client) -> Iterator[str]:
    name = f"t-proxy-{uuid.uuid4().hex[:8]}"
    obj = namespace_pb2.Namespace()
    obj.metadata.name = name
    api.namespaces().create(obj)
    yield name
    api.namespaces().delete(name)


def _service(name: str, type_: str) -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"type": type_, "ports": [{"name": "http", "port": 80}]},
        },
    )


def _slice(service: str, ips: list[str]) -> endpointslice_pb2.EndpointSlice:
    return codec.from_dict(
        endpointslice_pb2.EndpointSlice,
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": f"{service}-manual", "labels": {LABEL_SERVICE_NAME: service}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
            "ports": [{"name": "http", "port": BACKEND_PORT, "protocol": "TCP"}],
        },
    )


@dataclass
class Services:
    web: service_pb2.Service
    empty: service_pb2.Service


@pytest.fixture(scope="module")
def services(api: Client, ns: str, testnet: TestNet) -> Services:
    web = api.services(ns).create(_service("web", "NodePort"))
    api.endpoint_slices(ns).create(_slice("web", [b.ip for b in testnet.backends]))
    empty = api.services(ns).create(_service("empty", "ClusterIP"))
    return Services(web, empty)


# ---- the proxy ---------------------------------------------------------------------


def _cleanup() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy.main", "--cleanup"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.fixture(scope="module")
def proxy(apiserver: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Component]:
    health = f"127.0.0.1:{free_port()}"
    comp = process.Component(
        "proxy",
        "proxy.main",
        [*apiserver.component_flags("proxy"), "--health-listen", health, "--log-level", "debug"],
        log_file=tmp_path_factory.mktemp("proxy") / "proxy.log",
    )
    try:
        comp.start()
        comp.wait_serving(health, timeout=TIMEOUT)
        yield comp
    finally:
        comp.stop()
        _cleanup()


def _table() -> str:
    return sh("nft", "list", "table", "ip", "pinnace", check=False)


def _in_rules(ip: str) -> bool:
    """Whether the proxy's table mentions this address (not as part of a longer one)."""
    return re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d])", _table()) is not None


def _our_routes() -> str:
    return sh("ip", "route", "show", "proto", "147")


# ---- tests -------------------------------------------------------------------------


def test_cluster_ip_spreads_over_both_backends(
    proxy: process.Component, services: Services
) -> None:
    ip = services.web.spec.cluster_ip
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12")
    wait_for(
        lambda: _get_id(ip, 80),
        TIMEOUT,
        f"{ip}:80 answering",
        not_yet=(OSError, http.client.HTTPException),
    )
    assert _ids(ip, 80) == {"alpha", "beta"}


def test_pods_reach_the_service_on_their_own_bridge(
    proxy: process.Component, services: Services, testnet: TestNet
) -> None:
    """alpha → ClusterIP → alpha (hairpin) or beta (same bridge): both work,
    because the proxy masquerades cluster-sourced connections, so replies go
    back through the host where conntrack undoes the DNAT (and the veth
    ports have hairpin on)."""
    ip = services.web.spec.cluster_ip
    wait_for(lambda: _get_id(ip, 80), TIMEOUT, f"{ip}:80", not_yet=(OSError,))
    assert _ids_from_pod(testnet.backends[0], ip, 80) == {"alpha", "beta"}


def test_node_port_on_loopback(proxy: process.Component, services: Services) -> None:
    port = services.web.spec.ports[0].node_port
    assert 30000 <= port <= 32767
    wait_for(
        lambda: _get_id("127.0.0.1", port),
        TIMEOUT,
        f"127.0.0.1:{port} answering",
        not_yet=(OSError, http.client.HTTPException),
    )
    assert _ids("127.0.0.1", port) == {"alpha", "beta"}


def test_service_without_endpoints_is_refused(proxy: process.Component, services: Services) -> None:
    ip = services.empty.spec.cluster_ip
    wait_for(lambda: _in_rules(ip), TIMEOUT, f"{ip} in the proxy's rules")
    # A reset, not a timeout: connect() fails at once, well before the 10 s limit.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ip, 80), timeout=10).close()
    # The same for a ClusterIP no Service has, and a port the Service lacks.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((services.web.spec.cluster_ip, 81), timeout=10).close()


def test_removed_endpoint_stops_getting_traffic_and_open_connections_survive(
    api: Client, ns: str, proxy: process.Component, services: Services, testnet: TestNet
) -> None:
    ip = services.web.spec.cluster_ip
    wait_for(lambda: _get_id(ip, 80), TIMEOUT, f"{ip}:80", not_yet=(OSError,))
    kept = http.client.HTTPConnection(ip, 80, timeout=5)  # keep-alive, HTTP/1.1
    try:
        kept.request("GET", "/id")
        first = kept.getresponse().read().decode()
        remaining = next(b for b in testnet.backends if b.name == first)
        other = next(b for b in testnet.backends if b.name != first)
        api.endpoint_slices(ns).update(_with_rv(api, ns, _slice("web", [remaining.ip])))
        changed = time.monotonic()
        wait_for(
            lambda: not _in_rules(other.ip),
            TIMEOUT,
            f"{other.name} gone from the rules",
        )
        took = time.monotonic() - changed
        print(f"endpoint removal in the kernel {took * 1000:.0f} ms after the API write")
        assert _ids(ip, 80) == {first}
        kept.request("GET", "/id")  # the same TCP connection, across the resync
        assert kept.getresponse().read().decode() == first
    finally:
        kept.close()
        api.endpoint_slices(ns).update(
            _with_rv(api, ns, _slice("web", [b.ip for b in testnet.backends]))
        )
    wait_for(lambda: _ids(ip, 80) == {"alpha", "beta"}, TIMEOUT, "both backends back")


def _with_rv(
    api: Client, ns: str, s: endpointslice_pb2.EndpointSlice
) -> endpointslice_pb2.EndpointSlice:
    s.metadata.resource_version = (
        api.endpoint_slices(ns).get(s.metadata.name).metadata.resource_version
    )
    return s


def test_rules_outlive_a_crash_and_a_new_proxy_takes_over(
    api: Client, ns: str, proxy: process.Component, services: Services
) -> None:
    """SIGKILL: Services keep working from the kernel's rules; a proxy started
    again replaces the table it finds and follows the API from there."""
    ip = services.web.spec.cluster_ip
    proxy.kill()
    assert _ids(ip, 80) == {"alpha", "beta"}
    proxy.start()
    proxy.wait_serving(proxy.args[proxy.args.index("--health-listen") + 1], timeout=TIMEOUT)
    empty_ip = services.empty.spec.cluster_ip
    assert _in_rules(empty_ip)
    api.services(ns).delete("empty")
    wait_for(lambda: not _in_rules(empty_ip), TIMEOUT, "the deleted Service's rules gone")
    assert _ids(ip, 80) == {"alpha", "beta"}


def test_stop_keeps_rules_and_cleanup_removes_them(proxy: process.Component) -> None:
    """Last in the file: it stops the shared proxy."""
    assert "pinnacesvc" in _our_routes().split()
    assert proxy.stop() == 0
    assert "chain services" in _table(), "rules stay after SIGTERM, as kube-proxy's"
    done = _cleanup()
    assert done.returncode == 0, done.stderr
    assert _table() == ""
    # Whole words: another cluster's proxy on the machine has routes of its
    # own (other ranges, a bridge "pinnacesv<hash>").
    routes = _our_routes().split()
    for gone in ("10.244.0.0/16", "10.96.0.0/12", "pinnacesvc"):
        assert gone not in routes
    assert not Path("/sys/class/net/pinnacesvc").exists()

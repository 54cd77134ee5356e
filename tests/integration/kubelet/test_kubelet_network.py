"""The kubelet's pod network as root: each pod in its own network namespace
with an IP from the node's podCIDR, on the node's bridge.

Traffic goes only to the pods' own addresses (inside namespaces the kubelet
made for this test) and to loopback."""

from __future__ import annotations

import ipaddress
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from pinnace.api.core.v1 import node_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.client import Client, NotFound
from pinnace.machinery import codec, hostnet
from tests.integration.kubelet.helpers import (
    condition,
    container_status,
    get_pod,
    make_pod,
    run_pod,
    wait_for,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="pod network namespaces need root and iproute2 (the kubelet falls back to the host network)",
)

POD_IP_ENV = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}


def http_get(ip: str, port: int, path: str = "/") -> bytes:
    with urllib.request.urlopen(f"http://{ip}:{port}{path}", timeout=5) as resp:
        return resp.read()


def server_pod(name: str, port: int, body: str) -> object:
    """A pod serving ``body`` at /id over HTTP on ``port`` (all its addresses)."""
    script = f"mkdir -p www && echo {body} > www/id && exec python3 -m http.server {port} -d www"
    return make_pod(name, [{"name": "web", "command": ["sh", "-c", script]}])


def running_ip(client: Client, namespace: str, name: str) -> str:
    pod = wait_for(
        lambda: (p := get_pod(client, namespace, name)).status.phase == "Running" and p,
        what=f"{name} Running",
    )
    return str(pod.status.pod_ip)


def test_replicas_of_one_port_run_side_by_side_on_their_own_ips(
    client: Client, namespace: str, kubelet
) -> None:
    """Two servers on the same port on one node: both run, each on its IP."""
    for name in ("a", "b"):
        run_pod(client, namespace, kubelet.node, server_pod(name, 8080, name))
    ips = {name: running_ip(client, namespace, name) for name in ("a", "b")}
    node = client.nodes().get(kubelet.node)
    assert node.metadata.annotations["pinnace.io/pod-network"] == "bridge"
    cidr = ipaddress.ip_network(next(a for a in kubelet.component.args if a.startswith("10.240.")))
    assert len(set(ips.values())) == 2
    for name, ip in ips.items():
        assert ipaddress.ip_address(ip) in cidr and ip != str(cidr[1])  # not the gateway
        assert wait_for(lambda ip=ip: _get_or_none(ip, 8080, "/id"), what=f"{name} serves") == (
            f"{name}\n".encode()
        )
    assert not any(
        container_status(get_pod(client, namespace, n), "web").restart_count for n in ips
    )


def _get_or_none(ip: str, port: int, path: str) -> bytes | None:
    try:
        return http_get(ip, port, path)
    except OSError:
        return None


def test_containers_share_the_pod_namespace_and_dns_files(
    client: Client, namespace: str, kubelet
) -> None:
    """A sidecar reaches its pod's server on localhost; /etc/resolv.conf and
    /etc/hosts are the pod's (ClusterFirst, the kubelet's DNS on the gateway)."""
    fetch = (
        "import urllib.request,time\n"
        "for _ in range(200):\n"
        "    try:\n"
        "        open('got','wb').write(urllib.request.urlopen('http://localhost:9090/id').read()); break\n"
        "    except OSError: time.sleep(0.05)\n"
        "time.sleep(300)\n"
    )
    pod = make_pod(
        "pair",
        [
            {
                "name": "web",
                "command": [
                    "sh",
                    "-c",
                    "mkdir -p www && echo pair > www/id && "
                    "cat /etc/resolv.conf > resolv && cat /etc/hosts > hosts && "
                    "exec python3 -m http.server 9090 --bind 127.0.0.1 -d www",
                ],
            },
            {"name": "side", "command": ["python3", "-c", fetch]},
        ],
        hostname="pair",
        subdomain="sub",
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid
    ip = running_ip(client, namespace, "pair")
    pod_dir = kubelet.root / "pods" / uid
    assert wait_for(lambda: _read(pod_dir / "got"), what="sidecar fetched") == "pair\n"
    # Bound to 127.0.0.1 inside the pod: not reachable on the pod's IP.
    assert _get_or_none(ip, 9090, "/id") is None
    gateway = str(ipaddress.ip_network(f"{ip}/24", strict=False)[1])
    resolv = wait_for(lambda: _read(pod_dir / "resolv"), what="resolv.conf copied")
    assert resolv.splitlines() == [
        f"nameserver {gateway}",
        f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local",
        "options ndots:5",
    ]
    hosts = wait_for(lambda: _read(pod_dir / "hosts"), what="hosts copied")
    assert f"{ip}\tpair.sub.{namespace}.svc.cluster.local\tpair" in hosts.splitlines()


def _read(path: Path) -> str | None:
    try:
        return path.read_text() or None
    except FileNotFoundError:
        return None


def test_host_network_pod_keeps_the_node_ip(client: Client, namespace: str, kubelet) -> None:
    pod = make_pod("hostnet", [{"name": "c", "command": ["sleep", "300"]}], hostNetwork=True)
    run_pod(client, namespace, kubelet.node, pod)
    assert running_ip(client, namespace, "hostnet") == "127.0.0.1"


def test_restart_keeps_ip_and_deletion_removes_the_namespace(
    client: Client, namespace: str, start_kubelet
) -> None:
    k = start_kubelet()
    identity = hostnet.node_identity(k.node, k.root)
    uid = run_pod(client, namespace, k.node, server_pod("keep", 8081, "keep")).metadata.uid
    gone_uid = run_pod(client, namespace, k.node, server_pod("gone", 8081, "gone")).metadata.uid
    ip = running_ip(client, namespace, "keep")
    running_ip(client, namespace, "gone")
    assert wait_for(lambda: _get_or_none(ip, 8081, "/id"), what="keep serves") == b"keep\n"
    netns = hostnet.netns_name(identity, uid)
    assert netns in hostnet.pinnace_netns()

    k.kill()  # SIGKILL; the pod "gone" is deleted while no kubelet watches
    client.pods(namespace).delete("gone", grace_period_seconds=0)
    k.start()
    k.wait_ready(client)
    assert hostnet.netns_name(identity, gone_uid) not in hostnet.pinnace_netns()
    assert wait_for(lambda: _get_or_none(ip, 8081, "/id"), what="keep still serves") == b"keep\n"
    pod = get_pod(client, namespace, "keep")
    assert pod.status.pod_ip == ip and container_status(pod, "web").restart_count == 0

    client.pods(namespace).delete("keep", grace_period_seconds=1)
    wait_for(lambda: netns not in hostnet.pinnace_netns(), what="namespace removed")
    wait_for(lambda: _deleted(client, namespace, "keep"), what="pod gone")
    assert not (k.root / "network" / "ips" / ip).exists()  # the IP is free again


def _deleted(client: Client, namespace: str, name: str) -> bool:
    try:
        client.pods(namespace).get(name)
    except NotFound:
        return True
    return False


def test_a_restarted_kubelet_never_reports_its_node_not_ready(
    client: Client, namespace: str, start_kubelet
) -> None:
    """The node stays Ready across a kubelet restart: the restarted kubelet
    sets the pod network up from the podCIDR before it writes its first
    status. A NotReady, even for a moment, has the node controller mark
    every pod on the node not ready (found by the chaos suite)."""
    k = start_kubelet()
    since = client.nodes().get(k.node).metadata.resource_version
    k.kill()
    k.start()
    k.wait_ready(client)
    statuses = []  # the Ready condition of every write since the kill
    for ev in client.nodes().watch(
        resource_version=since, field_selector=f"metadata.name={k.node}", timeout=3
    ):
        if ev.object is not None:
            statuses += [
                (c.status, c.reason) for c in ev.object.status.conditions if c.type == "Ready"
            ]
    assert statuses, "the restarted kubelet wrote no status"
    assert set(statuses) == {("True", "KubeletReady")}, statuses


def test_node_is_not_ready_until_it_has_a_pod_cidr(
    client: Client, namespace: str, start_kubelet
) -> None:
    """Without --pod-cidr and without node IPAM the node waits, NotReady with
    Kubernetes' NetworkPluginNotReady; a podCIDR set on the Node brings it up."""
    k = start_kubelet(pod_cidr=False, wait=False)

    def not_ready() -> node_pb2.Node | None:
        node = client.nodes().get(k.node)
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        return node if ready and ready[0].status == "False" else None

    node = wait_for(not_ready, what="node NotReady")
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert ready.reason == "KubeletNotReady"
    assert "NetworkPluginNotReady" in ready.message and "podCIDR" in ready.message
    node.spec.pod_cidr = "10.240.251.0/24"
    node.spec.pod_cidrs[:] = ["10.240.251.0/24"]
    client.nodes().update(node)
    k.wait_ready(client)
    run_pod(client, namespace, k.node, server_pod("late", 8082, "late"))
    assert running_ip(client, namespace, "late").startswith("10.240.251.")
    assert wait_for(lambda: condition(get_pod(client, namespace, "late"), "Ready").status == "True")


def test_pods_resolve_service_names_through_the_kubelets_dns(
    client: Client, namespace: str, kubelet
) -> None:
    """The kubelet serves cluster DNS on its bridge: a pod resolves a Service's
    short name (search domains) to its ClusterIP, and a headless Service's
    endpoint hostname to the endpoint's address."""
    svc = codec.from_dict(
        service_pb2.Service,
        {"metadata": {"name": "db"}, "spec": {"ports": [{"port": 5432}]}},
    )
    cluster_ip = client.services(namespace).create(svc).spec.cluster_ip
    headless = codec.from_dict(
        service_pb2.Service,
        {"metadata": {"name": "peers"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}},
    )
    client.services(namespace).create(headless)
    slice_ = codec.from_dict(
        endpointslice_pb2.EndpointSlice,
        {
            "metadata": {"name": "peers-1", "labels": {"kubernetes.io/service-name": "peers"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.240.250.7"], "hostname": "peer-0"}],
            "ports": [{"port": 80}],
        },
    )
    client.endpoint_slices(namespace).create(slice_)
    lookup = (
        "import socket,time\n"
        "for _ in range(200):\n"
        "    try:\n"
        f"        got = [socket.gethostbyname(n) for n in ('db', 'peer-0.peers', 'db.{namespace}.svc.cluster.local')]\n"
        "        open('got','w').write(' '.join(got)); break\n"
        "    except OSError: time.sleep(0.05)\n"
        "time.sleep(300)\n"
    )
    uid = run_pod(
        client,
        namespace,
        kubelet.node,
        make_pod("asker", [{"name": "c", "command": ["python3", "-c", lookup]}]),
    ).metadata.uid
    got = wait_for(lambda: _read(kubelet.root / "pods" / uid / "got"), what="names resolved")
    assert got.split() == [cluster_ip, "10.240.250.7", cluster_ip]

"""The README's multi-machine instructions work as written: every part on a
machine of its own, pods on every worker, pod to pod across machines by the
static routes, Services by ClusterIP and NodePort through each machine's
proxy, and logs fetched from a kubelet on another machine."""

from __future__ import annotations

import urllib.request
from ipaddress import ip_address, ip_network

from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.client import Client
from pinnace.machinery import codec
from tests.integration.cli.clirun import pinnace_cli
from tests.integration.partition.apart import ApartCluster
from tests.waiting import wait_for


def test_every_node_registers_with_its_own_address(apart: ApartCluster, client: Client) -> None:
    nodes = {n.metadata.name: n for n in client.nodes().list().items}
    assert sorted(nodes) == [m.name for m in apart.workers]
    for m in apart.workers:
        addresses = {a.type: a.address for a in nodes[m.name].status.addresses}
        assert addresses["InternalIP"] == m.address


SERVE = "mkdir -p www && echo across-machines > www/id && exec python3 -m http.server 8080 -d www"
FETCH = (
    'for i in $(seq 100); do python3 -c "import urllib.request, sys; '
    "sys.stdout.write(urllib.request.urlopen('http://{ip}:8080/id', timeout=2).read().decode())\" "
    "2>/dev/null && exit 0; sleep 0.1; done; exit 1"
)


def test_a_pod_reaches_a_pod_on_another_machine_and_its_logs_come_from_there(
    apart: ApartCluster, client: Client, ns: str
) -> None:
    """Step 6's static routes carry pod-to-pod traffic between machines; the
    apiserver reads the client pod's log from worker-2's kubelet, at that
    machine's address (step 4)."""
    server = pod("server", "worker-1", SERVE, restart="Always")
    client.pods(ns).create(server)
    ip = wait_for(
        lambda: _running_ip(client, ns, "server"), 60, "the server pod running with its IP"
    )
    assert ip_address(ip) in ip_network(client.nodes().get("worker-1").spec.pod_cidr)
    client.pods(ns).create(pod("fetch", "worker-2", FETCH.format(ip=ip), restart="Never"))
    phase = wait_for(
        lambda: (
            client.pods(ns).get("fetch").status.phase in ("Succeeded", "Failed")
            and client.pods(ns).get("fetch").status.phase
        ),
        60,
        "the fetching pod done",
    )
    logs = pinnace_cli(apart, "logs", "fetch", "-n", ns, check=False)
    assert phase == "Succeeded", logs.stdout + logs.stderr
    assert logs.stdout.strip() == "across-machines"


def test_a_service_answers_from_another_machine_by_cluster_ip_and_node_port(
    apart: ApartCluster, client: Client, ns: str
) -> None:
    """Step 5's proxies: a pod on worker-3 reaches a server on worker-1 by
    its Service's ClusterIP, and the host reaches it at worker-2's address
    on the Service's NodePort."""
    client.pods(ns).create(pod("server", "worker-1", SERVE, restart="Always", app="echo"))
    service = client.services(ns).create(
        codec.from_dict(
            service_pb2.Service,
            {
                "metadata": {"name": "echo"},
                "spec": {
                    "type": "NodePort",
                    "selector": {"app": "echo"},
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            },
        )
    )
    wait_for(lambda: _running_ip(client, ns, "server"), 60, "the server pod running")
    fetch = FETCH.replace("{ip}:8080", "{ip}:80").format(ip=service.spec.cluster_ip)
    client.pods(ns).create(pod("fetch", "worker-3", fetch, restart="Never"))
    wait_for(
        lambda: client.pods(ns).get("fetch").status.phase in ("Succeeded", "Failed"),
        60,
        "the fetching pod done",
    )
    logs = pinnace_cli(apart, "logs", "fetch", "-n", ns, check=False)
    assert client.pods(ns).get("fetch").status.phase == "Succeeded", logs.stdout + logs.stderr
    assert logs.stdout.strip() == "across-machines"
    node_port = service.spec.ports[0].node_port
    url = f"http://{apart.worker('worker-2').address}:{node_port}/id"
    assert wait_for(lambda: _get(url), 30, "the NodePort answering") == "across-machines\n"


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode()
    except OSError:
        return ""


def pod(name: str, node: str, script: str, *, restart: str, app: str = "") -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": name, "labels": {"app": app or name}},
            "spec": {
                "nodeName": node,
                "restartPolicy": restart,
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "c", "image": "sh", "command": ["sh", "-c", script]}],
            },
        },
    )


def _running_ip(client: Client, ns: str, name: str) -> str:
    p = client.pods(ns).get(name)
    return p.status.pod_ip if p.status.phase == "Running" else ""

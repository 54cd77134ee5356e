"""Services end to end on a whole cluster (3 kubelets as root, node IPAM, the
service proxy, cluster DNS): replicas of one HTTP server on one port, each
on its own pod IP, reached through a ClusterIP, a NodePort and a DNS name.

Traffic goes only to loopback and to the pods' and Services' addresses of
this cluster (its own namespaces, bridges and nftables table)."""

from __future__ import annotations

import collections
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.client import Client, NotFound
from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery import codec, manifests
from tests.integration.cli.clirun import pinnace_cli
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("nft")),
    reason="pods' own IPs and the service proxy need root, iproute2 and nftables "
    "(without them pods share the host network and Services have no proxy)",
)

REPO = Path(__file__).resolve().parents[3]
TIMEOUT = 60  # seconds: a whole cluster on a loaded 2-core machine
# Each replica serves its own pod name at /id, on the same port; it is
# ready while it serves /ready (an httpGet readiness probe).
SERVE = (
    "mkdir -p www && echo $(POD_NAME) > www/id && touch www/ready && "
    "exec python3 -m http.server 8080 -d www"
)


def web_deployment(replicas: int, *, version: str = "v1") -> deployment_pb2.Deployment:
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "terminationGracePeriodSeconds": 5,
                        "containers": [
                            {
                                "name": "web",
                                "image": "python",
                                "command": ["sh", "-c", SERVE],
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "env": [
                                    {
                                        "name": "POD_NAME",
                                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                    },
                                    {"name": "VERSION", "value": version},
                                ],
                                "readinessProbe": {
                                    "httpGet": {"path": "/ready", "port": "http"},
                                    "periodSeconds": 1,
                                    "failureThreshold": 1,
                                },
                                # Traffic stops before the server does (the
                                # proxy needs a moment to see the endpoint go).
                                "lifecycle": {"preStop": {"sleep": {"seconds": 2}}},
                            }
                        ],
                    },
                },
            },
        },
    )


def web_service(type_: str = "ClusterIP") -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {
            "metadata": {"name": "web"},
            "spec": {
                "type": type_,
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    )


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.read().decode().strip()
    except OSError:
        return None


def spread(url: str, n: int) -> collections.Counter[str | None]:
    return collections.Counter(fetch(url) for _ in range(n))


def ready_pods(client: Client, ns: str) -> list[pod_pb2.Pod]:
    return [
        p
        for p in client.pods(ns).list(label_selector="app=web").items
        if not p.metadata.deletion_timestamp
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
    ]


def wait_ready_replicas(client: Client, ns: str, n: int) -> list[pod_pb2.Pod]:
    return wait_for(
        lambda: (pods := ready_pods(client, ns)) and len(pods) == n and pods,
        timeout=TIMEOUT,
        what=f"{n} ready replicas",
    )


def names(pods: list[pod_pb2.Pod]) -> set[str]:
    return {p.metadata.name for p in pods}


@pytest.fixture
def web(
    cluster_client: Client, cluster_namespace: str
) -> Iterator[tuple[str, service_pb2.Service]]:
    """The 4-replica http.server Deployment behind a NodePort Service."""
    ns = cluster_namespace
    cluster_client.deployments(ns).create(web_deployment(4))
    svc = cluster_client.services(ns).create(web_service("NodePort"))
    yield ns, svc


def test_replicas_behind_a_service(
    cluster: LocalCluster, cluster_client: Client, web: tuple[str, service_pb2.Service]
) -> None:
    ns, svc = web
    pods = wait_ready_replicas(cluster_client, ns, 4)
    ips = {p.status.pod_ip for p in pods}
    assert len(ips) == 4 and not any(ip.startswith("127.") for ip in ips)
    assert len({p.spec.node_name for p in pods}) == 3  # spread over the 3 nodes
    cluster_ip = svc.spec.cluster_ip
    url = f"http://{cluster_ip}/id"

    # 100 requests through the ClusterIP from the host reach all 4.
    wait_for(lambda: set(spread(url, 20)) == names(pods), timeout=TIMEOUT, what="all 4 serve")
    got = spread(url, 100)
    assert set(got) == names(pods) and None not in got

    # ... and through the NodePort on the node address.
    node_port = svc.spec.ports[0].node_port
    assert set(spread(f"http://127.0.0.1:{node_port}/id", 40)) == names(pods)

    # From inside a pod, by DNS name (search domains), 100 requests reach all 4.
    client_pod = pods[0].metadata.name
    script = (
        "import collections,urllib.request\n"
        "c=collections.Counter(urllib.request.urlopen('http://web/id',timeout=3).read().decode().strip() "
        "for _ in range(100))\n"
        "print(' '.join(sorted(c)))\n"
    )
    out = pinnace_cli(cluster, "exec", "-n", ns, client_pod, "--", "python3", "-c", script)
    assert set(out.stdout.split()) == names(pods)

    # Pod to pod, directly by IP, across the nodes' bridges (no NAT: each
    # server sees the client pod's own IP).
    direct = (
        "import sys,urllib.request\n"
        "print(' '.join(urllib.request.urlopen(f'http://{ip}:8080/id',timeout=3).read().decode().strip() "
        "for ip in sys.argv[1:]))\n"
    )
    out = pinnace_cli(cluster, "exec", "-n", ns, client_pod, "--", "python3", "-c", direct, *ips)
    assert set(out.stdout.split()) == names(pods)
    elsewhere = next(p for p in pods if p.spec.node_name != pods[0].spec.node_name)
    logs = pinnace_cli(cluster, "logs", "-n", ns, elsewhere.metadata.name).stdout
    assert f"{pods[0].status.pod_ip} - - " in logs  # http.server's access log: the client's IP

    # Scale to 6 and to 2: the Service follows.
    for n in (6, 2):
        pinnace_cli(cluster, "scale", "-n", ns, "deployment", "web", "--replicas", str(n))
        pods = wait_ready_replicas(cluster_client, ns, n)
        wait_for(
            lambda pods=pods: set(spread(url, 30)) == names(pods),
            timeout=TIMEOUT,
            what=f"traffic to exactly the {n} replicas",
        )

    # A pod made unready (its readiness probe fails) stops receiving traffic.
    unready = pods[0]
    pod_dir = cluster.data_dir / "nodes" / unready.spec.node_name / "pods" / unready.metadata.uid
    (pod_dir / "www" / "ready").unlink()
    wait_for(
        lambda: set(spread(url, 20)) == {pods[1].metadata.name},
        timeout=TIMEOUT,
        what="the unready pod left the Service",
    )


def test_rolling_update_under_load_loses_no_request(
    cluster_client: Client, web: tuple[str, service_pb2.Service]
) -> None:
    ns, svc = web
    before = wait_ready_replicas(cluster_client, ns, 4)
    url = f"http://{svc.spec.cluster_ip}/id"
    wait_for(lambda: set(spread(url, 20)) == names(before), timeout=TIMEOUT, what="all serve")
    results: collections.Counter[str | None] = collections.Counter()
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            results[fetch(url)] += 1

    thread = threading.Thread(target=load)
    thread.start()
    try:
        cluster_client.deployments(ns).update(_with_version(cluster_client, ns, "v2"))

        def rolled() -> bool:
            pods = ready_pods(cluster_client, ns)
            return len(pods) == 4 and not names(pods) & names(before)

        wait_for(rolled, timeout=TIMEOUT * 2, what="rolled to v2")
        after = names(ready_pods(cluster_client, ns))
        wait_for(
            lambda: after <= set(results), timeout=TIMEOUT, what="the new pods serve under load"
        )
    finally:
        stop.set()
        thread.join()
    assert results[None] == 0, f"{results[None]} of {sum(results.values())} requests failed"
    assert sum(results.values()) >= 50


def _with_version(client: Client, ns: str, version: str) -> deployment_pb2.Deployment:
    d = client.deployments(ns).get("web")
    for e in d.spec.template.spec.containers[0].env:
        if e.name == "VERSION":
            e.value = version
    return d


STATEFULSET_EXAMPLE = """
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx # has to match .spec.template.metadata.labels
  serviceName: "nginx"
  replicas: 3 # by default is 1
  minReadySeconds: 10 # by default is 0
  template:
    metadata:
      labels:
        app: nginx # has to match .spec.selector.matchLabels
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.24
        command: ["sh", "-c", "echo $HOSTNAME > usr/share/nginx/html/index.html && exec python3 -m http.server 80 -d usr/share/nginx/html"]
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      storageClassName: "my-storage-class"
      resources:
        requests:
          storage: 1Gi
"""


def test_statefulset_docs_example_has_stable_dns_names(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str, tmp_path: Any
) -> None:
    """The Kubernetes docs' StatefulSet example, unchanged but for the
    container command: web-0.nginx resolves to web-0's IP from inside a pod,
    and to its new IP once web-0 is recreated."""
    ns = cluster_namespace
    manifest = tmp_path / "web.yaml"
    manifest.write_text(STATEFULSET_EXAMPLE)
    assert len(manifests.load_manifests(manifest)) == 2
    pinnace_cli(cluster, "apply", "-n", ns, "-f", str(manifest))
    pods = cluster_client.pods(ns)

    def running(name: str) -> pod_pb2.Pod | None:
        p = pods.get(name)
        ok = p.status.phase == "Running" and any(
            c.type == "Ready" and c.status == "True" for c in p.status.conditions
        )
        return p if ok else None

    # OrderedReady with minReadySeconds 10: web-1 starts 10 s after web-0 is ready.
    web0 = wait_for(lambda: running("web-0"), TIMEOUT, "web-0 ready", not_yet=(NotFound,))
    web1 = wait_for(lambda: running("web-1"), TIMEOUT, "web-1 ready", not_yet=(NotFound,))

    def resolve(from_pod: str, name: str) -> str:
        script = f"import socket; print(socket.gethostbyname('{name}'))"
        out = pinnace_cli(
            cluster, "exec", "-n", ns, from_pod, "--", "python3", "-c", script, check=False
        )
        return out.stdout.strip()

    assert resolve("web-1", "web-0.nginx") == web0.status.pod_ip
    assert fetch(f"http://{web0.status.pod_ip}/") == "web-0"
    old_uid = web0.metadata.uid
    pods.delete("web-0", grace_period_seconds=1)
    web0 = wait_for(
        lambda: (p := running("web-0")) and p.metadata.uid != old_uid and p,
        TIMEOUT,
        "web-0 recreated",
        not_yet=(NotFound,),
    )
    wait_for(
        lambda: resolve("web-1", "web-0.nginx") == web0.status.pod_ip,
        timeout=TIMEOUT,
        what="web-0.nginx follows the new pod",
    )
    assert web1.status.pod_ip != web0.status.pod_ip


def test_quick_start_example_serves_through_its_node_port(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    """deploy/examples/web.yaml, as the README's Quick start applies it:
    curl 127.0.0.1:30080 reaches each of the three replicas."""
    ns = cluster_namespace
    example = REPO / "deploy" / "examples" / "web.yaml"
    out = pinnace_cli(cluster, "apply", "-n", ns, "-f", str(example))
    assert out.stdout.split("\n")[:2] == ["deployment.apps/web created", "service/web created"]
    pods = wait_ready_replicas(cluster_client, ns, 3)
    expected = {
        f"hello from {p.metadata.name} ({p.status.pod_ip}) on {p.spec.node_name}" for p in pods
    }
    wait_for(
        lambda: set(spread("http://127.0.0.1:30080/", 30)) == expected,
        timeout=TIMEOUT,
        what="every replica answers on the NodePort",
    )

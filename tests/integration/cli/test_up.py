"""pinnace up --detach / down / up again: one command starts a working
multi-node cluster, down stops every process (pods included), and the same
data dir resumes the same cluster state, and the same CA; a real kubectl and
the official Python client work with the kubeconfig that up writes."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubernetes
import pytest

from pinnace.client import Client
from pinnace.localcluster.cluster import cleanup_network
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import hostnet
from tests.kubectl import run_kubectl

POD = """
apiVersion: v1
kind: Pod
metadata: {name: keeper}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: busybox, command: [sleep, "300"]}
"""


def pinnace(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def running_pid(client: Client, data: Path) -> int:
    """The pid of the pod's `sleep 300` process (its working directory is
    the pod's directory under the cluster's data dir)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pod = client.pods("default").get("keeper")
        if pod.status.phase == "Running":
            for path in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    argv = path.read_bytes().split(b"\0")
                    cwd = os.readlink(path.parent / "cwd")
                    if (
                        argv[0].endswith(b"sleep")
                        and argv[1:2] == [b"300"]
                        and cwd.startswith(str(data))
                    ):
                        return int(path.parent.name)
                except OSError:
                    continue
        time.sleep(0.1)
    raise AssertionError("the pod never ran")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0


# Ranges of this test's cluster (the session's cluster runs beside it).
CLUSTER_CIDR, SERVICE_CIDR = "10.248.0.0/16", "10.115.0.0/16"


def network_leftovers(data: Path, nodes: int) -> list[str]:
    """What of this cluster is in the host's network: its kubelets' pod
    namespaces and bridges, its routes, its proxy's table and bridge."""
    found = []
    for i in range(1, nodes + 1):
        identity = hostnet.node_identity(f"node-{i}", data / "nodes" / f"node-{i}")
        found += hostnet.pinnace_netns(hostnet.netns_prefix(identity))
        if hostnet.link_exists(hostnet.bridge_name(identity)):
            found.append(hostnet.bridge_name(identity))
    ranges = [ipaddress.ip_network(CLUSTER_CIDR), ipaddress.ip_network(SERVICE_CIDR)]
    for route in hostnet.run(
        "ip", "route", "show", "proto", str(hostnet.ROUTE_PROTOCOL)
    ).splitlines():
        words = route.split()
        dest = ipaddress.ip_network(words[1] if words[0] == "blackhole" else words[0])
        if any(dest.subnet_of(r) for r in ranges):  # the node /24s too
            found.append(route)
    tables = hostnet.run("nft", "list", "tables", "ip", check=False)
    suffix = hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:8]
    found += [t for t in tables.splitlines() if t.endswith(suffix)]
    return found


def up_command(data: Path, port: int) -> list[str]:
    """`pinnace up` of this test's 2-node cluster, in the background."""
    up = ["up", "--detach", "--nodes", "2", "--data-dir", str(data), "--port", str(port)]
    up += ["--rest-port", str(free_port())]
    return [*up, "--cluster-cidr", CLUSTER_CIDR, "--service-cluster-ip-range", SERVICE_CIDR]


def kubectl_and_client_see_nodes(kubeconfig: Path) -> None:
    """kubectl and the official Python client, given only the kubeconfig,
    verify the apiserver's certificate and list the nodes."""
    result = run_kubectl(kubeconfig, "get", "nodes", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["node/node-1", "node/node-2"]
    api = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    with api:
        nodes = kubernetes.client.CoreV1Api(api).list_node().items
    assert sorted(n.metadata.name for n in nodes) == ["node-1", "node-2"]


def test_up_down_and_resume(tmp_path: Path) -> None:
    data = tmp_path / "cluster"
    port = free_port()
    networked = os.geteuid() == 0 and not hostnet.service_proxy_unavailable()
    env = {**os.environ, "PINNACE_CONFIG": str(tmp_path / "config.json")}
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    up = up_command(data, port)
    try:
        out = pinnace(*up, "-f", str(manifest), env=env)
        assert f"API at 127.0.0.1:{port}" in out.stdout and "pod/keeper created" in out.stdout
        assert f"export KUBECONFIG={data / 'kubeconfig'}\n" in out.stdout
        kubectl_and_client_see_nodes(data / "kubeconfig")
        ca = (data / "pki" / "ca.crt").read_bytes()
        # The CLI config written by up points later commands at the cluster.
        nodes = pinnace("get", "nodes", "-o", "name", env=env).stdout.split()
        assert nodes == ["node/node-1", "node/node-2"]
        with Client(f"127.0.0.1:{port}", kubeconfig=data / "kubeconfig") as client:
            first = running_pid(client, data)
            keeper = client.pods("default").get("keeper")
            uid = keeper.metadata.uid
        if networked:  # the pod has its own IP in this cluster's range, and there is a proxy
            assert ipaddress.ip_address(keeper.status.pod_ip) in ipaddress.ip_network(CLUSTER_CIDR)
            assert (data / "logs" / "proxy.log").exists()
            assert network_leftovers(data, 2)
        assert (data / "logs" / "apiserver.log").exists() and (
            data / "logs" / "kubelet-node-1.log"
        ).exists()

        pinnace("down", "--data-dir", str(data), env=env)
        deadline = time.monotonic() + 10
        while alive(first) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(first), "down must stop the pods' processes too"
        if networked:
            assert network_leftovers(data, 2) == [], "down must remove what it made"

        pinnace(*up, env=env)
        with Client(f"127.0.0.1:{port}", kubeconfig=data / "kubeconfig") as client:
            assert client.pods("default").get("keeper").metadata.uid == uid, "state must survive"
            second = running_pid(client, data)
        assert second != first
        assert (data / "pki" / "ca.crt").read_bytes() == ca, "the CA must survive"
        kubectl_and_client_see_nodes(data / "kubeconfig")
    finally:
        down_quietly(data, env)
    if networked:
        assert network_leftovers(data, 2) == []


def down_quietly(data: Path, env: dict[str, str]) -> None:
    """`pinnace down` of the test's cluster, whatever state it is in (cleanup)."""
    subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", "down", "--data-dir", str(data)],
        capture_output=True,
        timeout=60,
        env=env,
    )


def cluster_processes(data: Path, port: int) -> list[int]:
    """Pids of every process of the cluster: `up`, etcd and the kubelets
    (their command lines name the data dir), the components that talk to its
    apiserver, and the pods (their working directories are under it)."""
    pids = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmdline = path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(path.parent / "cwd")
        except OSError:
            continue
        if str(data) in cmdline or f"127.0.0.1:{port}" in cmdline or cwd.startswith(str(data)):
            pids.append(int(path.parent.name))
    return [p for p in pids if p != os.getpid()]


@pytest.mark.skipif(
    os.geteuid() != 0 or bool(hostnet.service_proxy_unavailable()),
    reason="pod networks and the service proxy need root, iproute2 and nftables",
)
def test_down_after_a_crash_removes_what_the_cluster_left(tmp_path: Path) -> None:
    """Every process of the cluster SIGKILLed (a crash): the namespaces,
    bridges, routes and nftables table stay behind; `pinnace down` removes them."""
    data = tmp_path / "cluster"
    port = free_port()
    env = {**os.environ, "PINNACE_CONFIG": str(tmp_path / "config.json")}
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    up = up_command(data, port)
    try:
        pinnace(*up, "-f", str(manifest), env=env)
        with Client(f"127.0.0.1:{port}", kubeconfig=data / "kubeconfig") as client:
            running_pid(client, data)
        for pid in cluster_processes(data, port):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        left = network_leftovers(data, 2)
        assert any(item.startswith(hostnet.NETNS_PREFIX) for item in left), left
        out = subprocess.run(
            [sys.executable, "-m", "pinnace.cli.main", "down", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert out.returncode == 1 and "the cluster was not running" in out.stderr
        assert "(left by an earlier run)" in out.stdout
        assert network_leftovers(data, 2) == []
    finally:
        for pid in cluster_processes(data, port):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        cleanup_network(data)  # also when the test failed before `down` did it


HOLLOW_MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 60
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 4
  parallelism: 4
  template:
    metadata:
      annotations: {pinnace.io/hollow-exit-code: "0", pinnace.io/hollow-exit-after: "0.5"}
    spec:
      restartPolicy: Never
      containers: [{name: work, image: busybox}]
"""


def test_up_with_hollow_nodes(tmp_path: Path) -> None:
    """`pinnace up --nodes 0 --hollow-nodes 40`: 40 simulated nodes in one
    process take a Deployment (images only, as real manifests are) and a
    Job whose containers exit by annotation; down stops them."""
    data = tmp_path / "cluster"
    port = free_port()
    env = {**os.environ, "PINNACE_CONFIG": str(tmp_path / "config.json")}
    manifest = tmp_path / "hollow.yaml"
    manifest.write_text(HOLLOW_MANIFEST)
    up = ["up", "--detach", "--nodes", "0", "--hollow-nodes", "40", "--data-dir", str(data)]
    up += ["--port", str(port), "--rest-port", str(free_port())]
    up += ["--cluster-cidr", CLUSTER_CIDR, "--service-cluster-ip-range", SERVICE_CIDR]
    try:
        pinnace(*up, "-f", str(manifest), env=env)
        with Client(f"127.0.0.1:{port}", kubeconfig=data / "kubeconfig") as client:
            names = sorted(n.metadata.name for n in client.nodes().list().items)
            assert names == [f"hollow-{i:02d}" for i in range(40)]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                web = client.deployments("default").get("web").status
                job = client.jobs("default").get("batch").status
                if web.available_replicas == 60 and job.succeeded == 4:
                    break
                time.sleep(0.2)
            assert (web.available_replicas, job.succeeded) == (60, 4)
            pods = client.pods("default").list().items
            used = {p.spec.node_name for p in pods if p.metadata.name.startswith("web-")}
            assert len(used) > 20, "the scheduler spreads the replicas over the hollow nodes"
        fleet = cluster_processes(data, port)
        pinnace("down", "--data-dir", str(data), env=env)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in fleet) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in fleet if alive(p)], "down stops the hollow nodes' process too"
    finally:
        down_quietly(data, env)

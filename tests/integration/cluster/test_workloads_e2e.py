"""Deployments end to end on a whole cluster with real pods: the example
workload becomes available, a killed process is restarted, a stopped kubelet
does not lead to duplicate pods, and each cascade policy of `pinnace delete`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from pinnace.client import Client, NotFound
from pinnace.localcluster.cluster import LocalCluster
from tests.waiting import stays, wait_for

REPO = Path(__file__).resolve().parents[3]


TIMEOUT = 45  # seconds: a whole cluster on a loaded machine


def cli(cluster: LocalCluster, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *cluster.cli_args, *args],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def available(client: Client, ns: str, name: str, replicas: int) -> bool:
    d = client.deployments(ns).get(name)
    return (
        d.status.observed_generation >= d.metadata.generation
        and d.status.available_replicas == replicas
        and d.status.updated_replicas == replicas
    )


def live_pods(client: Client, ns: str, selector: str) -> list[Any]:
    return [
        p
        for p in client.pods(ns).list(label_selector=selector).items
        if not p.metadata.deletion_timestamp
    ]


def container_pid(cluster: LocalCluster, pod: Any) -> int:
    """The pid of the pod's container process: the example's shell loop (its
    cwd is the pod's directory; the kubelet's wrapper around it is skipped)."""
    pod_dir = cluster.data_dir / "nodes" / pod.spec.node_name / "pods" / pod.metadata.uid
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if os.readlink(proc / "cwd") != str(pod_dir) or b"pinnace-container" in cmdline:
                continue
            if b"hello from" in cmdline:
                return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no process for pod {pod.metadata.name} in {pod_dir}")


def test_example_workload_and_rollout(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    out = cli(cluster, "apply", "-f", str(REPO / "deploy" / "examples" / "hello.yaml"), "-n", ns)
    assert out.strip() == "deployment.apps/hello created"
    wait_for(
        lambda: available(cluster_client, ns, "hello", 3), timeout=TIMEOUT, what="hello available"
    )
    pods = live_pods(cluster_client, ns, "app=hello")
    assert len(pods) == 3 and all(p.status.phase == "Running" for p in pods)
    logs = cli(cluster, "logs", pods[0].metadata.name, "-n", ns)
    assert f"hello from {pods[0].metadata.name} on {pods[0].spec.node_name}" in logs

    cli(cluster, "set", "env", "deploy/hello", "GREETING=hi", "-n", ns)
    status = cli(cluster, "rollout", "status", "deploy/hello", "-n", ns, "--timeout", "60s")
    assert 'deployment "hello" successfully rolled out' in status
    wait_for(lambda: available(cluster_client, ns, "hello", 3), timeout=TIMEOUT, what="rolled out")
    rs = cluster_client.replica_sets(ns).list(label_selector="app=hello").items
    assert sorted(r.spec.replicas for r in rs) == [0, 3]


def test_killed_process_is_restarted(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    cli(cluster, "apply", "-f", str(REPO / "deploy" / "examples" / "hello.yaml"), "-n", ns)
    wait_for(
        lambda: available(cluster_client, ns, "hello", 3), timeout=TIMEOUT, what="hello available"
    )
    victim = live_pods(cluster_client, ns, "app=hello")[0]
    os.kill(container_pid(cluster, victim), signal.SIGKILL)

    def restarted() -> bool:
        p = cluster_client.pods(ns).get(victim.metadata.name)
        return p.status.container_statuses[0].restart_count >= 1 and p.status.phase == "Running"

    wait_for(restarted, timeout=TIMEOUT, what="restartCount 1")
    names = {p.metadata.name for p in live_pods(cluster_client, ns, "app=hello")}
    assert victim.metadata.name in names and len(names) == 3, "restarted in place, not replaced"


def test_stopped_kubelet_leads_to_no_duplicates(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    """While a node's pod objects exist, the ReplicaSet counts them: stopping
    the kubelet must not make it create extra pods."""
    ns = cluster_namespace
    cli(cluster, "apply", "-f", str(REPO / "deploy" / "examples" / "hello.yaml"), "-n", ns)
    wait_for(
        lambda: available(cluster_client, ns, "hello", 3), timeout=TIMEOUT, what="hello available"
    )
    node = live_pods(cluster_client, ns, "app=hello")[0].spec.node_name
    kubelet = next(c for c in cluster.components if c.name == f"kubelet-{node}")
    kubelet.kill()
    try:
        # Watched for 5 s, past the node's grace period (3 s): by then the node
        # is Unknown and its pods not ready, which is when extra pods would come.
        stays(
            lambda: len(cluster_client.pods(ns).list(label_selector="app=hello").items) == 3,
            5,
            what="exactly 3 hello pods while the kubelet is down",
        )
    finally:
        kubelet.start()
    wait_for(
        lambda: available(cluster_client, ns, "hello", 3),
        timeout=TIMEOUT,
        what="available after the kubelet returns",
    )
    assert len(live_pods(cluster_client, ns, "app=hello")) == 3


def test_delete_cascade_policies(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    manifest = REPO / "deploy" / "examples" / "hello.yaml"
    # orphan: the ReplicaSet and pods stay, without an owner
    cli(cluster, "apply", "-f", str(manifest), "-n", ns)
    wait_for(
        lambda: available(cluster_client, ns, "hello", 3), timeout=TIMEOUT, what="hello available"
    )
    cli(cluster, "delete", "deploy", "hello", "-n", ns, "--cascade=orphan")
    rs = cluster_client.replica_sets(ns).list(label_selector="app=hello").items
    assert len(rs) == 1 and not rs[0].metadata.owner_references
    assert len(live_pods(cluster_client, ns, "app=hello")) == 3
    # background: a new Deployment adopts the orphan; deleting it removes everything
    cli(cluster, "apply", "-f", str(manifest), "-n", ns)
    wait_for(
        lambda: cluster_client.replica_sets(ns).get(rs[0].metadata.name).metadata.owner_references,
        timeout=TIMEOUT,
        what="the orphaned ReplicaSet adopted",
    )
    cli(cluster, "delete", "deploy", "hello", "-n", ns, "--cascade=foreground")
    try:
        cluster_client.deployments(ns).get("hello")
        raise AssertionError("delete --wait returns only once the owner is gone")
    except NotFound:
        pass
    assert not live_pods(cluster_client, ns, "app=hello"), "foreground: dependents went first"
    assert not cluster_client.replica_sets(ns).list(label_selector="app=hello").items

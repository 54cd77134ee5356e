"""`kubectl get` against Pinnace: the server's meta.k8s.io/v1 Tables (the
columns kubectl shows for each kind, -o wide), custom columns, -A, field
selectors and -w."""

from __future__ import annotations

import subprocess
import threading

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.integration.rest.test_kubectl_basics import DEPLOYMENT, Kubectl
from tests.kubectl import kubectl_binary
from tests.waiting import wait_for


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    return Kubectl(cluster, cluster_namespace)


def header(text: str) -> list[str]:
    return text.splitlines()[0].split()


def test_tables_with_kubectls_columns(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
    out = kubectl("get", "deployments").stdout
    assert header(out) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert out.splitlines()[1].split()[:4] == ["web", "2/2", "2", "2"]
    wide = kubectl("get", "deployments", "-o", "wide").stdout
    assert header(wide) == [
        "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR",
    ]  # fmt: skip
    assert wide.splitlines()[1].split()[5:] == ["web", "busybox", "app=web"]
    pods = kubectl("get", "pods").stdout
    assert header(pods) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[2] for line in pods.splitlines()[1:]] == ["Running", "Running"]
    pods_wide = kubectl("get", "pods", "-o", "wide").stdout
    assert header(pods_wide)[5:7] == ["IP", "NODE"]
    rs = kubectl("get", "rs").stdout
    assert header(rs) == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    nodes = kubectl("get", "nodes").stdout
    assert header(nodes) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [line.split()[1] for line in nodes.splitlines()[1:]] == ["Ready"] * 3


def test_custom_columns_all_namespaces_and_field_selectors(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
    cols = kubectl(
        "get", "pods", "-o", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase"
    ).stdout  # fmt: skip
    assert header(cols) == ["NAME", "NODE", "PHASE"]
    assert all(line.split()[2] == "Running" for line in cols.splitlines()[1:])
    everywhere = kubectl("get", "deployments", "-A").stdout
    assert header(everywhere)[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [kubectl.namespace, "web"] for line in everywhere.splitlines())
    node = cols.splitlines()[1].split()[1]
    on_node = kubectl("get", "pods", "--field-selector", f"spec.nodeName={node}", "-o", "name")
    assert on_node.stdout.strip()
    none = kubectl("get", "pods", "--field-selector", "status.phase=Failed", "-o", "name")
    assert none.stdout.strip() == ""


def test_get_watch_prints_changes(kubectl: Kubectl) -> None:
    proc = subprocess.Popen(
        [kubectl_binary(), "--kubeconfig", str(kubectl.kubeconfig), "-n", kubectl.namespace,
         "get", "deployments", "-w", "--output-watch-events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        kubectl("create", "-f", "-", input=DEPLOYMENT)
        kubectl("scale", "deployment", "web", "--replicas=1")
        wait_for(lambda: any(line.startswith("MODIFIED") for line in lines), 30, "a MODIFIED row")
    finally:
        proc.kill()
        proc.wait()
    assert lines[0].split()[:2] == ["EVENT", "NAME"]
    assert any(line.split()[:2] == ["ADDED", "web"] for line in lines)

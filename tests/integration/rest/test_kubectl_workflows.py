"""kubectl workflows against Pinnace's HTTPS API: apply (client-side three-way
merge) of several documents and of a directory, apply again after an edit,
patch of all three types, scale, set, rollout, explain, edit, delete
cascades and wait."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.integration.rest.test_kubectl_basics import DEPLOYMENT, STS_AND_DS, Kubectl
from tests.waiting import wait_for

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
"""


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    return Kubectl(cluster, cluster_namespace)


def get_json(kubectl: Kubectl, *what: str) -> dict:
    return json.loads(kubectl("get", *what, "-o", "json").stdout)


def test_apply_documents_directory_and_reapply(kubectl: Kubectl, tmp_path: Path) -> None:
    both = tmp_path / "both.yaml"
    both.write_text(DEPLOYMENT + "\n---\n" + SERVICE)
    out = kubectl("apply", "-f", str(both)).stdout
    assert "deployment.apps/web created" in out and "service/web created" in out
    applied = get_json(kubectl, "deployment", "web")
    assert "kubectl.kubernetes.io/last-applied-configuration" in applied["metadata"]["annotations"]
    # Someone else scales it; then the file is edited (a label, an env var) and applied again:
    # the three-way merge keeps the other writer's change the file never set.
    kubectl("label", "deployment", "web", "owner=ops")
    edited = DEPLOYMENT.replace(
        "labels: {app: web}\nspec:", "labels: {app: web, tier: front}\nspec:", 1
    )
    edited = edited.replace(
        'command: ["sh", "-c", "echo started; exec sleep 300"]',
        'command: ["sh", "-c", "echo started; exec sleep 300"]\n        env: [{name: MODE, value: fast}]',
    )
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "deploy.yaml").write_text(edited)
    (tmp_path / "dir" / "svc.yaml").write_text(SERVICE)
    out = kubectl("apply", "-f", str(tmp_path / "dir")).stdout
    assert "deployment.apps/web configured" in out and "service/web unchanged" in out
    now = get_json(kubectl, "deployment", "web")
    assert now["metadata"]["labels"] == {"app": "web", "tier": "front", "owner": "ops"}
    env = now["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "MODE", "value": "fast"}]
    # Removing the env var from the file removes it from the object.
    (tmp_path / "dir" / "deploy.yaml").write_text(DEPLOYMENT)
    kubectl("apply", "-f", str(tmp_path / "dir"))
    container = get_json(kubectl, "deployment", "web")["spec"]["template"]["spec"]["containers"][0]
    assert "env" not in container


@pytest.mark.parametrize(
    ("patch_type", "patch", "expected"),
    [
        ("strategic", '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:2"}]}}}}',
         "busybox:2"),
        ("merge", '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:3","command":["sleep","9"]}]}}}}',
         "busybox:3"),
        ("json", '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"busybox:4"}]',
         "busybox:4"),
    ],
    ids=["strategic", "merge", "json"],
)  # fmt: skip
def test_patch_types(kubectl: Kubectl, patch_type: str, patch: str, expected: str) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    kubectl("patch", "deployment", "web", "--type", patch_type, "-p", patch)
    image = kubectl(
        "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )
    assert image.stdout == expected


def test_scale_set_and_rollout(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    kubectl("scale", "deployment/web", "--replicas=3")
    wait_for(
        lambda: get_json(kubectl, "deployment", "web")["status"].get("readyReplicas") == 3,
        60,
        "3 ready",
    )
    kubectl("set", "env", "deployment/web", "MODE=slow")
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    kubectl("set", "image", "deployment/web", "web=busybox:1.36")
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    history = kubectl("rollout", "history", "deployment/web").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2", "3"]
    kubectl("rollout", "undo", "deployment/web")
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    image = kubectl(
        "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )
    assert image.stdout == "busybox"
    kubectl("rollout", "pause", "deployment/web")
    assert get_json(kubectl, "deployment", "web")["spec"]["paused"] is True
    kubectl("rollout", "resume", "deployment/web")
    kubectl("rollout", "restart", "deployment/web")
    annotations = get_json(kubectl, "deployment", "web")["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")


def test_explain(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment.spec.strategy").stdout
    assert "KIND:       Deployment" in out and "FIELD: strategy <DeploymentStrategy>" in out
    assert ("rollingUpdate" in out and "type\t<string>" in out.replace("  ", "\t")) or "type" in out


def test_edit_with_an_editor_script(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/replicas: 2/replicas: 4/" "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    os.environ["KUBE_EDITOR"] = str(editor)
    try:
        kubectl("edit", "deployment", "web")
    finally:
        del os.environ["KUBE_EDITOR"]
    assert get_json(kubectl, "deployment", "web")["spec"]["replicas"] == 4


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_delete_cascades_and_wait(kubectl: Kubectl, cascade: str) -> None:
    kubectl("create", "-f", "-", input=DEPLOYMENT)
    kubectl("wait", "--for=jsonpath={.status.readyReplicas}=2", "deployment/web", "--timeout=60s")
    kubectl("delete", "deployment", "web", f"--cascade={cascade}", "--wait=false")
    kubectl("wait", "--for=delete", "deployment/web", "--timeout=60s")
    if cascade == "orphan":
        rs = get_json(kubectl, "replicasets")["items"]
        assert len(rs) == 1 and not rs[0]["metadata"].get("ownerReferences")
    else:
        wait_for(
            lambda: not get_json(kubectl, "replicasets")["items"], 60, "replica sets collected"
        )


def test_cordon_and_uncordon(cluster: LocalCluster) -> None:
    k = Kubectl(cluster, "default")
    try:
        k("cordon", "node-3")
        nodes = k("get", "nodes").stdout
        assert "Ready,SchedulingDisabled" in next(
            row for row in nodes.splitlines() if row.startswith("node-3")
        )
        assert get_json(k, "node", "node-3")["spec"]["unschedulable"] is True
    finally:
        k("uncordon", "node-3")
    assert not get_json(k, "node", "node-3")["spec"].get("unschedulable")


@pytest.mark.parametrize("kind", ["statefulset/sts", "daemonset/ds"])
def test_rollout_of_statefulsets_and_daemonsets(kubectl: Kubectl, kind: str) -> None:
    kubectl("apply", "-f", "-", input=STS_AND_DS)
    kubectl("rollout", "status", kind, "--timeout=90s")
    kubectl("set", "env", kind, "MODE=2")
    kubectl("rollout", "status", kind, "--timeout=90s")
    history = kubectl("rollout", "history", kind).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    kubectl("rollout", "undo", kind)
    kubectl("rollout", "status", kind, "--timeout=90s")
    env = kubectl("get", kind, "-o", "jsonpath={.spec.template.spec.containers[0].env}")
    assert env.stdout in ("", "[]")
    kubectl("rollout", "restart", kind)
    kubectl("rollout", "status", kind, "--timeout=90s")

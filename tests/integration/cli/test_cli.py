"""The pinnace CLI against a real apiserver: verbs, output and error lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli.clirun import pinnace_cli
from tests.integration.conftest import RunningApiServer

MANIFEST = """
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
      containers:
      - {name: c, image: busybox, command: [sleep, "100"]}
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels: {app: solo}
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, "100"]}
"""


def run(
    apiserver: RunningApiServer, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return pinnace_cli(apiserver, *args, check=check, stdin=stdin)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(MANIFEST)
    return path


def test_apply_get_label_patch_delete(
    apiserver: RunningApiServer, namespace: str, manifest: Path
) -> None:
    out = run(apiserver, "apply", "-f", str(manifest), "-n", namespace).stdout
    assert out.splitlines() == ["deployment.apps/web created", "pod/solo created"]
    assert run(apiserver, "apply", "-f", str(manifest), "-n", namespace).stdout.splitlines() == [
        "deployment.apps/web unchanged",
        "pod/solo unchanged",
    ]
    table = run(apiserver, "get", "deploy", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:2] == ["web", "0/2"]
    doc = json.loads(
        run(apiserver, "get", "deployments.apps", "web", "-n", namespace, "-o", "json").stdout
    )
    assert doc["kind"] == "Deployment" and doc["spec"]["replicas"] == 2
    names = run(
        apiserver, "get", "po", "-n", namespace, "-l", "app=solo", "-o", "name"
    ).stdout.split()
    assert names == ["pod/solo"]

    run(apiserver, "label", "pod", "solo", "tier=db", "-n", namespace)
    again = run(apiserver, "label", "pod", "solo", "tier=cache", "-n", namespace, check=False)
    assert again.returncode == 1 and "--overwrite" in again.stderr
    run(apiserver, "patch", "deploy", "web", "-n", namespace, "-p", '{"spec":{"replicas":4}}')
    doc = json.loads(run(apiserver, "get", "deploy", "web", "-n", namespace, "-o", "json").stdout)
    assert doc["spec"]["replicas"] == 4 and doc["metadata"]["generation"] == 2
    labels = json.loads(run(apiserver, "get", "pod", "solo", "-n", namespace, "-o", "json").stdout)[
        "metadata"
    ]["labels"]
    assert labels == {"app": "solo", "tier": "db"}

    out = run(apiserver, "delete", "-f", str(manifest), "-n", namespace).stdout
    assert out.splitlines() == ["deployment.apps/web deleted", "pod/solo deleted"]


def test_errors_are_one_line_and_non_zero(
    apiserver: RunningApiServer, namespace: str, tmp_path: Path
) -> None:
    missing = run(apiserver, "get", "pod", "nope", "-n", namespace, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    unknown = run(apiserver, "get", "widgets", check=False)
    assert unknown.returncode == 1 and 'doesn\'t have a resource type "widgets"' in unknown.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containerz: []}\n")
    result = run(apiserver, "apply", "-f", str(bad), "-n", namespace, check=False)
    assert result.returncode == 1 and "spec.containerz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_wait_and_describe(apiserver: RunningApiServer, namespace: str, manifest: Path) -> None:
    run(apiserver, "create", "-f", str(manifest), "-n", namespace)
    out = run(
        apiserver,
        "wait",
        "pod/solo",
        "-n",
        namespace,
        "--for=jsonpath={.status.phase}=Pending",
        "--timeout=10s",
    )
    assert out.stdout.strip() == "pod/solo condition met"
    timeout = run(
        apiserver,
        "wait",
        "pod/solo",
        "-n",
        namespace,
        "--for=condition=Ready",
        "--timeout=1s",
        check=False,
    )
    assert timeout.returncode == 1 and "timed out" in timeout.stderr
    text = run(apiserver, "describe", "pod", "solo", "-n", namespace).stdout
    assert text.startswith("Name:         solo") and f"Namespace:    {namespace}" in text
    run(apiserver, "delete", "pod", "solo", "-n", namespace, "--wait")  # bare, as kubectl
    out = run(apiserver, "wait", "pod/solo", "-n", namespace, "--for=delete", "--timeout=10s")
    assert "condition met" in out.stdout


def test_api_resources_and_version(apiserver: RunningApiServer) -> None:
    lines = run(apiserver, "api-resources").stdout.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert any(line.split()[:2] == ["deployments", "deploy"] for line in lines)
    assert "Server Version: pinnace" in run(apiserver, "version").stdout


def test_get_watch_prints_changes(
    apiserver: RunningApiServer, namespace: str, tmp_path: Path
) -> None:
    """get -w lists, then prints one line per change."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pinnace.cli.main",
            *apiserver.cli_args,
            "get",
            "pods",
            "-n",
            namespace,
            "-w",
            "-o",
            "name",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        manifest = tmp_path / "pod.yaml"
        manifest.write_text(MANIFEST.split("---")[1])
        run(apiserver, "create", "-f", str(manifest), "-n", namespace)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "pod/solo"
        run(apiserver, "label", "pod", "solo", "seen=yes", "-n", namespace)
        assert proc.stdout.readline().strip() == "pod/solo"
    finally:
        proc.kill()
        proc.wait(5)

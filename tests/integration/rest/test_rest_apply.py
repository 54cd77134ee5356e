"""Server-side apply through the Kubernetes HTTP API of a real apiserver (on
the session etcd, plain HTTP): the real kubectl's ``apply --server-side``
(create, change, a conflict after ``kubectl scale``, ``--force-conflicts``,
``--show-managed-fields``), and the raw PATCH shapes (codes, Status causes)."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kubectl import run_kubectl

APPLY = "application/apply-patch+yaml"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web{extra_label}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: {image}
        command: ["sleep", "300"]
"""


def manifest(image: str = "busybox:1", extra_label: str = "") -> str:
    return DEPLOYMENT.format(image=image, extra_label=extra_label)


class Api:
    """Plain HTTP calls and kubectl against one apiserver's REST listener."""

    def __init__(self, base: str, context: ssl.SSLContext, kubeconfig: Path) -> None:
        self.base = base
        self.context = context  # TLS as the cluster's admin
        self.kubeconfig = kubeconfig

    def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str = APPLY
    ) -> tuple[int, Any]:
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def kubectl(
        self, ns: str, *args: str, input: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = run_kubectl(self.kubeconfig, "-n", ns, *args, input=input)
        if ok:
            assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
        return result

    def namespace(self) -> str:
        name = f"ssa-{uuid.uuid4().hex[:8]}"
        body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        code, _ = self.call("POST", "/api/v1/namespaces", body.encode(), "application/json")
        assert code == 201
        return name


@pytest.fixture(scope="module")
def api(start_apiserver: Callable[..., Any]) -> Api:
    server = start_apiserver(rest=True)
    return Api(server.rest_url, server.https_context(), server.kubeconfig)


def managers(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (e["manager"], e["operation"], e.get("subresource", ""))
        for e in obj["metadata"].get("managedFields", [])
    ]


def test_kubectl_apply_server_side(api: Api, tmp_path: Path) -> None:
    ns = api.namespace()
    path = tmp_path / "deploy.yaml"
    path.write_text(manifest(extra_label=", tier: front"))

    created = api.kubectl(ns, "apply", "--server-side", "-f", str(path))
    assert "deployment.apps/web serverside-applied" in created.stdout
    got = json.loads(
        api.kubectl(ns, "get", "deploy", "web", "-o", "json", "--show-managed-fields").stdout
    )
    assert ("kubectl", "Apply", "") in managers(got)
    assert got["metadata"]["labels"] == {"app": "web", "tier": "front"}

    # Re-apply with a new image and without the tier label: both follow.
    path.write_text(manifest(image="busybox:2"))
    api.kubectl(ns, "apply", "--server-side", "-f", str(path))
    got = json.loads(
        api.kubectl(ns, "get", "deploy", "web", "-o", "json", "--show-managed-fields").stdout
    )
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    assert got["metadata"]["labels"] == {"app": "web"}
    assert ("kubectl", "Apply", "") in managers(got)

    # kubectl scale takes .spec.replicas; applying 2 again conflicts with it.
    api.kubectl(ns, "scale", "deploy", "web", "--replicas=5")
    refused = api.kubectl(ns, "apply", "--server-side", "-f", str(path), ok=False)
    assert refused.returncode != 0
    assert (
        'error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale"'
        " using apps/v1: .spec.replicas\n"
    ) in refused.stderr, refused.stderr
    replicas = api.kubectl(ns, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}")
    assert replicas.stdout == "5"

    api.kubectl(ns, "apply", "--server-side", "--force-conflicts", "-f", str(path))
    replicas = api.kubectl(ns, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}")
    assert replicas.stdout == "2"

    shown = api.kubectl(ns, "get", "deploy", "web", "-o", "yaml", "--show-managed-fields")
    fields = yaml.safe_load(shown.stdout)["metadata"]["managedFields"]
    applier = next(e for e in fields if e["operation"] == "Apply")
    assert applier["manager"] == "kubectl" and applier["fieldsType"] == "FieldsV1"
    assert "f:replicas" in applier["fieldsV1"]["f:spec"]
    plain = api.kubectl(ns, "get", "deploy", "web", "-o", "yaml")
    assert "managedFields" not in plain.stdout


def test_apply_over_http(api: Api) -> None:
    ns = api.namespace()
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    body = manifest().encode()

    code, status = api.call("PATCH", path, body)
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )

    code, obj = api.call("PATCH", path + "?fieldManager=alice", body)
    assert code == 201, obj  # the apply created it
    assert managers(obj) == [("alice", "Apply", "")]
    code, _ = api.call("PATCH", path + "?fieldManager=alice", body)
    assert code == 200  # the same apply again changes nothing

    # Another applier with the same value shares the field; a different one conflicts.
    same = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 2}})
    code, obj = api.call("PATCH", path + "?fieldManager=bob", same.encode())
    assert code == 200 and managers(obj) == [("alice", "Apply", ""), ("bob", "Apply", "")]
    other = same.replace('"replicas": 2', '"replicas": 3').encode()
    code, status = api.call("PATCH", path + "?fieldManager=carol", other)
    assert code == 409 and status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n'
        'conflicts with "bob":\n- .spec.replicas'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "alice"',
            "field": ".spec.replicas",
        },
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "bob"',
            "field": ".spec.replicas",
        },
    ]
    code, obj = api.call("PATCH", path + "?fieldManager=carol&force=true", other)
    assert code == 200 and obj["spec"]["replicas"] == 3
    assert ("carol", "Apply", "") in managers(obj)

    # A merge patch records an Update by the User-Agent's first token.
    merge = json.dumps({"spec": {"replicas": 4}}).encode()
    code, obj = api.call("PATCH", path, merge, "application/merge-patch+json")
    assert code == 200
    assert ("Python-urllib", "Update", "") in managers(obj)

    code, status = api.call("PATCH", path + "?fieldManager=alice", b"spec: {bogus: 1}")
    assert code == 400 and status["reason"] == "BadRequest"


def test_client_side_then_server_side_apply(api: Api, tmp_path: Path) -> None:
    """kubectl's client-side apply records an Update by
    kubectl-client-side-apply; a --server-side apply of the manifest, edited,
    takes over the fields the last-applied annotation still describes (as
    kube-apiserver lets "kubectl" do), and kubectl then folds the client-side
    entry into its own."""
    ns = api.namespace()
    path = tmp_path / "deploy.yaml"
    path.write_text(manifest())
    api.kubectl(ns, "apply", "-f", str(path))
    got = json.loads(
        api.kubectl(ns, "get", "deploy", "web", "-o", "json", "--show-managed-fields").stdout
    )
    assert ("kubectl-client-side-apply", "Update", "") in managers(got)

    path.write_text(manifest(image="busybox:3"))
    api.kubectl(ns, "apply", "--server-side", "-f", str(path))
    got = json.loads(
        api.kubectl(ns, "get", "deploy", "web", "-o", "json", "--show-managed-fields").stdout
    )
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:3"
    owners = managers(got)
    assert ("kubectl", "Apply", "") in owners
    assert not [m for m in owners if m[0] == "kubectl-client-side-apply"], owners
    last = json.loads(
        got["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert last["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:3"

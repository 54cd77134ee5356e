"""A real kubectl creating objects the way it sends them: ``kubectl create
<kind>`` goes through client-go's typed clients, which send the body as
``application/vnd.kubernetes.protobuf`` (and do not fall back to JSON on a
415). The apiserver reads Kubernetes' protobuf encoding into the JSON
shape (pinnace/machinery/k8sproto) and creates what kubectl asked for."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kubectl import run_kubectl

PROTOBUF = "application/vnd.kubernetes.protobuf"


@pytest.fixture(scope="module")
def kubeconfig(start_apiserver: Callable[..., Any]) -> Path:
    """A kubeconfig for kubectl to reach an apiserver's HTTP API as the admin."""
    return start_apiserver(rest=True).kubeconfig  # type: ignore[no-any-return]


def kubectl(kubeconfig: Path, *args: str) -> str:
    result = run_kubectl(kubeconfig, *args)
    assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
    return result.stdout


def get(kubeconfig: Path, namespace: str, what: str) -> dict[str, Any]:
    return json.loads(kubectl(kubeconfig, "get", what, "-n", namespace, "-o", "json"))


def test_kubectl_create_sends_protobuf(kubeconfig: Path) -> None:
    """The premise: kubectl's create deployment body is protobuf (-v=8 logs
    the request headers)."""
    ns = f"pb-{uuid.uuid4().hex[:8]}"
    kubectl(kubeconfig, "create", "namespace", ns)
    result = run_kubectl(
        kubeconfig, "-v=8", "create", "deployment", "probe", "--image=nginx", "-n", ns
    )
    assert result.returncode == 0, result.stderr
    assert f"Content-Type: {PROTOBUF}" in result.stderr


def test_kubectl_create_kinds(kubeconfig: Path) -> None:
    ns = f"pb-{uuid.uuid4().hex[:8]}"
    assert f"namespace/{ns} created" in kubectl(kubeconfig, "create", "namespace", ns)
    assert get(kubeconfig, "default", f"namespace/{ns}")["metadata"]["name"] == ns

    kubectl(
        kubeconfig,
        *("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", ns),
        *("--", "sleep", "100"),
    )
    deploy = get(kubeconfig, ns, "deploy/web")
    assert deploy["metadata"]["labels"] == {"app": "web"}
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    template = deploy["spec"]["template"]
    assert template["metadata"]["labels"] == {"app": "web"}
    (container,) = template["spec"]["containers"]
    assert (container["name"], container["image"]) == ("nginx", "nginx")
    assert container["command"] == ["sleep", "100"]

    kubectl(kubeconfig, "create", "job", "j", "--image=busybox", "-n", ns, "--", "echo", "hi")
    job = get(kubeconfig, ns, "job/j")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["command"]) == ("busybox", ["echo", "hi"])
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"

    kubectl(kubeconfig, "create", "service", "clusterip", "s", "--tcp=80:8080", "-n", ns)
    service = get(kubeconfig, ns, "service/s")
    assert service["spec"]["type"] == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"], port["protocol"]) == (80, 8080, "TCP")
    assert service["spec"]["selector"] == {"app": "s"}


def test_kubectl_create_job_from_cronjob(kubeconfig: Path) -> None:
    """The Job kubectl builds from a CronJob carries an owner reference and
    kubectl's annotation, all through the protobuf body."""
    ns = f"pb-{uuid.uuid4().hex[:8]}"
    kubectl(kubeconfig, "create", "namespace", ns)
    kubectl(
        kubeconfig,
        *("create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "-n", ns),
        *("--", "date"),
    )
    cronjob = get(kubeconfig, ns, "cronjob/cj")
    assert cronjob["spec"]["schedule"] == "*/5 * * * *"
    kubectl(kubeconfig, "create", "job", "manual", "--from=cronjob/cj", "-n", ns)
    job = get(kubeconfig, ns, "job/manual")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    (owner,) = job["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == (
        "CronJob",
        "cj",
        cronjob["metadata"]["uid"],
    )
    assert owner["controller"] is True
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["date"]

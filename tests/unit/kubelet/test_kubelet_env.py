"""kubelet.env: $(VAR) expansion, downward API, command lines."""

from __future__ import annotations

import pytest

from kubelet.env import ConfigError, command_line, container_env, expand
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("$(A)", "1", id="defined"),
        pytest.param("x$(A)y$(B)z", "x1y2z", id="several"),
        pytest.param("$(MISSING)", "$(MISSING)", id="undefined-kept"),
        pytest.param("$$(A)", "$(A)", id="escaped"),
        pytest.param("$$", "$", id="dollar-dollar"),
        pytest.param("a$", "a$", id="trailing-dollar"),
        pytest.param("$(A", "$(A", id="unclosed"),
        pytest.param("$A", "$A", id="shell-style-untouched"),
        pytest.param("$()", "$()", id="empty-name"),
        pytest.param("$$$(A)", "$1", id="escape-then-ref"),
    ],
)
def test_expand(text: str, want: str) -> None:
    assert expand(text, {"A": "1", "B": "2"}) == want


def _pod(container: dict) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": "ns", "uid": "u-1", "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "serviceAccountName": "sa", "containers": [container]},
        },
    )


def test_container_env_order_field_refs_and_resources() -> None:
    ctr = {
        "name": "c",
        "command": ["echo", "$(GREETING)", "$(NOPE)"],
        "args": ["$(POD)"],
        "resources": {"requests": {"memory": "64Mi"}, "limits": {"cpu": "250m"}},
        "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "GREETING", "value": "hi-$(POD)-$(LATER)"},
            {"name": "LATER", "value": "x"},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {
                "name": "MEM_MI",
                "valueFrom": {
                    "resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}
                },
            },
            {"name": "MEM_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}},
        ],
    }
    pod = _pod(ctr)
    env = container_env(
        pod,
        pod.spec.containers[0],
        host_ip="10.0.0.2",
        pod_ip="10.0.0.3",
        pod_dir="/pods/u-1",
        allocatable={"memory": "1Gi"},
    )
    assert (
        env["POD"] == "p" and env["APP"] == "web" and env["SA"] == "sa" and env["IP"] == "10.0.0.3"
    )
    assert env["GREETING"] == "hi-p-$(LATER)"  # only earlier variables expand
    assert env["CPU"] == "1" and env["MEM_MI"] == "64" and env["MEM_LIMIT"] == str(1024**3)
    assert env["HOSTNAME"] == "p" and env["PINNACE_POD_DIR"] == "/pods/u-1" and env["PATH"]
    assert command_line(pod.spec.containers[0], env) == ["echo", "hi-p-$(LATER)", "$(NOPE)", "p"]


def test_config_errors() -> None:
    pod = _pod({"name": "c", "image": "nginx"})
    with pytest.raises(ConfigError, match="no command"):
        command_line(pod.spec.containers[0], {})
    pod = _pod(
        {
            "name": "c",
            "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
        }
    )
    with pytest.raises(ConfigError, match="Secrets"):
        container_env(pod, pod.spec.containers[0], host_ip="", pod_ip="", pod_dir="/")
    pod = _pod(
        {"name": "c", "env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.nope"}}}]}
    )
    with pytest.raises(ConfigError, match=r"spec\.nope"):
        container_env(pod, pod.spec.containers[0], host_ip="", pod_ip="", pod_dir="/")

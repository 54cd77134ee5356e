"""A real kubelet gives containers the Service variables of the Services
that exist when they start (envvars.py), unless enableServiceLinks is false."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pinnace.api.core.v1 import service_pb2
from pinnace.client import Client
from pinnace.machinery import codec
from tests.integration.kubelet.helpers import make_pod, run_pod, wait_for


def _env_of(kubelet: Any, uid: str) -> dict[str, str]:
    """The container's environment as it wrote it to env.txt (in the pod directory)."""
    out: Path = kubelet.root / "pods" / uid / "env.txt"
    text = wait_for(lambda: out.exists() and out.read_text().endswith("END\n"), what="env.txt")
    assert text
    pairs = (line.partition("=") for line in out.read_text().splitlines())
    return {k: v for k, _, v in pairs}


def _dump_env_pod(name: str, **spec: Any) -> Any:
    return make_pod(
        name,
        [
            {
                "name": "main",
                "command": ["sh", "-c", "env > env.txt; echo END >> env.txt; exec sleep 300"],
                "env": [
                    {"name": "URL", "value": "http://$(MY_SVC_SERVICE_HOST):$(MY_SVC_SERVICE_PORT)"}
                ],
            }
        ],
        **spec,
    )


def test_service_variables_and_enable_service_links(
    client: Client, namespace: str, kubelet: Any
) -> None:
    svc = client.services(namespace).create(
        codec.from_dict(
            service_pb2.Service,
            {
                "metadata": {"name": "my-svc"},
                "spec": {
                    "selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
                },
            },
        )
    )
    ip = svc.spec.cluster_ip
    assert ip and ip != "None"

    linked = run_pod(client, namespace, kubelet.node, _dump_env_pod("linked"))
    env = _env_of(kubelet, linked.metadata.uid)
    assert env["MY_SVC_SERVICE_HOST"] == ip
    assert env["MY_SVC_SERVICE_PORT"] == "80"
    assert env["MY_SVC_SERVICE_PORT_HTTP"] == "80"
    assert env["MY_SVC_PORT"] == f"tcp://{ip}:80"
    assert env["MY_SVC_PORT_80_TCP_ADDR"] == ip
    assert env["URL"] == f"http://{ip}:80"

    unlinked = run_pod(
        client, namespace, kubelet.node, _dump_env_pod("unlinked", enableServiceLinks=False)
    )
    env = _env_of(kubelet, unlinked.metadata.uid)
    assert not [k for k in env if k.startswith("MY_SVC_")]
    assert env["URL"] == "http://$(MY_SVC_SERVICE_HOST):$(MY_SVC_SERVICE_PORT)"

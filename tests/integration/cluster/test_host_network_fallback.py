"""Pods on the host's network (a kubelet without root, here `--pod-network
host`): replicas of a server with a fixed containerPort do not crash-loop on
"Address already in use"; those that cannot get the port stay Pending with
Kubernetes' reason. The three kubelets share this machine, so they share one
port space: one replica runs, three wait."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.client import Client
from pinnace.localcluster.cluster import ClusterConfig, LocalCluster
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec
from tests.integration.conftest import FAST_CLUSTER_FLAGS
from tests.waiting import wait_for

TIMEOUT = 60
REASON = "didn't have free ports for the requested pod ports"


@pytest.fixture
def host_network_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    flags = {k: list(v) for k, v in FAST_CLUSTER_FLAGS.items()}
    flags["kubelet"] = [*flags["kubelet"], "--pod-network", "host"]
    lc = LocalCluster(
        ClusterConfig(
            data_dir=tmp_path / "cluster",
            nodes=3,
            port=free_port(),
            extra_component_flags=flags,
            cluster_cidr="10.249.0.0/16",
            service_cidr="10.116.0.0/16",
        )
    )
    try:
        lc.start(timeout=60)
        yield lc
    finally:
        lc.stop()


def server(replicas: int) -> deployment_pb2.Deployment:
    container = {
        "name": "web",
        "image": "python",
        "command": ["python3", "-m", "http.server", "18080", "--bind", "127.0.0.1"],
        "ports": [{"containerPort": 18080}],
    }
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [container], "terminationGracePeriodSeconds": 1},
                },
            },
        },
    )


def test_colliding_replicas_wait_instead_of_crash_looping(
    host_network_cluster: LocalCluster,
) -> None:
    with Client(config=host_network_cluster.client_config(), timeout=10) as client:
        nodes = client.nodes().list().items
        assert {n.metadata.annotations["pinnace.io/pod-network"] for n in nodes} == {"host"}
        client.deployments("default").create(server(4))

        def settled() -> tuple[list, list] | None:
            pods = client.pods("default").list(label_selector="app=web").items
            running = [p for p in pods if p.status.phase == "Running"]
            pending = [
                p
                for p in pods
                if any(
                    c.type == "PodScheduled" and c.status == "False" and REASON in c.message
                    for c in p.status.conditions
                )
            ]
            return (running, pending) if len(running) == 1 and len(pending) == 3 else None

        running, pending = wait_for(settled, TIMEOUT, "1 Running and 3 Pending for ports")
        pod = running[0]
        assert pod.status.pod_ip == "127.0.0.1"  # the node's IP: the host's network
        assert pod.status.container_statuses[0].restart_count == 0
        message = next(c.message for c in pending[0].status.conditions if c.type == "PodScheduled")
        assert message.startswith("0/3 nodes are available: 3 node(s) " + REASON), message

"""kubelet.admission: what fits on the node."""

from __future__ import annotations

import pytest

from kubelet.admission import admit, pod_requests
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec

ALLOC = {"cpu": "2", "memory": "1Gi", "pods": "3"}
LABELS = {"zone": "a", "kubernetes.io/hostname": "n1"}


def pod(
    cpu: str = "",
    memory: str = "",
    host_port: int = 0,
    selector: dict | None = None,
    init_cpu: str = "",
) -> pod_pb2.Pod:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    ctr: dict = {"name": "c", "resources": {"requests": requests}}
    if host_port:
        ctr["ports"] = [{"containerPort": 80, "hostPort": host_port, "protocol": "TCP"}]
    spec: dict = {"containers": [ctr], "nodeSelector": selector or {}}
    if init_cpu:
        spec["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": init_cpu}}}]
    return codec.from_dict(pod_pb2.Pod, {"metadata": {"name": "p"}, "spec": spec})


@pytest.mark.parametrize(
    ("new", "existing", "reason"),
    [
        pytest.param(pod(cpu="1"), [pod(cpu="1")], None, id="fits-exactly"),
        pytest.param(pod(cpu="1500m"), [pod(cpu="1")], "OutOfcpu", id="cpu"),
        pytest.param(pod(memory="600Mi"), [pod(memory="500Mi")], "OutOfmemory", id="memory"),
        pytest.param(pod(), [pod(), pod(), pod()], "OutOfpods", id="pods"),
        pytest.param(pod(selector={"zone": "b"}), [], "NodeAffinity", id="selector"),
        pytest.param(pod(selector={"zone": "a"}), [], None, id="selector-ok"),
        pytest.param(pod(host_port=8080), [pod(host_port=8080)], "NodePorts", id="host-port"),
        pytest.param(pod(host_port=8081), [pod(host_port=8080)], None, id="other-port"),
        pytest.param(pod(init_cpu="3"), [], "OutOfcpu", id="init-container-max"),
    ],
)
def test_admit(new, existing, reason) -> None:
    got = admit(new, node_labels=LABELS, allocatable=ALLOC, admitted=existing)
    assert (got.reason if got else None) == reason
    if got:
        assert got.message.startswith("Pod was rejected: ")


def test_message_and_requests() -> None:
    got = admit(pod(cpu="1500m"), node_labels=LABELS, allocatable=ALLOC, admitted=[pod(cpu="1")])
    assert (
        got.message
        == "Pod was rejected: Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000"
    )
    assert pod_requests(pod(cpu="250m", memory="1Ki", init_cpu="500m")) == {
        "cpu": 500,
        "memory": 1024,
    }


def ported(*ports: dict) -> pod_pb2.Pod:
    spec = {"containers": [{"name": "c", "ports": list(ports)}]}
    return codec.from_dict(pod_pb2.Pod, {"metadata": {"name": "p"}, "spec": spec})


@pytest.mark.parametrize(
    ("new", "existing", "host_network", "reason"),
    [
        pytest.param(
            ported({"containerPort": 8080}),
            [ported({"containerPort": 8080})],
            True,
            "NodePorts",
            id="host-network-container-ports-clash",
        ),
        pytest.param(
            ported({"containerPort": 8080}),
            [ported({"containerPort": 8080})],
            False,
            None,
            id="bridge-container-ports-free",
        ),
        pytest.param(
            ported({"containerPort": 8080}),
            [ported({"containerPort": 8081})],
            True,
            None,
            id="host-network-other-port",
        ),
        pytest.param(
            ported({"containerPort": 53, "protocol": "UDP"}),
            [ported({"containerPort": 53, "protocol": "TCP"})],
            True,
            None,
            id="host-network-other-protocol",
        ),
        pytest.param(
            ported({"containerPort": 9090}),
            [ported({"containerPort": 80, "hostPort": 9090})],
            True,
            "NodePorts",
            id="host-network-hostport-counts",
        ),
        pytest.param(
            ported({"containerPort": 80}),
            [ported({"containerPort": 80, "hostPort": 9090})],
            True,
            "NodePorts",
            id="host-network-container-port-behind-hostport",
        ),
        pytest.param(
            ported({"containerPort": 80, "hostIP": "10.0.0.2"}),
            [ported({"containerPort": 80, "hostIP": "10.0.0.1"})],
            True,
            None,
            id="host-network-other-ips",
        ),
    ],
)
def test_admit_host_network_ports(new, existing, host_network, reason) -> None:
    got = admit(
        new,
        node_labels=LABELS,
        allocatable=ALLOC,
        admitted=existing,
        host_network_ports=host_network,
    )
    assert (got.reason if got else None) == reason
    if got:
        assert got.message == (
            "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports "
            "for the requested pod ports"
        )

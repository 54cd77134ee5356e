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

"""Pod requests as Kubernetes' PodRequests computes them."""

from __future__ import annotations

import pytest

from pinnace.api.core.v1 import node_pb2
from pinnace.machinery import codec
from scheduler.resources import Resources, node_allocatable, pod_requests
from tests.unit.scheduler.builders import pod

MI = 1024 * 1024


def container(name: str, cpu: str = "", memory: str = "", *, limits: dict | None = None, **extra):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"name": name, "resources": {"requests": requests, "limits": limits or {}}, **extra}


@pytest.mark.parametrize(
    ("spec", "want", "want_non_zero"),
    [
        pytest.param(
            {"containers": [container("a", "100m", "64Mi"), container("b", "200m", "64Mi")]},
            Resources(300, 128 * MI),
            Resources(300, 128 * MI),
            id="containers-summed",
        ),
        pytest.param(
            {"containers": [container("a")]},
            Resources(0, 0),
            Resources(100, 200 * MI),
            id="no-requests-zero-for-fit-defaults-for-score",
        ),
        pytest.param(
            {"containers": [container("a", limits={"cpu": "1", "memory": "1Gi"})]},
            Resources(1000, 1024 * MI),
            Resources(1000, 1024 * MI),
            id="limits-when-no-requests",
        ),
        pytest.param(
            {
                "initContainers": [container("init", "500m", "10Mi")],
                "containers": [container("a", "100m", "64Mi"), container("b", "200m", "64Mi")],
            },
            Resources(500, 128 * MI),
            Resources(500, 128 * MI),
            id="init-max-per-resource",
        ),
        pytest.param(
            {
                "initContainers": [
                    container("sidecar", "100m", "10Mi", restartPolicy="Always"),
                    container("init", "500m", "10Mi"),
                ],
                "containers": [container("a", "100m", "10Mi")],
            },
            Resources(600, 20 * MI),
            Resources(600, 20 * MI),
            id="sidecar-runs-alongside-later-init-and-containers",
        ),
        pytest.param(
            {"containers": [container("a", "100m", "64Mi")], "overhead": {"cpu": "50m"}},
            Resources(150, 64 * MI),
            Resources(150, 64 * MI),
            id="overhead-added",
        ),
        pytest.param(
            {
                "containers": [container("a", "100m", "64Mi")],
                "resources": {"requests": {"cpu": "2"}},
            },
            Resources(2000, 64 * MI),
            Resources(2000, 64 * MI),
            id="pod-level-requests-win",
        ),
    ],
)
def test_pod_requests(spec, want, want_non_zero):
    p = pod(spec=spec)
    assert pod_requests(p) == want
    assert pod_requests(p, non_zero=True) == want_non_zero


def test_node_allocatable_falls_back_to_capacity():
    n = codec.from_dict(
        node_pb2.Node,
        {
            "metadata": {"name": "n"},
            "status": {
                "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                "allocatable": {"cpu": "7500m"},
            },
        },
    )
    alloc = node_allocatable(n)
    assert (alloc.milli_cpu, alloc.memory, alloc.pods) == (7500, 16 * 1024 * MI, 110)

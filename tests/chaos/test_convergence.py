"""Convergence of the chaos run's workloads (tests/chaos/convergence.py) on
hand-made objects: each kind converged, and each way of not being so."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.apps.v1 import daemonset_pb2
from pinnace.machinery import codec
from tests.chaos import convergence
from tests.chaos.handmade import deployment, job, node, pod, replica_set, statefulset, tracked

NODES = [node("n1"), node("n2")]


def _merge(obj: Any, status: dict[str, Any]) -> Any:
    out = type(obj)()
    out.CopyFrom(obj)
    codec.from_dict(out.status, status)
    return out


WEB = _merge(
    deployment("web", 2),
    {
        "observedGeneration": 1,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
    },
)
RS, OLD_RS = replica_set("web-1", WEB, 2), replica_set("web-0", WEB, 0)
WEB_PODS = [pod("web-1-a", RS), pod("web-1-b", RS)]

DB = statefulset("db")
DB.spec.replicas = 2
DB = _merge(
    DB,
    {
        "observedGeneration": 0,
        "replicas": 2,
        "readyReplicas": 2,
        "currentReplicas": 2,
        "updatedReplicas": 2,
        "currentRevision": "r1",
        "updateRevision": "r1",
    },
)
DB_PODS = [pod("db-0", DB), pod("db-1", DB)]
J_DONE = job("j", succeeded=1)
AGENT = codec.from_dict(
    daemonset_pb2.DaemonSet,
    {
        "metadata": {"name": "agent", "namespace": "ns", "uid": "uid-agent"},
        "status": {
            key: 2
            for key in (
                "desiredNumberScheduled",
                "currentNumberScheduled",
                "updatedNumberScheduled",
                "numberReady",
                "numberAvailable",
            )
        },
    },
)
AGENT_PODS = [pod("agent-a", AGENT, on="n1"), pod("agent-b", AGENT, on="n2")]


def objects(**changes: list[Any]) -> dict[str, list[Any]]:
    base: dict[str, list[Any]] = {
        "deployments": [WEB],
        "replicasets": [RS, OLD_RS],
        "statefulsets": [DB],
        "daemonsets": [AGENT],
        "jobs": [J_DONE],
        "pods": [*WEB_PODS, *DB_PODS, *AGENT_PODS, tracked("j-a", J_DONE, "Succeeded")],
    }
    return base | changes


CASES = [
    pytest.param(objects(), NODES, [], id="converged"),
    pytest.param(
        objects(), [node("n1", ready=False), NODES[1]], ["node n1 not Ready"], id="node-down"
    ),
    pytest.param(
        objects(deployments=[_merge(WEB, {"availableReplicas": 1})]),
        NODES,
        ["deployment web: replicas/updated/ready/available (2, 2, 2, 1), want 2"],
        id="deployment-status",
    ),
    pytest.param(
        objects(pods=[WEB_PODS[0], *DB_PODS, *AGENT_PODS]),
        NODES,
        ["deployment web: 1 active pods, want 2"],
        id="deployment-pod-missing",
    ),
    pytest.param(
        objects(replicasets=[RS, replica_set("web-0", WEB, 1)]),
        NODES,
        ["deployment web: 2 ReplicaSets with replicas"],
        id="deployment-old-replicaset",
    ),
    pytest.param(
        objects(pods=[*WEB_PODS, DB_PODS[0], pod("db-2", DB), *AGENT_PODS]),
        NODES,
        ["statefulset db: pods ['db-0', 'db-2']"],
        id="statefulset-identities",
    ),
    pytest.param(
        objects(pods=[*WEB_PODS, *DB_PODS, AGENT_PODS[0], pod("agent-c", AGENT, on="n1")]),
        NODES,
        ["daemonset agent: pods on ['n1', 'n1'], want one on each of ['n1', 'n2']"],
        id="daemonset-two-on-a-node",
    ),
    pytest.param(
        objects(jobs=[job("j", finished="")]),
        NODES,
        ["job j: not finished"],
        id="job-running",
    ),
    pytest.param(
        objects(pods=[*WEB_PODS, *DB_PODS, *AGENT_PODS, pod("x", deleting=True)]),
        NODES,
        ["pod x being deleted"],
        id="pod-terminating",
    ),
]


@pytest.mark.parametrize(("listed", "nodes", "want"), CASES)
def test_problems(listed: dict[str, list[Any]], nodes: list[Any], want: list[str]) -> None:
    assert convergence.problems(listed, nodes) == want

"""The Pod row's READY, STATUS and RESTARTS cells through printPod's cases:
init containers, sidecars, waiting and terminated reasons, deletion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec, printers

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
TEN_MIN_AGO = "2026-01-01T11:50:00Z"


def running(name: str, *, ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}}


def waiting(name: str, reason: str, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}


def terminated(name: str, code: int, reason: str = "", signal: int = 0) -> dict[str, Any]:
    state = {"exitCode": code, "reason": reason, "signal": signal}
    return {"name": name, "state": {"terminated": {k: v for k, v in state.items() if v}}}


def pod(
    *,
    containers: tuple[str, ...] = ("app",),
    init: tuple[dict[str, Any], ...] = (),
    deleting: bool = False,
    **status: Any,
) -> pod_pb2.Pod:
    meta: dict[str, Any] = {"name": "p", "creationTimestamp": TEN_MIN_AGO}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T11:59:00Z"
    spec = {"containers": [{"name": c, "image": "i"} for c in containers], "initContainers": init}
    return codec.from_dict(pod_pb2.Pod, {"metadata": meta, "spec": spec, "status": status})


def ready_status_restarts(p: pod_pb2.Pod) -> list[Any]:
    return printers.row_cells(p, NOW)[1:4]


INIT = ({"name": "setup", "image": "i"}, {"name": "migrate", "image": "i"})
SIDECAR = {"name": "proxy", "image": "i", "restartPolicy": "Always"}
INITIALIZED = [{"type": "Initialized", "status": "True"}]

CASES = {
    "pending-no-status": (pod(phase="Pending"), ["0/1", "Pending", "0"]),
    "status-reason-wins": (pod(phase="Failed", reason="Evicted"), ["0/1", "Evicted", "0"]),
    "scheduling-gated": (
        pod(
            phase="Pending",
            conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
        ),
        ["0/1", "SchedulingGated", "0"],
    ),
    "running-not-ready": (
        pod(phase="Running", containerStatuses=[running("app", ready=False)]),
        ["0/1", "Running", "0"],
    ),
    "crash-loop": (
        pod(
            phase="Running",
            containerStatuses=[
                {
                    **waiting("app", "CrashLoopBackOff", restarts=4),
                    "lastState": {
                        "terminated": {"exitCode": 1, "finishedAt": "2026-01-01T11:58:00Z"}
                    },
                }
            ],
        ),
        ["0/1", "CrashLoopBackOff", "4 (2m ago)"],
    ),
    "exit-code": (
        pod(phase="Running", containerStatuses=[terminated("app", 3)]),
        ["0/1", "ExitCode:3", "0"],
    ),
    "signal": (
        pod(phase="Running", containerStatuses=[terminated("app", 137, signal=9)]),
        ["0/1", "Signal:9", "0"],
    ),
    "completed": (
        pod(phase="Succeeded", containerStatuses=[terminated("app", 0, "Completed")]),
        ["0/1", "Completed", "0"],
    ),
    "completed-with-one-running-ready-pod": (
        pod(
            containers=("a", "b"),
            phase="Running",
            conditions=[{"type": "Ready", "status": "True"}],
            containerStatuses=[terminated("a", 0, "Completed"), running("b")],
        ),
        ["1/2", "Running", "0"],
    ),
    "completed-with-one-running-not-ready-pod": (
        pod(
            containers=("b", "a"),
            phase="Running",
            containerStatuses=[running("b"), terminated("a", 0, "Completed")],
        ),
        ["1/2", "NotReady", "0"],
    ),
    "init-counting": (
        pod(
            init=INIT,
            phase="Pending",
            initContainerStatuses=[terminated("setup", 0), running("migrate")],
        ),
        ["0/1", "Init:1/2", "0"],
    ),
    "init-waiting-reason": (
        pod(
            init=INIT,
            phase="Pending",
            initContainerStatuses=[waiting("setup", "ImagePullBackOff", restarts=1)],
        ),
        ["0/1", "Init:ImagePullBackOff", "1"],
    ),
    "init-pod-initializing-is-counted": (
        pod(
            init=INIT, phase="Pending", initContainerStatuses=[waiting("setup", "PodInitializing")]
        ),
        ["0/1", "Init:0/2", "0"],
    ),
    "init-failed": (
        pod(init=INIT, phase="Pending", initContainerStatuses=[terminated("setup", 2)]),
        ["0/1", "Init:ExitCode:2", "0"],
    ),
    "init-failed-reason": (
        pod(init=INIT, phase="Pending", initContainerStatuses=[terminated("setup", 1, "Error")]),
        ["0/1", "Init:Error", "0"],
    ),
    "sidecar-counts-toward-ready": (
        pod(
            init=(SIDECAR,),
            phase="Running",
            conditions=INITIALIZED,
            initContainerStatuses=[{**running("proxy", restarts=1), "started": True}],
            containerStatuses=[running("app", restarts=2)],
        ),
        ["2/2", "Running", "3"],
    ),
    "terminating": (pod(deleting=True, phase="Running"), ["0/1", "Terminating", "0"]),
    "terminating-but-finished": (
        pod(deleting=True, phase="Succeeded"),
        ["0/1", "Succeeded", "0"],
    ),
    "node-lost": (
        pod(deleting=True, phase="Running", reason="NodeLost"),
        ["0/1", "Unknown", "0"],
    ),
}


@pytest.mark.parametrize(("p", "want"), list(CASES.values()), ids=list(CASES))
def test_pod_ready_status_restarts(p: pod_pb2.Pod, want: list[Any]) -> None:
    assert ready_status_restarts(p) == want


@pytest.mark.parametrize(
    ("gates", "conditions", "want"),
    [
        ([], [], "<none>"),
        (["example.com/lb"], [{"type": "example.com/lb", "status": "True"}], "1/1"),
        (["a", "b"], [{"type": "a", "status": "False"}], "0/2"),
    ],
    ids=["none", "met", "unmet"],
)
def test_readiness_gates(gates: list[str], conditions: list[dict[str, str]], want: str) -> None:
    p = pod(phase="Running", conditions=conditions)
    p.spec.readiness_gates.extend(pod_pb2.PodReadinessGate(condition_type=g) for g in gates)
    assert printers.row_cells(p, NOW)[8] == want


def test_a_finished_pod_row_carries_the_completed_condition() -> None:
    table = printers.table("Pod", [pod(phase="Succeeded"), pod(phase="Running")], now=NOW)
    first, second = table["rows"]
    assert first["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert "conditions" not in second

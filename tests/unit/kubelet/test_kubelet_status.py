"""kubelet.status: phase, conditions and container statuses (table-driven)."""

from __future__ import annotations

import pytest

from kubelet.status import (
    ContainerView,
    PodOutcome,
    Terminated,
    Waiting,
    compute_pod_status,
    pod_phase,
    status_equal,
)
from pinnace.api.core.v1 import pod_pb2

T0, T1 = "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"


def running(name: str = "c", ready: bool = True, restarts: int = 0) -> ContainerView:
    return ContainerView(name, running_since=T0, ready=ready, started=True, restart_count=restarts)


def exited(name: str = "c", code: int = 0) -> ContainerView:
    return ContainerView(
        name, terminated=Terminated(code, "Completed" if code == 0 else "Error", T0, T0)
    )


def backoff(name: str = "c", code: int = 1) -> ContainerView:
    return ContainerView(
        name,
        waiting=Waiting("CrashLoopBackOff"),
        last_terminated=Terminated(code, "Error"),
        restart_count=1,
    )


def waiting(name: str = "c", reason: str = "ContainerCreating") -> ContainerView:
    return ContainerView(name, waiting=Waiting(reason))


@pytest.mark.parametrize(
    ("policy", "init", "containers", "stopping", "phase"),
    [
        pytest.param("Always", [], [waiting()], False, "Pending", id="not-started"),
        pytest.param("Always", [], [running()], False, "Running", id="running"),
        pytest.param(
            "Always", [], [running("a"), waiting("b")], False, "Pending", id="one-not-started"
        ),
        pytest.param("Always", [], [backoff()], False, "Running", id="crashloop-stays-running"),
        pytest.param("Always", [], [exited(code=0)], False, "Running", id="always-exit0-restarts"),
        pytest.param("OnFailure", [], [exited(code=0)], False, "Succeeded", id="onfailure-exit0"),
        pytest.param(
            "OnFailure", [], [exited(code=1)], False, "Running", id="onfailure-exit1-restarts"
        ),
        pytest.param("Never", [], [exited(code=0)], False, "Succeeded", id="never-exit0"),
        pytest.param("Never", [], [exited(code=1)], False, "Failed", id="never-exit1"),
        pytest.param(
            "Never", [], [exited("a", 0), running("b")], False, "Running", id="never-one-left"
        ),
        pytest.param(
            "Never", [], [exited("a", 0), exited("b", 2)], False, "Failed", id="never-mixed"
        ),
        pytest.param(
            "Always",
            [running("i")],
            [waiting("c", "PodInitializing")],
            False,
            "Pending",
            id="init-running",
        ),
        pytest.param(
            "Never",
            [exited("i", 3)],
            [waiting("c", "PodInitializing")],
            False,
            "Failed",
            id="init-failed-never",
        ),
        pytest.param(
            "Always",
            [exited("i", 3)],
            [waiting("c", "PodInitializing")],
            False,
            "Pending",
            id="init-failed-always",
        ),
        pytest.param("Always", [exited("i", 0)], [running()], False, "Running", id="init-done"),
        pytest.param("Always", [], [exited(code=0)], True, "Succeeded", id="deleted-exit0"),
        pytest.param("Always", [], [exited(code=143)], True, "Failed", id="deleted-sigterm"),
        pytest.param("Always", [], [running()], True, "Running", id="deleting-still-running"),
        pytest.param("Always", [], [waiting()], True, "Failed", id="deleted-never-ran"),
    ],
)
def test_pod_phase(policy, init, containers, stopping, phase) -> None:
    assert pod_phase(policy, init, containers, stopping=stopping) == phase


def _pod(
    policy: str = "Always", containers: tuple[str, ...] = ("c",), inits: tuple[str, ...] = ()
) -> pod_pb2.Pod:
    pod = pod_pb2.Pod()
    pod.metadata.name, pod.metadata.namespace, pod.metadata.generation = "p", "ns", 1
    pod.spec.restart_policy = policy
    for n in containers:
        pod.spec.containers.add(name=n)
    for n in inits:
        pod.spec.init_containers.add(name=n)
    pod.status.phase = "Pending"
    return pod


def _conds(status: pod_pb2.PodStatus) -> dict[str, pod_pb2.PodCondition]:
    return {c.type: c for c in status.conditions}


def compute(pod, init, containers, now=T1, **kw):
    return compute_pod_status(
        pod, init, containers, now=now, host_ip="10.0.0.1", pod_ip="10.0.0.1", start_time=T0, **kw
    )


def test_ready_conditions_and_transition_times() -> None:
    pod = _pod()
    st = compute(pod, [], [running(ready=False)], now=T0)
    c = _conds(st)
    assert st.phase == "Running"
    assert (c["Ready"].status, c["Ready"].reason) == ("False", "ContainersNotReady")
    assert c["Ready"].message == "containers with unready status: [c]"
    assert c["Initialized"].status == "True" and c["PodScheduled"].status == "True"
    pod.status.CopyFrom(st)
    # Unchanged statuses keep their transition time; Ready flips and gets "now".
    st2 = compute(pod, [], [running(ready=True)], now=T1)
    c2 = _conds(st2)
    assert c2["Ready"].status == "True" and c2["Ready"].last_transition_time == T1
    assert c2["ContainersReady"].last_transition_time == T1
    assert c2["Initialized"].last_transition_time == T0
    pod.status.CopyFrom(st2)
    st3 = compute(pod, [], [running(ready=True)], now="2024-01-01T00:02:00Z")
    assert status_equal(st3, st2)


def test_initialized_false_while_init_containers_run() -> None:
    pod = _pod(inits=("i1", "i2"))
    st = compute(pod, [exited("i1"), running("i2")], [waiting("c", "PodInitializing")])
    c = _conds(st)
    assert st.phase == "Pending"
    assert (c["Initialized"].status, c["Initialized"].reason) == (
        "False",
        "ContainersNotInitialized",
    )
    assert c["Initialized"].message == "containers with incomplete status: [i2]"
    assert st.init_container_statuses[0].state.terminated.reason == "Completed"
    assert st.container_statuses[0].state.waiting.reason == "PodInitializing"


def test_terminal_phase_is_final_and_completed_reasons() -> None:
    pod = _pod("Never")
    st = compute(pod, [], [exited(code=0)])
    assert st.phase == "Succeeded"
    assert _conds(st)["Ready"].reason == "PodCompleted"
    pod.status.CopyFrom(st)
    again = compute(pod, [], [running()])  # a terminal phase never changes
    assert again.phase == "Succeeded"


def test_outcome_and_container_states() -> None:
    pod = _pod()
    st = compute(
        pod,
        [],
        [backoff()],
        outcome=PodOutcome(phase="Failed", reason="DeadlineExceeded", message="m"),
    )
    assert (st.phase, st.reason, st.message) == ("Failed", "DeadlineExceeded", "m")
    cs = st.container_statuses[0]
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.last_state.terminated.exit_code == 1 and cs.restart_count == 1
    assert st.pod_ip == "10.0.0.1" and [i.ip for i in st.host_ips] == ["10.0.0.1"]
    assert st.qos_class == "BestEffort"


def test_a_verdict_becomes_the_phase_only_once_containers_stopped() -> None:
    """DeadlineExceeded: while a container still runs the pod stays Running
    (with the reason); Failed is reported once every container stopped."""
    pod = _pod("Never")
    verdict = PodOutcome(phase="Failed", reason="DeadlineExceeded", message="m")
    st = compute(pod, [], [running()], outcome=verdict)
    assert (st.phase, st.reason) == ("Running", "DeadlineExceeded")
    st = compute(pod, [], [exited(code=137)], outcome=verdict)
    assert (st.phase, st.reason) == ("Failed", "DeadlineExceeded")


def test_readiness_gates_and_foreign_conditions_kept() -> None:
    pod = _pod()
    pod.spec.readiness_gates.add(condition_type="example.com/lb")
    pod.status.conditions.add(type="example.com/lb", status="False", last_transition_time=T0)
    st = compute(pod, [], [running()])
    c = _conds(st)
    assert c["ContainersReady"].status == "True"
    assert (c["Ready"].status, c["Ready"].reason) == ("False", "ReadinessGatesNotReady")
    assert c["example.com/lb"].status == "False"

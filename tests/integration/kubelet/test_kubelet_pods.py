"""Pods run as processes: env, working dir, restart policy, CrashLoopBackOff,
init containers, termination, deadlines, volumes and cleanup."""

from __future__ import annotations

from pinnace.client import Client
from tests.integration.kubelet.helpers import (
    condition,
    container_status,
    get_pod,
    make_pod,
    pid_alive,
    run_pod,
    wait_for,
)


def _phase(client: Client, ns: str, name: str, phase: str):
    def check():
        pod = get_pod(client, ns, name)
        return pod if pod.status.phase == phase else None

    return check


def test_pod_runs_with_env_workdir_and_status(client: Client, namespace: str, kubelet) -> None:
    script = (
        'echo "$POD_NAME $POD_NS $POD_UID $NODE $POD_IP $HOST_IP $TIER $HOSTNAME $GREETING" > out.txt; '
        "echo $$$$ > pid; pwd > cwd; exec sleep 300"  # $$ is an escaped $
    )
    pod = make_pod(
        "web",
        [
            {
                "name": "main",
                "command": ["sh", "-c"],
                "args": [script],
                "workingDir": "/app",
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {
                        "name": "POD_NS",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                    },
                    {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                    {
                        "name": "TIER",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}},
                    },
                    {"name": "NAME", "value": "world"},
                    {"name": "GREETING", "value": "hello-$(NAME)-$$(NAME)"},
                ],
            }
        ],
    )
    pod.metadata.labels["tier"] = "front"
    created = run_pod(client, namespace, kubelet.node, pod)
    uid = created.metadata.uid
    running = wait_for(_phase(client, namespace, "web", "Running"), what="Running")
    workdir = kubelet.root / "pods" / uid / "app"
    out = wait_for(
        lambda: (workdir / "out.txt").exists() and (workdir / "out.txt").read_text(), what="out.txt"
    )
    assert out.split() == [
        "web",
        namespace,
        uid,
        kubelet.node,
        "127.0.0.1",
        "127.0.0.1",
        "front",
        "web",
        "hello-world-$(NAME)",
    ]
    assert (workdir / "cwd").read_text().strip() == str(workdir)
    pid = int(
        wait_for(lambda: (workdir / "pid").exists() and (workdir / "pid").read_text().strip())
    )
    assert pid_alive(pid)

    pod = wait_for(
        lambda: (
            (p := get_pod(client, namespace, "web"))
            and condition(p, "Ready").status == "True"
            and p
        )
    )
    cs = container_status(pod, "main")
    assert cs.state.HasField("running") and cs.ready and cs.started and cs.restart_count == 0
    assert cs.image == "busybox" and cs.container_id.startswith("pinnace://")
    assert pod.status.pod_ip == "127.0.0.1" and pod.status.host_ip == "127.0.0.1"
    assert pod.status.start_time and pod.status.qos_class == "BestEffort"
    types = [c.type for c in pod.status.conditions]
    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled"):
        assert t in types
    assert running.status.phase == "Running"

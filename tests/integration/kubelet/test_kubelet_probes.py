"""Liveness, readiness and startup probes: exec, httpGet and tcpSocket."""

from __future__ import annotations

import socket

from pinnace.client import Client
from tests.integration.kubelet.helpers import (
    condition,
    container_status,
    get_pod,
    make_pod,
    run_pod,
    wait_for,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(handler: dict, **kw) -> dict:
    return {**handler, "periodSeconds": 1, "failureThreshold": 1, **kw}


def test_probes_pass_and_fail(client: Client, namespace: str, kubelet) -> None:
    http_port, tcp_port = free_port(), free_port()
    # The servers listen on the pod's IP, where the kubelet probes them (its
    # own IP in a network namespace when root, else the node's 127.0.0.1).
    server = ["python3", "-m", "http.server", str(http_port), "--bind", "$(POD_IP)"]
    tcp = [
        "python3",
        "-c",
        "import os,socket,time; s=socket.socket(); "
        f"s.bind((os.environ['POD_IP'],{tcp_port})); s.listen(); time.sleep(300)",
    ]
    pod_ip = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    pod = make_pod(
        "probes",
        [
            {  # exec liveness that starts failing: restarted
                "name": "flaky",
                "command": [
                    "sh",
                    "-c",
                    "touch healthy-$(HOSTNAME); sleep 1; rm -f healthy-$(HOSTNAME); sleep 300",
                ],
                "livenessProbe": probe(
                    {"exec": {"command": ["sh", "-c", "test -f healthy-$HOSTNAME"]}}
                ),
            },
            {  # httpGet readiness against a real server, on a named port: ready
                "name": "web",
                "command": server,
                "env": [pod_ip],
                "ports": [{"name": "http", "containerPort": http_port}],
                "readinessProbe": probe({"httpGet": {"path": "/", "port": "http"}}),
            },
            {  # httpGet readiness on a 404 path: never ready, never restarted
                "name": "web404",
                "command": ["sleep", "300"],
                "readinessProbe": probe({"httpGet": {"path": "/nope", "port": http_port}}),
            },
            {  # tcpSocket liveness on an open port: never restarted
                "name": "tcp",
                "command": tcp,
                "env": [pod_ip],
                "livenessProbe": probe(
                    {"tcpSocket": {"port": tcp_port}}, initialDelaySeconds=1, failureThreshold=3
                ),
            },
            {  # startup probe gates readiness until a file appears
                "name": "slow",
                "command": ["sh", "-c", "sleep 1.5; touch started; sleep 300"],
                "startupProbe": probe(
                    {"exec": {"command": ["test", "-f", "started"]}}, failureThreshold=10
                ),
            },
        ],
    )
    run_pod(client, namespace, kubelet.node, pod)

    def status(name: str):
        return container_status(get_pod(client, namespace, "probes"), name)

    early = wait_for(
        lambda: (s := status("slow")) and s.state.HasField("running") and s, what="slow running"
    )
    assert not early.started and not early.ready
    wait_for(lambda: status("web").ready, what="web ready")
    # A deadline for liveness only: on a loaded 2-core machine the kill and
    # restart of the failing container can take a while.
    wait_for(lambda: status("flaky").restart_count >= 1, timeout=60, what="flaky restarted")
    slow = wait_for(
        lambda: (s := status("slow")) and s.started and s.ready and s, what="slow started"
    )
    assert slow.restart_count == 0
    pod = get_pod(client, namespace, "probes")
    assert container_status(pod, "web404").ready is False
    assert container_status(pod, "web404").restart_count == 0
    assert container_status(pod, "tcp").restart_count == 0
    assert container_status(pod, "tcp").ready
    ready = condition(pod, "Ready")
    assert ready.status == "False" and "web404" in ready.message
    assert condition(pod, "ContainersReady").status == "False"
    assert pod.status.phase == "Running"


def test_ready_condition_transition_time(client: Client, namespace: str, kubelet) -> None:
    pod = make_pod(
        "ready",
        [
            {
                "name": "c",
                "command": ["sh", "-c", "sleep 1; touch ok; sleep 300"],
                "readinessProbe": probe({"exec": {"command": ["test", "-f", "ok"]}}),
            }
        ],
    )
    run_pod(client, namespace, kubelet.node, pod)
    not_ready = wait_for(
        lambda: (p := get_pod(client, namespace, "ready")) and p.status.phase == "Running" and p
    )
    first = condition(not_ready, "Ready")
    assert first.status == "False"
    ready = wait_for(
        lambda: (
            (p := get_pod(client, namespace, "ready"))
            and condition(p, "Ready").status == "True"
            and p
        )
    )
    cond = condition(ready, "Ready")
    assert cond.last_transition_time >= first.last_transition_time
    assert condition(ready, "ContainersReady").status == "True"
    assert condition(ready, "PodScheduled").status == "True"

"""The kubelet's HTTP endpoint: container logs (current, previous, tail,
follow) and exec."""

from __future__ import annotations

import json

from kubelet.server import read_exec_frames
from pinnace.client import Client
from tests.integration.kubelet.helpers import container_status, get_pod, make_pod, run_pod, wait_for

COUNTER = 'n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; echo "attempt $n"; echo "err $n" >&2; sleep 1; exit 1'


def test_logs_current_previous_tail(client: Client, namespace: str, kubelet) -> None:
    run_pod(
        client,
        namespace,
        kubelet.node,
        make_pod("talk", [{"name": "c", "command": ["sh", "-c", COUNTER]}]),
    )
    base = f"/containerLogs/{namespace}/talk/c"

    def restarted_and_running():
        cs = container_status(get_pod(client, namespace, "talk"), "c")
        return cs is not None and cs.restart_count >= 1 and cs.state.HasField("running") and cs

    cs = wait_for(restarted_and_running, what="second attempt running")
    current = f"attempt {cs.restart_count + 1}"
    status, body = kubelet.get(base)
    assert status == 200
    assert body.decode().splitlines() == [current, f"err {cs.restart_count + 1}"]
    status, body = kubelet.get(base + "?previous=true")
    assert status == 200 and body.decode().splitlines() == [
        f"attempt {cs.restart_count}",
        f"err {cs.restart_count}",
    ]
    status, body = kubelet.get(base + "?tailLines=1")
    assert status == 200 and body.decode() == f"err {cs.restart_count + 1}\n"
    status, body = kubelet.get(base + "?limitBytes=3")
    assert body == b"att"
    assert kubelet.get(f"/containerLogs/{namespace}/nope/c")[0] == 404
    assert kubelet.get(f"{base}x")[0] == 404
    assert kubelet.get(base + "?tailLines=x")[0] == 400


def test_logs_follow_until_exit(client: Client, namespace: str, kubelet) -> None:
    script = "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done"
    run_pod(
        client,
        namespace,
        kubelet.node,
        make_pod("stream", [{"name": "c", "command": ["sh", "-c", script]}], restartPolicy="Never"),
    )
    wait_for(
        lambda: (
            (cs := container_status(get_pod(client, namespace, "stream"), "c"))
            and cs.state.HasField("running")
        )
    )
    status, body = kubelet.get(f"/containerLogs/{namespace}/stream/c?follow=true", timeout=15)
    assert status == 200
    assert body.decode().splitlines() == [f"line {i}" for i in range(1, 6)]


def test_exec_runs_in_the_container_environment(client: Client, namespace: str, kubelet) -> None:
    pod = make_pod(
        "shell",
        [
            {
                "name": "c",
                "command": ["sleep", "300"],
                "workingDir": "/work",
                "env": [{"name": "GREETING", "value": "hi"}],
            }
        ],
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid
    wait_for(
        lambda: (
            (cs := container_status(get_pod(client, namespace, "shell"), "c"))
            and cs.state.HasField("running")
        )
    )
    from urllib.parse import urlencode

    query = urlencode(
        [
            ("command", "sh"),
            ("command", "-c"),
            ("command", 'echo "$GREETING"; pwd; cat; echo oops >&2; exit 4'),
        ]
    )
    status, body = kubelet.get(
        f"/exec/{namespace}/shell/c?{query}", method="POST", body=b"from-stdin\n"
    )
    assert status == 200
    frames = read_exec_frames(body)
    out = b"".join(p for ch, p in frames if ch == 1).decode()
    err = b"".join(p for ch, p in frames if ch == 2).decode()
    assert out.splitlines() == ["hi", str(kubelet.root / "pods" / uid / "work"), "from-stdin"]
    assert err == "oops\n"
    assert frames[-1][0] == 3 and json.loads(frames[-1][1]) == {"exitCode": 4}
    status, body = kubelet.get(f"/exec/{namespace}/shell/c?command=no-such-binary", method="POST")
    assert status == 200 and json.loads(read_exec_frames(body)[-1][1])["exitCode"] == -1
    assert kubelet.get(f"/exec/{namespace}/shell/c", method="POST")[0] == 400

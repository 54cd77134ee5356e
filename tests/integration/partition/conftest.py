"""One cluster across network namespaces for the partition tests (root only)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator

import pytest

from pinnace.client import Client
from tests.integration.conftest import fresh_namespace
from tests.integration.partition.apart import ApartCluster
from tests.integration.partition.netlab import NetLab, remove_stale

log = logging.getLogger(__name__)

NOT_ROOT = os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("nft"))
SKIP_REASON = (
    "machines apart are network namespaces joined by veth pairs: making them "
    "needs root, iproute2 and nftables"
)


@pytest.fixture(scope="package")
def apart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApartCluster]:
    if NOT_ROOT:
        pytest.skip(SKIP_REASON)
    for item in remove_stale():
        log.warning("removed %s left by an earlier run", item)
    lab = NetLab().start()
    cluster = ApartCluster(tmp_path_factory.mktemp("apart"), lab)
    try:
        cluster.start(timeout=90)
        yield cluster
    finally:
        cluster.stop()
        lab.close()


@pytest.fixture
def client(apart: ApartCluster) -> Iterator[Client]:
    with Client(config=apart.client_config(), timeout=10) as c:
        yield c


@pytest.fixture
def ns(client: Client) -> Iterator[str]:
    with fresh_namespace(client, "apart") as name:
        yield name

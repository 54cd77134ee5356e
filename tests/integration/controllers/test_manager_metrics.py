"""The controller-manager serves Prometheus metrics with Kubernetes' workqueue names."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

from pinnace.localcluster.etcd import free_port
from tests.integration.controllers.conftest import wait_for
from tests.integration.controllers.test_replicaset import replica_set

SYNC_TIMED = re.compile(r'^workqueue_work_duration_seconds_count\{name="replicaset"\} [1-9]', re.M)
WAIT_TIMED = re.compile(r'^workqueue_queue_duration_seconds_count\{name="replicaset"\} [1-9]', re.M)


def scrape(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def sample(text: str, metric: str, name: str) -> float | None:
    m = re.search(rf'^{metric}{{name="{name}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


def test_workqueue_metrics(client: Any, namespace: str, controller_manager: Any) -> None:
    port = free_port()
    controller_manager("replicaset", extra=["--metrics-listen", f"127.0.0.1:{port}"])
    client.replica_sets(namespace).create(replica_set("metered", replicas=2))
    wait_for(lambda: SYNC_TIMED.search(scrape(port)), what="a sync timed")
    text = scrape(port)
    assert WAIT_TIMED.search(text)
    assert (sample(text, "workqueue_adds_total", "replicaset") or 0) >= 1
    for metric in (
        "workqueue_depth",
        "workqueue_retries_total",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
    ):
        assert sample(text, metric, "replicaset") is not None, metric

"""The exact FailedScheduling message, on an apiserver of our own.

The tally counts every node in the cluster ("0/3 nodes are available"), so
this test needs a cluster where it owns all the nodes: its own etcd and
apiserver, started for this module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pinnace.client import Client
from pinnace.localcluster.etcd import EtcdServer
from pinnace.machinery import kinds
from tests.integration.scheduler.conftest import (
    Schedulers,
    TestNodes,
    events_of,
    make_pod,
    pod_node,
    scheduled_condition,
    wait_for,
)

# Kubernetes sorts the "<count> <reason>" strings as strings (sort.Strings),
# so "1 node(s) ..." comes before "2 Insufficient cpu".
EXPECTED = (
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
    "2 Insufficient cpu."
)


@pytest.fixture(scope="module")
def own_apiserver(tmp_path_factory: pytest.TempPathFactory, start_apiserver: Any) -> Iterator[Any]:
    base = tmp_path_factory.mktemp("sched-etcd")
    etcd = EtcdServer(
        base / "data", heartbeat_interval_ms=10, election_timeout_ms=100, log_file=base / "etcd.log"
    )
    etcd.start()
    try:
        etcd.wait_ready(timeout=15)
        server = start_apiserver(etcd=etcd.endpoint)
        yield server
        server.component.stop()
    finally:
        etcd.stop()


def test_unschedulable_pod_reports_tally_then_fits_new_node(
    own_apiserver: Any, tmp_path: Any
) -> None:
    """PodScheduled=False/Unschedulable and a Warning FailedScheduling event
    carry Kubernetes' per-reason tally; adding a node that fits gets the pod
    scheduled there."""
    with Client(config=own_apiserver.config, timeout=10) as client:
        ns: Any = kinds.by_resource("namespaces").new()
        ns.metadata.name = "tally"
        client.namespaces().create(ns)
        nodes = TestNodes(client, "own")
        nodes.create("small-1", cpu="1", labels={"pool": "app"}, isolate=False)
        nodes.create("small-2", cpu="1", labels={"pool": "app"}, isolate=False)
        nodes.create("other", cpu="8", labels={"pool": "batch"}, isolate=False)
        scheds = Schedulers(
            own_apiserver.component_flags("scheduler"), tmp_path, "pinnace-scheduler"
        )
        try:
            scheds.start()  # with leader election, as deployed
            pod = make_pod(
                "big", "tally", "", cpu="2", node_selector={"pool": "app"}, isolate=False
            )
            client.pods("tally").create(pod)

            def condition() -> Any:
                cond = scheduled_condition(client.pods("tally").get("big"))
                return cond if cond is not None and cond.status == "False" else None

            cond = wait_for(condition, what="PodScheduled=False")
            assert (cond.reason, cond.message) == ("Unschedulable", EXPECTED)
            event = wait_for(
                lambda: events_of(client, "tally", "big", "FailedScheduling"),
                what="FailedScheduling event",
            )[0]
            assert (event.type, event.message) == ("Warning", EXPECTED)
            assert event.source.component == "default-scheduler"

            nodes.create("large", cpu="4", labels={"pool": "app"}, isolate=False)
            wait_for(
                lambda: pod_node(client, "tally", "big") == nodes.name("large"),
                what="scheduled on the new node",
            )
            assert scheduled_condition(client.pods("tally").get("big")).status == "True"
            scheduled = wait_for(
                lambda: events_of(client, "tally", "big", "Scheduled"), what="Scheduled event"
            )
            assert (
                scheduled[0].message == f"Successfully assigned tally/big to {nodes.name('large')}"
            )
        finally:
            scheds.stop_all()
            nodes.cleanup()


def test_cordoned_node_message(own_apiserver: Any, tmp_path: Any) -> None:
    """The only node is cordoned: the exact one-reason message."""
    with Client(config=own_apiserver.config, timeout=10) as client:
        ns: Any = kinds.by_resource("namespaces").new()
        ns.metadata.name = "cordon"
        client.namespaces().create(ns)
        nodes = TestNodes(client, "own2")
        nodes.create("c1", cpu="1", isolate=False, unschedulable=True)
        scheds = Schedulers(
            own_apiserver.component_flags("scheduler"), tmp_path, "pinnace-scheduler-2"
        )
        try:
            scheds.start("--leader-elect=false")
            client.pods("cordon").create(make_pod("p", "cordon", "", isolate=False))

            def message() -> str:
                cond = scheduled_condition(client.pods("cordon").get("p"))
                return cond.message if cond is not None and cond.status == "False" else ""

            assert wait_for(message) == "0/1 nodes are available: 1 node(s) were unschedulable."
        finally:
            scheds.stop_all()
            nodes.cleanup()

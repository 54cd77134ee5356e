"""Many hollow nodes in one kubelet process (kubelet/fleet.py), against a
real apiserver of their own: 100 nodes register and stay Ready on their
Leases, run the pods bound to them, let annotated containers exit, serve
logs, survive an apiserver restart and stop cleanly."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelet.fleet import fleet_node_names
from pinnace.client import Client
from pinnace.localcluster import process
from tests.integration.conftest import RunningApiServer, fresh_namespace
from tests.integration.kubelet.helpers import make_pod, run_pod, wait_for

NODES = 100
FLEET_FLAGS = (
    "--runtime", "hollow",
    "--lease-period", "2",
    "--node-status-period", "2",
    "--crashloop-backoff-base", "0.2",
    "--crashloop-backoff-max", "1",
    "--kill-pods-on-exit",
)  # fmt: skip


class Fleet:
    def __init__(self, component: process.Component, prefix: str, root: Path) -> None:
        self.component = component
        self.prefix = prefix
        self.root = root
        self.names = fleet_node_names(prefix, NODES)


@pytest.fixture(scope="module")
def fleet_api(start_apiserver: Callable[..., RunningApiServer]) -> RunningApiServer:
    """An apiserver of this module's own: the tests restart it."""
    return start_apiserver()


@pytest.fixture(scope="module")
def fleet(fleet_api: RunningApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    prefix = f"hf{uuid.uuid4().hex[:4]}-"
    args = [
        *("--apiserver", fleet_api.endpoint),
        *fleet_api.identities.hollow_nodes_flags(),
        *("--nodes", str(NODES), "--node-name-prefix", prefix),
        *("--root-dir", str(root)),
        *FLEET_FLAGS,
    ]
    comp = process.Component("fleet", "kubelet.main", args, log_file=root / "fleet.log")
    comp.start()
    f = Fleet(comp, prefix, root)
    try:
        with fleet_api.client() as client:
            wait_for(lambda: len(ready_nodes(client, prefix)) == NODES, timeout=60, what="Ready")
        yield f
    finally:
        comp.stop(timeout=15)


@pytest.fixture
def fleet_client(fleet_api: RunningApiServer) -> Iterator[Client]:
    with fleet_api.client() as client:
        yield client


@pytest.fixture
def ns(fleet_client: Client) -> Iterator[str]:
    with fresh_namespace(fleet_client, "fleet") as name:
        yield name


def ready_nodes(client: Client, prefix: str) -> list[str]:
    return [
        n.metadata.name
        for n in client.nodes().list().items
        if n.metadata.name.startswith(prefix)
        and any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
    ]


def renew_times(client: Client, prefix: str) -> dict[str, str]:
    return {
        lease.metadata.name: lease.spec.renew_time
        for lease in client.leases("kube-node-lease").list().items
        if lease.metadata.name.startswith(prefix)
    }


def phase(client: Client, namespace: str, name: str) -> str:
    return client.pods(namespace).get(name).status.phase


def test_every_node_registers_ready_with_a_lease_that_is_renewed(
    fleet: Fleet, fleet_client: Client
) -> None:
    nodes = {n.metadata.name: n for n in fleet_client.nodes().list().items}
    for name in fleet.names:
        node = nodes[name]
        assert node.metadata.labels["kubernetes.io/hostname"] == name
        assert node.status.node_info.container_runtime_version.startswith("pinnace-hollow://")
        assert node.status.daemon_endpoints.kubelet_endpoint.port > 0
    first = renew_times(fleet_client, fleet.prefix)
    assert sorted(first) == fleet.names
    # Every lease moves on within a few periods.
    wait_for(
        lambda: all(t != first[n] for n, t in renew_times(fleet_client, fleet.prefix).items()),
        timeout=20,
        what="every lease renewed",
    )


def test_pods_bound_to_hollow_nodes_run_and_are_deleted(
    fleet: Fleet, fleet_client: Client, ns: str
) -> None:
    targets = fleet.names[::10]  # 10 nodes, spread over the fleet
    for i, node in enumerate(targets):
        run_pod(fleet_client, ns, node, make_pod(f"p{i}", [{"name": "c", "command": ["x"]}]))
    for i, node in enumerate(targets):
        pod = wait_for(
            lambda i=i: (p := fleet_client.pods(ns).get(f"p{i}")).status.phase == "Running" and p,
            what=f"p{i} Running",
        )
        assert pod.spec.node_name == node
        cs = pod.status.container_statuses[0]
        assert cs.state.HasField("running") and cs.ready and cs.container_id
    # The kubelet finishes a graceful deletion: the pods are gone.
    for i in range(len(targets)):
        fleet_client.pods(ns).delete(f"p{i}")

    def all_gone() -> bool:
        return not [p for p in fleet_client.pods(ns).list().items if p.metadata.name[0] == "p"]

    wait_for(all_gone, what="pods deleted")


def test_a_pod_of_a_node_outside_the_fleet_is_left_alone(
    fleet: Fleet, fleet_client: Client, ns: str
) -> None:
    run_pod(fleet_client, ns, fleet.names[1], make_pod("ours", [{"name": "c"}]))
    run_pod(fleet_client, ns, f"{fleet.prefix}elsewhere", make_pod("theirs", [{"name": "c"}]))
    wait_for(lambda: phase(fleet_client, ns, "ours") == "Running", what="ours Running")
    theirs = fleet_client.pods(ns).get("theirs")
    assert theirs.status.phase == "Pending" and not theirs.status.container_statuses


@pytest.mark.parametrize(
    ("code", "want_phase"), [("0", "Succeeded"), ("3", "Failed")], ids=["zero", "three"]
)
def test_annotated_containers_exit_so_jobs_complete(
    fleet: Fleet, fleet_client: Client, ns: str, code: str, want_phase: str
) -> None:
    pod = make_pod("job-pod", [{"name": "c"}], restartPolicy="Never")
    pod.metadata.annotations["pinnace.io/hollow-exit-code"] = code
    pod.metadata.annotations["pinnace.io/hollow-exit-after"] = "0.5"
    run_pod(fleet_client, ns, fleet.names[2], pod)
    wait_for(lambda: phase(fleet_client, ns, "job-pod") == "Running", what="Running first")
    done = wait_for(
        lambda: (p := fleet_client.pods(ns).get("job-pod")).status.phase == want_phase and p,
        what=want_phase,
    )
    term = done.status.container_statuses[0].state.terminated
    assert term.exit_code == int(code)


def test_a_bad_exit_annotation_is_the_containers_error(
    fleet: Fleet, fleet_client: Client, ns: str
) -> None:
    pod = make_pod("bad", [{"name": "c"}])
    pod.metadata.annotations["pinnace.io/hollow-exit-code"] = "lots"
    run_pod(fleet_client, ns, fleet.names[3], pod)

    def waiting() -> Any:
        st = fleet_client.pods(ns).get("bad").status.container_statuses
        return st and st[0].state.waiting.reason == "RunContainerError" and st[0].state.waiting

    w = wait_for(waiting, what="RunContainerError")
    assert "pinnace.io/hollow-exit-code" in w.message and "0 to 255" in w.message


def test_the_fleet_serves_logs_of_its_pods(
    fleet: Fleet, fleet_api: RunningApiServer, fleet_client: Client, ns: str
) -> None:
    run_pod(fleet_client, ns, fleet.names[4], make_pod("logged", [{"name": "c"}]))
    wait_for(lambda: phase(fleet_client, ns, "logged") == "Running", what="Running")
    node = fleet_client.nodes().get(fleet.names[4])
    port = node.status.daemon_endpoints.kubelet_endpoint.port
    other = fleet_client.nodes().get(fleet.names[50]).status.daemon_endpoints.kubelet_endpoint
    assert other.port == port  # one server for the whole fleet
    tls = fleet_api.config.kubelet_tls()
    url = f"https://127.0.0.1:{port}/containerLogs/{ns}/logged/c"
    with urllib.request.urlopen(url, timeout=10, context=tls) as resp:
        assert resp.status == 200 and resp.read() == b""  # a hollow container writes nothing
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/containerLogs/{ns}/nobody/c", context=tls)
    assert missing.value.code == 404


def test_the_fleet_survives_an_apiserver_restart(
    fleet: Fleet, fleet_api: RunningApiServer, ns: str
) -> None:
    fleet_api.component.stop()
    fleet_api.restart()
    with fleet_api.client() as client:
        before = renew_times(client, fleet.prefix)
        wait_for(
            lambda: all(t != before[n] for n, t in renew_times(client, fleet.prefix).items()),
            timeout=30,
            what="every lease renewed after the restart",
        )
        assert len(ready_nodes(client, fleet.prefix)) == NODES
        run_pod(client, ns, fleet.names[5], make_pod("after", [{"name": "c"}]))
        wait_for(lambda: phase(client, ns, "after") == "Running", timeout=30, what="Running")
    assert fleet.component.running()


def test_zz_the_fleet_stops_cleanly(fleet: Fleet, fleet_client: Client, ns: str) -> None:
    """Last in this module: SIGTERM stops every node's loops and (with
    --kill-pods-on-exit) its hollow containers; the process exits 0."""
    run_pod(fleet_client, ns, fleet.names[6], make_pod("last", [{"name": "c"}]))
    wait_for(lambda: phase(fleet_client, ns, "last") == "Running", what="Running")
    assert fleet.component.stop(timeout=30) == 0
    log = fleet.component.log_file.read_text()
    assert "Traceback" not in log, fleet.component.log_tail(40)
    exits = list(fleet.root.glob(f"{fleet.names[6]}/pods/*/.pinnace/containers/c/*/exit"))
    assert exits and exits[0].read_text().strip() == "143"

"""A highly available control plane (`pinnace up --etcd-members 3
--apiservers 2 --controller-managers 2 --schedulers 2`), and Kubernetes'
promises about it, each a real fault on real processes:

* killing the leading controller-manager or scheduler hands over within the
  lease duration and nothing is done twice (no extra pod, no second bind);
* killing one apiserver: clients go on with the other, a watch resumes
  from its resourceVersion with no missed or repeated event;
* killing one etcd member of three: writes go on;
* an apiserver whose etcd has lost quorum answers UNAVAILABLE at once (no
  hang), reports not ready, and recovers by itself.

Every fault is undone at the end of its test (the component restarted),
so the tests share one cluster.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from apiserver.etcd.client import EtcdClient
from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.coordination.v1 import lease_pb2
from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.localcluster.process import Component
from pinnace.machinery import errors
from pinnace.machinery.rbacdefaults import CONTROLLER_MANAGER_LEASE, SCHEDULER_LEASE
from tests.integration.conftest import fast_cluster_config, fresh_namespace
from tests.waiting import wait_for

LEASE_NAMESPACE = "kube-system"
# The leader-elected components and their Leases.
LEADERS = [
    pytest.param("controller-manager", CONTROLLER_MANAGER_LEASE, id="controller-manager"),
    pytest.param("scheduler", SCHEDULER_LEASE, id="scheduler"),
]
# How long the full etcd outage lasts: longer than every lease and grace
# period of these tests (2-5 s); PINNACE_ETCD_OUTAGE_SECONDS=30 for the
# issue's 30 s.
OUTAGE_SECONDS = float(os.environ.get("PINNACE_ETCD_OUTAGE_SECONDS", "10"))


@pytest.fixture(scope="module")
def ha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    base = tmp_path_factory.mktemp("ha")
    lc = LocalCluster(
        fast_cluster_config(
            base,
            nodes=2,
            # Ranges of its own: the session cluster may run beside it.
            cluster_cidr="10.246.0.0/16",
            service_cidr="10.114.0.0/16",
            etcd_members=3,
            apiservers=2,
            controller_managers=2,
            schedulers=2,
        )
    )
    try:
        lc.start(timeout=90)
        yield lc
    finally:
        lc.stop()


@pytest.fixture
def client(ha: LocalCluster) -> Iterator[Client]:
    """A client of both apiservers (it fails over between them)."""
    with Client(config=ha.client_config(), timeout=10) as c:
        yield c


@pytest.fixture
def ns(client: Client) -> Iterator[str]:
    with fresh_namespace(client, "ha") as name:
        yield name


def _holder(client: Client, lease: str) -> str:
    return client.leases(LEASE_NAMESPACE).get(lease).spec.holder_identity


def _leader(ha: LocalCluster, kind: str, holder: str) -> Component:
    """The running ``kind`` process (controller-manager or scheduler) whose
    log names ``holder`` as its identity."""
    for comp in ha.components:
        if comp.name.startswith(kind) and comp.running() and f"identity {holder}" in _log(comp):
            return comp
    raise AssertionError(f"no running {kind} has identity {holder}")


def _log(comp: Component) -> str:
    assert comp.log_file is not None
    return comp.log_file.read_text(errors="replace")


def _deployment(name: str, replicas: int) -> deployment_pb2.Deployment:
    d = deployment_pb2.Deployment()
    d.metadata.name = name
    d.spec.replicas = replicas
    d.spec.selector.match_labels["app"] = name
    d.spec.template.metadata.labels["app"] = name
    d.spec.template.spec.termination_grace_period_seconds = 1
    c = d.spec.template.spec.containers.add(name="c", image="busybox")
    c.command[:] = ["sleep", "3600"]
    return d


class PodNames:
    """Every pod name a watch on a namespace ever saw ADDED, and every
    (pod, node) binding it saw, from its start."""

    def __init__(self, client: Client, ns: str) -> None:
        self.added: list[str] = []
        self.bound: list[tuple[str, str]] = []
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(client, ns), daemon=True)
        self._thread.start()

    def _run(self, client: Client, ns: str) -> None:
        seen_node: dict[str, str] = {}
        try:
            for ev in client.pods(ns).watch(timeout=120, allow_bookmarks=False):
                name = ev.object.metadata.name
                if ev.type == "ADDED" and name not in self.added:
                    self.added.append(name)
                node = ev.object.spec.node_name
                if node and seen_node.get(name) != node:
                    seen_node[name] = node
                    self.bound.append((name, node))
                if self._stop.is_set():
                    return
        except BaseException as e:  # reported by stop()
            if not self._stop.is_set():
                self.failure = e

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self.failure is not None:
            raise AssertionError(f"the pod watch failed: {self.failure!r}")


def test_every_member_runs_and_each_apiserver_serves(ha: LocalCluster) -> None:
    assert ha.check() == []
    assert len(ha.etcd_members) == 3 and len(ha.api_ports) == 2
    for grpc_port, _ in ha.api_ports:
        config = ha.identities.client_config(f"127.0.0.1:{grpc_port}")
        with Client(config=config, timeout=10) as c:
            assert {n.metadata.name for n in c.nodes().list().items} == {"node-1", "node-2"}


@pytest.mark.parametrize(("kind", "lease"), LEADERS)
def test_killing_the_leader_hands_over_and_nothing_is_done_twice(
    ha: LocalCluster, client: Client, ns: str, kind: str, lease: str
) -> None:
    holder = _holder(client, lease)
    leader = _leader(ha, kind, holder)
    pods = PodNames(client, ns)
    try:
        leader.kill()
        client.deployments(ns).create(_deployment("web", 4))
        # The other one takes the Lease once it expires (2 s in these tests).
        wait_for(lambda: _holder(client, lease) not in ("", holder), 30, f"a new {kind} leader")
        _wait(
            ha,
            ns,
            lambda: sum(p.status.phase == "Running" for p in client.pods(ns).list().items) == 4,
            60,
            "4 pods running",
        )
        # Nothing twice: four pods were ever made, each bound once, one ReplicaSet.
        assert len(pods.added) == 4, pods.added
        assert sorted(name for name, _ in pods.bound) == sorted(pods.added), pods.bound
        assert len(client.replica_sets(ns).list().items) == 1
    finally:
        pods.stop()
        leader.start()


def test_one_apiserver_killed_clients_go_on_and_a_watch_resumes(
    ha: LocalCluster, client: Client, ns: str
) -> None:
    seen: list[tuple[str, str, int]] = []
    stop = threading.Event()

    def watch() -> None:
        for ev in client.leases(ns).watch(timeout=60, allow_bookmarks=False):
            seen.append(
                (ev.type, ev.object.metadata.name, int(ev.object.metadata.resource_version))
            )
            if stop.is_set() or len(seen) >= 6:
                return

    def lease(name: str) -> lease_pb2.Lease:
        obj = lease_pb2.Lease()
        obj.metadata.name = name
        obj.spec.holder_identity = name
        return obj

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    names = [f"l{i}" for i in range(6)]
    for name in names[:3]:
        client.leases(ns).create(lease(name))
    wait_for(lambda: len(seen) >= 3, 20, "the watch saw the first three")
    first = ha.component("apiserver")  # pick_first: the one both use now
    first.kill()
    try:
        # The first call may still find the dead connection (UNAVAILABLE,
        # not known to be unsent): within seconds the client is on apiserver-2.
        wait_for(lambda: _created_lease(client, ns, lease(names[3])), 30, "a write to apiserver-2")
        for name in names[4:]:
            client.leases(ns).create(lease(name))
        thread.join(60)
        stop.set()
        assert [(t, n) for t, n, _ in seen] == [("ADDED", n) for n in names], seen
        versions = [rv for _, _, rv in seen]
        assert versions == sorted(set(versions)), "an event repeated or out of order"
    finally:
        stop.set()
        first.start()
        first.wait_serving(
            f"127.0.0.1:{ha.api_ports[0][0]}", 30, ha.client_config().channel_credentials()
        )


def _etcd_leader(ha: LocalCluster) -> int:
    """The index in ``ha.etcd_members`` of etcd's raft leader."""

    async def status(endpoint: str) -> tuple[int, int]:
        etcd = EtcdClient([endpoint], credentials=ha.etcd_tls.channel_credentials())
        try:
            st = await etcd.status()
            return st.member_id, st.leader
        finally:
            await etcd.close()

    for i, member in enumerate(ha.etcd_members):
        me, leader = asyncio.run(status(member.endpoint))
        if me == leader:
            return i
    raise AssertionError("no etcd member is the leader")


def _created(client: Client, ns: str, name: str) -> bool:
    return _created_lease(client, ns, _named_lease(name))


def _created_lease(client: Client, ns: str, obj: lease_pb2.Lease) -> bool:
    """Whether the create went through; False on UNAVAILABLE (try again)."""
    try:
        client.leases(ns).create(obj)
    except errors.Unavailable:
        return False
    return True


@pytest.mark.parametrize("which", ["follower", "leader"])
def test_one_etcd_member_killed_writes_go_on(
    ha: LocalCluster, client: Client, ns: str, which: str
) -> None:
    """A follower's loss is not noticed; the leader's, for the election that
    follows (about one election timeout), after which writes go on."""
    leader = _etcd_leader(ha)
    index = leader if which == "leader" else (leader + 1) % len(ha.etcd_members)
    member = ha.etcd_members[index]
    member.kill()
    try:
        if which == "leader":
            wait_for(lambda: _created(client, ns, "w-first"), 30, "a write after the election")
        else:
            client.leases(ns).create(_named_lease("w-first"))
        for i in range(5):
            client.leases(ns).create(_named_lease(f"w{i}"))
        assert len(client.leases(ns).list().items) == 6
    finally:
        member.start()
        member.wait_ready(30)


def _named_lease(name: str) -> lease_pb2.Lease:
    obj = lease_pb2.Lease()
    obj.metadata.name = name
    return obj


def _health(endpoint: str, ha: LocalCluster) -> Any:
    creds = ha.client_config().channel_credentials()
    assert creds is not None
    with grpc.secure_channel(endpoint, creds) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status


def test_without_etcd_quorum_an_apiserver_answers_unavailable_and_recovers(
    ha: LocalCluster, ns: str
) -> None:
    endpoint = f"127.0.0.1:{ha.api_ports[1][0]}"
    config = ha.identities.client_config(endpoint)
    lost = ha.etcd_members[1:]
    for member in lost:
        member.kill()
    try:
        with Client(config=config, timeout=10) as c:
            # No hang: refused as unavailable well inside the client's deadline.
            with pytest.raises(errors.Unavailable):
                c.leases(ns).create(_named_lease("no-quorum"))
            wait_for(
                lambda: _health(endpoint, ha) == health_pb2.HealthCheckResponse.NOT_SERVING,
                20,
                "the apiserver reports not ready",
            )
    finally:
        for member in lost:
            member.start()
        for member in lost:
            member.wait_ready(30)
    wait_for(
        lambda: _health(endpoint, ha) == health_pb2.HealthCheckResponse.SERVING,
        30,
        "the apiserver ready again",
    )
    with Client(config=config, timeout=10) as c:
        c.leases(ns).create(_named_lease("quorum-again"))


def _state(ha: LocalCluster, ns: str) -> str:
    """What each apiserver shows of the namespace and the nodes, and which
    components run: printed when a wait of these tests fails."""
    lines = [f"not running: {ha.check()}"]
    for grpc_port, _ in ha.api_ports:
        endpoint = f"127.0.0.1:{grpc_port}"
        try:
            with Client(config=ha.identities.client_config(endpoint), timeout=5) as c:
                pods = c.pods(ns).list()
                lines.append(f"{endpoint} at rv {pods.resource_version}:")
                for d in c.deployments(ns).list().items:
                    lines.append(f"  deployment {d.metadata.name}: {d.status}")
                for p in pods.items:
                    lines.append(
                        f"  pod {p.metadata.name} {p.status.phase} on {p.spec.node_name!r}"
                    )
                for n in c.nodes().list().items:
                    ready = [x.status for x in n.status.conditions if x.type == "Ready"]
                    taints = [t.key for t in n.spec.taints]
                    lines.append(f"  node {n.metadata.name} Ready={ready} taints={taints}")
        except errors.ApiError as e:
            lines.append(f"{endpoint}: {e}")
    for comp in ha.components:
        said = [x for x in _log(comp).splitlines() if " I " in x or " W " in x or " E " in x]
        lines += [f"{comp.name}: {x}" for x in said[-4:]]
    return "\n".join(lines)


def _wait(
    ha: LocalCluster, ns: str, condition: Callable[[], Any], timeout: float, what: str
) -> None:
    try:
        wait_for(condition, timeout, what)
    except pytest.fail.Exception as e:
        raise AssertionError(f"{e}\n{_state(ha, ns)}") from None


def _whole(client: Client) -> bool:
    """The cluster is whole again after a fault: every node Ready and
    untainted, and a controller-manager and a scheduler holding their Leases."""
    for n in client.nodes().list().items:
        ready = [c.status for c in n.status.conditions if c.type == "Ready"]
        if ready != ["True"] or len(n.spec.taints):
            return False
    return all(_holder(client, lease) for lease in (CONTROLLER_MANAGER_LEASE, SCHEDULER_LEASE))


def _running_pods(client: Client, ns: str, app: str) -> int:
    pods = client.pods(ns).list(label_selector=f"app={app}").items
    return sum(p.status.phase == "Running" and not p.metadata.deletion_timestamp for p in pods)


def test_a_full_etcd_outage_leaves_every_component_running_and_converging(
    ha: LocalCluster, client: Client, ns: str
) -> None:
    _wait(ha, ns, lambda: _whole(client), 60, "the cluster whole after the last fault")
    client.deployments(ns).create(_deployment("before", 2))
    _wait(ha, ns, lambda: _running_pods(client, ns, "before") == 2, 60, "2 pods before")
    pids = {c.name: c.pid for c in ha.components}
    for member in ha.etcd_members:
        member.kill()
    try:
        # The outage itself: every component is watched while etcd is gone.
        held = threading.Event()
        for _ in range(int(OUTAGE_SECONDS / 0.5)):
            assert [c.name for c in ha.components if not c.running()] == []
            held.wait(0.5)
    finally:
        for member in ha.etcd_members:
            member.start()
        for member in ha.etcd_members:
            member.wait_ready(30)
    # Not one component exited or was restarted.
    assert {c.name: c.pid for c in ha.components} == pids
    assert all(c.running() for c in ha.components)
    # And the cluster converges: new work is done, old work kept.
    wait_for(lambda: _created(client, ns, "after-outage"), 30, "a write after the outage")
    client.deployments(ns).patch("before", {"spec": {"replicas": 3}})
    client.deployments(ns).create(_deployment("after", 2))
    _wait(ha, ns, lambda: _running_pods(client, ns, "before") == 3, 90, "3 pods of 'before'")
    _wait(ha, ns, lambda: _running_pods(client, ns, "after") == 2, 90, "2 pods of 'after'")
    for app, want in (("before", 3), ("after", 2)):
        assert len(client.pods(ns).list(label_selector=f"app={app}").items) == want


@pytest.mark.parametrize(("kind", "lease"), LEADERS)
def test_a_leader_that_lost_its_lease_leads_again_in_the_same_process(
    ha: LocalCluster, client: Client, ns: str, kind: str, lease: str
) -> None:
    """The leader loses its Lease to an etcd quorum loss while its peer is
    down, so the same process must take the Lease again and work: a new
    term in a process that led before."""
    holder = _holder(client, lease)
    leader = _leader(ha, kind, holder)
    peers = [c for c in ha.components if c.name.startswith(kind) and c is not leader]
    for peer in peers:
        peer.kill()
    lost_before = _log(leader).count("leadership lost")
    try:
        lost = ha.etcd_members[1:]
        for member in lost:
            member.kill()
        try:
            wait_for(
                lambda: _log(leader).count("leadership lost") > lost_before,
                30,
                f"{kind} loses its Lease",
            )
        finally:
            for member in lost:
                member.start()
            for member in lost:
                member.wait_ready(30)
        wait_for(lambda: _holder(client, lease) == holder, 30, f"{holder} leads again")
        client.deployments(ns).create(_deployment("again", 2))
        _wait(ha, ns, lambda: _running_pods(client, ns, "again") == 2, 60, "2 pods")
    finally:
        for peer in peers:
            peer.start()

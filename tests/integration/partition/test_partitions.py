"""Kubernetes' network-partition scenarios on machines that are really apart:

* a node cut off goes Unknown, its pods are tainted out after their
  tolerationSeconds, a Deployment's are replaced on other nodes, a
  StatefulSet's pod is not recreated while its object exists (never two
  pods of one identity); healed, the node's kubelet stops what was deleted
  meanwhile and nothing is duplicated;
* the apiserver cut off from etcd answers errors, not hangs, reports not
  ready, and recovers;
* one etcd member cut off from the others: writes go on, and it catches up.

Each test undoes its fault, so they share one cluster.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.errors import EtcdUnavailable
from apiserver.registry.resource import resource_prefix
from pinnace.api.apps.v1 import deployment_pb2, statefulset_pb2
from pinnace.api.core.v1 import namespace_pb2
from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.machinery import codec, errors, kinds
from tests.integration.partition.apart import ApartCluster
from tests.waiting import stays, wait_for

VICTIM = "worker-3"
SLEEP = ["sh", "-c", "exec sleep 3600"]


def _template(app: str) -> dict[str, object]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": "sh", "command": SLEEP}],
        },
    }


def _statefulset(name: str) -> statefulset_pb2.StatefulSet:
    return codec.from_dict(
        statefulset_pb2.StatefulSet,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "serviceName": name,
                "selector": {"matchLabels": {"app": name}},
                "template": _template(name),
            },
        },
    )


def _deployment(name: str, replicas: int) -> deployment_pb2.Deployment:
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": _template(name),
            },
        },
    )


@dataclass(frozen=True)
class Seen:
    """One pod watch event, as recorded."""

    type: str
    name: str
    uid: str
    node: str
    phase: str
    terminating: bool


class PodRecorder:
    """Every pod event of a namespace, from its current resourceVersion on,
    watched in a thread with a client of its own."""

    def __init__(self, config: ClientConfig, ns: str) -> None:
        self.events: list[Seen] = []
        self.error: Exception | None = None
        self._stopping = False
        self._client = Client(config=config, timeout=10)
        rv = self._client.pods(ns).list().resource_version
        self._thread = threading.Thread(target=self._run, args=(ns, rv), daemon=True)
        self._thread.start()

    def _run(self, ns: str, rv: str) -> None:
        try:
            for ev in self._client.pods(ns).watch(resource_version=rv, timeout=300):
                if ev.type in ("ADDED", "MODIFIED", "DELETED"):
                    p = ev.object
                    self.events.append(
                        Seen(
                            ev.type,
                            p.metadata.name,
                            p.metadata.uid,
                            p.spec.node_name,
                            p.status.phase,
                            bool(p.metadata.deletion_timestamp),
                        )
                    )
        except Exception as e:
            if not self._stopping:
                self.error = e

    def stop(self) -> None:
        """Stop watching; fails if the watch broke before."""
        self._stopping = True
        self._client.close()
        self._thread.join(10)
        assert self.error is None, f"the pod watch failed: {self.error!r}"

    def lives(self, name: str) -> list[tuple[str, str]]:
        """The ("born"/"gone", uid) sequence of pods named ``name`` (a pod
        that existed before the recording is "born" at its first event)."""
        out: list[tuple[str, str]] = []
        alive: set[str] = set()
        for e in self.events:
            if e.name != name:
                continue
            if e.type == "DELETED":
                alive.discard(e.uid)
                out.append(("gone", e.uid))
            elif e.uid not in alive:
                alive.add(e.uid)
                out.append(("born", e.uid))
        return out


def _node_ready(client: Client, node: str) -> str:
    n = client.nodes().get(node)
    return next((c.status for c in n.status.conditions if c.type == "Ready"), "")


def _taints(client: Client, node: str) -> set[str]:
    return {f"{t.key}:{t.effect}" for t in client.nodes().get(node).spec.taints}


def _pods(client: Client, ns: str, app: str) -> list[object]:
    return list(client.pods(ns).list(label_selector=f"app={app}").items)


def _running_on(client: Client, ns: str, app: str) -> dict[str, str]:
    """Running, not terminating pods of ``app``: name -> node."""
    return {
        p.metadata.name: p.spec.node_name
        for p in client.pods(ns).list(label_selector=f"app={app}").items
        if p.status.phase == "Running" and not p.metadata.deletion_timestamp
    }


def container_pods(root: Path) -> set[str]:
    """The uids of pods with a live container process under kubelet root
    ``root``: each container has ``PINNACE_POD_DIR=<root>/pods/<uid>``."""
    marker = f"PINNACE_POD_DIR={root}/pods/".encode()
    uids = set()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            data = environ.read_bytes()
        except OSError:
            continue
        for var in data.split(b"\0"):
            if var.startswith(marker):
                uids.add(var[len(marker) :].split(b"/")[0].decode())
    return uids


@pytest.fixture
def cordoned(client: Client, apart: ApartCluster) -> Iterator[None]:
    """Every worker but the victim cordoned until the test uncordons them
    (the workload lands on the victim); uncordoned at the end anyway."""
    others = [m.name for m in apart.workers if m.name != VICTIM]
    for node in others:
        client.nodes().patch(node, {"spec": {"unschedulable": True}})
    try:
        yield
    finally:
        for node in others:
            client.nodes().patch(node, {"spec": {"unschedulable": False}})


def test_a_node_cut_off_is_evicted_its_identity_never_doubled_and_healed_without_duplicates(
    apart: ApartCluster, client: Client, ns: str, cordoned: None
) -> None:
    client.resource(statefulset_pb2.StatefulSet, ns).create(_statefulset("db"))
    client.deployments(ns).create(_deployment("web", 2))
    wait_for(
        lambda: (
            _running_on(client, ns, "db") == {"db-0": VICTIM}
            and list(_running_on(client, ns, "web").values()) == [VICTIM, VICTIM]
        ),
        60,
        f"db-0 and 2 web pods running on {VICTIM}",
    )
    for m in apart.workers:
        client.nodes().patch(m.name, {"spec": {"unschedulable": False}})
    first_db = client.pods(ns).get("db-0").metadata.uid
    first_web = {p.metadata.uid for p in _pods(client, ns, "web")}
    root = apart.base / VICTIM
    assert {first_db, *first_web} <= container_pods(root)
    recorder = PodRecorder(apart.client_config(), ns)
    victim = apart.worker(VICTIM)
    apart.lab.cut(victim)
    try:
        wait_for(lambda: _node_ready(client, VICTIM) == "Unknown", 30, f"{VICTIM} Unknown")
        wait_for(
            lambda: "node.kubernetes.io/unreachable:NoExecute" in _taints(client, VICTIM),
            30,
            f"{VICTIM} tainted unreachable",
        )
        # The Deployment's pods: evicted after their 2 s toleration, and
        # replaced on the nodes that are up.
        wait_for(
            lambda: (
                len(_running_on(client, ns, "web")) == 2
                and VICTIM not in _running_on(client, ns, "web").values()
            ),
            60,
            "2 web pods running elsewhere",
        )
        # db-0 was evicted too, but its object stays (terminating) while its
        # kubelet cannot confirm: the StatefulSet makes no second db-0. The
        # StatefulSet controller reacts to the pod's deletion within
        # milliseconds, and the web pods' replacements, which came after the
        # same eviction, are running already: 3 s is ample for a wrong db-0.
        db = client.pods(ns).get("db-0")
        assert db.metadata.uid == first_db and db.metadata.deletion_timestamp
        stays(
            lambda: [p.metadata.uid for p in _pods(client, ns, "db")] == [first_db],
            3,
            "db-0 not recreated while its object exists",
        )
        # The cut-off machine's containers still run: nobody could stop them.
        assert {first_db, *first_web} <= container_pods(root)
    finally:
        apart.lab.heal(victim)
    wait_for(lambda: _node_ready(client, VICTIM) == "True", 30, f"{VICTIM} Ready again")
    # Healed: the kubelet stops the pods deleted meanwhile and confirms their
    # deletion; only then is db-0 made again.
    wait_for(
        lambda: not ({first_db, *first_web} & container_pods(root)),
        30,
        f"the pods deleted while {VICTIM} was cut off stopped there",
    )
    wait_for(
        lambda: (
            "db-0" in _running_on(client, ns, "db")
            and client.pods(ns).get("db-0").metadata.uid != first_db
        ),
        60,
        "a new db-0 running",
    )
    wait_for(lambda: len(_pods(client, ns, "web")) == 2, 30, "exactly 2 web pods")
    recorder.stop()
    # One db-0 at a time: the first was gone before the second was made.
    lives = recorder.lives("db-0")
    assert [kind for kind, _ in lives] == ["born", "gone", "born"], lives
    assert lives[0][1] == lives[1][1] == first_db != lives[2][1]
    assert len(_running_on(client, ns, "web")) == 2
    # Every container on the healed node belongs to a pod bound there.
    bound = {p.metadata.uid for p in client.pods(ns).list().items if p.spec.node_name == VICTIM}
    assert container_pods(root) & ({first_db} | first_web) == set()
    assert (container_pods(root) - bound) <= _other_namespaces_pods(client, ns, VICTIM)


def _other_namespaces_pods(client: Client, ns: str, node: str) -> set[str]:
    return {
        p.metadata.uid
        for p in client.pods("").list().items
        if p.spec.node_name == node and p.metadata.namespace != ns
    }


def _serving(apart: ApartCluster) -> int:
    """The apiserver's gRPC health status."""
    config = apart.client_config()
    with grpc.secure_channel(apart.server, config.channel_credentials()) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status


def _namespace(name: str) -> namespace_pb2.Namespace:
    ns = namespace_pb2.Namespace()
    ns.metadata.name = name
    return ns


def test_the_apiserver_cut_off_from_etcd_fails_fast_reports_not_ready_and_recovers(
    apart: ApartCluster, client: Client
) -> None:
    etcd = [m.address for m in apart.etcd_machines]
    apart.lab.block(apart.cp, etcd)
    try:
        wait_for(
            lambda: _serving(apart) == health_pb2.HealthCheckResponse.NOT_SERVING,
            30,
            "the apiserver not ready",
        )
        with pytest.raises((errors.Unavailable, errors.Timeout)):
            client.namespaces().create(_namespace("cut-off"))
    finally:
        apart.lab.unblock(apart.cp)
    wait_for(lambda: _serving(apart) == health_pb2.HealthCheckResponse.SERVING, 30, "ready again")
    wait_for(
        lambda: client.namespaces().create(_namespace("healed")),
        30,
        "a write after the cut healed",
        not_yet=(errors.Unavailable, errors.Timeout),
    )
    client.namespaces().delete("healed")
    with pytest.raises(errors.NotFound):
        client.namespaces().get("cut-off")


async def _stored(apart: ApartCluster, member: int, key: bytes) -> bool:
    """Whether etcd member ``member`` (0-based) itself serves ``key``."""
    m = apart.etcd_machines[member]
    credentials = apart.etcd_tls.channel_credentials()
    async with EtcdClient([f"{m.address}:2379"], timeout=2, credentials=credentials) as etcd:
        return bool((await etcd.range(key, serializable=True)).kvs)


def test_one_etcd_member_cut_off_writes_go_on_and_it_catches_up(
    apart: ApartCluster, client: Client
) -> None:
    lonely = apart.etcd_machines[2]
    apart.lab.cut(lonely)
    try:
        for i in range(3):
            wait_for(
                lambda i=i: client.namespaces().create(_namespace(f"while-cut-{i}")),
                30,
                f"write {i} while an etcd member is cut off",
                not_yet=(errors.Unavailable, errors.Timeout),
            )
    finally:
        apart.lab.heal(lonely)
    key = f"{resource_prefix(kinds.by_resource('namespaces'))}while-cut-2".encode()
    # Healed, it hears the leader again (until then it answers "no leader")
    # and applies what it missed.
    wait_for(
        lambda: asyncio.run(_stored(apart, 2, key)),
        30,
        "the member caught up",
        not_yet=(EtcdUnavailable,),
    )
    for i in range(3):
        client.namespaces().delete(f"while-cut-{i}")

"""Helpers for scheduler tests: Node objects without kubelets, pods, a
scheduler process factory and deadline-bound waits.

Isolation on the shared apiserver: nodes are cluster-scoped, so every test
gets a run id. Its nodes carry the label ``test.pinnace.dev/run=<id>`` and
the taint ``test.pinnace.dev/run=<id>:NoSchedule``; its pods select that
label and tolerate exactly that taint. Other tests' pods cannot land on
these nodes and these pods cannot land on anyone else's. Nodes are deleted
at the end of the test.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinnace.client import Client
from pinnace.localcluster import process
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import kinds
from tests.waiting import wait_for as wait_for  # re-exported for the tests here

RUN_KEY = "test.pinnace.dev/run"
FAST_SCHEDULER_FLAGS = (
    "--pod-initial-backoff",
    "0.1",
    "--pod-max-backoff",
    "0.5",
    "--leader-elect-lease-duration",
    "2",
    "--leader-elect-renew-deadline",
    "1.5",
    "--leader-elect-retry-period",
    "0.3",
)


class TestNodes:
    """Creates Node objects for one test run and deletes them afterwards."""

    __test__ = False

    def __init__(self, client: Client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.created: list[str] = []
        self._n = itertools.count(1)

    def name(self, suffix: str = "") -> str:
        return f"n-{self.run_id}-{suffix or next(self._n)}"

    def make(
        self,
        suffix: str = "",
        *,
        cpu: str = "4",
        memory: str = "8Gi",
        pods: str = "110",
        labels: dict[str, str] | None = None,
        taints: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
        ready: str = "True",
        unschedulable: bool = False,
        isolate: bool = True,
        annotations: dict[str, str] | None = None,
        machine_id: str = "",
        boot_id: str = "",
    ) -> Any:
        node: Any = kinds.by_resource("nodes").new()
        node.metadata.name = self.name(suffix)
        node.metadata.annotations.update(annotations or {})
        node.metadata.labels["kubernetes.io/hostname"] = node.metadata.name
        if isolate:
            node.metadata.labels[RUN_KEY] = self.run_id
            node.spec.taints.add(key=RUN_KEY, value=self.run_id, effect="NoSchedule")
        node.metadata.labels.update(labels or {})
        for key, value, effect in taints:
            node.spec.taints.add(key=key, value=value, effect=effect)
        node.spec.unschedulable = unschedulable
        for field in (node.status.capacity, node.status.allocatable):
            field.update({"cpu": cpu, "memory": memory, "pods": pods})
        node.status.conditions.add(type="Ready", status=ready, reason="Test")
        node.status.node_info.machine_id = machine_id
        node.status.node_info.boot_id = boot_id
        return node

    def create(self, *args: Any, **kwargs: Any) -> Any:
        node = self.make(*args, **kwargs)
        created = self.client.nodes().create(node)
        self.created.append(created.metadata.name)
        # Status is a subresource: write it separately if create dropped it.
        if not created.status.allocatable:
            created.status.CopyFrom(node.status)
            created = self.client.nodes().update_status(created)
        return created

    def cleanup(self) -> None:
        for name in self.created:
            try:
                self.client.nodes().delete(name)
            except Exception:
                pass


def make_pod(
    name: str,
    namespace: str,
    run_id: str,
    *,
    cpu: str = "",
    memory: str = "",
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, str]] = (),  # type: ignore[assignment]
    owner_uid: str = "",
    host_port: int = 0,
    container_port: int = 0,
    host_network: bool = False,
    isolate: bool = True,
) -> Any:
    pod: Any = kinds.by_resource("pods").new()
    pod.metadata.name = name
    pod.metadata.namespace = namespace
    if isolate:
        pod.spec.node_selector[RUN_KEY] = run_id
        pod.spec.tolerations.add(key=RUN_KEY, operator="Equal", value=run_id, effect="NoSchedule")
    pod.spec.node_selector.update(node_selector or {})
    for t in tolerations:
        pod.spec.tolerations.add(**t)
    if owner_uid:
        pod.metadata.owner_references.add(
            api_version="apps/v1",
            kind="ReplicaSet",
            name="rs",
            uid=owner_uid,
            controller=True,
        )
    c = pod.spec.containers.add(name="main", image="busybox")
    c.command.extend(["sleep", "3600"])
    if cpu:
        c.resources.requests["cpu"] = cpu
    if memory:
        c.resources.requests["memory"] = memory
    if host_port:
        c.ports.add(container_port=host_port, host_port=host_port)
    if container_port:
        c.ports.add(container_port=container_port)
    pod.spec.host_network = host_network
    return pod


class Schedulers:
    """Starts scheduler processes; stops them all at the end."""

    def __init__(self, server_flags: list[str], log_dir: Path, lease_name: str) -> None:
        self.server_flags = server_flags  # --apiserver and its identity's --kubeconfig
        self.log_dir = log_dir
        self.lease_name = lease_name
        self.started: list[process.Component] = []

    def start(self, *extra: str, name: str = "", wait: bool = True) -> process.Component:
        name = name or f"scheduler-{len(self.started)}"
        health = f"127.0.0.1:{free_port()}"
        comp = process.Component(
            name,
            "scheduler.main",
            [
                *self.server_flags,
                "--health-listen",
                health,
                "--leader-elect-resource-name",
                self.lease_name,
                *FAST_SCHEDULER_FLAGS,
                *extra,
            ],
            log_file=self.log_dir / f"{name}.log",
        )
        comp.health_endpoint = health  # type: ignore[attr-defined]
        self.started.append(comp)
        comp.start()
        if wait:
            comp.wait_serving(health, timeout=20)
        return comp

    def stop_all(self) -> None:
        for comp in self.started:
            comp.stop()


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def test_nodes(client: Client, namespace: str, run_id: str) -> Iterator[TestNodes]:
    """This test's nodes. At the end its pods are force-deleted (there is
    no kubelet to finish a graceful delete of a bound pod), then its nodes."""
    nodes = TestNodes(client, run_id)
    yield nodes
    try:
        client.pods(namespace).delete_collection(grace_period_seconds=0)
    except Exception:
        pass
    nodes.cleanup()


@pytest.fixture
def schedulers(apiserver: Any, tmp_path: Path, run_id: str) -> Iterator[Schedulers]:
    s = Schedulers(apiserver.component_flags("scheduler"), tmp_path, f"pinnace-scheduler-{run_id}")
    yield s
    s.stop_all()


def pod_node(client: Client, namespace: str, name: str) -> str:
    return client.pods(namespace).get(name).spec.node_name


def bound_pods(client: Client, namespace: str) -> dict[str, str]:
    """name -> node for every pod of the namespace that is bound."""
    return {
        p.metadata.name: p.spec.node_name
        for p in client.pods(namespace).list().items
        if p.spec.node_name
    }


def scheduled_condition(pod: Any) -> Any | None:
    for c in pod.status.conditions:
        if c.type == "PodScheduled":
            return c
    return None


def events_of(client: Client, namespace: str, pod_name: str, reason: str) -> list[Any]:
    return [
        e
        for e in client.events(namespace).list().items
        if e.involved_object.name == pod_name and e.reason == reason
    ]


def wait_bound(client: Client, namespace: str, count: int, timeout: float = 10.0) -> dict[str, str]:
    """Wait until exactly ``count`` pods of the namespace are bound; name -> node."""

    def check() -> dict[str, str] | None:
        bound = bound_pods(client, namespace)
        return bound if len(bound) == count else None

    return wait_for(check, timeout, what=f"{count} pods bound in {namespace}")

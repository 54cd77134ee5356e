"""Fixtures for controller-manager tests: start real controller-manager
processes against the session apiserver, and deadline-bound waits.

    def test_x(client, namespace, controller_manager):
        cm = controller_manager("replicaset", "replicationcontroller")
        ...
        cm.kill(); cm.start()          # SIGKILL and restart the same process

``controller_manager(*names, leader_elect=False, extra=(), name="")`` starts
``python -m controllers.main --controllers <names>`` with fast leader
election timings, waits until its health endpoint serves, and stops every
manager it started at the end of the test. With ``leader_elect=True`` the
managers campaign for the one controller-manager Lease
(kube-system/pinnace-controller-manager); a test that uses it should expect
to wait out a previous holder's lease (LEASE_DURATION seconds at most).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pinnace.localcluster import process
from pinnace.localcluster.etcd import free_port
from tests.waiting import stays as stays  # re-exported for the tests here
from tests.waiting import wait_for as wait_for

LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "pinnace-controller-manager"
LEASE_DURATION = 2.0
FAST_LEADER_ELECTION_FLAGS = (
    "--leader-elect-lease-duration",
    str(LEASE_DURATION),
    "--leader-elect-renew-deadline",
    "1.5",
    "--leader-elect-retry-period",
    "0.3",
)


class ControllerManagers:
    """Starts controller-manager processes; stops them all at the end."""

    def __init__(self, server_flags: list[str], log_dir: Path) -> None:
        self.server_flags = server_flags  # --apiserver and its identity's --kubeconfig
        self.log_dir = log_dir
        self.started: list[process.Component] = []

    def start(
        self,
        *controllers: str,
        leader_elect: bool = False,
        extra: tuple[str, ...] | list[str] = (),
        name: str = "",
        wait: bool = True,
    ) -> process.Component:
        name = name or f"controller-manager-{len(self.started)}"
        health = f"127.0.0.1:{free_port()}"
        comp = process.Component(
            name,
            "controllers.main",
            [
                *self.server_flags,
                "--controllers",
                ",".join(controllers) or "*",
                f"--leader-elect={'true' if leader_elect else 'false'}",
                "--health-listen",
                health,
                *FAST_LEADER_ELECTION_FLAGS,
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
def controller_managers(apiserver: Any, tmp_path: Path) -> Iterator[ControllerManagers]:
    managers = ControllerManagers(apiserver.component_flags("controller-manager"), tmp_path)
    yield managers
    managers.stop_all()


@pytest.fixture
def controller_manager(
    controller_managers: ControllerManagers,
) -> Callable[..., process.Component]:
    """Factory: ``controller_manager("replicaset", leader_elect=False, extra=())``
    starts one manager running those controllers (all when none are named)."""
    return controller_managers.start


# ---- pods as a kubelet would report them -------------------------------------------


def set_pod_status(
    client: Any, namespace: str, name: str, *, phase: str, ready: bool | None = None
) -> Any:
    """Write a pod's phase and Ready condition through the status
    subresource, as a kubelet would (retrying on conflicts)."""
    from pinnace.machinery import errors
    from pinnace.machinery.timeutil import now_rfc3339

    for _ in range(10):
        pod = client.pods(namespace).get(name)
        pod.status.phase = phase
        del pod.status.conditions[:]
        if ready is not None:
            pod.status.conditions.add(
                type="Ready",
                status="True" if ready else "False",
                last_transition_time=now_rfc3339(),
            )
        try:
            return client.pods(namespace).update_status(pod)
        except errors.Conflict:
            continue
    raise AssertionError(f"could not write the status of pod {namespace}/{name}")


def pods_controlled_by(client: Any, namespace: str, owner_uid: str) -> list[Any]:
    """Pods of the namespace whose controller ownerReference has owner_uid."""
    return [
        p
        for p in client.pods(namespace).list().items
        if any(r.controller and r.uid == owner_uid for r in p.metadata.owner_references)
    ]


def is_active(pod: Any) -> bool:
    """Counts as a replica: not terminal and not being deleted."""
    return pod.status.phase not in ("Succeeded", "Failed") and not pod.metadata.deletion_timestamp


def pod_events_since(
    client: Any, namespace: str, resource_version: str, timeout: float = 5.0
) -> list[Any]:
    """Every pod watch event of the namespace after resource_version, up to
    now: replayed by a watch from that version until a bookmark (or the
    current list version) shows it has caught up."""
    target = int(client.pods(namespace).list().resource_version)
    events = []
    for ev in client.pods(namespace).watch(resource_version=resource_version, timeout=timeout):
        if ev.type != "BOOKMARK":
            events.append(ev)
        if int(ev.resource_version or 0) >= target:
            break
    return events

"""The scheduler killed mid-way, and two schedulers under leader election."""

from __future__ import annotations

import collections

from tests.integration.scheduler.conftest import (
    bound_pods,
    events_of,
    make_pod,
    wait_bound,
    wait_for,
)


def _holder(client, lease: str) -> str:
    try:
        return client.leases("kube-system").get(lease).spec.holder_identity
    except Exception:
        return ""


def test_sigkill_and_restart_binds_every_pod_once(
    client, namespace, run_id, test_nodes, schedulers
):
    """SIGKILL the scheduler while pods are pending, create more, restart it:
    every pod ends bound, and no node holds more pods than it allows (the
    restarted scheduler rebuilt its cache from the API, nothing was
    counted twice or lost)."""
    for i in range(5):
        test_nodes.create(str(i), pods="20")
    first = schedulers.start()
    pods = client.pods(namespace)
    for i in range(60):
        pods.create(make_pod(f"p{i:03}", namespace, run_id))
    wait_for(lambda: len(bound_pods(client, namespace)) >= 10, what="some pods bound")
    first.kill()
    at_kill = bound_pods(client, namespace)
    for i in range(60, 100):
        pods.create(make_pod(f"p{i:03}", namespace, run_id))
    schedulers.start()  # waits out the dead leader's lease first
    placed = wait_bound(client, namespace, 100, timeout=30)
    for name, node in at_kill.items():
        assert placed[name] == node  # a bound pod never moves
    assert sorted(collections.Counter(placed.values()).values()) == [20] * 5


def test_only_the_leader_binds(client, namespace, run_id, test_nodes, schedulers):
    """Two schedulers on one Lease: the follower says it is not leading and
    every Scheduled event comes from the leader; when the leader is killed
    the follower takes over and binds the next pods."""
    lease = schedulers.lease_name
    test_nodes.create("a")
    test_nodes.create("b")
    leader = schedulers.start("--identity", "sched-a", name="sched-a")
    wait_for(lambda: _holder(client, lease) == "sched-a", what="sched-a leads")
    follower = schedulers.start("--identity", "sched-b", name="sched-b")
    wait_for(
        lambda: "sched-b is not leading" in follower.log_file.read_text(),
        what="follower logs that it is not leading",
    )
    pods = client.pods(namespace)
    for i in range(20):
        pods.create(make_pod(f"a{i}", namespace, run_id))
    wait_bound(client, namespace, 20)

    def scheduled_by() -> list[str] | None:
        events = [e for e in client.events(namespace).list().items if e.reason == "Scheduled"]
        return [e.reporting_instance for e in events] if len(events) == 20 else None

    assert set(wait_for(scheduled_by, what="20 Scheduled events")) == {"sched-a"}
    assert _holder(client, lease) == "sched-a"

    leader.kill()
    for i in range(5):
        pods.create(make_pod(f"b{i}", namespace, run_id))
    wait_bound(client, namespace, 25, timeout=20)
    assert _holder(client, lease) == "sched-b"
    for i in range(5):
        events = wait_for(lambda i=i: events_of(client, namespace, f"b{i}", "Scheduled"))
        assert events[0].reporting_instance == "sched-b"

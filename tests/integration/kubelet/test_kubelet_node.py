"""The kubelet registers its Node, keeps it Ready and renews its Lease."""

from __future__ import annotations

from pinnace.client import Client
from pinnace.machinery.timeutil import parse_rfc3339
from tests.integration.kubelet.helpers import wait_for


def test_node_registers_with_labels_capacity_and_ready(client: Client, start_kubelet) -> None:
    k = start_kubelet(
        "--node-labels",
        "zone=a,disk=ssd",
        "--register-with-taints",
        "dedicated=infra:NoSchedule",
        "--capacity-cpu",
        "4",
        "--capacity-memory",
        "8Gi",
        "--max-pods",
        "20",
    )
    node = client.nodes().get(k.node)
    labels = node.metadata.labels
    assert labels["kubernetes.io/hostname"] == k.node
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"]
    assert labels["zone"] == "a" and labels["disk"] == "ssd"
    assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [
        ("dedicated", "infra", "NoSchedule")
    ]
    st = node.status
    assert (
        st.capacity["cpu"] == "4" and st.capacity["memory"] == "8Gi" and st.capacity["pods"] == "20"
    )
    assert st.allocatable["cpu"] == "4"
    ready = next(c for c in st.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("True", "KubeletReady")
    assert {a.type: a.address for a in st.addresses} == {
        "InternalIP": "127.0.0.1",
        "Hostname": k.node,
    }
    assert st.daemon_endpoints.kubelet_endpoint.port == k.port
    assert st.node_info.operating_system == "linux" and st.node_info.kubelet_version


def test_lease_is_renewed(client: Client, kubelet) -> None:
    leases = client.leases("kube-node-lease")
    lease = wait_for(lambda: leases.get(kubelet.node), what="lease")
    assert lease.spec.holder_identity == kubelet.node
    assert lease.spec.lease_duration_seconds == 40
    assert lease.metadata.owner_references[0].kind == "Node"
    first = parse_rfc3339(lease.spec.renew_time)
    wait_for(
        lambda: parse_rfc3339(leases.get(kubelet.node).spec.renew_time) > first,
        timeout=5,
        what="renewal",
    )

"""Node IPAM against a real apiserver and controller-manager: every Node
gets its own podCIDR from --cluster-cidr, also after the manager is
SIGKILLed and restarted; a deleted Node's range is free again once it is
gone; the apiserver refuses a change of a podCIDR once set."""

from __future__ import annotations

import contextlib
import ipaddress
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pinnace.api.core.v1 import node_pb2
from pinnace.machinery import errors
from tests.integration.controllers.conftest import wait_for

CLUSTER = ipaddress.IPv4Network("10.244.0.0/16")
IPAM_FLAGS = (
    "--allocate-node-cidrs",
    "--cluster-cidr",
    str(CLUSTER),
    "--node-cidr-mask-size",
    "24",
)
FORBIDDEN = 'node updates may not change podCIDR except from "" to valid'


def _node(name: str) -> node_pb2.Node:
    node = node_pb2.Node()
    node.metadata.name = name
    return node


def _cidrs_in_range(client: Any) -> dict[str, str]:
    """Every Node's podCIDR that lies in the cluster CIDR (other tests share
    the apiserver: their Nodes may hold ranges too)."""
    out = {}
    for node in client.nodes().list().items:
        cidr = node.spec.pod_cidr
        if cidr and _in_cluster(cidr):
            out[node.metadata.name] = cidr
    return out


def _in_cluster(cidr: str) -> bool:
    try:
        return ipaddress.IPv4Network(cidr, strict=False).subnet_of(CLUSTER)
    except ValueError:  # IPv6, or not a CIDR
        return False


def _lowest_free(used: set[str]) -> str:
    return next(str(s) for s in CLUSTER.subnets(new_prefix=24) if str(s) not in used)


@pytest.fixture
def nodes(client: Any) -> Iterator[Callable[[str], str]]:
    """Factory: create a Node with a unique name (deleted at the end)."""
    prefix = f"ipam-{uuid.uuid4().hex[:6]}"
    made: list[str] = []

    def make(suffix: str) -> str:
        name = f"{prefix}-{suffix}"
        client.nodes().create(_node(name))
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(errors.NotFound):
            client.nodes().delete(name)


def _wait_cidr(client: Any, name: str) -> str:
    def assigned() -> str:
        node = client.nodes().get(name)
        if not node.spec.pod_cidr:
            return ""
        assert list(node.spec.pod_cidrs) == [node.spec.pod_cidr]
        return str(node.spec.pod_cidr)

    return wait_for(assigned, timeout=20, what=f"a podCIDR on node {name}")


def test_nodes_get_distinct_pod_cidrs_across_restarts_and_deletes(
    client: Any, controller_manager: Callable[..., Any], nodes: Callable[[str], str]
) -> None:
    cm = controller_manager("nodeipam", extra=IPAM_FLAGS)
    names = [nodes(str(i)) for i in range(3)]
    got = {name: _wait_cidr(client, name) for name in names}
    assert len(set(got.values())) == 3
    for cidr in got.values():
        net = ipaddress.IPv4Network(cidr)
        assert net.prefixlen == 24 and net.subnet_of(CLUSTER)
    assert set(_cidrs_in_range(client).values()) >= set(got.values())
    in_range = _cidrs_in_range(client)
    assert len(set(in_range.values())) == len(in_range), "two nodes share a podCIDR"

    # A change of a podCIDR once set is refused, whoever writes it.
    node = client.nodes().get(names[0])
    other = _lowest_free(set(in_range.values()))
    node.spec.pod_cidr = other
    node.spec.pod_cidrs[:] = [other]
    with pytest.raises(errors.Invalid, match=FORBIDDEN):
        client.nodes().update(node)

    # SIGKILL and restart: the new manager claims every range before allocating.
    cm.kill()
    cm.start()
    cm.wait_serving(cm.health_endpoint, timeout=20)
    late = nodes("late")
    late_cidr = _wait_cidr(client, late)
    others = {c for n, c in _cidrs_in_range(client).items() if n != late}
    assert late_cidr not in others

    # A deleted Node's range is free again once the Node is gone (and not before:
    # the manager sees the delete before the next Node's add, one watch stream).
    freed = got[names[0]]
    client.nodes().delete(names[0])
    wait_for(
        lambda: names[0] not in {n.metadata.name for n in client.nodes().list().items},
        what="the node gone",
    )
    expected = _lowest_free(set(_cidrs_in_range(client).values()))
    assert freed not in set(_cidrs_in_range(client).values())
    after = nodes("after")
    assert _wait_cidr(client, after) == expected
    in_range = _cidrs_in_range(client)
    assert len(set(in_range.values())) == len(in_range), "two nodes share a podCIDR"

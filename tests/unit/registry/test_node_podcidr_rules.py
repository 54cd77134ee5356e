"""A Node's podCIDR is set once: from "" to a valid CIDR, then never changed
(Kubernetes' ValidateNodeUpdate), whether podCIDR or podCIDRs is written."""

from __future__ import annotations

import pytest

from apiserver.registry.kinds.nodes import POD_CIDR_SET_ONCE, NodeStrategy
from pinnace.api.core.v1 import node_pb2
from pinnace.machinery import kinds


def node(pod_cidr: str = "", pod_cidrs: tuple[str, ...] = ()) -> node_pb2.Node:
    n = node_pb2.Node()
    n.metadata.name = "n"
    n.spec.pod_cidr = pod_cidr
    n.spec.pod_cidrs.extend(pod_cidrs)
    return n


A, B = "10.244.1.0/24", "10.244.2.0/24"

# (id, old (podCIDR, podCIDRs), new (podCIDR, podCIDRs), the field refused or None)
CASES = [
    ("set-from-empty", ("", ()), (A, (A,)), None),
    ("set-podcidr-only-from-empty", ("", ()), (A, ()), None),
    ("unchanged", (A, (A,)), (A, (A,)), None),
    ("podcidrs-filled-in-as-stored", (A, ()), (A, (A,)), None),
    ("podcidr-changed", (A, (A,)), (B, (B,)), "spec.podCIDR"),
    ("podcidr-cleared", (A, (A,)), ("", ()), "spec.podCIDR"),
    ("podcidrs-changed", ("", (A,)), ("", (B,)), "spec.podCIDRs"),
    ("podcidrs-replace-a-lone-podcidr", (A, ()), (A, (B,)), "spec.podCIDRs"),
    ("podcidrs-grown", (A, (A,)), (A, (A, "fd00::/64")), "spec.podCIDRs"),
]


@pytest.mark.parametrize(
    ("old", "new", "refused"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_pod_cidr_is_set_once(
    old: tuple[str, tuple[str, ...]], new: tuple[str, tuple[str, ...]], refused: str | None
) -> None:
    info = next(k for k in kinds.KINDS if k.kind == "Node")
    errs = NodeStrategy(info).validate_update(node(*new), node(*old))
    if refused is None:
        assert errs == []
        return
    assert [(e.field, e.type.value, e.detail) for e in errs] == [
        (refused, "Forbidden", POD_CIDR_SET_ONCE)
    ]
    assert (
        str(errs[0])
        == f'{refused}: Forbidden: node updates may not change podCIDR except from "" to valid'
    )

"""The FailedScheduling message: Kubernetes' FitError.Error() tally."""

from __future__ import annotations

import pytest

from scheduler.failure import NO_NODES_AVAILABLE, fit_error_message
from scheduler.framework import Code, Status

CPU = Status(Code.UNSCHEDULABLE, ("Insufficient cpu",))
CPU_MEM = Status(Code.UNSCHEDULABLE, ("Insufficient cpu", "Insufficient memory"))
AFFINITY = Status(
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("node(s) didn't match Pod's node affinity/selector",)
)
CORDON = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("node(s) were unschedulable",))
NOT_READY = Status(
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
    ("node(s) had untolerated taint {node.kubernetes.io/not-ready: }",),
)
TAINT = Status(
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("node(s) had untolerated taint {dedicated: infra}",)
)
PODS = Status(Code.UNSCHEDULABLE, ("Too many pods",))
PORTS = Status(Code.UNSCHEDULABLE, ("node(s) didn't have free ports for the requested pod ports",))


@pytest.mark.parametrize(
    ("num_nodes", "statuses", "want"),
    [
        pytest.param(0, [], NO_NODES_AVAILABLE, id="no-nodes"),
        pytest.param(
            3,
            [CPU, CPU, AFFINITY],
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
            "2 Insufficient cpu.",
            id="brief-example-sorted-as-strings",
        ),
        pytest.param(
            1, [CORDON], "0/1 nodes are available: 1 node(s) were unschedulable.", id="cordon"
        ),
        pytest.param(
            2,
            [CPU_MEM, CPU],
            "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.",
            id="several-reasons-per-node",
        ),
        pytest.param(
            12,
            [CPU] * 10 + [PODS, PODS],
            "0/12 nodes are available: 10 Insufficient cpu, 2 Too many pods.",
            id="string-sort-10-before-2",
        ),
        pytest.param(
            5,
            [TAINT, TAINT, NOT_READY, PORTS, CORDON],
            "0/5 nodes are available: "
            "1 node(s) didn't have free ports for the requested pod ports, "
            "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
            "1 node(s) were unschedulable, "
            "2 node(s) had untolerated taint {dedicated: infra}.",
            id="mixed",
        ),
    ],
)
def test_fit_error_message(num_nodes, statuses, want):
    assert fit_error_message(num_nodes, statuses) == want

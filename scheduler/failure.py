"""Why a pod fits nowhere, worded as Kubernetes' ``FitError.Error()``.

    0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.

Each failed node contributes every reason its failing filter gave; the
tally entries are ``"<count> <reason>"`` strings sorted as strings (Go's
``sort.Strings``), so "10 Insufficient cpu" sorts before "2 Insufficient
memory", exactly as Kubernetes prints them. Kubernetes appends a
"preemption: ..." sentence from its PostFilter; Pinnace has no preemption
and leaves it out. With no nodes at all the message is Kubernetes'
``ErrNoNodesAvailable``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from scheduler.framework import Status

NO_NODES_AVAILABLE = "no nodes available to schedule pods"


def fit_error_message(num_all_nodes: int, statuses: Iterable[Status]) -> str:
    if num_all_nodes == 0:
        return NO_NODES_AVAILABLE
    tally: Counter[str] = Counter()
    for status in statuses:
        tally.update(status.reasons)
    entries = sorted(f"{count} {reason}" for reason, count in tally.items())
    message = f"0/{num_all_nodes} nodes are available:"
    if entries:
        message += f" {', '.join(entries)}."
    return message

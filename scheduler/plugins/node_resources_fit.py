"""NodeResourcesFit: the pod's requests must fit what the node has left, and
LeastAllocated scoring prefers emptier nodes.

Fit (Kubernetes' ``fitsRequest``): the pod count must stay within
allocatable pods ("Too many pods"); for each resource the pod requests (a
request of 0 is never insufficient), requested-so-far + request must not
exceed allocatable ("Insufficient cpu", "Insufficient memory",
"Insufficient <name>"). Every failing resource is a reason of its own.

LeastAllocated (weights cpu 1, memory 1): per resource
``(allocatable - requested) * 100 // allocatable`` using non-zero requests
(the pod's included), 0 when nothing is allocatable or it is overcommitted,
averaged. Example: 4 cores with 1 requested plus a 1-core pod -> cpu 50;
8 GiB with 2 GiB + 2 GiB -> memory 50; score 50.
"""

from __future__ import annotations

from scheduler.framework import MAX_NODE_SCORE, SUCCESS, Status, unschedulable
from scheduler.nodeinfo import NodeInfo, PodInfo
from scheduler.resources import CPU, MEMORY

TOO_MANY_PODS = "Too many pods"


def insufficient(resource: str) -> str:
    return f"Insufficient {resource}"


def fit_reasons(pod: PodInfo, node: NodeInfo) -> list[str]:
    reasons = []
    alloc = node.allocatable
    if len(node.pods) + 1 > alloc.pods:
        reasons.append(TOO_MANY_PODS)
    req = pod.requests
    used = node.requested
    if req.milli_cpu > 0 and req.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        reasons.append(insufficient(CPU))
    if req.memory > 0 and req.memory > alloc.memory - used.memory:
        reasons.append(insufficient(MEMORY))
    for name, amount in req.scalars.items():
        if amount > 0 and amount > alloc.get(name) - used.get(name):
            reasons.append(insufficient(name))
    return reasons


def least_requested(requested: int, allocatable: int) -> int:
    if allocatable <= 0 or requested > allocatable:
        return 0
    return (allocatable - requested) * MAX_NODE_SCORE // allocatable


class NodeResourcesFit:
    name = "NodeResourcesFit"

    def __init__(self, weight: int = 1) -> None:
        self.weight = weight

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        reasons = fit_reasons(pod, node)
        return unschedulable(*reasons) if reasons else SUCCESS

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        used = node.non_zero_requested
        want = pod.non_zero_requests
        cpu = least_requested(used.milli_cpu + want.milli_cpu, node.allocatable.milli_cpu)
        memory = least_requested(used.memory + want.memory, node.allocatable.memory)
        return (cpu + memory) // 2

    def normalize(self, scores: list[int]) -> list[int]:
        return scores

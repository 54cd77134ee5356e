"""The default profile: filters in Kubernetes' order, then scores.

Filters: NodeUnschedulable, NodeName, TaintToleration (also covers nodes
that are not Ready), NodeAffinity (nodeSelector + required affinity),
NodePorts, NodeResourcesFit, VolumeBinding (when given the claim and
volume listers). Scores (weight): NodeResourcesFit
LeastAllocated (1), NodeAffinity preferred terms (2), TaintToleration
PreferNoSchedule (3), SelectorSpread (2).
"""

from __future__ import annotations

from scheduler.framework import FilterPlugin, Framework
from scheduler.plugins.node_affinity import NodeAffinity
from scheduler.plugins.node_name import NodeName
from scheduler.plugins.node_ports import NodePorts
from scheduler.plugins.node_resources_fit import NodeResourcesFit
from scheduler.plugins.node_unschedulable import NodeUnschedulable
from scheduler.plugins.selector_spread import SelectorSpread
from scheduler.plugins.taint_toleration import TaintToleration
from scheduler.plugins.volume_binding import Lister, VolumeBinding

__all__ = ["default_framework"]


def default_framework(claims: Lister | None = None, volumes: Lister | None = None) -> Framework:
    taints = TaintToleration()
    affinity = NodeAffinity()
    fit = NodeResourcesFit()
    filters: list[FilterPlugin] = [
        NodeUnschedulable(),
        NodeName(),
        taints,
        affinity,
        NodePorts(),
        fit,
    ]
    if claims is not None and volumes is not None:
        filters.append(VolumeBinding(claims, volumes))
    return Framework(
        filters=filters,
        scores=[fit, affinity, taints, SelectorSpread()],
    )

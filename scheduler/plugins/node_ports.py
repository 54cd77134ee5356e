"""NodePorts: the pod's host ports must be free on the node (same protocol
and port on the same ip, or either side on 0.0.0.0, is a clash).

Which ports are host ports depends on the node's pod network
(nodeinfo.py): on a ``pinnace.io/pod-network: host`` node every declared
containerPort is one, so replicas of a server with a fixed port spread over
such nodes and, when none is free, stay Pending with Kubernetes' reason.

Nodes on one machine (same ``status.nodeInfo`` machineID and bootID, as
the kubelets of ``pinnace up --nodes 3`` report) share the ports bound in
the machine's own network: every containerPort of a pod on a host node,
and the ports of a ``hostNetwork: true`` pod on any node. A port so used by
a pod on node-1 is taken on node-2 and node-3 too. 4 replicas of port 8080
on 3 host nodes of one machine: 1 binds, 3 stay Pending; on 3 machines: 3
bind, 1 stays Pending. Two hostNetwork pods with port 9000 on two bridge
nodes of one machine: 1 binds, 1 stays Pending. A hostPort of a pod with
its own network (bridge node) is only a reservation (the kubelet forwards
no hostPorts) and stays per node, as in Kubernetes. The check is a dict
lookup per wanted port in the node's hostPort tally and in its machine's
tally; no scan over nodes."""

from __future__ import annotations

from scheduler.framework import SUCCESS, Status, unschedulable
from scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts:
    name = "NodePorts"

    def pre_filter_skip(self, pod: PodInfo) -> bool:
        """No hostPort and no containerPort: nothing can clash anywhere."""
        return not pod.ports and not pod.host_network_ports

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if node.ports_clash(pod):
            return unschedulable(REASON)
        return SUCCESS

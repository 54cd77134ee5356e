"""Printers of the core kinds other than Pod, Service and volumes: Node,
Namespace, Event, ReplicationController, and coordination's Lease
(Kubernetes' printNode, printNamespace, printEvent,
printReplicationController, printLease)."""

from __future__ import annotations

from datetime import datetime

from pinnace.api.coordination.v1 import lease_pb2
from pinnace.api.core.v1 import event_pb2, namespace_pb2, node_pb2, replicationcontroller_pb2
from pinnace.machinery.printers.columns import (
    AGE,
    CONTAINERS,
    IMAGES,
    NAME,
    Cell,
    Printer,
    age,
    column,
    containers_and_images,
    format_labels,
    since,
)
from pinnace.machinery.wellknown import NODE_READY

__all__ = ["EVENT", "LEASE", "NAMESPACE", "NODE", "REPLICATION_CONTROLLER"]

# Labels Kubernetes reads a node's roles from (printers.go).
LABEL_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
LABEL_NODE_ROLE = "kubernetes.io/role"


def _node_status(node: node_pb2.Node) -> str:
    """Ready / NotReady / Unknown (no Ready condition), then
    ",SchedulingDisabled" for a cordoned node. The last Ready condition
    listed wins, as in Kubernetes' condition map."""
    status = ""
    for cond in node.status.conditions:
        if cond.type == NODE_READY:
            status = NODE_READY if cond.status == "True" else "Not" + NODE_READY
    parts = [status or "Unknown"]
    if node.spec.unschedulable:
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def _node_roles(node: node_pb2.Node) -> str:
    """findNodeRoles: node-role.kubernetes.io/<role> keys and the value of
    kubernetes.io/role, sorted and deduplicated; "<none>" without any."""
    roles = set()
    for key, value in node.metadata.labels.items():
        if key.startswith(LABEL_NODE_ROLE_PREFIX):
            role = key.removeprefix(LABEL_NODE_ROLE_PREFIX)
            if role:
                roles.add(role)
        elif key == LABEL_NODE_ROLE and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: node_pb2.Node, type: str) -> str:
    for address in node.status.addresses:
        if address.type == type:
            return address.address
    return "<none>"


def _node_cells(node: node_pb2.Node, now: datetime) -> list[Cell]:
    info = node.status.node_info
    return [
        node.metadata.name,
        _node_status(node),
        _node_roles(node),
        age(node, now),
        info.kubelet_version,
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.os_image or "<unknown>",
        info.kernel_version or "<unknown>",
        info.container_runtime_version or "<unknown>",
    ]


NODE = Printer(
    columns=(
        NAME,
        column("Status", doc="The status of the node"),
        column("Roles", doc="The roles of the node"),
        AGE,
        column("Version", doc="NodeSystemInfo.kubeletVersion"),
        column("Internal-IP", doc="NodeStatus.addresses", priority=1),
        column("External-IP", doc="NodeStatus.addresses", priority=1),
        column("OS-Image", doc="NodeSystemInfo.osImage", priority=1),
        column("Kernel-Version", doc="NodeSystemInfo.kernelVersion", priority=1),
        column("Container-Runtime", doc="NodeSystemInfo.containerRuntimeVersion", priority=1),
    ),
    cells=_node_cells,
)


def _namespace_cells(ns: namespace_pb2.Namespace, now: datetime) -> list[Cell]:
    return [ns.metadata.name, ns.status.phase, age(ns, now)]


NAMESPACE = Printer(
    columns=(NAME, column("Status", doc="The status of the namespace"), AGE),
    cells=_namespace_cells,
)


def _event_source(event: event_pb2.Event) -> str:
    """formatEventSource: component (or reportingController), then
    ", host" (or reportingInstance) when there is one."""
    component = event.source.component or event.reporting_component
    instance = event.source.host or event.reporting_instance
    return f"{component}, {instance}" if instance else component


def _event_cells(event: event_pb2.Event, now: datetime) -> list[Cell]:
    first = since(event.first_timestamp or event.event_time, now)
    last = since(event.last_timestamp, now) if event.last_timestamp else first
    count = event.count
    if event.HasField("series"):
        last = since(event.series.last_observed_time, now)
        count = event.series.count
    elif count == 0:
        count = 1  # a singleton event of the events.k8s.io API
    ref = event.involved_object
    target = f"{ref.kind.lower()}/{ref.name}" if ref.name else ref.kind.lower()
    return [
        last,
        event.type,
        event.reason,
        target,
        ref.field_path,
        _event_source(event),
        event.message.strip(),
        first,
        count,
        event.metadata.name,
    ]


EVENT = Printer(
    columns=(
        column("Last Seen", doc="Event.lastTimestamp"),
        column("Type", doc="Event.type"),
        column("Reason", doc="Event.reason"),
        column("Object", doc="Event.involvedObject"),
        column("Subobject", doc="ObjectReference.fieldPath", priority=1),
        column("Source", doc="Event.source", priority=1),
        column("Message", doc="Event.message"),
        column("First Seen", doc="Event.firstTimestamp", priority=1),
        column("Count", doc="Event.count", priority=1),
        column("Name", doc="ObjectMeta.name", priority=1, format="name"),
    ),
    cells=_event_cells,
)


def _rc_cells(rc: replicationcontroller_pb2.ReplicationController, now: datetime) -> list[Cell]:
    names, images = containers_and_images(rc.spec.template.spec.containers)
    return [
        rc.metadata.name,
        rc.spec.replicas,
        rc.status.replicas,
        rc.status.ready_replicas,
        age(rc, now),
        names,
        images,
        format_labels(rc.spec.selector),
    ]


REPLICATION_CONTROLLER = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "ReplicationControllerSpec.replicas"),
        column("Current", "integer", "ReplicationControllerStatus.replicas"),
        column("Ready", "integer", "ReplicationControllerStatus.readyReplicas"),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", doc="ReplicationControllerSpec.selector", priority=1),
    ),
    cells=_rc_cells,
)


def _lease_cells(lease: lease_pb2.Lease, now: datetime) -> list[Cell]:
    return [lease.metadata.name, lease.spec.holder_identity, age(lease, now)]


LEASE = Printer(
    columns=(NAME, column("Holder", doc="LeaseSpec.holderIdentity"), AGE),
    cells=_lease_cells,
)

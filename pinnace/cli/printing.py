"""How the CLI prints objects: kubectl-style tables, YAML, JSON and names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml
from google.protobuf.message import Message

from pinnace.api.apps.v1 import daemonset_pb2, deployment_pb2, replicaset_pb2, statefulset_pb2
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2, service_pb2, volume_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.client import object_meta
from pinnace.machinery import codec, kinds
from pinnace.machinery.conditions import find_condition, is_true
from pinnace.machinery.labels import selector_from_label_selector
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.wellknown import (
    JOB_COMPLETE,
    JOB_FAILED,
    JOB_FAILURE_TARGET,
    JOB_SUCCESS_CRITERIA_MET,
    JOB_SUSPENDED,
    NODE_READY,
)

# A column: its header and what it shows of one object. Each function takes
# the kind its table is for (COLUMNS is keyed by kind), hence Any here.
Column = tuple[str, Callable[[Any], str]]
# The kinds whose -o wide shows their pod template and selector.
Workload = (
    deployment_pb2.Deployment
    | replicaset_pb2.ReplicaSet
    | statefulset_pb2.StatefulSet
    | daemonset_pb2.DaemonSet
    | job_pb2.Job
)


def age(timestamp: str, now: datetime | None = None) -> str:
    """kubectl's short age: 42s, 5m, 3h, 2d (or 5m10s / 3h4m below thresholds)."""
    if not timestamp:
        return "<unknown>"
    now = now or datetime.now(UTC)
    seconds = max(int((now - parse_rfc3339(timestamp)).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def _age(obj: Message) -> str:
    return age(object_meta(obj).creation_timestamp)


def _ready_pods(obj: pod_pb2.Pod) -> str:
    statuses = obj.status.container_statuses
    total = len(obj.spec.containers)
    return f"{sum(1 for s in statuses if s.ready)}/{total}"


def _pod_status(obj: pod_pb2.Pod) -> str:
    if obj.metadata.deletion_timestamp:
        return "Terminating"
    status = obj.status
    reason = status.reason or status.phase or "Unknown"
    for cs in status.container_statuses:
        if cs.state.HasField("waiting") and cs.state.waiting.reason:
            reason = cs.state.waiting.reason
        elif cs.state.HasField("terminated") and cs.state.terminated.reason:
            reason = cs.state.terminated.reason
    return reason


def _restarts(obj: pod_pb2.Pod) -> str:
    return str(sum(cs.restart_count for cs in obj.status.container_statuses))


def _node_status(obj: node_pb2.Node) -> str:
    cond = find_condition(obj.status.conditions, NODE_READY)
    ready = "Unknown" if cond is None else "Ready" if cond.status == "True" else "NotReady"
    if obj.spec.unschedulable:
        ready += ",SchedulingDisabled"
    return ready


def _replicas(
    ready_field: str = "ready_replicas",
) -> Callable[[deployment_pb2.Deployment | statefulset_pb2.StatefulSet], str]:
    def show(obj: deployment_pb2.Deployment | statefulset_pb2.StatefulSet) -> str:
        return f"{getattr(obj.status, ready_field)}/{obj.spec.replicas}"

    return show


def _field(path: str, default: str = "") -> Callable[[Message], str]:
    def show(obj: Message) -> str:
        value: object = obj
        for part in path.split("."):
            value = getattr(value, part, default)
        return str(value) if value not in ("", None) else (default or "<none>")

    return show


def _completions(obj: job_pb2.Job) -> str:
    """kubectl's: succeeded/completions, "n/1 of p" for a work queue."""
    spec, status = obj.spec, obj.status
    if spec.HasField("completions"):
        return f"{status.succeeded}/{spec.completions}"
    parallelism = spec.parallelism if spec.HasField("parallelism") else 1
    if parallelism > 1:
        return f"{status.succeeded}/1 of {parallelism}"
    return f"{status.succeeded}/1"


def _job_status(obj: job_pb2.Job) -> str:
    """kubectl 1.32's STATUS: the terminal or interim condition, else Running."""
    conditions = obj.status.conditions
    for kind in (
        JOB_FAILED,
        JOB_COMPLETE,
        JOB_SUSPENDED,
        JOB_FAILURE_TARGET,
        JOB_SUCCESS_CRITERIA_MET,
    ):
        if is_true(conditions, kind):
            return kind
    return "Running"


def _job_duration(obj: job_pb2.Job) -> str:
    """From startTime to completionTime (or to now while it runs)."""
    status = obj.status
    if not status.start_time:
        return ""
    if not status.completion_time:
        return age(status.start_time)
    return age(status.start_time, now=parse_rfc3339(status.completion_time))


def _node_selector(obj: daemonset_pb2.DaemonSet) -> str:
    """A DaemonSet's template nodeSelector as k=v,... (kubectl's NODE SELECTOR)."""
    selector = obj.spec.template.spec.node_selector
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"


_ACCESS_MODES = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}


def _access_modes(modes: Iterable[str]) -> str:
    """kubectl's abbreviations (RWO, ROX, RWX, RWOP), comma separated."""
    return ",".join(_ACCESS_MODES.get(m, m) for m in modes)


def _pvc_class(obj: volume_pb2.PersistentVolumeClaim) -> str:
    spec = obj.spec
    return spec.storage_class_name if spec.HasField("storage_class_name") else "<unset>"


def _pv_claim(obj: volume_pb2.PersistentVolume) -> str:
    ref = obj.spec.claim_ref
    return f"{ref.namespace}/{ref.name}" if ref.name else ""


def _cluster_ip(obj: service_pb2.Service) -> str:
    return obj.spec.cluster_ips[0] if obj.spec.cluster_ips else "<none>"


_LB_WIDTH = 16  # kubectl's loadBalancerWidth


def _load_balancer_ips(obj: service_pb2.Service) -> str:
    """The ingress IPs (or hostnames), cut to 16 characters as kubectl does."""
    lb = obj.status.load_balancer
    ingress = ",".join(i.ip or i.hostname for i in lb.ingress if i.ip or i.hostname)
    if len(ingress) > _LB_WIDTH:
        return ingress[: _LB_WIDTH - 3] + "..."
    return ingress


def _external_ip(obj: service_pb2.Service) -> str:
    """kubectl's getServiceExternalIP: externalIPs, the load balancer's
    ingress (``<pending>`` until a controller writes it), or the
    ExternalName."""
    spec = obj.spec
    if spec.type in ("ClusterIP", "NodePort"):
        return ",".join(spec.external_ips) or "<none>"
    if spec.type == "LoadBalancer":
        lb = _load_balancer_ips(obj)
        if spec.external_ips:
            return ",".join([*(lb.split(",") if lb else []), *spec.external_ips])
        return lb or "<pending>"
    if spec.type == "ExternalName":
        return spec.external_name
    return "<unknown>"


def _service_ports(obj: service_pb2.Service) -> str:
    """kubectl's makePortString: ``80/TCP``, ``80:30080/TCP``, joined by commas."""
    shown = [
        f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port else f"{p.port}/{p.protocol}"
        for p in obj.spec.ports
    ]
    return ",".join(shown) or "<none>"


def _service_selector(obj: service_pb2.Service) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(obj.spec.selector.items())) or "<none>"


_LIST_MAX = 3  # kubectl's formatDiscoveryPorts/Endpoints show three, then "+ N more..."


def _with_more(items: list[str]) -> str:
    if not items:
        return "<unset>"
    shown = ",".join(items[:_LIST_MAX])
    if len(items) > _LIST_MAX:
        shown += f" + {len(items) - _LIST_MAX} more..."
    return shown


def _slice_ports(obj: endpointslice_pb2.EndpointSlice) -> str:
    return _with_more(
        [str(p.port) if p.HasField("port") else (p.name or "<unset>") for p in obj.ports]
    )


def _slice_endpoints(obj: endpointslice_pb2.EndpointSlice) -> str:
    return _with_more([a for e in obj.endpoints for a in e.addresses])


COLUMNS: dict[str, list[Column]] = {
    "Pod": [
        ("READY", _ready_pods),
        ("STATUS", _pod_status),
        ("RESTARTS", _restarts),
        ("AGE", _age),
    ],
    "Node": [
        ("STATUS", _node_status),
        ("ROLES", lambda o: "<none>"),
        ("AGE", _age),
        ("VERSION", _field("status.node_info.kubelet_version")),
    ],
    "Namespace": [("STATUS", _field("status.phase")), ("AGE", _age)],
    "Deployment": [
        ("READY", _replicas()),
        ("UP-TO-DATE", _field("status.updated_replicas", "0")),
        ("AVAILABLE", _field("status.available_replicas", "0")),
        ("AGE", _age),
    ],
    "ReplicaSet": [
        ("DESIRED", _field("spec.replicas", "0")),
        ("CURRENT", _field("status.replicas", "0")),
        ("READY", _field("status.ready_replicas", "0")),
        ("AGE", _age),
    ],
    "ReplicationController": [
        ("DESIRED", _field("spec.replicas", "0")),
        ("CURRENT", _field("status.replicas", "0")),
        ("READY", _field("status.ready_replicas", "0")),
        ("AGE", _age),
    ],
    "StatefulSet": [("READY", _replicas()), ("AGE", _age)],
    "PersistentVolumeClaim": [
        ("STATUS", _field("status.phase")),
        ("VOLUME", lambda o: o.spec.volume_name),
        ("CAPACITY", lambda o: o.status.capacity.get("storage", "")),
        ("ACCESS MODES", lambda o: _access_modes(o.status.access_modes)),
        ("STORAGECLASS", _pvc_class),
        ("AGE", _age),
    ],
    "PersistentVolume": [
        ("CAPACITY", lambda o: o.spec.capacity.get("storage", "")),
        ("ACCESS MODES", lambda o: _access_modes(o.spec.access_modes)),
        ("RECLAIM POLICY", _field("spec.persistent_volume_reclaim_policy")),
        ("STATUS", _field("status.phase")),
        ("CLAIM", _pv_claim),
        ("STORAGECLASS", lambda o: o.spec.storage_class_name),
        ("AGE", _age),
    ],
    "DaemonSet": [
        ("DESIRED", _field("status.desired_number_scheduled", "0")),
        ("CURRENT", _field("status.current_number_scheduled", "0")),
        ("READY", _field("status.number_ready", "0")),
        ("UP-TO-DATE", _field("status.updated_number_scheduled", "0")),
        ("AVAILABLE", _field("status.number_available", "0")),
        ("NODE SELECTOR", _node_selector),
        ("AGE", _age),
    ],
    "Job": [
        ("STATUS", _job_status),
        ("COMPLETIONS", _completions),
        ("DURATION", _job_duration),
        ("AGE", _age),
    ],
    "CronJob": [
        ("SCHEDULE", _field("spec.schedule")),
        ("TIMEZONE", lambda o: o.spec.time_zone if o.spec.HasField("time_zone") else "<none>"),
        ("SUSPEND", lambda o: "True" if o.spec.suspend else "False"),
        ("ACTIVE", lambda o: str(len(o.status.active))),
        (
            "LAST SCHEDULE",
            lambda o: age(o.status.last_schedule_time) if o.status.last_schedule_time else "<none>",
        ),
        ("AGE", _age),
    ],
    "Event": [
        ("TYPE", _field("type")),
        ("REASON", _field("reason")),
        ("OBJECT", lambda o: f"{o.involved_object.kind.lower()}/{o.involved_object.name}"),
        ("MESSAGE", _field("message")),
    ],
    "Lease": [("HOLDER", _field("spec.holder_identity")), ("AGE", _age)],
    "Service": [
        ("TYPE", _field("spec.type")),
        ("CLUSTER-IP", _cluster_ip),
        ("EXTERNAL-IP", _external_ip),
        ("PORT(S)", _service_ports),
        ("AGE", _age),
    ],
    "EndpointSlice": [
        ("ADDRESSTYPE", _field("address_type")),
        ("PORTS", _slice_ports),
        ("ENDPOINTS", _slice_endpoints),
        ("AGE", _age),
    ],
}


def _containers(obj: Workload) -> str:
    return ",".join(c.name for c in obj.spec.template.spec.containers)


def _images(obj: Workload) -> str:
    return ",".join(c.image for c in obj.spec.template.spec.containers)


def _selector(obj: Workload) -> str:
    return str(selector_from_label_selector(obj.spec.selector)) or "<none>"


def _internal_ip(obj: node_pb2.Node) -> str:
    for a in obj.status.addresses:
        if a.type == "InternalIP":
            return str(a.address)
    return "<none>"


_WORKLOAD_WIDE: list[Column] = [
    ("CONTAINERS", _containers),
    ("IMAGES", _images),
    ("SELECTOR", _selector),
]

# Extra columns of -o wide, after the default ones (kubectl's).
WIDE: dict[str, list[Column]] = {
    "Pod": [
        ("IP", _field("status.pod_ip")),
        ("NODE", _field("spec.node_name")),
        ("NOMINATED NODE", _field("status.nominated_node_name")),
        ("READINESS GATES", lambda o: "<none>"),
    ],
    "Node": [
        ("INTERNAL-IP", _internal_ip),
        ("OS-IMAGE", _field("status.node_info.os_image")),
        ("KERNEL-VERSION", _field("status.node_info.kernel_version")),
        ("CONTAINER-RUNTIME", _field("status.node_info.container_runtime_version")),
    ],
    "Deployment": _WORKLOAD_WIDE,
    "ReplicaSet": _WORKLOAD_WIDE,
    "StatefulSet": [("CONTAINERS", _containers), ("IMAGES", _images)],
    "DaemonSet": _WORKLOAD_WIDE,
    "Job": _WORKLOAD_WIDE,
    "Service": [("SELECTOR", _service_selector)],
}


def table(objects: Sequence[Message], *, all_namespaces: bool = False, wide: bool = False) -> str:
    """kubectl's default table for one kind (and its -o wide columns)."""
    if not objects:
        return ""
    info = kinds.by_message(objects[0])
    cols = COLUMNS.get(info.kind, [("AGE", _age)])
    if wide:
        cols = cols + WIDE.get(info.kind, [])
    header = (
        (["NAMESPACE"] if all_namespaces and info.namespaced else [])
        + ["NAME"]
        + [c[0] for c in cols]
    )
    rows = [header]
    for obj in objects:
        meta = object_meta(obj)
        row = [meta.namespace] if all_namespaces and info.namespaced else []
        row.append(meta.name)
        row += [fn(obj) for _, fn in cols]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "   ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def as_list_dict(objects: Sequence[Message]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [codec.to_dict(o) for o in objects],
        "metadata": {"resourceVersion": ""},
    }


def render(
    objects: Sequence[Message], output: str, *, single: bool, all_namespaces: bool = False
) -> str:
    """Objects in the requested output format (table, wide, yaml, json, name)."""
    if output in ("", "wide"):
        return table(objects, all_namespaces=all_namespaces, wide=output == "wide")
    if output == "name":
        return "\n".join(f"{kinds.by_message(o).singular}/{object_meta(o).name}" for o in objects)
    if output == "json":
        doc = codec.to_dict(objects[0]) if single else as_list_dict(objects)
        return json.dumps(doc, indent=4)
    if output == "yaml":
        doc = codec.to_dict(objects[0]) if single else as_list_dict(objects)
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).rstrip()
    raise ValueError(f'unknown output format "{output}"; allowed: wide, yaml, json, name')

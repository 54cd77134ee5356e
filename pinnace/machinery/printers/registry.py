"""Which printer serves which kind, and the default one for a kind without
a printer of its own.

The default is Kubernetes' DefaultTableConvertor (apiserver
registry/rest/table.go): a ``Name`` column (format "name") and a
``Created At`` column of type "date" whose cell is the creationTimestamp in
RFC 3339 UTC ("0001-01-01T00:00:00Z" for a zero time). kubectl prints that
cell as it is, not as an age.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message

from pinnace.machinery.objects import object_meta
from pinnace.machinery.printers import apps, batch, core, network, pods, rbac, storage
from pinnace.machinery.printers.columns import NAME, Cell, Printer, column, parse_time
from pinnace.machinery.timeutil import format_rfc3339

__all__ = ["DEFAULT", "PRINTERS", "printer_for"]

PRINTERS: dict[str, Printer] = {
    "Pod": pods.POD,
    "Node": core.NODE,
    "Namespace": core.NAMESPACE,
    "Event": core.EVENT,
    "ReplicationController": core.REPLICATION_CONTROLLER,
    "PersistentVolumeClaim": storage.PERSISTENT_VOLUME_CLAIM,
    "PersistentVolume": storage.PERSISTENT_VOLUME,
    "Service": network.SERVICE,
    "Deployment": apps.DEPLOYMENT,
    "ReplicaSet": apps.REPLICA_SET,
    "StatefulSet": apps.STATEFUL_SET,
    "DaemonSet": apps.DAEMON_SET,
    "ControllerRevision": apps.CONTROLLER_REVISION,
    "Job": batch.JOB,
    "CronJob": batch.CRON_JOB,
    "Lease": core.LEASE,
    "EndpointSlice": network.ENDPOINT_SLICE,
    "Scale": apps.SCALE,
    "Role": rbac.ROLE,
    "ClusterRole": rbac.CLUSTER_ROLE,
    "RoleBinding": rbac.ROLE_BINDING,
    "ClusterRoleBinding": rbac.CLUSTER_ROLE_BINDING,
}

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _created_at(obj: Message) -> str:
    when = parse_time(object_meta(obj).creation_timestamp)
    return format_rfc3339(when) if when is not None else _ZERO_TIME


def _default_cells(obj: Message, now: datetime) -> list[Cell]:
    return [object_meta(obj).name, _created_at(obj)]


DEFAULT = Printer(
    columns=(NAME, column("Created At", "date", "ObjectMeta.creationTimestamp")),
    cells=_default_cells,
)


def printer_for(kind: str) -> Printer:
    """The printer of ``kind`` ("Pod"), or the default one."""
    return PRINTERS.get(kind, DEFAULT)

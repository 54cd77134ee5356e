"""Every served kind's Table columns are Kubernetes' (printers.go, 1.32):
names, order, types, the name format and which are -o wide only."""

from __future__ import annotations

import pytest

from pinnace.machinery import kinds, printers
from pinnace.machinery.printers.registry import DEFAULT, PRINTERS

W = "wide"  # a priority-1 column

# kind -> [(name, type, wide?)]; the Name column is checked separately.
COLUMNS: dict[str, list[tuple[str, str] | tuple[str, str, str]]] = {
    "Pod": [
        ("Name", "string"),
        ("Ready", "string"),
        ("Status", "string"),
        ("Restarts", "string"),
        ("Age", "string"),
        ("IP", "string", W),
        ("Node", "string", W),
        ("Nominated Node", "string", W),
        ("Readiness Gates", "string", W),
    ],
    "Node": [
        ("Name", "string"),
        ("Status", "string"),
        ("Roles", "string"),
        ("Age", "string"),
        ("Version", "string"),
        ("Internal-IP", "string", W),
        ("External-IP", "string", W),
        ("OS-Image", "string", W),
        ("Kernel-Version", "string", W),
        ("Container-Runtime", "string", W),
    ],
    "Namespace": [("Name", "string"), ("Status", "string"), ("Age", "string")],
    "Service": [
        ("Name", "string"),
        ("Type", "string"),
        ("Cluster-IP", "string"),
        ("External-IP", "string"),
        ("Port(s)", "string"),
        ("Age", "string"),
        ("Selector", "string", W),
    ],
    "EndpointSlice": [
        ("Name", "string"),
        ("AddressType", "string"),
        ("Ports", "string"),
        ("Endpoints", "string"),
        ("Age", "string"),
    ],
    "Deployment": [
        ("Name", "string"),
        ("Ready", "string"),
        ("Up-to-date", "string"),
        ("Available", "string"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
        ("Selector", "string", W),
    ],
    "ReplicaSet": [
        ("Name", "string"),
        ("Desired", "integer"),
        ("Current", "integer"),
        ("Ready", "integer"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
        ("Selector", "string", W),
    ],
    "ReplicationController": [
        ("Name", "string"),
        ("Desired", "integer"),
        ("Current", "integer"),
        ("Ready", "integer"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
        ("Selector", "string", W),
    ],
    "StatefulSet": [
        ("Name", "string"),
        ("Ready", "string"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
    ],
    "DaemonSet": [
        ("Name", "string"),
        ("Desired", "integer"),
        ("Current", "integer"),
        ("Ready", "integer"),
        ("Up-to-date", "integer"),
        ("Available", "integer"),
        ("Node Selector", "string"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
        ("Selector", "string", W),
    ],
    "Job": [
        ("Name", "string"),
        ("Status", "string"),
        ("Completions", "string"),
        ("Duration", "string"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
        ("Selector", "string", W),
    ],
    "CronJob": [
        ("Name", "string"),
        ("Schedule", "string"),
        ("Timezone", "string"),
        ("Suspend", "boolean"),
        ("Active", "integer"),
        ("Last Schedule", "string"),
        ("Age", "string"),
        ("Containers", "string", W),
        ("Images", "string", W),
        ("Selector", "string", W),
    ],
    "PersistentVolume": [
        ("Name", "string"),
        ("Capacity", "string"),
        ("Access Modes", "string"),
        ("Reclaim Policy", "string"),
        ("Status", "string"),
        ("Claim", "string"),
        ("StorageClass", "string"),
        ("VolumeAttributesClass", "string"),
        ("Reason", "string"),
        ("Age", "string"),
        ("VolumeMode", "string", W),
    ],
    "PersistentVolumeClaim": [
        ("Name", "string"),
        ("Status", "string"),
        ("Volume", "string"),
        ("Capacity", "string"),
        ("Access Modes", "string"),
        ("StorageClass", "string"),
        ("VolumeAttributesClass", "string"),
        ("Age", "string"),
        ("VolumeMode", "string", W),
    ],
    "Event": [
        ("Last Seen", "string"),
        ("Type", "string"),
        ("Reason", "string"),
        ("Object", "string"),
        ("Subobject", "string", W),
        ("Source", "string", W),
        ("Message", "string"),
        ("First Seen", "string", W),
        ("Count", "string", W),
        ("Name", "string", W),
    ],
    "Lease": [("Name", "string"), ("Holder", "string"), ("Age", "string")],
    "ControllerRevision": [
        ("Name", "string"),
        ("Controller", "string"),
        ("Revision", "string"),
        ("Age", "string"),
    ],
    "Scale": [
        ("Name", "string"),
        ("Desired", "integer"),
        ("Available", "integer"),
        ("Age", "string"),
    ],
    "Role": [("Name", "string"), ("Created At", "date")],
    "ClusterRole": [("Name", "string"), ("Created At", "date")],
    "RoleBinding": [
        ("Name", "string"),
        ("Role", "string"),
        ("Age", "string"),
        ("Users", "string", W),
        ("Groups", "string", W),
        ("ServiceAccounts", "string", W),
    ],
    "ClusterRoleBinding": [
        ("Name", "string"),
        ("Role", "string"),
        ("Age", "string"),
        ("Users", "string", W),
        ("Groups", "string", W),
        ("ServiceAccounts", "string", W),
    ],
}


@pytest.mark.parametrize("kind", list(COLUMNS), ids=list(COLUMNS))
def test_columns_are_kubernetes(kind: str) -> None:
    got = [
        (c.name, c.type, *(["wide"] if c.priority == 1 else []))
        for c in printers.column_definitions(kind)
    ]
    assert got == [tuple(c) for c in COLUMNS[kind]]
    assert all(c.priority in (0, 1) for c in printers.column_definitions(kind))


@pytest.mark.parametrize("kind", list(COLUMNS), ids=list(COLUMNS))
def test_only_the_name_column_has_the_name_format(kind: str) -> None:
    """kubectl finds the Name column by format "name" (for -o name style
    "kind/name" prefixes); Scale's Name column has none, as in Kubernetes."""
    formats = {c.name: c.format for c in printers.column_definitions(kind)}
    assert set(formats.values()) <= {"", "name"}
    assert formats["Name"] == ("" if kind == "Scale" else "name")
    assert [n for n, f in formats.items() if f == "name"] == ([] if kind == "Scale" else ["Name"])


@pytest.mark.parametrize("kind", list(COLUMNS), ids=list(COLUMNS))
def test_every_column_is_described(kind: str) -> None:
    for col in printers.column_definitions(kind):
        assert col.description, col.name
    age = [c for c in printers.column_definitions(kind) if c.name == "Age"]
    assert all(c.description.startswith("CreationTimestamp is a timestamp") for c in age)


def test_every_served_kind_has_its_own_printer() -> None:
    served = {k.kind for k in kinds.KINDS}
    assert served <= set(PRINTERS), served - set(PRINTERS)
    assert set(COLUMNS) == set(PRINTERS)


def test_a_kind_without_a_printer_gets_name_and_created_at() -> None:
    """Kubernetes' DefaultTableConvertor (registry/rest/table.go)."""
    cols = printers.column_definitions("Widget")
    assert [(c.name, c.type, c.format) for c in cols] == [
        ("Name", "string", "name"),
        ("Created At", "date", ""),
    ]
    assert printers.printer_for("Widget") is DEFAULT


def test_column_definition_json_has_every_field() -> None:
    node = printers.column_definitions("Node")[5].to_dict()
    assert list(node) == ["name", "type", "format", "description", "priority"]
    assert node["name"] == "Internal-IP" and node["format"] == "" and node["priority"] == 1

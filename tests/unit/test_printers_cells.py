"""Single cells whose rules have several branches in printers.go: Job
status, completions and duration; CronJob suspend; Service external IP;
Node status; claim capacity; event times and counts; quantities."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pinnace.machinery import codec, kinds, printers

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def cells(kind: str, **fields: Any) -> list[Any]:
    info = next(k for k in kinds.KINDS if k.kind == kind)
    meta = {"name": "x", "creationTimestamp": "2026-01-01T11:00:00Z", **fields.pop("meta", {})}
    obj = codec.from_dict(info.message_class, {"metadata": meta, **fields})
    return printers.row_cells(obj, NOW)


def cond(type: str, status: str = "True") -> dict[str, str]:
    return {"type": type, "status": status}


@pytest.mark.parametrize(
    ("conditions", "deleting", "want"),
    [
        ([], False, "Running"),
        ([cond("Failed"), cond("Complete")], False, "Complete"),
        ([cond("FailureTarget"), cond("Failed")], False, "Failed"),
        ([cond("Suspended")], True, "Terminating"),
        ([cond("Suspended")], False, "Suspended"),
        ([cond("FailureTarget")], False, "FailureTarget"),
        ([cond("SuccessCriteriaMet")], False, "Running"),
        ([cond("Complete", "False")], False, "Running"),
    ],
    ids=[
        "running",
        "complete-first",
        "failed",
        "terminating",
        "suspended",
        "failure-target",
        "success-criteria-met-is-running-in-1.32",
        "false-condition",
    ],
)
def test_job_status(conditions: list[dict[str, str]], deleting: bool, want: str) -> None:
    meta = {"deletionTimestamp": "2026-01-01T11:59:00Z"} if deleting else {}
    assert cells("Job", meta=meta, status={"conditions": conditions})[1] == want


@pytest.mark.parametrize(
    ("spec", "status", "want"),
    [
        ({"completions": 5, "parallelism": 2}, {"succeeded": 2}, ["2/5", "10m"]),
        ({"parallelism": 3}, {"succeeded": 1}, ["1/1 of 3", "10m"]),
        ({}, {}, ["0/1", ""]),
    ],
    ids=["completions", "work-queue", "not-started"],
)
def test_job_completions_and_duration(
    spec: dict[str, Any], status: dict[str, Any], want: list[str]
) -> None:
    if status:
        status["startTime"] = "2026-01-01T11:50:00Z"
    assert cells("Job", spec=spec, status=status)[2:4] == want


@pytest.mark.parametrize(
    ("spec", "want"),
    [({"suspend": True}, ["<none>", "True"]), ({}, ["<none>", "<unset>"])],
    ids=["suspended", "unset"],
)
def test_cron_job_time_zone_and_suspend(spec: dict[str, Any], want: list[str]) -> None:
    row = cells("CronJob", spec={"schedule": "@hourly", **spec})
    assert row[2:4] == want and row[5] == "<none>"


LONG = ["a-very-long-host.example.com", "10.0.0.9", "10.0.0.10", "10.0.0.9"]


@pytest.mark.parametrize(
    ("spec", "ingress", "want"),
    [
        ({"type": "LoadBalancer"}, [], "<pending>"),
        ({"type": "LoadBalancer"}, LONG, "10.0.0.10,10.0.0.9,a-very-long-host.example.com"),
        (
            {"type": "LoadBalancer", "externalIPs": ["192.0.2.1"]},
            ["10.0.0.9"],
            "10.0.0.9,192.0.2.1",
        ),
        (
            {"type": "NodePort", "externalIPs": ["192.0.2.1", "192.0.2.2"]},
            [],
            "192.0.2.1,192.0.2.2",
        ),
        ({"type": "ExternalName", "externalName": "db.example.com"}, [], "db.example.com"),
        ({}, [], "<unknown>"),
    ],
    ids=[
        "pending",
        "sorted-unique-uncut",
        "lb-and-external",
        "node-port",
        "external-name",
        "no-type",
    ],
)
def test_service_external_ip(spec: dict[str, Any], ingress: list[str], want: str) -> None:
    entries = [{"hostname": i} if i[0].isalpha() else {"ip": i} for i in ingress]
    row = cells("Service", spec=spec, status={"loadBalancer": {"ingress": entries}})
    assert row[3] == want
    assert row[2] == "<none>" and row[4] == "<none>"


@pytest.mark.parametrize(
    ("conditions", "unschedulable", "want"),
    [
        ([], False, "Unknown"),
        ([cond("Ready", "False")], False, "NotReady"),
        ([cond("Ready", "Unknown")], True, "NotReady,SchedulingDisabled"),
        ([cond("MemoryPressure"), cond("Ready")], False, "Ready"),
    ],
    ids=["no-condition", "not-ready", "unknown-cordoned", "ready"],
)
def test_node_status(conditions: list[dict[str, str]], unschedulable: bool, want: str) -> None:
    row = cells("Node", spec={"unschedulable": unschedulable}, status={"conditions": conditions})
    assert row[1] == want and row[2] == "<none>"


def test_unbound_claim_shows_no_capacity_and_a_deleting_one_terminating() -> None:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    assert cells("PersistentVolumeClaim", spec=spec, status={"phase": "Pending"})[1:6] == [
        "Pending",
        "",
        "",
        "",
        "",
    ]
    deleting = {"deletionTimestamp": "2026-01-01T11:59:00Z"}
    assert cells("PersistentVolumeClaim", meta=deleting, spec=spec)[1] == "Terminating"


@pytest.mark.parametrize(
    ("capacity", "want"),
    [
        ({}, "0"),
        ({"storage": "2048Mi"}, "2Gi"),
        ({"storage": "1500M"}, "1500M"),
        ({"storage": "1e3"}, "1e3"),
        ({"storage": "512Mi"}, "512Mi"),
    ],
    ids=["absent", "binary", "decimal", "exponent", "mebi"],
)
def test_volume_capacity_is_the_canonical_quantity(capacity: dict[str, str], want: str) -> None:
    annotations = {"volume.beta.kubernetes.io/storage-class": "old"}
    row = cells(
        "PersistentVolume",
        meta={"annotations": annotations},
        spec={"capacity": capacity, "storageClassName": "new"},
    )
    assert row[1] == want and row[6] == "old"


@pytest.mark.parametrize(
    ("event", "want"),
    [
        ({"eventTime": "2026-01-01T11:59:00.000000Z"}, ["60s", "60s", 1, "pod"]),
        (
            {
                "firstTimestamp": "2026-01-01T11:30:00Z",
                "count": 3,
                "series": {"count": 7, "lastObservedTime": "2026-01-01T11:59:50.000000Z"},
            },
            ["10s", "30m", 7, "pod"],
        ),
        ({}, ["<unknown>", "<unknown>", 1, "pod"]),
    ],
    ids=["singleton-event-time", "series", "no-times"],
)
def test_event_times_and_count(event: dict[str, Any], want: list[Any]) -> None:
    row = cells("Event", involvedObject={"kind": "Pod"}, reportingComponent="kubelet", **event)
    assert [row[0], row[7], row[8], row[3]] == want
    assert row[5] == "kubelet"


def test_controller_revision_without_controller() -> None:
    owner: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u"}
    assert cells("ControllerRevision", meta={"ownerReferences": [owner]})[1] == "<none>"
    owner["controller"] = True
    assert cells("ControllerRevision", meta={"ownerReferences": [owner]})[1] == "pod/p"


def test_selectors_print_as_kubernetes() -> None:
    expr = {"key": "tier", "operator": "In", "values": ["fe", "be"]}
    spec = {"selector": {"matchLabels": {"app": "web"}, "matchExpressions": [expr]}}
    assert cells("ReplicaSet", spec=spec)[7] == "app=web,tier in (be,fe)"
    assert cells("ReplicaSet", spec={})[7] == "<none>"
    assert cells("Deployment", spec={})[7] == ""
    bad = {"selector": {"matchExpressions": [{"key": "k", "operator": "Near"}]}}
    assert cells("ReplicaSet", spec=bad)[7] == "<error>"
    assert cells("Deployment", spec=bad)[7] == "<invalid>"


def test_single_ip_fields_read_as_their_lists() -> None:
    """v1 podIP / clusterIP without the plural lists (Kubernetes' conversion
    fills the lists from them)."""
    pod = cells("Pod", spec={"containers": [{"name": "c"}]}, status={"podIP": "10.0.0.7"})
    assert pod[5] == "10.0.0.7"
    assert cells("Service", spec={"type": "ClusterIP", "clusterIP": "None"})[2] == "None"

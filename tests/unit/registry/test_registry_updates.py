"""Rules that compare an update with the stored object: immutable fields,
what a pod update may change, status writes, and the scale helpers."""

from __future__ import annotations

import pytest

from apiserver.registry.kinds import STRATEGIES
from apiserver.registry.strategy import ReplicasScale
from pinnace.machinery import kinds
from tests.unit.registry.helpers import (
    assert_only,
    created,
    ctr,
    status_errors,
    strategy,
    update_errors,
    updated,
)

NEW_TEMPLATE = {"spec": {"template": {"spec": {"containers": [ctr(image="busybox:1.37")]}}}}

IMMUTABLE = [
    (
        "Deployment",
        "selector",
        {
            "spec": {
                "selector": {"matchLabels": {"app": "web", "v": "2"}},
                "template": {"metadata": {"labels": {"app": "web", "v": "2"}}},
            }
        },
        "spec.selector",
        "field is immutable",
    ),
    (
        "ReplicaSet",
        "selector",
        {"spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}},
        "spec.selector",
        "field is immutable",
    ),
    (
        "DaemonSet",
        "selector",
        {
            "spec": {
                "selector": {"matchLabels": {"app": "web", "v": "2"}},
                "template": {"metadata": {"labels": {"app": "web", "v": "2"}}},
            }
        },
        "spec.selector",
        "field is immutable",
    ),
    (
        "StatefulSet",
        "selector",
        {"spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}},
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
    ("StatefulSet", "service-name", {"spec": {"serviceName": "other"}}, "spec", "are forbidden"),
    (
        "StatefulSet",
        "pod-management",
        {"spec": {"podManagementPolicy": "Parallel"}},
        "spec",
        "are forbidden",
    ),
    ("Job", "template", NEW_TEMPLATE, "spec.template", "field is immutable"),
    ("Job", "completions", {"spec": {"completions": 3}}, "spec.completions", "field is immutable"),
    (
        "Job",
        "completion-mode",
        {"spec": {"completionMode": "Indexed"}},
        "spec.completionMode",
        "field is immutable",
    ),
    (
        "Job",
        "pod-failure-policy",
        {
            "spec": {
                "podReplacementPolicy": "Failed",
                "podFailurePolicy": {
                    "rules": [
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
                    ]
                },
            }
        },
        "spec.podFailurePolicy",
        "field is immutable",
    ),
    (
        "Job",
        "managed-by",
        {"spec": {"managedBy": "example.com/queue"}},
        "spec.managedBy",
        "field is immutable",
    ),
    (
        "ControllerRevision",
        "data",
        {"data": {"spec": {"template": {"metadata": {}}}}},
        "data",
        "field is immutable",
    ),
    (
        "PersistentVolumeClaim",
        "spec",
        {"spec": {"accessModes": ["ReadWriteMany"]}},
        "spec",
        "spec is immutable after creation except resources.requests",
    ),
    (
        "PersistentVolumeClaim",
        "unbound-resize",
        {"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
        "spec",
        "spec is immutable after creation",
    ),
    (
        "PersistentVolume",
        "source",
        {"spec": {"hostPath": {"path": "/tmp/other"}}},
        "spec.persistentvolumesource",
        "spec.persistentvolumesource is immutable after creation",
    ),
    (
        "PersistentVolume",
        "volume-mode",
        {"spec": {"volumeMode": "Block"}},
        "volumeMode",
        "field is immutable",
    ),
    (
        "Node",
        "pod-cidr",
        {"spec": {"podCIDR": "10.1.0.0/24"}},
        "spec.podCIDR",
        'node updates may not change podCIDR except from "" to valid',
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch", "path", "fragment"),
    [(c[0], *c[2:]) for c in IMMUTABLE],
    ids=[f"{c[0]}-{c[1]}" for c in IMMUTABLE],
)
def test_immutable(kind: str, patch: dict, path: str, fragment: str) -> None:
    assert_only(update_errors(kind, patch), path, fragment)


MUTABLE = [
    ("Deployment", "template-and-replicas", {"spec": {"replicas": 3, **NEW_TEMPLATE["spec"]}}),
    (
        "StatefulSet",
        "allowed-fields",
        {
            "spec": {
                "replicas": 3,
                "minReadySeconds": 5,
                "revisionHistoryLimit": 2,
                "ordinals": {"start": 2},
                "updateStrategy": {"type": "OnDelete", "rollingUpdate": None},
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"},
                "template": {"metadata": {"annotations": {"a": "b"}}},
            }
        },
    ),
    (
        "Job",
        "parallelism-and-deadline",
        {"spec": {"parallelism": 4, "activeDeadlineSeconds": 100, "suspend": True}},
    ),
    (
        "CronJob",
        "everything",
        {"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"backoffLimit": 2}}}},
    ),
    ("PersistentVolumeClaim", "volume-name-once", {"spec": {"volumeName": "pv-1"}}),
    ("PersistentVolume", "reclaim", {"spec": {"persistentVolumeReclaimPolicy": "Delete"}}),
    ("Node", "unschedulable", {"spec": {"unschedulable": True}}),
    ("ControllerRevision", "revision", {"revision": 5}),
    (
        "Lease",
        "renew",
        {"spec": {"holderIdentity": "b", "renewTime": "2024-05-01T12:00:00.000000Z"}},
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch"), [(k, p) for k, _, p in MUTABLE], ids=[f"{k}-{i}" for k, i, _ in MUTABLE]
)
def test_mutable(kind: str, patch: dict) -> None:
    assert [str(e) for e in update_errors(kind, patch)] == []


def test_indexed_job_completions_scale_with_parallelism() -> None:
    base = {"spec": {"completionMode": "Indexed", "completions": 4, "parallelism": 4}}
    assert update_errors("Job", {"spec": {"completions": 6, "parallelism": 6}}, base=base) == []
    assert_only(
        update_errors("Job", {"spec": {"completions": 6}}, base=base),
        "spec.completions",
        "can only be modified in tandem with spec.parallelism",
    )


def test_job_selector_immutable() -> None:
    base = {
        "spec": {
            "manualSelector": True,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}},
        }
    }
    patch = {
        "spec": {
            "selector": {
                "matchLabels": None,
                "matchExpressions": [{"key": "app", "operator": "Exists"}],
            }
        }
    }
    assert_only(update_errors("Job", patch, base=base), "spec.selector", "field is immutable")


def test_suspended_job_scheduling_directives_mutable() -> None:
    base = {"spec": {"suspend": True}}
    change = {
        "spec": {
            "template": {
                "spec": {
                    "nodeSelector": {"zone": "a"},
                    "tolerations": [{"key": "k", "operator": "Exists"}],
                }
            }
        }
    }
    assert update_errors("Job", change, base=base) == []
    assert_only(update_errors("Job", change), "spec.template", "field is immutable")


def test_bound_claim_may_grow_not_shrink() -> None:
    from pinnace.machinery.codec import to_dict
    from tests.unit.registry.helpers import build

    old, _ = created("PersistentVolumeClaim")
    old = build("PersistentVolumeClaim", {**to_dict(old), "status": {"phase": "Bound"}})
    assert updated(old, {"spec": {"resources": {"requests": {"storage": "2Gi"}}}})[1] == []
    errs = updated(old, {"spec": {"resources": {"requests": {"storage": "500Mi"}}}})[1]
    assert_only(
        errs, "spec.resources.requests.storage", "field can not be less than previous value"
    )


def test_cronjob_name_limit_only_on_create() -> None:
    old, errs = created("CronJob", name="c" * 60)
    assert errs and errs[0].field == "metadata.name"
    assert updated(old, {"spec": {"suspend": True}})[1] == []


def test_cronjob_time_zone_checked_only_when_changed() -> None:
    from pinnace.machinery.codec import to_dict
    from tests.unit.registry.helpers import build

    old, _ = created("CronJob")
    stored = build(
        "CronJob", {**to_dict(old), "spec": {**to_dict(old)["spec"], "timeZone": "Nowhere/Town"}}
    )
    assert updated(stored, {"spec": {"suspend": True}})[1] == []
    assert_only(
        updated(stored, {"spec": {"timeZone": "Also/Nowhere"}})[1],
        "spec.timeZone",
        "unknown time zone",
    )


# --------------------------------------------------------------------- pod updates

# What DefaultTolerationSeconds admission adds to every pod on create (a
# merge patch of spec.tolerations replaces the whole list, so it repeats them).
ADMITTED_TOLERATIONS = [
    {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
]

POD_UPDATES_OK = [
    (
        "image",
        {
            "spec": {
                "containers": [
                    ctr(image="busybox:1.37", ports=[{"containerPort": 8080, "name": "http"}])
                ]
            }
        },
    ),
    ("active-deadline-set", {"spec": {"activeDeadlineSeconds": 60}}),
    (
        "toleration-added",
        {"spec": {"tolerations": [*ADMITTED_TOLERATIONS, {"key": "k", "operator": "Exists"}]}},
    ),
]


@pytest.mark.parametrize(
    "patch", [p for _, p in POD_UPDATES_OK], ids=[i for i, _ in POD_UPDATES_OK]
)
def test_pod_update_allowed(patch: dict) -> None:
    assert [str(e) for e in update_errors("Pod", patch)] == []


POD_UPDATES_BAD = [
    (
        "restart-policy",
        {"spec": {"restartPolicy": "Never"}},
        {},
        "spec",
        "pod updates may not change fields other than `spec.containers[*].image`",
    ),
    ("node-name", {"spec": {"nodeName": "node-a"}}, {}, "spec", "changed: spec.nodeName"),
    (
        "add-container",
        {"spec": {"containers": [ctr(), ctr("b")]}},
        {},
        "spec.containers",
        "pod updates may not add or remove containers",
    ),
    (
        "image-removed",
        {
            "spec": {
                "containers": [{"name": "app", "ports": [{"containerPort": 8080, "name": "http"}]}]
            }
        },
        {},
        "spec.containers[0].image",
        "Required value",
    ),
    (
        "deadline-raised",
        {"spec": {"activeDeadlineSeconds": 100}},
        {"spec": {"activeDeadlineSeconds": 50}},
        "spec.activeDeadlineSeconds",
        "must be less than or equal to previous value",
    ),
    (
        "deadline-removed",
        {"spec": {"activeDeadlineSeconds": None}},
        {"spec": {"activeDeadlineSeconds": 50}},
        "spec.activeDeadlineSeconds",
        "must not update from a positive integer to nil value",
    ),
    (
        "toleration-changed",
        {"spec": {"tolerations": [{"key": "k", "operator": "Equal", "value": "v"}]}},
        {"spec": {"tolerations": [{"key": "k", "operator": "Exists"}]}},
        "spec.tolerations",
        "existing toleration can not be modified except its tolerationSeconds",
    ),
]


@pytest.mark.parametrize(
    ("patch", "base", "path", "fragment"),
    [c[1:] for c in POD_UPDATES_BAD],
    ids=[c[0] for c in POD_UPDATES_BAD],
)
def test_pod_update_forbidden(patch: dict, base: dict, path: str, fragment: str) -> None:
    assert_only(update_errors("Pod", patch, base=base), path, fragment)


def test_pod_toleration_seconds_may_change() -> None:
    base = {
        "spec": {
            "tolerations": [
                {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]
        }
    }
    patch = {
        "spec": {
            "tolerations": [
                {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10},
                *ADMITTED_TOLERATIONS,
            ]
        }
    }
    assert update_errors("Pod", patch, base=base) == []


# ---------------------------------------------------------------------- status

STATUS_BAD = [
    (
        "Pod",
        "phase",
        {"phase": "Sleeping"},
        None,
        "status.phase",
        'supported values: "Pending", "Running", "Succeeded", "Failed", "Unknown"',
    ),
    (
        "Pod",
        "terminal-phase",
        {"phase": "Running"},
        {"phase": "Succeeded"},
        "status.phase",
        'may not be changed from terminal phase "Succeeded" to "Running"',
    ),
    (
        "Pod",
        "condition-status",
        {"conditions": [{"type": "Ready", "status": "Yes"}]},
        None,
        "status.conditions[0].status",
        'supported values: "True", "False", "Unknown"',
    ),
    (
        "Deployment",
        "negative",
        {"unavailableReplicas": -1},
        None,
        "status.unavailableReplicas",
        "must be greater than or equal to 0",
    ),
    (
        "Deployment",
        "ready-above-replicas",
        {"replicas": 1, "readyReplicas": 2, "availableReplicas": 1},
        None,
        "status.readyReplicas",
        "cannot be greater than status.replicas",
    ),
    (
        "Deployment",
        "available-above-ready",
        {"replicas": 3, "readyReplicas": 1, "availableReplicas": 2},
        None,
        "status.availableReplicas",
        "cannot be greater than readyReplicas",
    ),
    (
        "Deployment",
        "collision-count",
        {"collisionCount": 1},
        {"collisionCount": 2},
        "status.collisionCount",
        "cannot be decremented",
    ),
    (
        "ReplicaSet",
        "fully-labeled",
        {"replicas": 1, "fullyLabeledReplicas": 2},
        None,
        "status.fullyLabeledReplicas",
        "cannot be greater than status.replicas",
    ),
    (
        "ReplicaSet",
        "observed-generation",
        {"observedGeneration": -1},
        None,
        "status.observedGeneration",
        "must be greater than or equal to 0",
    ),
    (
        "ReplicationController",
        "available",
        {"replicas": 2, "readyReplicas": 1, "availableReplicas": 2},
        None,
        "status.availableReplicas",
        "cannot be greater than readyReplicas",
    ),
    (
        "StatefulSet",
        "current",
        {"replicas": 1, "currentReplicas": 2},
        None,
        "status.currentReplicas",
        "cannot be greater than status.replicas",
    ),
    (
        "StatefulSet",
        "available",
        {"replicas": 2, "readyReplicas": 1, "availableReplicas": 2},
        None,
        "status.availableReplicas",
        "cannot be greater than status.readyReplicas",
    ),
    (
        "DaemonSet",
        "negative",
        {"numberReady": -1},
        None,
        "status.numberReady",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "negative",
        {"active": -1},
        None,
        "status.active",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "succeeded-decreased",
        {"succeeded": 1},
        {"succeeded": 2},
        "status.succeeded",
        "cannot decrease the succeeded counter",
    ),
    (
        "Job",
        "complete-and-failed",
        {
            "completionTime": "2024-05-01T12:00:00Z",
            "conditions": [
                {"type": "Complete", "status": "True"},
                {"type": "Failed", "status": "True"},
            ],
        },
        None,
        "status.conditions",
        "cannot set Complete=True and Failed=true conditions",
    ),
    (
        "Job",
        "complete-needs-time",
        {"conditions": [{"type": "Complete", "status": "True"}]},
        None,
        "status.completionTime",
        "completionTime must be set when Complete=True",
    ),
    (
        "Job",
        "time-needs-complete",
        {"completionTime": "2024-05-01T12:00:00Z"},
        None,
        "status.completionTime",
        "completionTime can only be set when Complete=True",
    ),
    (
        "Job",
        "completion-before-start",
        {
            "startTime": "2024-05-01T12:00:00Z",
            "completionTime": "2024-05-01T11:00:00Z",
            "conditions": [{"type": "Complete", "status": "True"}],
        },
        None,
        "status.completionTime",
        "completionTime cannot be set before startTime",
    ),
    (
        "Namespace",
        "phase",
        {"phase": "Gone"},
        None,
        "status.phase",
        'supported values: "Active", "Terminating"',
    ),
    (
        "PersistentVolumeClaim",
        "phase",
        {"phase": "Waiting"},
        None,
        "status.phase",
        'supported values: "Pending", "Bound", "Lost"',
    ),
]


@pytest.mark.parametrize(
    ("kind", "status", "old_status", "path", "fragment"),
    [(c[0], *c[2:]) for c in STATUS_BAD],
    ids=[f"{c[0]}-{c[1]}" for c in STATUS_BAD],
)
def test_status_rule(
    kind: str, status: dict, old_status: dict | None, path: str, fragment: str
) -> None:
    assert_only(status_errors(kind, status, old_status=old_status), path, fragment)


def test_pod_never_restarting_container_stays_terminated() -> None:
    old = {
        "containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 0}}}],
        "phase": "Running",
    }
    new = {"containerStatuses": [{"name": "app", "state": {"running": {}}}], "phase": "Running"}
    errs = status_errors("Pod", new, old_status=old, base={"spec": {"restartPolicy": "Never"}})
    assert_only(
        errs, "status.containerStatuses[0].state", "may not be transitioned to non-terminated state"
    )


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (
            "Pod",
            {
                "phase": "Running",
                "podIP": "10.0.0.5",
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        ),
        (
            "Deployment",
            {
                "replicas": 3,
                "updatedReplicas": 3,
                "readyReplicas": 2,
                "availableReplicas": 2,
                "observedGeneration": 1,
            },
        ),
        (
            "Job",
            {
                "succeeded": 1,
                "startTime": "2024-05-01T11:00:00Z",
                "completionTime": "2024-05-01T12:00:00Z",
                "conditions": [{"type": "Complete", "status": "True"}],
            },
        ),
        ("DaemonSet", {"desiredNumberScheduled": 2, "numberReady": 2}),
    ],
    ids=["Pod", "Deployment", "Job", "DaemonSet"],
)
def test_good_status(kind: str, status: dict) -> None:
    assert [str(e) for e in status_errors(kind, status)] == []


# ----------------------------------------------------------------------- scale


@pytest.mark.parametrize(
    ("kind", "selector"),
    [
        ("Deployment", "app=web"),
        ("ReplicaSet", "app=web"),
        ("StatefulSet", "app=web"),
        ("ReplicationController", "app=web"),
    ],
)
def test_scale_helpers(kind: str, selector: str) -> None:
    s = strategy(kind)
    obj, _ = created(kind)
    obj.status.replicas = 2
    assert s.scale_replicas(obj) == (1, 2, selector)
    s.set_scale_replicas(obj, 5)
    assert s.scale_replicas(obj)[0] == 5
    assert s.validate(obj) == []


@pytest.mark.parametrize("info", kinds.KINDS, ids=lambda info: info.kind)
def test_scale_hooks_exactly_where_the_kinds_table_has_a_scale_subresource(
    info: kinds.KindInfo,
) -> None:
    """The verbs call the scale hooks only for kinds with a scale subresource;
    those, and only those, take ReplicasScale's (Strategy's raise)."""
    assert issubclass(STRATEGIES[info.kind], ReplicasScale) == ("scale" in info.subresources)

"""Kubernetes' defaults, kind by kind: (kind, field path in the created
object, expected value), after prepare_for_create and default as the
apiserver runs them."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.machinery.codec import to_dict
from tests.unit.registry.helpers import UID, created, ctr

C0 = "spec.template.spec.containers.0"
PROBE = {"livenessProbe": {"httpGet": {"port": 80}}, "readinessProbe": {"tcpSocket": {"port": 80}}}

DEFAULTS = [
    # Pod: SetDefaults_PodSpec + SetDefaults_Pod + containers
    ("Pod", None, "spec.restartPolicy", "Always"),
    ("Pod", None, "spec.terminationGracePeriodSeconds", 30),
    ("Pod", None, "spec.dnsPolicy", "ClusterFirst"),
    ("Pod", None, "spec.schedulerName", "default-scheduler"),
    ("Pod", None, "spec.securityContext", {}),
    ("Pod", None, "spec.enableServiceLinks", True),
    ("Pod", None, "status.phase", "Pending"),
    ("Pod", None, "spec.containers.0.terminationMessagePath", "/dev/termination-log"),
    ("Pod", None, "spec.containers.0.terminationMessagePolicy", "File"),
    ("Pod", None, "spec.containers.0.imagePullPolicy", "IfNotPresent"),
    ("Pod", None, "spec.containers.0.ports.0.protocol", "TCP"),
    (
        "Pod",
        {"spec": {"containers": [ctr(image="busybox")]}},
        "spec.containers.0.imagePullPolicy",
        "Always",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(image="busybox:latest")]}},
        "spec.containers.0.imagePullPolicy",
        "Always",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(image="registry:5000/busybox")]}},
        "spec.containers.0.imagePullPolicy",
        "Always",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(image="busybox@sha256:" + "a" * 64)]}},
        "spec.containers.0.imagePullPolicy",
        "IfNotPresent",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(**PROBE)]}},
        "spec.containers.0.livenessProbe.timeoutSeconds",
        1,
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(**PROBE)]}},
        "spec.containers.0.livenessProbe.periodSeconds",
        10,
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(**PROBE)]}},
        "spec.containers.0.livenessProbe.successThreshold",
        1,
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(**PROBE)]}},
        "spec.containers.0.readinessProbe.failureThreshold",
        3,
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(**PROBE)]}},
        "spec.containers.0.livenessProbe.httpGet.path",
        "/",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(**PROBE)]}},
        "spec.containers.0.livenessProbe.httpGet.scheme",
        "HTTP",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(lifecycle={"preStop": {"httpGet": {"port": 80}}})]}},
        "spec.containers.0.lifecycle.preStop.httpGet.scheme",
        "HTTP",
    ),
    (
        "Pod",
        {
            "spec": {
                "containers": [
                    ctr(
                        env=[
                            {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                        ]
                    )
                ]
            }
        },
        "spec.containers.0.env.0.valueFrom.fieldRef.apiVersion",
        "v1",
    ),
    (
        "Pod",
        {"spec": {"containers": [ctr(resources={"limits": {"cpu": "1", "memory": "1Gi"}})]}},
        "spec.containers.0.resources.requests",
        {"cpu": "1", "memory": "1Gi"},
    ),
    (
        "Pod",
        {
            "spec": {
                "containers": [ctr(resources={"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}})]
            }
        },
        "spec.containers.0.resources.requests",
        {"cpu": "500m"},
    ),
    ("Pod", {"spec": {"volumes": [{"name": "v"}]}}, "spec.volumes.0.emptyDir", {}),
    (
        "Pod",
        {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}},
        "spec.volumes.0.hostPath.type",
        "",
    ),
    (
        "Pod",
        {"spec": {"volumes": [{"name": "v", "secret": {"secretName": "s"}}]}},
        "spec.volumes.0.secret.defaultMode",
        420,
    ),
    (
        "Pod",
        {"spec": {"volumes": [{"name": "v", "configMap": {"name": "c"}}]}},
        "spec.volumes.0.configMap.defaultMode",
        420,
    ),
    (
        "Pod",
        {"spec": {"hostNetwork": True, "containers": [ctr(ports=[{"containerPort": 8080}])]}},
        "spec.containers.0.ports.0.hostPort",
        8080,
    ),
    # Templates get PodSpec defaults, not the Pod-only ones
    ("Deployment", None, "spec.template.spec.restartPolicy", "Always"),
    ("Deployment", None, f"{C0}.imagePullPolicy", "IfNotPresent"),
    ("Deployment", None, "spec.template.spec.enableServiceLinks", None),
    (
        "Deployment",
        {"spec": {"template": {"spec": {"containers": [ctr(resources={"limits": {"cpu": "1"}})]}}}},
        f"{C0}.resources.requests",
        None,
    ),
    # Deployment
    ("Deployment", None, "spec.replicas", 1),
    ("Deployment", None, "spec.strategy.type", "RollingUpdate"),
    ("Deployment", None, "spec.strategy.rollingUpdate.maxUnavailable", "25%"),
    ("Deployment", None, "spec.strategy.rollingUpdate.maxSurge", "25%"),
    ("Deployment", None, "spec.revisionHistoryLimit", 10),
    ("Deployment", None, "spec.progressDeadlineSeconds", 600),
    (
        "Deployment",
        {"spec": {"strategy": {"type": "Recreate"}}},
        "spec.strategy.rollingUpdate",
        None,
    ),
    ("Deployment", {"spec": {"replicas": 0}}, "spec.replicas", 0),
    # ReplicaSet, ReplicationController
    ("ReplicaSet", None, "spec.replicas", 1),
    ("ReplicationController", None, "spec.replicas", 1),
    ("ReplicationController", None, "spec.selector", {"app": "web"}),
    ("ReplicationController", None, "metadata.labels", {"app": "web"}),
    # StatefulSet
    ("StatefulSet", None, "spec.replicas", 1),
    ("StatefulSet", None, "spec.podManagementPolicy", "OrderedReady"),
    ("StatefulSet", None, "spec.updateStrategy.type", "RollingUpdate"),
    ("StatefulSet", None, "spec.updateStrategy.rollingUpdate.partition", 0),
    ("StatefulSet", None, "spec.updateStrategy.rollingUpdate.maxUnavailable", 1),
    ("StatefulSet", None, "spec.revisionHistoryLimit", 10),
    (
        "StatefulSet",
        None,
        "spec.persistentVolumeClaimRetentionPolicy",
        {"whenDeleted": "Retain", "whenScaled": "Retain"},
    ),
    ("StatefulSet", None, "spec.volumeClaimTemplates.0.spec.volumeMode", "Filesystem"),
    (
        "StatefulSet",
        {"spec": {"updateStrategy": {"type": "OnDelete"}}},
        "spec.updateStrategy.rollingUpdate",
        None,
    ),
    # DaemonSet
    ("DaemonSet", None, "spec.updateStrategy.type", "RollingUpdate"),
    ("DaemonSet", None, "spec.updateStrategy.rollingUpdate.maxUnavailable", 1),
    ("DaemonSet", None, "spec.updateStrategy.rollingUpdate.maxSurge", 0),
    ("DaemonSet", None, "spec.revisionHistoryLimit", 10),
    # Job
    ("Job", None, "spec.completions", 1),
    ("Job", None, "spec.parallelism", 1),
    ("Job", {"spec": {"parallelism": 3}}, "spec.completions", None),
    ("Job", {"spec": {"completions": 5}}, "spec.parallelism", 1),
    ("Job", None, "spec.backoffLimit", 6),
    (
        "Job",
        {"spec": {"completionMode": "Indexed", "completions": 3, "backoffLimitPerIndex": 1}},
        "spec.backoffLimit",
        2**31 - 1,
    ),
    ("Job", None, "spec.completionMode", "NonIndexed"),
    ("Job", None, "spec.suspend", False),
    ("Job", None, "spec.manualSelector", False),
    ("Job", None, "spec.podReplacementPolicy", "TerminatingOrFailed"),
    (
        "Job",
        {
            "spec": {
                "podFailurePolicy": {
                    "rules": [
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
                    ]
                }
            }
        },
        "spec.podReplacementPolicy",
        "Failed",
    ),
    (
        "Job",
        {
            "spec": {
                "podFailurePolicy": {
                    "rules": [
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
                    ]
                }
            }
        },
        "spec.podFailurePolicy.rules.0.onPodConditions.0.status",
        "True",
    ),
    ("Job", None, "spec.selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}),
    (
        "Job",
        None,
        "spec.template.metadata.labels",
        {
            "batch.kubernetes.io/controller-uid": UID,
            "batch.kubernetes.io/job-name": "web",
            "controller-uid": UID,
            "job-name": "web",
        },
    ),
    ("Job", None, "metadata.labels.job-name", "web"),
    (
        "Job",
        {
            "spec": {
                "manualSelector": True,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}},
            }
        },
        "spec.template.metadata.labels",
        {"a": "b"},
    ),
    # CronJob
    ("CronJob", None, "spec.concurrencyPolicy", "Allow"),
    ("CronJob", None, "spec.suspend", False),
    ("CronJob", None, "spec.successfulJobsHistoryLimit", 3),
    ("CronJob", None, "spec.failedJobsHistoryLimit", 1),
    ("CronJob", None, "spec.jobTemplate.spec.template.spec.dnsPolicy", "ClusterFirst"),
    ("CronJob", None, "spec.jobTemplate.spec.backoffLimit", None),
    # core kinds
    ("PersistentVolumeClaim", None, "spec.volumeMode", "Filesystem"),
    ("PersistentVolumeClaim", None, "status.phase", "Pending"),
    ("PersistentVolume", None, "spec.persistentVolumeReclaimPolicy", "Retain"),
    ("PersistentVolume", None, "spec.volumeMode", "Filesystem"),
    ("PersistentVolume", None, "spec.hostPath.type", ""),
    ("PersistentVolume", None, "status.phase", "Pending"),
    ("Namespace", None, "status.phase", "Active"),
    ("Namespace", None, "spec.finalizers", ["kubernetes"]),
    (
        "Node",
        {"status": {"capacity": {"cpu": "2", "pods": "110"}}},
        "status.allocatable",
        {
            "cpu": "2",
            "pods": "110",
        },  # a Node keeps its status on create; allocatable defaults to capacity
    ),
]


def lookup(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(node, list):
            node = node[int(part)]
        elif part in node:
            node = node[part]
        else:
            # map keys may contain dots ("job-name" does not, labels might)
            rest = ".".join(parts[i:])
            return node.get(rest)
        i += 1
    return node


@pytest.mark.parametrize(
    ("kind", "patch", "path", "expected"),
    DEFAULTS,
    ids=[
        f"{k}-{p}" + ("" if patch is None else f"-{n}")
        for n, (k, patch, p, _) in enumerate(DEFAULTS)
    ],
)
def test_default(kind: str, patch: dict | None, path: str, expected: Any) -> None:
    obj, errs = created(kind, patch)
    assert errs == [], [str(e) for e in errs]
    assert lookup(to_dict(obj), path) == expected


def test_node_allocatable_defaults_to_capacity() -> None:
    """SetDefaults_NodeStatus runs on every write, not only on create."""
    from tests.unit.registry.helpers import build, manifest, strategy

    node = build("Node", manifest("Node", {"status": {"capacity": {"cpu": "2"}}}))
    strategy("Node").default(node)
    assert dict(node.status.allocatable) == {"cpu": "2"}


def test_defaulting_is_idempotent() -> None:
    from tests.unit.registry.helpers import GOOD, strategy

    for kind in GOOD:
        obj, _ = created(kind)
        again = type(obj)()
        again.CopyFrom(obj)
        strategy(kind).default(again)
        assert again == obj, kind

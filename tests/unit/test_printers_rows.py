"""One realistic object of every served kind, and the row kube-apiserver
1.32 would serve for it (printers.go logic), wide cells included: what
``kubectl get -o wide`` shows for the same object."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pinnace.machinery import codec, kinds, printers

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CREATED = "2026-01-01T11:55:00Z"  # 5m before NOW
META = {"name": "web", "namespace": "default", "creationTimestamp": CREATED}
TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [
            {"name": "web", "image": "nginx:1.27"},
            {"name": "log", "image": "busybox"},
        ]
    },
}
SELECTOR = {"matchLabels": {"app": "web"}}


def obj(kind: str, **fields: Any) -> Any:
    info = next(k for k in (*kinds.KINDS, kinds.SCALE) if k.kind == kind)
    doc = {"apiVersion": info.api_version, "kind": kind, "metadata": dict(META), **fields}
    return codec.from_dict(info.message_class, doc)


CASES: dict[str, tuple[Any, list[Any]]] = {
    "pod-running": (
        obj(
            "Pod",
            spec={"nodeName": "node-a", "containers": TEMPLATE["spec"]["containers"]},
            status={
                "phase": "Running",
                "podIPs": [{"ip": "10.244.1.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {}}},
                    {
                        "name": "log",
                        "ready": True,
                        "restartCount": 2,
                        "state": {"running": {}},
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": CREATED}},
                    },
                ],
            },
        ),
        ["web", "2/2", "Running", "2 (5m ago)", "5m", "10.244.1.5", "node-a", "<none>", "<none>"],
    ),
    "node": (
        obj(
            "Node",
            metadata={
                "name": "node-a",
                "creationTimestamp": "2025-12-29T08:00:00Z",
                "labels": {
                    "node-role.kubernetes.io/control-plane": "",
                    "kubernetes.io/role": "edge",
                },
            },
            spec={"unschedulable": True},
            status={
                "conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
                "nodeInfo": {
                    "kubeletVersion": "v1.32.0-pinnace",
                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "kernelVersion": "6.1.0-18-amd64",
                },
            },
        ),
        [
            "node-a",
            "Ready,SchedulingDisabled",
            "control-plane,edge",
            "3d4h",
            "v1.32.0-pinnace",
            "192.168.1.10",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-18-amd64",
            "<unknown>",
        ],
    ),
    "namespace": (
        obj(
            "Namespace",
            metadata={"name": "team-a", "creationTimestamp": CREATED},
            status={"phase": "Active"},
        ),
        ["team-a", "Active", "5m"],
    ),
    "service": (
        obj(
            "Service",
            spec={
                "type": "NodePort",
                "clusterIPs": ["10.96.0.20"],
                "selector": {"tier": "fe", "app": "web"},
                "ports": [
                    {"port": 80, "protocol": "TCP", "nodePort": 30080},
                    {"port": 53, "protocol": "UDP"},
                ],
            },
        ),
        ["web", "NodePort", "10.96.0.20", "<none>", "80:30080/TCP,53/UDP", "5m", "app=web,tier=fe"],
    ),
    "endpointslice": (
        obj(
            "EndpointSlice",
            addressType="IPv4",
            ports=[{"port": 8080}, {"name": "metrics"}, {}, {"port": 9000}],
            endpoints=[{"addresses": ["10.244.1.5"]}, {"addresses": ["10.244.2.7"]}],
        ),
        ["web", "IPv4", "8080,metrics,* + 1 more...", "10.244.1.5,10.244.2.7", "5m"],
    ),
    "deployment": (
        obj(
            "Deployment",
            spec={"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
            status={"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        ),
        ["web", "2/3", 3, 2, "5m", "web,log", "nginx:1.27,busybox", "app=web"],
    ),
    "replicaset": (
        obj(
            "ReplicaSet",
            spec={"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
            status={"replicas": 3, "readyReplicas": 1},
        ),
        ["web", 3, 3, 1, "5m", "web,log", "nginx:1.27,busybox", "app=web"],
    ),
    "replicationcontroller": (
        obj(
            "ReplicationController",
            spec={"replicas": 2, "selector": {"app": "web"}, "template": TEMPLATE},
            status={"replicas": 2, "readyReplicas": 2},
        ),
        ["web", 2, 2, 2, "5m", "web,log", "nginx:1.27,busybox", "app=web"],
    ),
    "statefulset": (
        obj(
            "StatefulSet",
            spec={"replicas": 3, "selector": SELECTOR, "template": TEMPLATE, "serviceName": "web"},
            status={"replicas": 3, "readyReplicas": 3},
        ),
        ["web", "3/3", "5m", "web,log", "nginx:1.27,busybox"],
    ),
    "daemonset": (
        obj(
            "DaemonSet",
            spec={
                "selector": SELECTOR,
                "template": {
                    **TEMPLATE,
                    "spec": {**TEMPLATE["spec"], "nodeSelector": {"kubernetes.io/os": "linux"}},
                },
            },
            status={
                "desiredNumberScheduled": 3,
                "currentNumberScheduled": 3,
                "numberReady": 2,
                "updatedNumberScheduled": 3,
                "numberAvailable": 2,
            },
        ),
        [
            "web",
            3,
            3,
            2,
            3,
            2,
            "kubernetes.io/os=linux",
            "5m",
            "web,log",
            "nginx:1.27,busybox",
            "app=web",
        ],
    ),
    "controllerrevision": (
        obj(
            "ControllerRevision",
            metadata={
                **META,
                "name": "web-7d4b9c",
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "name": "web",
                        "uid": "u1",
                        "controller": True,
                    },
                ],
            },
            revision=2,
        ),
        ["web-7d4b9c", "statefulset.apps/web", 2, "5m"],
    ),
    "job": (
        obj(
            "Job",
            spec={"completions": 3, "parallelism": 2, "selector": SELECTOR, "template": TEMPLATE},
            status={
                "succeeded": 3,
                "startTime": "2026-01-01T11:56:00Z",
                "completionTime": "2026-01-01T11:58:05Z",
                "conditions": [{"type": "Complete", "status": "True"}],
            },
        ),
        ["web", "Complete", "3/3", "2m5s", "5m", "web,log", "nginx:1.27,busybox", "app=web"],
    ),
    "cronjob": (
        obj(
            "CronJob",
            spec={
                "schedule": "*/5 * * * *",
                "timeZone": "Etc/UTC",
                "suspend": False,
                "jobTemplate": {"spec": {"template": TEMPLATE}},
            },
            status={
                "active": [{"kind": "Job", "name": "web-1", "namespace": "default"}],
                "lastScheduleTime": "2026-01-01T11:59:30Z",
            },
        ),
        [
            "web",
            "*/5 * * * *",
            "Etc/UTC",
            "False",
            1,
            "30s",
            "5m",
            "web,log",
            "nginx:1.27,busybox",
            "<none>",
        ],
    ),
    "persistentvolume": (
        obj(
            "PersistentVolume",
            metadata={"name": "pv-1", "creationTimestamp": CREATED},
            spec={
                "capacity": {"storage": "1024Mi"},
                "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "local",
                "claimRef": {"namespace": "default", "name": "data-web-0"},
                "volumeMode": "Filesystem",
                "hostPath": {"path": "/srv/pv-1"},
            },
            status={"phase": "Bound"},
        ),
        [
            "pv-1",
            "1Gi",
            "RWO,RWX",
            "Retain",
            "Bound",
            "default/data-web-0",
            "local",
            "<unset>",
            "",
            "5m",
            "Filesystem",
        ],
    ),
    "persistentvolumeclaim": (
        obj(
            "PersistentVolumeClaim",
            metadata={**META, "name": "data-web-0"},
            spec={
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "volumeName": "pv-1",
                "storageClassName": "local",
            },
            status={
                "phase": "Bound",
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
            },
        ),
        ["data-web-0", "Bound", "pv-1", "1Gi", "RWO", "local", "<unset>", "5m", "<unset>"],
    ),
    "event": (
        obj(
            "Event",
            metadata={**META, "name": "web.17a2b3c4d5e6f7"},
            involvedObject={
                "kind": "Pod",
                "name": "web-0",
                "namespace": "default",
                "fieldPath": "spec.containers{web}",
            },
            reason="BackOff",
            message="Back-off restarting failed container web\n",
            source={"component": "kubelet", "host": "node-a"},
            firstTimestamp="2026-01-01T11:00:00Z",
            lastTimestamp="2026-01-01T11:59:15Z",
            count=12,
            type="Warning",
        ),
        [
            "45s",
            "Warning",
            "BackOff",
            "pod/web-0",
            "spec.containers{web}",
            "kubelet, node-a",
            "Back-off restarting failed container web",
            "60m",
            12,
            "web.17a2b3c4d5e6f7",
        ],
    ),
    "lease": (
        obj(
            "Lease",
            metadata={**META, "name": "node-a", "namespace": "kube-node-lease"},
            spec={"holderIdentity": "node-a", "leaseDurationSeconds": 40},
        ),
        ["node-a", "node-a", "5m"],
    ),
    "scale": (
        obj("Scale", spec={"replicas": 5}, status={"replicas": 3, "selector": "app=web"}),
        ["web", 5, 3, "5m"],
    ),
    "role": (
        obj("Role", rules=[{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]),
        ["web", CREATED],
    ),
    "clusterrole": (
        obj("ClusterRole", metadata={**META, "namespace": ""}, rules=[]),
        ["web", CREATED],
    ),
    "rolebinding": (
        obj(
            "RoleBinding",
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            subjects=[
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"},
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"},
                {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
            ],
        ),
        ["web", "Role/reader", "5m", "alice, bob", "devs", "ci/builder"],
    ),
    "clusterrolebinding": (
        obj(
            "ClusterRoleBinding",
            metadata={**META, "namespace": ""},
            roleRef={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
        ),
        ["web", "ClusterRole/view", "5m", "", "", ""],
    ),
}


@pytest.mark.parametrize(("obj", "want"), list(CASES.values()), ids=list(CASES))
def test_row(obj: Any, want: list[Any]) -> None:
    cells = printers.row_cells(obj, NOW)
    assert cells == want
    assert len(cells) == len(printers.column_definitions(type(obj).__name__))


def test_every_served_kind_has_a_row_case() -> None:
    covered = {type(o).__name__ for o, _ in CASES.values()}
    assert {k.kind for k in kinds.KINDS} <= covered


def test_rows_of_a_list() -> None:
    pod = CASES["pod-running"][0]
    assert printers.rows([pod, pod], NOW) == [CASES["pod-running"][1]] * 2
    assert printers.rows([], NOW) == []

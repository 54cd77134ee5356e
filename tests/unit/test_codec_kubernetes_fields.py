"""The codec writes the fields Kubernetes always writes (no ``omitempty``).

Expected documents are what kube-apiserver prints for the same objects
(Go's encoding/json over k8s.io/api types): a field without ``omitempty``
is written even at its zero (``exitCode: 0``, ``ready: false``), a
non-pointer struct is written even when empty (``lastState: {}``), and a
zero metav1.Time is ``null`` (``lastProbeTime: null``).
"""

from __future__ import annotations

import json

from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery.codec import from_dict, to_dict, to_json


def _finished_pod() -> pod_pb2.Pod:
    status = container_pb2.ContainerStatus(
        name="main",
        ready=False,
        restart_count=0,
        image="busybox:1.36",
        image_id="docker.io/library/busybox@sha256:abc",
        container_id="pinnace://1f2e",
        started=False,
    )
    status.state.terminated.exit_code = 0
    status.state.terminated.reason = "Completed"
    status.state.terminated.started_at = "2024-05-01T12:00:01Z"
    status.state.terminated.finished_at = "2024-05-01T12:00:02Z"
    status.state.terminated.container_id = "pinnace://1f2e"
    pod = pod_pb2.Pod(api_version="v1", kind="Pod")
    pod.metadata.name = "done"
    pod.status.phase = "Succeeded"
    pod.status.container_statuses.append(status)
    return pod


# What kube-apiserver prints for that container status.
KUBE_CONTAINER_STATUS = {
    "name": "main",
    "state": {
        "terminated": {
            "exitCode": 0,
            "reason": "Completed",
            "startedAt": "2024-05-01T12:00:01Z",
            "finishedAt": "2024-05-01T12:00:02Z",
            "containerID": "pinnace://1f2e",
        }
    },
    "lastState": {},
    "ready": False,
    "restartCount": 0,
    "image": "busybox:1.36",
    "imageID": "docker.io/library/busybox@sha256:abc",
    "containerID": "pinnace://1f2e",
    "started": False,
}


def test_container_status_zero_fields_are_written_as_kubernetes_does() -> None:
    """Issue 10, defect 4: exitCode 0, restartCount 0, ready false were dropped."""
    doc = json.loads(to_json(_finished_pod()))
    assert doc["status"]["containerStatuses"] == [KUBE_CONTAINER_STATUS]


def test_container_status_as_kube_apiserver_prints_it_round_trips() -> None:
    encoded = to_dict(from_dict(container_pb2.ContainerStatus, KUBE_CONTAINER_STATUS))
    assert encoded == KUBE_CONTAINER_STATUS

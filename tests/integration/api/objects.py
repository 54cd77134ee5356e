"""Minimal valid objects of every served kind, for the API integration tests.

Each ``KindCase`` builds the smallest object Kubernetes itself would accept
(Deployment selectors match template labels, containers have name, image and
command, Job templates restart Never, CronJob schedules are real cron), plus a
merge patch that changes the spec (or, for kinds without a spec, their main
data) so tests can check generation and update paths on every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from pinnace.machinery import codec, kinds

CONTAINER = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}


def pod_spec(restart_policy: str = "Always") -> dict[str, Any]:
    return {"containers": [dict(CONTAINER)], "restartPolicy": restart_policy}


def template(labels: dict[str, str], restart_policy: str = "Always") -> dict[str, Any]:
    return {"metadata": {"labels": dict(labels)}, "spec": pod_spec(restart_policy)}


def _pod(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": pod_spec()}


def _node(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"podCIDR": "10.0.0.0/24"}}


def _namespace(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}}


def _event(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "name": "p", "apiVersion": "v1"},
        "reason": "Tested",
        "message": "an event",
        "type": "Normal",
        "source": {"component": "tests"},
        "count": 1,
    }


def _rc(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": labels, "template": template(labels)},
    }


def _pvc(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }


def _pv(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/tmp/pinnace-tests/{name}"},
        },
    }


def _selector_workload(replicas: bool) -> Callable[[str], dict[str, Any]]:
    def build(name: str) -> dict[str, Any]:
        labels = {"app": name}
        spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template(labels)}
        if replicas:
            spec["replicas"] = 1
        return {"metadata": {"name": name}, "spec": spec}

    return build


def _statefulset(name: str) -> dict[str, Any]:
    obj = _selector_workload(True)(name)
    obj["spec"]["serviceName"] = name
    return obj


def _controller_revision(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"spec": {"template": {}}}, "revision": 1}


def _job(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"template": template({}, "Never")}}


def _cronjob(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": template({}, "Never")}},
        },
    }


def _lease(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}


def _service(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


def _endpoint_slice(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.0.5"]}],
        "ports": [{"port": 80}],
    }


RBAC_GROUP = "rbac.authorization.k8s.io"


def _rule(verb: str) -> dict[str, Any]:
    return {"verbs": [verb], "apiGroups": [""], "resources": ["pods"]}


def _role(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "rules": [_rule("get")]}


def _binding(role_kind: str) -> Callable[[str], dict[str, Any]]:
    def build(name: str) -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": "reader"},
            "subjects": [_user("alice")],
        }

    return build


def _user(name: str) -> dict[str, Any]:
    return {"kind": "User", "apiGroup": RBAC_GROUP, "name": name}


@dataclass(frozen=True)
class KindCase:
    resource: str
    build: Callable[[str], dict[str, Any]]
    # A merge patch changing what generation counts (the spec, or the kind's data).
    spec_patch: dict[str, Any] = field(default_factory=dict)

    @property
    def info(self) -> kinds.KindInfo:
        return kinds.by_resource(self.resource)

    @property
    def id(self) -> str:
        return self.info.kind

    def new(
        self, name: str, *, labels: dict[str, str] | None = None, namespace: str = ""
    ) -> Message:
        """The object; `namespace` is needed by kinds whose content refers to
        their own namespace (an Event's involvedObject)."""
        data = self.build(name)
        if labels:
            data["metadata"]["labels"] = dict(labels)
        if "involvedObject" in data:
            data["involvedObject"]["namespace"] = namespace
        return codec.from_dict(self.info.message_class, data)


KIND_CASES: tuple[KindCase, ...] = (
    KindCase("pods", _pod, {"spec": {"activeDeadlineSeconds": 60}}),
    KindCase("nodes", _node, {"spec": {"unschedulable": True}}),
    KindCase("namespaces", _namespace, {}),
    KindCase("events", _event, {"message": "changed"}),
    KindCase("replicationcontrollers", _rc, {"spec": {"replicas": 2}}),
    KindCase("persistentvolumeclaims", _pvc, {"spec": {"volumeName": "pv-x"}}),
    KindCase("persistentvolumes", _pv, {"spec": {"persistentVolumeReclaimPolicy": "Delete"}}),
    KindCase("deployments.apps", _selector_workload(True), {"spec": {"replicas": 2}}),
    KindCase("replicasets.apps", _selector_workload(True), {"spec": {"replicas": 2}}),
    KindCase("statefulsets.apps", _statefulset, {"spec": {"replicas": 2}}),
    KindCase("daemonsets.apps", _selector_workload(False), {"spec": {"minReadySeconds": 5}}),
    KindCase("controllerrevisions.apps", _controller_revision, {"revision": 2}),
    KindCase("jobs.batch", _job, {"spec": {"activeDeadlineSeconds": 100}}),
    KindCase("cronjobs.batch", _cronjob, {"spec": {"schedule": "*/10 * * * *"}}),
    KindCase("leases.coordination.k8s.io", _lease, {"spec": {"holderIdentity": "b"}}),
    KindCase("services", _service, {"spec": {"selector": {"app": "other"}}}),
    KindCase("endpointslices.discovery.k8s.io", _endpoint_slice, {"ports": [{"port": 81}]}),
    KindCase("roles.rbac.authorization.k8s.io", _role, {"rules": [_rule("list")]}),
    KindCase("clusterroles.rbac.authorization.k8s.io", _role, {"rules": [_rule("list")]}),
    KindCase(
        "rolebindings.rbac.authorization.k8s.io", _binding("Role"), {"subjects": [_user("bob")]}
    ),
    KindCase(
        "clusterrolebindings.rbac.authorization.k8s.io",
        _binding("ClusterRole"),
        {"subjects": [_user("bob")]},
    ),
)

BY_RESOURCE = {c.resource: c for c in KIND_CASES}


def pod(name: str, *, labels: dict[str, str] | None = None, **spec: Any) -> Message:
    """A pod; extra keyword arguments are spec fields in JSON spelling."""
    data = _pod(name)
    data["spec"].update(spec)
    if labels:
        data["metadata"]["labels"] = dict(labels)
    return codec.from_dict(kinds.by_resource("pods").message_class, data)


def deployment(name: str, *, replicas: int = 1, labels: dict[str, str] | None = None) -> Message:
    data = _selector_workload(True)(name)
    data["spec"]["replicas"] = replicas
    if labels:
        data["metadata"]["labels"] = dict(labels)
    return codec.from_dict(kinds.by_resource("deployments.apps").message_class, data)


def configmap_like(name: str) -> Message:
    """A Lease: the smallest namespaced kind, for tests about metadata only."""
    return BY_RESOURCE["leases.coordination.k8s.io"].new(name)

"""Builders for the registry strategy tests: manifests as dicts, run through
a kind's strategy the way apiserver/registry/verbs.py does (no etcd)."""

from __future__ import annotations

import copy
from typing import Any

from google.protobuf.message import Message

from apiserver.registry.kinds import STRATEGIES
from apiserver.registry.strategy import Strategy
from pinnace.machinery import kinds
from pinnace.machinery.codec import from_dict, to_dict
from pinnace.machinery.patch import merge_patch
from pinnace.machinery.validation import FieldError

UID = "6f1c2d3e-0000-4000-8000-000000000001"
NAMESPACED = {k.kind: k.namespaced for k in kinds.KINDS}


def strategy(kind: str) -> Strategy[Any]:
    info = next(k for k in kinds.KINDS if k.kind == kind)
    return STRATEGIES[kind](info)


def ctr(name: str = "app", image: str = "busybox:1.36", **more: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **more}


def template(labels: dict[str, str] | None = None, restart: str | None = None, **spec: Any) -> dict:
    pod_spec: dict[str, Any] = {"containers": [ctr()], **spec}
    if restart:
        pod_spec["restartPolicy"] = restart
    return {
        "metadata": {"labels": dict(labels if labels is not None else {"app": "web"})},
        "spec": pod_spec,
    }


SELECTOR = {"matchLabels": {"app": "web"}}

# A valid manifest body (everything but metadata) of every kind.
GOOD: dict[str, dict[str, Any]] = {
    "Pod": {"spec": {"containers": [ctr(ports=[{"containerPort": 8080, "name": "http"}])]}},
    "Node": {"spec": {"podCIDR": "10.0.0.0/24", "taints": [{"key": "k", "effect": "NoSchedule"}]}},
    "Namespace": {},
    "Event": {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default", "apiVersion": "v1"},
        "reason": "Started",
        "message": "started",
        "type": "Normal",
    },
    "ReplicationController": {"spec": {"template": template()}},
    "PersistentVolumeClaim": {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    "PersistentVolume": {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/pv"},
        }
    },
    "Deployment": {"spec": {"selector": SELECTOR, "template": template()}},
    "ReplicaSet": {"spec": {"selector": SELECTOR, "template": template()}},
    "StatefulSet": {
        "spec": {
            "selector": SELECTOR,
            "serviceName": "web",
            "template": template(
                containers=[ctr(volumeMounts=[{"name": "data", "mountPath": "/data"}])]
            ),
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        }
    },
    "DaemonSet": {"spec": {"selector": SELECTOR, "template": template()}},
    "ControllerRevision": {"data": {"spec": {"template": {}}}, "revision": 1},
    "Job": {"spec": {"template": template({}, "Never")}},
    "CronJob": {
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": template({}, "OnFailure")}},
        }
    },
    "Lease": {"spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}},
    "Service": {"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    "EndpointSlice": {
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    },
    "Role": {"rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]},
    "ClusterRole": {
        "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]},
            {"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
        ]
    },
    "RoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}],
    },
    "ClusterRoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "builder", "namespace": "ci"}],
    },
}


def manifest(kind: str, patch: dict[str, Any] | None = None, *, name: str = "web") -> dict:
    body = copy.deepcopy(GOOD[kind])
    body["metadata"] = {"name": name, **({"namespace": "default"} if NAMESPACED[kind] else {})}
    return merge_patch(body, patch or {})


def build(kind: str, data: dict[str, Any]) -> Message:
    cls = strategy(kind).info.message_class
    return from_dict(cls, data)


def created(
    kind: str, patch: dict[str, Any] | None = None, **kw: Any
) -> tuple[Message, list[FieldError]]:
    """What Verbs.create does: uid, prepare_for_create, default, validate."""
    s = strategy(kind)
    obj = build(kind, manifest(kind, patch, **kw))
    obj.metadata.uid = UID  # type: ignore[attr-defined]
    s.prepare_for_create(obj)
    s.default(obj)
    return obj, s.validate(obj)


def create_errors(kind: str, patch: dict[str, Any] | None = None, **kw: Any) -> list[FieldError]:
    return created(kind, patch, **kw)[1]


def updated(old: Message, patch: dict[str, Any]) -> tuple[Message, list[FieldError]]:
    """What Verbs._merge_update does for a spec write of `patch` over `old`."""
    kind = old.DESCRIPTOR.name
    s = strategy(kind)
    new = build(kind, merge_patch(to_dict(old), patch))
    s.default(new)
    s.prepare_for_update(new, old)
    return new, s.validate_update(new, old)


def update_errors(
    kind: str, patch: dict[str, Any], *, base: dict | None = None
) -> list[FieldError]:
    old, errs = created(kind, base)
    assert not errs, [str(e) for e in errs]
    return updated(old, patch)[1]


def status_errors(
    kind: str, status: dict[str, Any], *, old_status: dict | None = None, base: dict | None = None
) -> list[FieldError]:
    """What Verbs._merge_update does for a status write."""
    s = strategy(kind)
    old, errs = created(kind, base)
    assert not errs, [str(e) for e in errs]
    if old_status is not None:
        old = build(kind, merge_patch(to_dict(old), {"status": old_status}))
    new = build(kind, merge_patch(to_dict(old), {"status": status}))
    return s.validate_status_update(new, old)


def fields(errs: list[FieldError]) -> set[str]:
    return {e.field for e in errs}


def assert_only(errs: list[FieldError], path: str | tuple[str, ...], fragment: str) -> None:
    """Every error is at `path` (or at one of the paths given, each having
    one), and an error at the first path says `fragment`."""
    paths = (path,) if isinstance(path, str) else path
    shown = [str(e) for e in errs]
    assert errs, f"expected an error at {paths[0]}, got none"
    assert fields(errs) == set(paths), shown
    assert any(e.field == paths[0] and fragment in str(e) for e in errs), shown

"""NodeRestriction: a kubelet may change only what belongs to its node.

Kubernetes' NodeRestriction admission plugin, for a request by a node
(user ``system:node:<name>`` in group ``system:nodes``):

* **pods:** no creates (only mirror pods, which Pinnace has none of: a
  kubelet never creates pods); no updates of a pod itself, only of the
  status of a pod bound to this node; deletes only of pods bound to it;
* **nodes:** only its own Node, which it may not relabel under
  ``node-restriction.kubernetes.io/``, and which it may create only with
  the kubelet's own labels (``kubernetes.io/hostname``, arch, os, zone and
  region, instance type, ``kubelet.kubernetes.io/``,
  ``node.kubernetes.io/``; other ``kubernetes.io``/``k8s.io`` labels are
  refused); it may not change its taints after creation;
* **leases** in ``kube-node-lease``: only the one named after the node.

The messages are Kubernetes'.
"""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.auth.user import UserInfo, node_name
from apiserver.registry.resource import Resource
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.objects import object_meta
from pinnace.machinery.wellknown import ANNOTATION_MIRROR_POD

__all__ = ["check"]

LEASE_NAMESPACE = "kube-node-lease"
RESTRICTED_PREFIX = "node-restriction.kubernetes.io/"
# Labels a kubelet may set on its Node at creation (Kubernetes' kubelet labels).
ALLOWED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
    }
)
ALLOWED_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")


def check(res: Resource, user: UserInfo, new: Message | None, old: Message | None) -> None:
    """Forbidden unless the node user ``user`` may write ``new`` over ``old``
    (create: old None; delete: new None). Other users pass."""
    node = node_name(user)
    if not node:
        return
    obj = new if new is not None else old
    if obj is None:
        return
    if isinstance(obj, pod_pb2.Pod):
        _pod(node, new, old)
    elif isinstance(obj, node_pb2.Node):
        _node(node, new, old)
    elif res.info.kind == "Lease" and object_meta(obj).namespace == LEASE_NAMESPACE:
        if object_meta(obj).name != node:
            raise errors.Forbidden(
                f'node "{node}" can only access node lease with the same name as the requesting node'
            )


def _pod(node: str, new: Message | None, old: Message | None) -> None:
    if old is None:
        assert isinstance(new, pod_pb2.Pod)
        if ANNOTATION_MIRROR_POD not in new.metadata.annotations:
            raise errors.Forbidden(
                f'pod does not have "{ANNOTATION_MIRROR_POD}" annotation, node "{node}" can only '
                "create mirror pods"
            )
        if new.spec.node_name != node:
            raise errors.Forbidden(
                f'node "{node}" can only create pods with spec.nodeName set to itself'
            )
        return
    assert isinstance(old, pod_pb2.Pod)
    if old.spec.node_name != node:
        action = "delete pods" if new is None else "update pod status for pods"
        raise errors.Forbidden(f'node "{node}" can only {action} with spec.nodeName set to itself')
    if isinstance(new, pod_pb2.Pod) and (
        new.spec != old.spec or new.metadata.labels != old.metadata.labels
    ):
        raise errors.Forbidden(f'node "{node}" can only update pod status')


def _node(node: str, new: Message | None, old: Message | None) -> None:
    current = new if new is not None else old
    assert current is not None
    target = object_meta(current).name
    if target != node:
        raise errors.Forbidden(f'node "{node}" is not allowed to modify node "{target}"')
    if new is None:
        return
    assert isinstance(new, node_pb2.Node)
    before = dict(old.metadata.labels) if isinstance(old, node_pb2.Node) else {}
    changed = {
        k
        for k in set(before) | set(new.metadata.labels)
        if before.get(k) != new.metadata.labels.get(k)
    }
    restricted = sorted(k for k in changed if k.startswith(RESTRICTED_PREFIX))
    if restricted:
        raise errors.Forbidden(
            f'node "{node}" is not allowed to modify labels: {", ".join(restricted)}'
        )
    if old is None:
        refused = sorted(k for k in changed if _is_forbidden_label(k))
        if refused:
            raise errors.Forbidden(
                f'node "{node}" is not allowed to set the following labels: {", ".join(refused)}'
            )
    elif isinstance(old, node_pb2.Node) and list(new.spec.taints) != list(old.spec.taints):
        raise errors.Forbidden(f'node "{node}" is not allowed to modify taints')


def _is_forbidden_label(key: str) -> bool:
    """A kubernetes.io or k8s.io label the kubelet may not set on itself."""
    prefix, _, _ = key.rpartition("/")
    domain = prefix.split("/")[0]
    if not (
        domain in ("kubernetes.io", "k8s.io") or domain.endswith((".kubernetes.io", ".k8s.io"))
    ):
        return False
    return key not in ALLOWED_LABELS and not key.startswith(ALLOWED_PREFIXES)

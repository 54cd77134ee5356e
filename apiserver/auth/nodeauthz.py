"""The Node authorizer: a kubelet reads only what its own pods need.

Kubernetes' Node authorizer (plugin/pkg/auth/authorizer/node, with
AuthorizeNodeWithSelectors on, as since 1.32) for a request by a node
(user ``system:node:<name>`` in ``system:nodes``), per resource:

* **nodes:** get, list and watch only its own Node (a list or watch names
  it with the ``metadata.name`` field selector); create, update, patch and
  status writes are left to NodeRestriction;
* **pods:** get only a pod bound to the node; list and watch only with the
  field selector ``spec.nodeName=<node>`` (or for a single pod bound to
  it); create, delete, status writes and evictions are left to
  NodeRestriction;
* **persistentvolumeclaims:** get, and status writes, only of a claim a pod
  on the node uses (its ``persistentVolumeClaim`` or ephemeral volume);
* **persistentvolumes:** get only of the volume bound to such a claim.
  Pinnace's kubelet also lists PersistentVolumes, to remove the directories
  of its node-local volumes that were deleted (Kubernetes leaves that to a
  provisioner); PersistentVolumes here hold paths and node affinity only;
* **leases:** only in ``kube-node-lease`` and, but for create, only the
  one named after the node;
* anything else: the ``system:node`` ClusterRole's rules.

"The graph" is answered from the apiserver's watch caches of pods and
claims at the moment of the request, so it is as fresh as a watch.
A refusal carries Kubernetes' reason (``no relationship found between node
'node-1' and this object``).
"""

from __future__ import annotations

from collections.abc import Callable

from apiserver.auth.attributes import Attributes
from apiserver.storage.watchcache import Filter, WatchCache
from pinnace.api.core.v1 import pod_pb2, volume_pb2
from pinnace.machinery.fields import FieldSelectorError, parse_field_selector

__all__ = ["GRAPH_RESOURCES", "NodeGraph", "authorize_node"]

LEASE_NAMESPACE = "kube-node-lease"
# (group, resource) the Node authorizer decides itself; the rest follow the
# system:node ClusterRole.
GRAPH_RESOURCES = frozenset(
    {
        ("", "nodes"),
        ("", "pods"),
        ("", "persistentvolumeclaims"),
        ("", "persistentvolumes"),
        ("coordination.k8s.io", "leases"),
    }
)
NODE_NAME_FIELD = "spec.nodeName"


class NodeGraph:
    """Which objects a node's pods reach, read from the watch caches."""

    def __init__(self, pods: WatchCache, claims: WatchCache) -> None:
        self._pods = pods
        self._claims = claims

    def pod_on(self, node: str, namespace: str, name: str) -> bool:
        """Whether pod namespace/name exists and is bound to ``node``."""
        obj = self._pods.get(f"{self._pods.prefix}{namespace}/{name}")
        return obj is not None and obj.fields.get(NODE_NAME_FIELD) == node

    def _claims_of_node(self, node: str, namespace: str = "") -> set[tuple[str, str]]:
        """(namespace, claim) of every claim a pod on ``node`` uses."""
        used: set[tuple[str, str]] = set()
        objects = self._pods.list(Filter(namespace=namespace))[0] if namespace else None
        for obj in objects if objects is not None else self._pods.objects():
            if obj.fields.get(NODE_NAME_FIELD) != node:
                continue
            pod = pod_pb2.Pod.FromString(obj.raw)
            used.update((obj.namespace, c) for c in _claim_names(pod.metadata.name, pod.spec))
        return used

    def claim_used(self, node: str, namespace: str, name: str) -> bool:
        """Whether a pod on ``node`` uses claim namespace/name."""
        return (namespace, name) in self._claims_of_node(node, namespace)

    def volume_used(self, node: str, name: str) -> bool:
        """Whether PersistentVolume ``name`` is bound to a claim a pod on ``node`` uses."""
        for namespace, claim in self._claims_of_node(node):
            obj = self._claims.get(f"{self._claims.prefix}{namespace}/{claim}")
            if obj is None:
                continue
            pvc = volume_pb2.PersistentVolumeClaim.FromString(obj.raw)
            if pvc.spec.volume_name == name:
                return True
        return False


def _claim_names(pod_name: str, spec: pod_pb2.PodSpec) -> list[str]:
    names = []
    for vol in spec.volumes:
        if vol.HasField("persistent_volume_claim"):
            names.append(vol.persistent_volume_claim.claim_name)
        elif vol.HasField("ephemeral"):
            names.append(f"{pod_name}-{vol.name}")  # Kubernetes' ephemeral claim name
    return names


def authorize_node(node: str, attrs: Attributes, graph: NodeGraph) -> tuple[bool, str]:
    """(allowed, why not) for a request by ``node`` to one of GRAPH_RESOURCES."""
    resource = attrs.resource
    if resource == "nodes":
        return _nodes(node, attrs)
    if resource == "pods":
        return _pods(node, attrs, graph)
    if resource == "persistentvolumeclaims":
        if attrs.subresource == "status":
            if attrs.verb not in ("update", "patch"):
                return False, "can only get/update/patch this type"
            return _related(node, attrs, graph.claim_used(node, attrs.namespace, attrs.name))
        return _get_only(node, attrs, lambda: graph.claim_used(node, attrs.namespace, attrs.name))
    if resource == "persistentvolumes":
        if attrs.verb == "list" and not attrs.subresource:
            return True, ""  # local volume cleanup (see the module doc)
        return _get_only(node, attrs, lambda: graph.volume_used(node, attrs.name))
    return _leases(node, attrs)


def _nodes(node: str, attrs: Attributes) -> tuple[bool, str]:
    if attrs.subresource == "status":
        return attrs.verb in ("update", "patch"), ""
    if attrs.subresource:
        return False, ""
    if attrs.verb in ("create", "update", "patch"):
        return True, ""  # NodeRestriction keeps it to its own Node
    if attrs.verb in ("get", "list", "watch"):
        name = attrs.name or _selected(attrs, "metadata.name")
        if name == node:
            return True, ""
        if not name:
            return False, f"node '{node}' cannot read all nodes, only its own Node object"
        return False, f"node '{node}' cannot read '{name}', only its own Node object"
    return False, ""


def _pods(node: str, attrs: Attributes, graph: NodeGraph) -> tuple[bool, str]:
    verb, sub = attrs.verb, attrs.subresource
    if sub == "status":
        return verb in ("update", "patch"), ""
    if sub == "eviction":
        return verb == "create", ""
    if sub:
        return False, ""
    if verb in ("create", "delete"):
        return True, ""  # NodeRestriction keeps it to its own pods
    if verb == "get":
        return _get_only(node, attrs, lambda: graph.pod_on(node, attrs.namespace, attrs.name))
    if verb in ("list", "watch"):
        if _selected(attrs, NODE_NAME_FIELD) == node:
            return True, ""
        if attrs.name:
            return _related(node, attrs, graph.pod_on(node, attrs.namespace, attrs.name))
        return False, "can only list/watch pods with spec.nodeName field selector"
    return False, ""


def _leases(node: str, attrs: Attributes) -> tuple[bool, str]:
    if attrs.verb not in ("get", "create", "update", "patch", "delete"):
        return False, "can only get, create, update, patch, or delete a node lease"
    if attrs.namespace != LEASE_NAMESPACE:
        return False, f'can only access leases in the "{LEASE_NAMESPACE}" system namespace'
    if attrs.verb != "create" and attrs.name != node:
        return False, "can only access node lease with the same name as the requesting node"
    return True, ""


def _get_only(node: str, attrs: Attributes, related: Callable[[], bool]) -> tuple[bool, str]:
    """A get of one related object (``related()`` says whether it is)."""
    if attrs.verb != "get":
        return False, "can only get individual resources of this type"
    if attrs.subresource:
        return False, "cannot get subresource"
    if not attrs.name:
        return False, "No Object name found"
    return _related(node, attrs, related())


def _related(node: str, attrs: Attributes, related: bool) -> tuple[bool, str]:
    if related:
        return True, ""
    return False, f"no relationship found between node '{node}' and this object"


def _selected(attrs: Attributes, field: str) -> str:
    """The value the request's field selector requires ``field`` to equal ("" if none)."""
    if not attrs.field_selector:
        return ""
    try:
        return parse_field_selector(attrs.field_selector).exact_value(field) or ""
    except FieldSelectorError:
        return ""

"""The Node authorizer (apiserver/auth/nodeauthz.py) inside the Authorizer,
over real watch caches: the bootstrap policy, two pods and their claims.
node-1 runs pod a/p1 (claim "data" bound to pv-1, an ephemeral volume
"scratch" whose claim p1-scratch is bound to pv-3); node-2 runs a/p2
(claim "other" bound to pv-2)."""

from __future__ import annotations

import pytest

from apiserver.auth.attributes import Attributes, forbidden
from apiserver.auth.authz import Authorizer, RbacIndex
from apiserver.auth.nodeauthz import NodeGraph
from apiserver.auth.user import AUTHENTICATED, UserInfo
from apiserver.registry.kinds.pods import PodStrategy
from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import pod_pb2, volume_pb2
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import kinds, rbacdefaults
from tests.unit.apiserver.caches import filled_cache

NODE1 = UserInfo("system:node:node-1", ("system:nodes", AUTHENTICATED))
# A user named like a node but outside system:nodes is no node.
IMPOSTOR = UserInfo("system:node:node-1", (AUTHENTICATED,))


def _pod(name: str, node: str, claim: str, ephemeral: str = "") -> pod_pb2.Pod:
    pod = pod_pb2.Pod()
    pod.metadata.name, pod.metadata.namespace = name, "a"
    pod.spec.node_name = node
    pod.spec.volumes.add(name="v").persistent_volume_claim.claim_name = claim
    if ephemeral:
        pod.spec.volumes.add(name=ephemeral).ephemeral.SetInParent()
    return pod


def _claim(name: str, volume: str) -> volume_pb2.PersistentVolumeClaim:
    pvc = volume_pb2.PersistentVolumeClaim()
    pvc.metadata.name, pvc.metadata.namespace = name, "a"
    pvc.spec.volume_name = volume
    return pvc


def _authorizer() -> Authorizer:
    policy = rbacdefaults.bootstrap_policy()
    index = RbacIndex(
        filled_cache("roles", [], rbac_pb2.Role),
        filled_cache("clusterroles", policy.cluster_roles, rbac_pb2.ClusterRole),
        filled_cache("rolebindings", [], rbac_pb2.RoleBinding),
        filled_cache(
            "clusterrolebindings", policy.cluster_role_bindings, rbac_pb2.ClusterRoleBinding
        ),
    )
    pods = filled_cache(
        "pods",
        [_pod("p1", "node-1", "data", ephemeral="scratch"), _pod("p2", "node-2", "other")],
        pod_pb2.Pod,
        PodStrategy(kinds.by_resource("pods")).extract,
    )
    claims = filled_cache(
        "persistentvolumeclaims",
        [_claim("data", "pv-1"), _claim("other", "pv-2"), _claim("p1-scratch", "pv-3")],
        volume_pb2.PersistentVolumeClaim,
        Strategy(kinds.by_resource("persistentvolumeclaims")).extract,
    )
    return Authorizer(("Node", "RBAC"), index, NodeGraph(pods, claims))


def _ask(verb: str, resource: str, **kw: str) -> Attributes:
    name, _, sub = resource.partition("/")
    group = "coordination.k8s.io" if name == "leases" else ""
    return Attributes(NODE1, verb, api_group=group, resource=name, subresource=sub, **kw)


ALLOWED = [
    pytest.param(_ask("get", "nodes", name="node-1"), id="get-own-node"),
    pytest.param(_ask("watch", "nodes", field_selector="metadata.name=node-1"), id="watch-own"),
    pytest.param(_ask("update", "nodes/status", name="node-1"), id="own-node-status"),
    pytest.param(_ask("create", "nodes"), id="register"),
    pytest.param(_ask("get", "pods", namespace="a", name="p1"), id="get-own-pod"),
    pytest.param(_ask("list", "pods", field_selector="spec.nodeName=node-1"), id="list-own-pods"),
    pytest.param(
        _ask("watch", "pods", field_selector="status.phase!=Failed,spec.nodeName=node-1"),
        id="watch-own-pods-and-more",
    ),
    pytest.param(_ask("update", "pods/status", namespace="a", name="p1"), id="pod-status"),
    pytest.param(_ask("delete", "pods", namespace="a", name="p1"), id="delete-pod"),
    pytest.param(_ask("get", "persistentvolumeclaims", namespace="a", name="data"), id="claim"),
    pytest.param(
        _ask("get", "persistentvolumeclaims", namespace="a", name="p1-scratch"),
        id="ephemeral-claim",
    ),
    pytest.param(
        _ask("update", "persistentvolumeclaims/status", namespace="a", name="data"),
        id="claim-status",
    ),
    pytest.param(_ask("get", "persistentvolumes", name="pv-1"), id="its-volume"),
    pytest.param(_ask("get", "persistentvolumes", name="pv-3"), id="its-ephemeral-volume"),
    pytest.param(_ask("list", "persistentvolumes"), id="list-volumes-for-cleanup"),
    pytest.param(
        _ask("update", "leases", namespace="kube-node-lease", name="node-1"), id="own-lease"
    ),
    pytest.param(_ask("list", "services"), id="static-rule-services"),
    pytest.param(_ask("create", "events", namespace="a"), id="static-rule-events"),
]

DENIED = [
    pytest.param(
        _ask("get", "nodes", name="node-2"),
        "node 'node-1' cannot read 'node-2', only its own Node object",
        id="get-other-node",
    ),
    pytest.param(
        _ask("list", "nodes"),
        "node 'node-1' cannot read all nodes, only its own Node object",
        id="list-all-nodes",
    ),
    pytest.param(
        _ask("watch", "nodes", field_selector="metadata.name=node-2"),
        "node 'node-1' cannot read 'node-2', only its own Node object",
        id="watch-other-node",
    ),
    pytest.param(_ask("delete", "nodes", name="node-1"), "", id="delete-node"),
    pytest.param(
        _ask("get", "pods", namespace="a", name="p2"),
        "no relationship found between node 'node-1' and this object",
        id="get-other-nodes-pod",
    ),
    pytest.param(
        _ask("get", "pods", namespace="a", name="gone"),
        "no relationship found between node 'node-1' and this object",
        id="get-unknown-pod",
    ),
    pytest.param(
        _ask("list", "pods"),
        "can only list/watch pods with spec.nodeName field selector",
        id="list-all-pods",
    ),
    pytest.param(
        _ask("watch", "pods", field_selector="spec.nodeName=node-2"),
        "can only list/watch pods with spec.nodeName field selector",
        id="watch-other-nodes-pods",
    ),
    pytest.param(
        _ask("list", "pods", field_selector="spec.nodeName!=node-1"),
        "can only list/watch pods with spec.nodeName field selector",
        id="list-not-own-pods",
    ),
    pytest.param(_ask("update", "pods", namespace="a", name="p1"), "", id="update-pod-spec"),
    pytest.param(_ask("get", "pods/log", namespace="a", name="p1"), "", id="pod-log"),
    pytest.param(
        _ask("get", "persistentvolumeclaims", namespace="a", name="other"),
        "no relationship found between node 'node-1' and this object",
        id="other-nodes-claim",
    ),
    pytest.param(
        _ask("list", "persistentvolumeclaims", namespace="a"),
        "can only get individual resources of this type",
        id="list-claims",
    ),
    pytest.param(
        _ask("get", "persistentvolumeclaims/status", namespace="a", name="data"),
        "can only get/update/patch this type",
        id="get-claim-status",
    ),
    pytest.param(
        _ask("get", "persistentvolumes", name="pv-2"),
        "no relationship found between node 'node-1' and this object",
        id="other-nodes-volume",
    ),
    pytest.param(
        _ask("get", "leases", namespace="kube-node-lease", name="node-2"),
        "can only access node lease with the same name as the requesting node",
        id="other-lease",
    ),
    pytest.param(
        _ask("get", "leases", namespace="kube-system", name="node-1"),
        'can only access leases in the "kube-node-lease" system namespace',
        id="lease-elsewhere",
    ),
    pytest.param(_ask("delete", "services", namespace="a", name="s"), "", id="static-rules"),
]


@pytest.mark.parametrize("attrs", ALLOWED)
def test_a_node_reads_and_writes_what_its_pods_need(attrs: Attributes) -> None:
    assert _authorizer().authorize(attrs) == (True, "")


@pytest.mark.parametrize(("attrs", "reason"), DENIED)
def test_a_node_is_refused_the_rest_with_kubernetes_reason(attrs: Attributes, reason: str) -> None:
    assert _authorizer().authorize(attrs) == (False, reason)
    if reason:
        assert str(forbidden(attrs, reason)).endswith(f": {reason}")


def test_a_user_named_like_a_node_outside_system_nodes_gets_nothing() -> None:
    attrs = Attributes(IMPOSTOR, "get", resource="pods", namespace="a", name="p1")
    assert _authorizer().authorize(attrs) == (False, "")


def test_node_mode_needs_the_graph() -> None:
    with pytest.raises(ValueError, match="node graph"):
        Authorizer(("Node",), _authorizer().index)

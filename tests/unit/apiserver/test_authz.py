"""RBAC authorization (apiserver/auth/authz.py, attributes.py, escalation.py):
rule matching, bindings, the refusal's words and the escalation check, over
real watch caches holding the RBAC objects."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from google.protobuf.message import Message

from apiserver.auth.attributes import Attributes, forbidden
from apiserver.auth.authz import Authorizer, RbacIndex, rule_allows
from apiserver.auth.escalation import uncovered
from apiserver.auth.nodeauthz import NodeGraph
from apiserver.auth.user import AUTHENTICATED, UserInfo
from apiserver.etcd.types import Event, EventType, KeyValue
from apiserver.storage.watchcache import WatchCache
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import rbacdefaults
from pinnace.machinery.objects import object_meta
from tests.unit.apiserver.caches import filled_cache

ALICE = UserInfo("alice", ("devs", AUTHENTICATED))
G = "rbac.authorization.k8s.io"


def rule(
    verbs: Iterable[str],
    groups: Iterable[str] = ("",),
    resources: Iterable[str] = (),
    names: Iterable[str] = (),
    urls: Iterable[str] = (),
) -> rbac_pb2.PolicyRule:
    """rbacdefaults.rule, in the core group unless told."""
    return rbacdefaults.rule(verbs, groups if resources else (), resources, names=names, urls=urls)


def attrs(verb: str, resource: str = "", **kw: str) -> Attributes:
    name, _, sub = resource.partition("/")
    return Attributes(ALICE, verb, resource=name, subresource=sub, **kw)


@pytest.mark.parametrize(
    ("r", "a", "allowed"),
    [
        pytest.param(rule(["get"], resources=["pods"]), attrs("get", "pods"), True, id="exact"),
        pytest.param(rule(["get"], resources=["pods"]), attrs("list", "pods"), False, id="verb"),
        pytest.param(rule(["*"], resources=["pods"]), attrs("delete", "pods"), True, id="any-verb"),
        pytest.param(
            rule(["get"], ["apps"], ["deployments"]),
            attrs("get", "deployments"),
            False,
            id="other-group",
        ),
        pytest.param(
            rule(["get"], ["*"], ["deployments"]),
            attrs("get", "deployments", api_group="apps"),
            True,
            id="any-group",
        ),
        pytest.param(rule(["get"], resources=["pods"]), attrs("get", "pods/log"), False, id="sub"),
        pytest.param(
            rule(["get"], resources=["pods/log"]), attrs("get", "pods/log"), True, id="sub-named"
        ),
        pytest.param(
            rule(["update"], ["*"], ["*/status"]),
            attrs("update", "deployments/status", api_group="apps"),
            True,
            id="any-status",
        ),
        pytest.param(rule(["get"], resources=["*"]), attrs("get", "pods/exec"), True, id="all"),
        pytest.param(
            rule(["get"], resources=["pods"], names=["web"]),
            attrs("get", "pods", name="web"),
            True,
            id="named",
        ),
        pytest.param(
            rule(["list"], resources=["pods"], names=["web"]),
            attrs("list", "pods"),
            False,
            id="named-rule-no-name",
        ),
        pytest.param(
            rule(["get"], urls=["/healthz"]), attrs("get", path="/healthz"), True, id="url"
        ),
        pytest.param(
            rule(["get"], urls=["/apis/*"]), attrs("get", path="/apis/apps"), True, id="url*"
        ),
        pytest.param(
            rule(["get"], urls=["/api"]), attrs("get", path="/apis"), False, id="url-other"
        ),
        pytest.param(
            rule(["get"], resources=["pods"]), attrs("get", path="/pods"), False, id="url-vs-res"
        ),
    ],
)
def test_rule_matching(r: rbac_pb2.PolicyRule, a: Attributes, allowed: bool) -> None:
    assert rule_allows(r, a) is allowed


def _cache(resource: str, objects: list[Message]) -> WatchCache:
    return filled_cache(resource, objects, type(objects[0]) if objects else rbac_pb2.Role)


def _named(obj: Message, name: str, namespace: str = "") -> Message:
    object_meta(obj).name = name
    object_meta(obj).namespace = namespace
    return obj


def _subject(kind: str, name: str, namespace: str = "") -> rbac_pb2.Subject:
    group = "" if kind == "ServiceAccount" else G
    return rbac_pb2.Subject(kind=kind, api_group=group, name=name, namespace=namespace)


def _index() -> RbacIndex:
    reader = _named(
        rbac_pb2.ClusterRole(rules=[rule(["get", "list"], resources=["pods"])]), "reader"
    )
    lister = _named(rbac_pb2.ClusterRole(rules=[rule(["list"], resources=["nodes"])]), "lister")
    editor = _named(rbac_pb2.Role(rules=[rule(["*"], resources=["pods"])]), "editor", "a")
    bindings = [
        # alice's group reads pods in namespace a (a ClusterRole bound in a namespace)
        _named(
            rbac_pb2.RoleBinding(
                role_ref=rbac_pb2.RoleRef(api_group=G, kind="ClusterRole", name="reader"),
                subjects=[_subject("Group", "devs")],
            ),
            "devs-read",
            "a",
        ),
        # a service account edits pods in a
        _named(
            rbac_pb2.RoleBinding(
                role_ref=rbac_pb2.RoleRef(api_group=G, kind="Role", name="editor"),
                subjects=[_subject("ServiceAccount", "robot")],
            ),
            "robot-edit",
            "a",
        ),
    ]
    cluster_bindings = [
        _named(
            rbac_pb2.ClusterRoleBinding(
                role_ref=rbac_pb2.RoleRef(api_group=G, kind="ClusterRole", name="lister"),
                subjects=[_subject("User", "alice")],
            ),
            "alice-nodes",
        )
    ]
    return RbacIndex(
        _cache("roles", [editor]),
        _cache("clusterroles", [reader, lister]),
        _cache("rolebindings", bindings),
        _cache("clusterrolebindings", cluster_bindings),
    )


def _index_cluster_roles() -> WatchCache:
    reader = _named(
        rbac_pb2.ClusterRole(rules=[rule(["get", "list"], resources=["pods"])]), "reader"
    )
    return _cache("clusterroles", [reader])


ROBOT = UserInfo("system:serviceaccount:a:robot", (AUTHENTICATED,))
MASTER = UserInfo("root", ("system:masters",))


@pytest.mark.parametrize(
    ("user", "verb", "resource", "namespace", "allowed"),
    [
        pytest.param(ALICE, "get", "pods", "a", True, id="group-binding-in-its-namespace"),
        pytest.param(ALICE, "get", "pods", "b", False, id="not-in-another-namespace"),
        pytest.param(ALICE, "get", "pods", "", False, id="not-cluster-wide"),
        pytest.param(ALICE, "delete", "pods", "a", False, id="not-a-verb-it-lacks"),
        pytest.param(ALICE, "list", "nodes", "", True, id="cluster-binding"),
        pytest.param(ROBOT, "delete", "pods", "a", True, id="service-account-role"),
        pytest.param(ROBOT, "delete", "pods", "b", False, id="service-account-elsewhere"),
        pytest.param(MASTER, "delete", "nodes", "", True, id="masters"),
    ],
)
def test_bindings(user: UserInfo, verb: str, resource: str, namespace: str, allowed: bool) -> None:
    authz = Authorizer(
        ("Node", "RBAC"),
        _index(),
        NodeGraph(_cache("pods", []), _cache("persistentvolumeclaims", [])),
    )
    a = Attributes(user, verb, resource=resource, namespace=namespace)
    assert authz.authorize(a)[0] is allowed


def test_the_index_follows_its_caches() -> None:
    role_bindings = _cache("rolebindings", [])
    index = RbacIndex(
        _cache("roles", []),
        _index_cluster_roles(),
        role_bindings,
        _cache("clusterrolebindings", []),
    )
    authz = Authorizer(("RBAC",), index)
    a = Attributes(ALICE, "get", resource="pods", namespace="b")
    assert not authz.authorize(a)[0]
    grant = _named(
        rbac_pb2.RoleBinding(
            role_ref=rbac_pb2.RoleRef(api_group=G, kind="ClusterRole", name="reader"),
            subjects=[_subject("User", "alice")],
        ),
        "alice-b",
        "b",
    )
    kv = KeyValue(b"/rolebindings/b/alice-b", grant.SerializeToString(), 9, 9, 1, 0)
    role_bindings.apply(Event(EventType.PUT, kv, None))
    assert authz.authorize(a)[0]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown authorization mode"):
        Authorizer(("ABAC",), None)


@pytest.mark.parametrize(
    ("a", "message"),
    [
        pytest.param(
            Attributes(ALICE, "list", resource="pods", namespace="b"),
            'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
            'in the namespace "b"',
            id="namespaced",
        ),
        pytest.param(
            Attributes(ALICE, "get", "apps", "deployments", "scale", "b", "web"),
            'deployments.apps "web" is forbidden: User "alice" cannot get resource '
            '"deployments/scale" in API group "apps" in the namespace "b"',
            id="named-subresource",
        ),
        pytest.param(
            Attributes(ALICE, "list", resource="nodes"),
            'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" '
            "at the cluster scope",
            id="cluster",
        ),
        pytest.param(
            Attributes(ALICE, "get", path="/metrics"),
            'forbidden: User "alice" cannot get path "/metrics"',
            id="path",
        ),
    ],
)
def test_refusals_are_worded_as_kubernetes(a: Attributes, message: str) -> None:
    err = forbidden(a)
    assert (err.http_code, err.reason, err.message) == (403, "Forbidden", message)


@pytest.mark.parametrize(
    ("owner", "asked", "missing"),
    [
        pytest.param([rule(["*"], ["*"], ["*"])], [rule(["get"], resources=["pods"])], 0, id="all"),
        pytest.param(
            [rule(["get", "list"], resources=["pods"])],
            [rule(["get", "list", "delete"], resources=["pods"])],
            1,
            id="one-verb-more",
        ),
        pytest.param(
            [rule(["get"], resources=["pods"])], [rule(["*"], resources=["pods"])], 1, id="star"
        ),
        pytest.param(
            [rule(["get"], resources=["pods"], names=["a"])],
            [rule(["get"], resources=["pods"], names=["a"])],
            0,
            id="named",
        ),
        pytest.param(
            [rule(["get"], resources=["pods"], names=["a"])],
            [rule(["get"], resources=["pods"])],
            1,
            id="all-names-from-one",
        ),
        pytest.param(
            [rule(["get"], urls=["/apis/*"])], [rule(["get"], urls=["/apis/apps"])], 0, id="urls"
        ),
    ],
)
def test_escalation_covers(
    owner: list[rbac_pb2.PolicyRule], asked: list[rbac_pb2.PolicyRule], missing: int
) -> None:
    assert len(uncovered(owner, asked, "ns")) == missing

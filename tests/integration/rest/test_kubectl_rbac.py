"""kubectl on the RBAC kinds through the HTTP API: kubectl create
role/rolebinding/clusterrole/clusterrolebinding, get (-o wide), describe
(kubectl's own describers), refusals with the field named, and ClusterRole
aggregation done by the cluster's controller-manager."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery import errors
from tests.integration.rest.test_kubectl_basics import Kubectl
from tests.waiting import wait_for


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    return Kubectl(cluster, cluster_namespace)


@pytest.fixture
def cluster_scoped(cluster_client: Client, cluster_namespace: str) -> Iterator[str]:
    """A name prefix for this test's ClusterRoles and ClusterRoleBindings, deleted after."""
    prefix = cluster_namespace
    yield prefix
    for api in (cluster_client.cluster_roles(), cluster_client.cluster_role_bindings()):
        for obj in api.list().items:
            if obj.metadata.name.startswith(prefix):
                try:
                    api.delete(obj.metadata.name)
                except errors.NotFound:
                    pass


def words(line: str) -> list[str]:
    return line.split()


def test_role_and_binding(kubectl: Kubectl) -> None:
    ns = kubectl.namespace
    kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
    kubectl(
        "create",
        "rolebinding",
        "read-pods",
        "--role=pod-reader",
        "--user=alice",
        "--user=bob",
        "--group=devs",
        f"--serviceaccount={ns}:builder",
    )
    role = json.loads(kubectl("get", "role", "pod-reader", "-o", "json").stdout)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    binding = json.loads(kubectl("get", "rolebinding", "read-pods", "-o", "json").stdout)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "pod-reader",
    }
    assert [(s["kind"], s["name"]) for s in binding["subjects"]] == [
        ("User", "alice"),
        ("User", "bob"),
        ("Group", "devs"),
        ("ServiceAccount", "builder"),
    ]

    lines = kubectl("get", "roles,rolebindings", "-o", "wide").stdout.splitlines()
    assert words(lines[0]) == ["NAME", "CREATED", "AT"]
    assert words(lines[1])[0] == "role.rbac.authorization.k8s.io/pod-reader"
    assert words(lines[1])[1].endswith("Z"), "Created At is an RFC 3339 time"
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME") and i > 0)
    assert words(lines[header]) == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    row = lines[header + 1]
    assert row.startswith("rolebinding.rbac.authorization.k8s.io/read-pods")
    assert "Role/pod-reader" in row and "alice, bob" in row
    assert words(row)[-2:] == ["devs", f"{ns}/builder"]

    plain = kubectl("get", "rolebindings").stdout.splitlines()
    assert words(plain[0]) == ["NAME", "ROLE", "AGE"]


def test_describe(kubectl: Kubectl) -> None:
    kubectl(
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
        "--resource-name=web",
    )
    kubectl("create", "rolebinding", "read-pods", "--role=pod-reader", "--user=alice")
    role = kubectl("describe", "role", "pod-reader").stdout
    assert "Name:         pod-reader" in role
    assert words(role.split("PolicyRule:")[1].splitlines()[1]) == [
        "Resources",
        "Non-Resource",
        "URLs",
        "Resource",
        "Names",
        "Verbs",
    ]
    assert any(
        words(line) == ["pods", "[]", "[web]", "[get", "list]"] for line in role.splitlines()
    )
    binding = kubectl("describe", "rolebinding", "read-pods").stdout
    assert "Kind:  Role" in binding and "Name:  pod-reader" in binding
    assert any(words(line) == ["User", "alice"] for line in binding.splitlines())


def test_cluster_role_and_binding(kubectl: Kubectl, cluster_scoped: str) -> None:
    viewer, binding = f"{cluster_scoped}-node-viewer", f"{cluster_scoped}-ops"
    kubectl("create", "clusterrole", viewer, "--verb=get,list,watch", "--resource=nodes")
    kubectl("create", "clusterrolebinding", binding, f"--clusterrole={viewer}", "--group=ops")
    got = json.loads(kubectl("get", "clusterrolebinding", binding, "-o", "json").stdout)
    assert got["roleRef"]["kind"] == "ClusterRole" and got["roleRef"]["name"] == viewer
    assert "namespace" not in got["metadata"]
    lines = kubectl("get", "clusterrolebinding", binding, "-o", "wide").stdout.splitlines()
    assert words(lines[0]) == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert words(lines[1])[:2] == [binding, f"ClusterRole/{viewer}"]
    assert words(lines[1])[-1] == "ops"
    urls = f"{cluster_scoped}-health"
    kubectl("create", "clusterrole", urls, "--verb=get", "--non-resource-url=/healthz")
    shown = kubectl("get", "clusterrole", urls, "-o", "jsonpath={.rules[0].nonResourceURLs}")
    assert json.loads(shown.stdout) == ["/healthz"]


BAD_ROLE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: bad}
rules:
- apiGroups: [""]
  resources: [pods]
"""


def test_bad_objects_are_refused_naming_the_field(kubectl: Kubectl) -> None:
    out = kubectl("create", "-f", "-", "-v=6", input=BAD_ROLE, ok=False)
    assert out.returncode != 0
    assert "422 Unprocessable Entity" in out.stderr
    assert 'The Role "bad" is invalid' in out.stderr
    assert "rules[0].verbs: Required value: verbs must contain at least one value" in out.stderr
    kubectl("create", "rolebinding", "fixed", "--role=pod-reader", "--user=alice")
    out = kubectl("patch", "rolebinding", "fixed", "-p", '{"roleRef":{"name":"other"}}', ok=False)
    assert "roleRef: Invalid value" in out.stderr and "cannot change roleRef" in out.stderr


def test_aggregation(kubectl: Kubectl, cluster_scoped: str, cluster_client: Client) -> None:
    """The cluster's controller-manager fills an aggregated ClusterRole."""
    label = f"example.com/aggregate-to-{cluster_scoped}"
    agg, source = f"{cluster_scoped}-agg", f"{cluster_scoped}-source"
    kubectl("create", "clusterrole", agg, f"--aggregation-rule={label}=true")
    kubectl("create", "clusterrole", source, "--verb=get,watch", "--resource=deployments.apps")
    kubectl("label", "clusterrole", source, f"{label}=true")

    def rules() -> list[dict]:
        out = kubectl("get", "clusterrole", agg, "-o", "json").stdout
        return json.loads(out).get("rules") or []

    want = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "watch"]}]
    wait_for(lambda: rules() == want, timeout=30, what="aggregated rules")
    kubectl("label", "clusterrole", source, f"{label}-")
    wait_for(lambda: rules() == [], timeout=30, what="rules gone with the label")


ROLE_V1 = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: applied}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
"""


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
def test_apply_and_explain(kubectl: Kubectl, server_side: bool) -> None:
    flags = ["--server-side"] if server_side else []
    kubectl("apply", *flags, "-f", "-", input=ROLE_V1)
    kubectl("apply", *flags, "-f", "-", input=ROLE_V1.replace("verbs: [get]", "verbs: [get, list]"))
    shown = kubectl("get", "role", "applied", "-o", "jsonpath={.rules[0].verbs}")
    assert json.loads(shown.stdout) == ["get", "list"]
    explained = kubectl("explain", "clusterrole.aggregationRule").stdout
    assert "clusterRoleSelectors" in explained

"""Reconciling the bootstrap RBAC objects: create what is missing, add back
missing defaults, keep what users added, leave "autoupdate: false" alone;
ensure_bootstrap_rbac over an in-memory API (the real apiserver is in
tests/integration/api/test_rbac_bootstrap.py)."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.rbac import AUTOUPDATE_ANNOTATION
from pinnace.machinery.rbacbootstrap import (
    CREATE,
    PROTECTED,
    RECREATE,
    UNCHANGED,
    UPDATE,
    ensure_bootstrap_rbac,
    reconcile_cluster_role,
    reconcile_cluster_role_binding,
)
from pinnace.machinery.rbacdefaults import bootstrap_policy

RBAC = "rbac.authorization.k8s.io"
GET_PODS = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
LIST_PODS = {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}
DELETE_PODS = {"verbs": ["delete"], "apiGroups": [""], "resources": ["pods"]}
DEFAULT_META = {
    "name": "r",
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {AUTOUPDATE_ANNOTATION: "true"},
}


def role(meta: dict | None = None, *rules: dict, **more: Any) -> rbac_pb2.ClusterRole:
    doc = {"metadata": meta or DEFAULT_META, "rules": list(rules), **more}
    return codec.from_dict(rbac_pb2.ClusterRole, doc)


EXPECTED_ROLE = role(None, GET_PODS, LIST_PODS)

ROLE_CASES = [
    ("missing", None, CREATE, [GET_PODS, LIST_PODS]),
    ("same", role(None, GET_PODS, LIST_PODS), UNCHANGED, [GET_PODS, LIST_PODS]),
    ("rule-removed-comes-back", role(None, GET_PODS), UPDATE, [GET_PODS, LIST_PODS]),
    (
        "user-rule-kept",
        role(None, DELETE_PODS, GET_PODS, LIST_PODS),
        UNCHANGED,
        [DELETE_PODS, GET_PODS, LIST_PODS],
    ),
    (
        "annotation-removed-still-reconciled",
        role({"name": "r", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}, GET_PODS),
        UPDATE,
        [GET_PODS, LIST_PODS],
    ),
    (
        "autoupdate-false-protected",
        role({"name": "r", "annotations": {AUTOUPDATE_ANNOTATION: "false"}}, DELETE_PODS),
        PROTECTED,
        [DELETE_PODS],
    ),
]


@pytest.mark.parametrize(
    ("existing", "action", "rules"), [c[1:] for c in ROLE_CASES], ids=[c[0] for c in ROLE_CASES]
)
def test_reconcile_cluster_role(existing: Any, action: str, rules: list[dict]) -> None:
    got = reconcile_cluster_role(existing, EXPECTED_ROLE)
    assert got.action == action
    assert [codec.to_dict(r) for r in got.obj.rules] == rules


def test_reconcile_keeps_users_labels_and_adds_missing_ones() -> None:
    existing = role({"name": "r", "labels": {"kubernetes.io/bootstrapping": "mine", "team": "a"}})
    expected = role(None)
    got = reconcile_cluster_role(existing, expected)
    assert got.action == UPDATE
    assert dict(got.obj.metadata.labels) == {"kubernetes.io/bootstrapping": "mine", "team": "a"}
    assert dict(got.obj.metadata.annotations) == {AUTOUPDATE_ANNOTATION: "true"}


def test_reconcile_adds_missing_aggregation_selector() -> None:
    selector = {"matchLabels": {f"{RBAC}/aggregate-to-view": "true"}}
    mine = {"matchLabels": {"example.com/mine": "true"}}
    expected = role(None, aggregationRule={"clusterRoleSelectors": [selector]})
    existing = role(None, GET_PODS, aggregationRule={"clusterRoleSelectors": [mine]})
    got = reconcile_cluster_role(existing, expected)
    assert got.action == UPDATE
    assert codec.to_dict(got.obj)["aggregationRule"] == {"clusterRoleSelectors": [mine, selector]}
    assert [codec.to_dict(r) for r in got.obj.rules] == [GET_PODS], "aggregated rules untouched"
    assert reconcile_cluster_role(got.obj, expected).action == UNCHANGED


def binding(ref: str = "r", *subjects: dict, meta: dict | None = None) -> Any:
    doc = {
        "metadata": meta or DEFAULT_META,
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": ref},
        "subjects": list(subjects),
    }
    return codec.from_dict(rbac_pb2.ClusterRoleBinding, doc)


ALICE = {"kind": "User", "apiGroup": RBAC, "name": "alice"}
OPS = {"kind": "Group", "apiGroup": RBAC, "name": "ops"}
EXPECTED_BINDING = binding("r", OPS)

BINDING_CASES = [
    ("missing", None, CREATE, "r", [OPS]),
    ("same", binding("r", OPS), UNCHANGED, "r", [OPS]),
    ("subject-removed-comes-back", binding("r"), UPDATE, "r", [OPS]),
    ("user-subject-kept", binding("r", ALICE, OPS), UNCHANGED, "r", [ALICE, OPS]),
    ("other-role-recreated", binding("other", ALICE), RECREATE, "r", [ALICE, OPS]),
    (
        "autoupdate-false-protected",
        binding("other", meta={"name": "r", "annotations": {AUTOUPDATE_ANNOTATION: "false"}}),
        PROTECTED,
        "other",
        [],
    ),
]


@pytest.mark.parametrize(
    ("existing", "action", "ref", "subjects"),
    [c[1:] for c in BINDING_CASES],
    ids=[c[0] for c in BINDING_CASES],
)
def test_reconcile_cluster_role_binding(
    existing: Any, action: str, ref: str, subjects: list[dict]
) -> None:
    got = reconcile_cluster_role_binding(existing, EXPECTED_BINDING)
    assert got.action == action
    assert got.obj.role_ref.name == ref
    assert [codec.to_dict(s) for s in got.obj.subjects] == subjects


def test_reconcile_never_changes_its_inputs() -> None:
    existing = role(None, GET_PODS)
    before = existing.SerializeToString(deterministic=True)
    reconcile_cluster_role(existing, EXPECTED_ROLE)
    assert existing.SerializeToString(deterministic=True) == before


class FakeHandle:
    """One resource in memory: get/create/update/delete with Kubernetes' errors."""

    def __init__(self, log: list[str], resource: str) -> None:
        self.objects: dict[str, Any] = {}
        self.log = log
        self.resource = resource
        self.conflicts = 0  # updates to fail with Conflict first

    async def get(self, name: str) -> Any:
        if name not in self.objects:
            raise errors.NotFound(f"{name} not found")
        return self.objects[name]

    async def create(self, obj: Any) -> Any:
        if obj.metadata.name in self.objects:
            raise errors.AlreadyExists(obj.metadata.name)
        self.log.append(f"create {self.resource}/{obj.metadata.name}")
        self.objects[obj.metadata.name] = obj
        return obj

    async def update(self, obj: Any) -> Any:
        if self.conflicts:
            self.conflicts -= 1
            raise errors.Conflict("the object has been modified")
        self.log.append(f"update {self.resource}/{obj.metadata.name}")
        self.objects[obj.metadata.name] = obj
        return obj

    async def delete(self, name: str) -> Any:
        self.log.append(f"delete {self.resource}/{name}")
        return self.objects.pop(name)


class FakeApi:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.handles: dict[str, FakeHandle] = {}

    def resource(self, kind: KindInfo, namespace: str = "") -> FakeHandle:
        assert namespace == ""
        return self.handles.setdefault(kind.plural, FakeHandle(self.log, kind.plural))


async def test_ensure_creates_everything_then_nothing() -> None:
    api = FakeApi()
    first = await ensure_bootstrap_rbac(api)
    policy = bootstrap_policy()
    assert set(first.values()) == {CREATE}
    assert len(first) == len(policy.cluster_roles) + len(policy.cluster_role_bindings)
    api.log.clear()
    second = await ensure_bootstrap_rbac(api)
    assert set(second.values()) == {UNCHANGED}
    assert api.log == []


async def test_ensure_puts_back_and_respects_opt_out() -> None:
    api = FakeApi()
    await ensure_bootstrap_rbac(api)
    roles, bindings = api.handles["clusterroles"], api.handles["clusterrolebindings"]
    del roles.objects["system:aggregate-to-view"].rules[0]
    bindings.objects["cluster-admin"].metadata.annotations[AUTOUPDATE_ANNOTATION] = "false"
    del bindings.objects["cluster-admin"].subjects[:]
    roles.conflicts = 1  # the first write loses a race: redone from a fresh read
    api.log.clear()
    got = await ensure_bootstrap_rbac(api)
    assert got["clusterroles/system:aggregate-to-view"] == UPDATE
    assert got["clusterrolebindings/cluster-admin"] == PROTECTED
    assert api.log == ["update clusterroles/system:aggregate-to-view"]
    assert not bindings.objects["cluster-admin"].subjects

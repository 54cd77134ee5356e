"""Server-side apply over codec dicts: ownership, pruning, conflicts, lists."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.machinery.ssa import ApplyConflict, ApplyError, apply, update_managed
from pinnace.machinery.ssa.fieldsets import decode_fields_v1

Obj = dict[str, Any]
SCHEMA = deployment_pb2.Deployment
C = 'k:{"name":"c"}'


def deploy(
    *,
    replicas: int | None = None,
    labels: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
) -> Obj:
    spec: Obj = {}
    if replicas is not None:
        spec["replicas"] = replicas
    if containers is not None:
        spec["template"] = {"spec": {"containers": containers}}
    meta: Obj = {"name": "web"}
    if labels is not None:
        meta["labels"] = labels
    out: Obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta}
    if spec:
        out["spec"] = spec
    return out


@dataclass
class Step:
    """One write: an apply (force or not) or a non-apply update to ``obj``."""

    manager: str
    obj: Obj
    op: str = "apply"
    force: bool = False


@dataclass
class Case:
    steps: list[Step]
    # Expected after the last step: the paths of the object, the owners.
    want: dict[str, Any] = field(default_factory=dict)  # dotted path → value (None: absent)
    owners: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    conflict: str = ""  # the error message of the last step


def run(steps: list[Step]) -> tuple[Obj | None, list[Obj]]:
    live: Obj | None = None
    managed: list[Obj] = []
    for i, step in enumerate(steps):
        now = f"2026-01-01T00:00:0{i}Z"
        if step.op == "apply":
            live, managed = apply(
                live,
                step.obj,
                manager=step.manager,
                api_version="apps/v1",
                force=step.force,
                now=now,
                schema=SCHEMA,
            )
        else:
            new = copy.deepcopy(step.obj)
            live, managed = update_managed(
                live, new, manager=step.manager, api_version="apps/v1", now=now, schema=SCHEMA
            )
    return live, managed


def get(obj: Obj | None, dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if isinstance(node, list):
            node = next((i for i in node if i.get("name") == part), None)
        elif isinstance(node, dict):
            node = node.get(part)
        if node is None:
            return None
    return node


def owners(managed: list[Obj]) -> dict[str, set[tuple[str, ...]]]:
    return {e["manager"]: set(decode_fields_v1(e["fieldsV1"])) for e in managed}


def with_replicas(obj: Obj, n: int) -> Obj:
    out = copy.deepcopy(obj)
    out["spec"]["replicas"] = n
    return out


BASE = deploy(replicas=2, labels={"app": "web"})

CASES = [
    pytest.param(
        Case(
            [Step("a", BASE)],
            want={"spec.replicas": 2, "metadata.labels": {"app": "web"}},
            owners={"a": {("f:spec", "f:replicas"), ("f:metadata", "f:labels", "f:app")}},
        ),
        id="first-apply-creates-and-owns",
    ),
    pytest.param(
        Case(
            [Step("a", BASE), Step("a", deploy(labels={"app": "web"}))],
            want={"spec.replicas": None, "metadata.labels": {"app": "web"}},
            owners={"a": {("f:metadata", "f:labels", "f:app")}},
        ),
        id="dropped-field-removed",
    ),
    pytest.param(
        Case(
            [
                Step("a", BASE),
                Step("b", deploy(replicas=2)),
                Step("a", deploy(labels={"app": "web"})),
            ],
            want={"spec.replicas": 2},
            owners={"a": {("f:metadata", "f:labels", "f:app")}, "b": {("f:spec", "f:replicas")}},
        ),
        id="shared-field-kept-while-another-owns-it",
    ),
    pytest.param(
        Case(
            [Step("a", BASE), Step("b", deploy(replicas=5))],
            conflict='Apply failed with 1 conflict: conflict with "a": .spec.replicas',
        ),
        id="conflict-with-applier",
    ),
    pytest.param(
        Case(
            [Step("a", BASE), Step("scaler", with_replicas(BASE, 5), op="update"), Step("a", BASE)],
            conflict='Apply failed with 1 conflict: conflict with "scaler" using apps/v1: .spec.replicas',
        ),
        id="conflict-with-updater",
    ),
    pytest.param(
        Case(
            [
                Step("a", BASE),
                Step("scaler", with_replicas(BASE, 5), op="update"),
                Step("a", BASE, force=True),
            ],
            want={"spec.replicas": 2},
            owners={"a": {("f:spec", "f:replicas"), ("f:metadata", "f:labels", "f:app")}},
        ),
        id="force-takes-ownership",
    ),
    pytest.param(
        Case(
            [Step("a", BASE), Step("b", deploy(replicas=7, labels={"app": "x"}))],
            conflict='Apply failed with 2 conflicts: conflicts with "a":\n- .metadata.labels.app\n- .spec.replicas',
        ),
        id="two-conflicts",
    ),
    pytest.param(
        Case(
            [Step("a", BASE), Step("scaler", with_replicas(BASE, 5), op="update")],
            want={"spec.replicas": 5},
            owners={
                "a": {("f:metadata", "f:labels", "f:app")},
                "scaler": {("f:spec", "f:replicas")},
            },
        ),
        id="update-takes-changed-fields",
    ),
    pytest.param(
        Case(
            [
                Step("a", deploy(containers=[{"name": "c", "image": "one"}])),
                Step("b", deploy(containers=[{"name": "d", "image": "two"}])),
                Step("a", deploy(replicas=1)),
            ],
            want={
                "spec.template.spec.containers.c": None,
                "spec.template.spec.containers.d.image": "two",
            },
        ),
        id="keyed-list-items-owned-apart",
    ),
    pytest.param(
        Case(
            [
                Step("a", deploy(containers=[{"name": "c", "image": "one"}])),
                Step("b", deploy(containers=[{"name": "c", "image": "two"}])),
            ],
            conflict=(
                'Apply failed with 1 conflict: conflict with "a": '
                '.spec.template.spec.containers[name="c"].image'
            ),
        ),
        id="keyed-item-field-conflict",
    ),
    pytest.param(
        Case(
            [
                Step(
                    "a",
                    deploy(
                        containers=[
                            {
                                "name": "c",
                                "image": "i",
                                "ports": [{"containerPort": 53, "protocol": "UDP"}],
                            }
                        ]
                    ),
                ),
                Step(
                    "b",
                    deploy(
                        containers=[
                            {"name": "c", "ports": [{"containerPort": 53, "protocol": "TCP"}]}
                        ]
                    ),
                ),
            ],
            want={
                "spec.template.spec.containers.c.ports": [
                    {"containerPort": 53, "protocol": "UDP"},
                    {"containerPort": 53, "protocol": "TCP"},
                ]
            },
            owners={
                "a": {
                    ("f:spec", "f:template", "f:spec", "f:containers", C),
                    ("f:spec", "f:template", "f:spec", "f:containers", C, "f:name"),
                    ("f:spec", "f:template", "f:spec", "f:containers", C, "f:image"),
                    (
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        C,
                        "f:ports",
                        'k:{"containerPort":53,"protocol":"UDP"}',
                    ),
                    (
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        C,
                        "f:ports",
                        'k:{"containerPort":53,"protocol":"UDP"}',
                        "f:containerPort",
                    ),
                    (
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        C,
                        "f:ports",
                        'k:{"containerPort":53,"protocol":"UDP"}',
                        "f:protocol",
                    ),
                },
                "b": {
                    ("f:spec", "f:template", "f:spec", "f:containers", C),
                    ("f:spec", "f:template", "f:spec", "f:containers", C, "f:name"),
                    (
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        C,
                        "f:ports",
                        'k:{"containerPort":53,"protocol":"TCP"}',
                    ),
                    (
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        C,
                        "f:ports",
                        'k:{"containerPort":53,"protocol":"TCP"}',
                        "f:containerPort",
                    ),
                    (
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        C,
                        "f:ports",
                        'k:{"containerPort":53,"protocol":"TCP"}',
                        "f:protocol",
                    ),
                },
            },
        ),
        id="ports-keyed-by-port-and-protocol",
    ),
    pytest.param(
        Case(
            [
                Step("a", deploy(containers=[{"name": "c", "args": ["x", "y"]}])),
                Step("a", deploy(containers=[{"name": "c", "args": ["z"]}])),
            ],
            want={"spec.template.spec.containers.c.args": ["z"]},
        ),
        id="atomic-list-replaced",
    ),
    pytest.param(
        Case(
            [
                Step("a", deploy(containers=[{"name": "c", "args": ["x", "y"]}])),
                Step("b", deploy(containers=[{"name": "c", "args": ["x"]}])),
            ],
            conflict=(
                'Apply failed with 1 conflict: conflict with "a": '
                '.spec.template.spec.containers[name="c"].args'
            ),
        ),
        id="atomic-list-owned-whole",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_apply(case: Case) -> None:
    if case.conflict:
        with pytest.raises(ApplyConflict) as err:
            run(case.steps)
        assert err.value.message == case.conflict
        return
    obj, managed = run(case.steps)
    for dotted, value in case.want.items():
        assert get(obj, dotted) == value, dotted
    if case.owners:
        assert owners(managed) == case.owners
    assert obj is not None and obj["metadata"].get("managedFields", []) == managed


def test_conflict_causes() -> None:
    steps = [Step("a", BASE), Step("scaler", with_replicas(BASE, 5), op="update"), Step("a", BASE)]
    with pytest.raises(ApplyConflict) as err:
        run(steps)
    assert err.value.causes == [('conflict with "scaler" using apps/v1', ".spec.replicas")]


def test_entry_shape_and_order() -> None:
    steps = [Step("a", BASE), Step("scaler", with_replicas(BASE, 5), op="update")]
    _, managed = run(steps)
    assert [(e["manager"], e["operation"], e["time"]) for e in managed] == [
        ("a", "Apply", "2026-01-01T00:00:00Z"),
        ("scaler", "Update", "2026-01-01T00:00:01Z"),
    ]
    assert managed[1] == {
        "manager": "scaler",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-01-01T00:00:01Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }


def test_noop_apply_keeps_time() -> None:
    _, managed = run([Step("a", BASE), Step("a", BASE)])
    assert managed[0]["time"] == "2026-01-01T00:00:00Z"


def test_before_first_apply_owns_untracked_object() -> None:
    live = with_replicas(BASE, 4)  # written without tracking: no managedFields
    with pytest.raises(ApplyConflict) as err:
        apply(live, BASE, manager="a", api_version="apps/v1", force=False, now="t", schema=SCHEMA)
    assert err.value.message == (
        'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas'
    )


@pytest.mark.parametrize(
    ("subresource", "owned"),
    [
        pytest.param("", {("f:spec", "f:replicas")}, id="main-ignores-status"),
        pytest.param("status", {("f:status", "f:replicas")}, id="status-only-status"),
    ],
)
def test_status_scope(subresource: str, owned: set[tuple[str, ...]]) -> None:
    cfg = {**deploy(replicas=1), "status": {"replicas": 3}}
    _, managed = apply(
        None, cfg, manager="a", api_version="apps/v1", force=False, now="t", schema=SCHEMA,
        subresource=subresource,
    )  # fmt: skip
    assert owners(managed) == {"a": owned}


def test_update_records_create() -> None:
    new = deploy(replicas=1, labels={"app": "web"})
    _, managed = update_managed(
        None, new, manager="kubectl-create", api_version="apps/v1", now="t", schema=SCHEMA
    )
    assert managed[0]["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {".": {}, "f:replicas": {}},
    }


def test_applied_managed_fields_rejected() -> None:
    cfg = deploy(replicas=1)
    cfg["metadata"]["managedFields"] = [{"manager": "x"}]
    with pytest.raises(ApplyError, match="managedFields must be nil"):
        apply(None, cfg, manager="a", api_version="apps/v1", force=False, now="t", schema=SCHEMA)


LAST = "kubectl.kubernetes.io/last-applied-configuration"


def client_side_applied(replicas: int, recorded: int) -> Obj:
    """A deployment kubectl apply (client-side) wrote: replicas owned by
    kubectl-client-side-apply, the annotation recording ``recorded``."""
    obj = deploy(replicas=replicas)
    last = {**deploy(replicas=recorded)}
    obj["metadata"]["annotations"] = {LAST: json.dumps(last)}
    obj, _ = update_managed(
        None,
        obj,
        manager="kubectl-client-side-apply",
        api_version="apps/v1",
        now="t",
        schema=SCHEMA,
    )
    return obj


@pytest.mark.parametrize(
    ("manager", "recorded", "conflict"),
    [
        pytest.param("kubectl", 2, "", id="kubectl-takes-fields-the-annotation-holds"),
        pytest.param(
            "kubectl",
            9,
            'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
            id="annotation-out-of-date",
        ),
        pytest.param(
            "other",
            2,
            'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
            id="only-for-kubectl",
        ),
    ],
)
def test_client_side_apply_bridge(manager: str, recorded: int, conflict: str) -> None:
    live = client_side_applied(2, recorded)
    cfg = deploy(replicas=4)
    if conflict:
        with pytest.raises(ApplyConflict) as err:
            apply(
                live,
                cfg,
                manager=manager,
                api_version="apps/v1",
                force=False,
                now="t",
                schema=SCHEMA,
            )
        assert err.value.message == conflict
        return
    obj, managed = apply(
        live, cfg, manager=manager, api_version="apps/v1", force=False, now="t", schema=SCHEMA
    )
    assert obj["spec"]["replicas"] == 4
    assert json.loads(obj["metadata"]["annotations"][LAST]) == cfg
    assert ("f:spec", "f:replicas") in owners(managed)["kubectl"]

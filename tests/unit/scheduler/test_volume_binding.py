"""VolumeBinding: the filter over a pod's claims (fake listers) and pre_bind
(selecting the node on unbound claims, then waiting for them to be bound)."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery import codec
from pinnace.machinery.wellknown import ANNOTATION_SELECTED_NODE as SELECTED_NODE
from scheduler.framework import Code, Status
from scheduler.plugins.volume_binding import (
    CONFLICT,
    SELECTED_ELSEWHERE,
    VolumeBinding,
    claim_names,
    pre_bind,
)
from tests.unit.scheduler.builders import info, node, node_info, pod

OK = Status()


class FakeLister:
    """get_by_name over a dict keyed by (namespace, name)."""

    def __init__(self, *objects: Any) -> None:
        self.objects = {(o.metadata.namespace, o.metadata.name): o for o in objects}

    def get_by_name(self, namespace: str, name: str) -> Any | None:
        return self.objects.get((namespace, name))


def pvc(name: str, *, volume: str = "", selected: str = "", deleting: bool = False) -> Any:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    if selected:
        meta["annotations"] = {SELECTED_NODE: selected}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec = {"volumeName": volume} if volume else {}
    return codec.from_dict(volume_pb2.PersistentVolumeClaim, {"metadata": meta, "spec": spec})


def pv(name: str, *hosts: str) -> Any:
    spec: dict[str, Any] = {"local": {"path": f"/d/{name}"}}
    if hosts:
        term = {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": list(hosts)}
            ]
        }
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [term]}}
    return codec.from_dict(volume_pb2.PersistentVolume, {"metadata": {"name": name}, "spec": spec})


def with_claims(*names: str) -> Any:
    volumes = [
        {"name": f"v{i}", "persistentVolumeClaim": {"claimName": n}} for i, n in enumerate(names)
    ]
    volumes.append({"name": "scratch", "emptyDir": {}})
    return pod(spec={"volumes": volumes})


def unresolvable(reason: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (reason,))


CLAIMS = FakeLister(
    pvc("bound-n1", volume="pv-n1"),
    pvc("bound-anywhere", volume="pv-free"),
    pvc("bound-missing", volume="pv-gone"),
    pvc("unbound"),
    pvc("selected-n1", selected="n1"),
    pvc("deleting", deleting=True),
)
VOLUMES = FakeLister(pv("pv-n1", "n1"), pv("pv-free"))


@pytest.mark.parametrize(
    ("claims", "node_name", "want"),
    [
        pytest.param((), "n1", OK, id="no-claims"),
        pytest.param(("unbound",), "n2", OK, id="unbound-anywhere"),
        pytest.param(("bound-n1",), "n1", OK, id="bound-on-its-node"),
        pytest.param(("bound-n1",), "n2", unresolvable(CONFLICT), id="bound-elsewhere"),
        pytest.param(("bound-anywhere",), "n2", OK, id="bound-no-affinity"),
        pytest.param(("selected-n1",), "n1", OK, id="selected-this-node"),
        pytest.param(
            ("selected-n1",), "n2", unresolvable(SELECTED_ELSEWHERE), id="selected-other-node"
        ),
        pytest.param(
            ("missing",),
            "n1",
            unresolvable('persistentvolumeclaim "missing" not found'),
            id="claim-missing",
        ),
        pytest.param(
            ("deleting",),
            "n1",
            unresolvable('persistentvolumeclaim "deleting" is being deleted'),
            id="claim-deleting",
        ),
        pytest.param(
            ("bound-missing",),
            "n1",
            Status(Code.UNSCHEDULABLE, ('persistentvolume "pv-gone" not found',)),
            id="volume-missing",
        ),
        pytest.param(
            ("unbound", "bound-n1"), "n2", unresolvable(CONFLICT), id="every-claim-must-fit"
        ),
    ],
)
def test_filter(claims: tuple[str, ...], node_name: str, want: Status) -> None:
    n = node(node_name, labels={"kubernetes.io/hostname": node_name})
    got = VolumeBinding(CLAIMS, VOLUMES).filter(info(with_claims(*claims)), node_info(n))
    assert got == want


def test_claim_names_skips_other_volumes() -> None:
    assert claim_names(with_claims("a", "b")) == ["a", "b"]


class BindingClaims(FakeLister):
    """Records the patches; a fake provisioner binds claims with a selected
    node, but only after pre_bind's first pass over the pod's claims (4
    reads), so pre_bind must wait for it (never when ``provision`` is off)."""

    def __init__(self, *objects: Any, provision: bool = True) -> None:
        super().__init__(*objects)
        self.patches: list[tuple[str, str, dict]] = []
        self.provision = provision
        self.reads = 0

    def get_by_name(self, namespace: str, name: str) -> Any | None:
        self.reads += 1
        claim = super().get_by_name(namespace, name)
        selected = claim is not None and claim.metadata.annotations.get(SELECTED_NODE)
        if self.provision and selected and self.reads > 4 and not claim.spec.volume_name:
            claim.spec.volume_name = f"pvc-{claim.metadata.uid}"
        return claim

    async def patch(self, namespace: str, name: str, body: dict) -> Any:
        self.patches.append((namespace, name, body))
        claim = self.objects[(namespace, name)]
        claim.metadata.annotations.update(body["metadata"]["annotations"])
        return claim


async def test_pre_bind_selects_the_node_on_unbound_claims_and_waits() -> None:
    claims = BindingClaims(
        pvc("unbound"), pvc("bound-n1", volume="pv-n1"), pvc("selected-n1", selected="n1")
    )
    await pre_bind(
        with_claims("unbound", "bound-n1", "selected-n1", "missing"),
        "n1",
        claims=claims,
        patch_claim=claims.patch,
        bind_timeout=1,
        poll=0.001,
    )
    # Only the unbound claim without this node selected is patched (with its
    # uid as a precondition); the already-selected one is only waited for.
    assert claims.patches == [
        (
            "default",
            "unbound",
            {"metadata": {"uid": "uid-unbound", "annotations": {SELECTED_NODE: "n1"}}},
        )
    ]
    assert claims.get_by_name("default", "unbound").spec.volume_name == "pvc-uid-unbound"
    assert claims.get_by_name("default", "selected-n1").spec.volume_name == "pvc-uid-selected-n1"


async def test_pre_bind_times_out_naming_the_unbound_claims() -> None:
    claims = BindingClaims(pvc("a"), pvc("b"), provision=False)
    with pytest.raises(TimeoutError, match="persistentvolumeclaims a, b were not bound"):
        await pre_bind(
            with_claims("a", "b"),
            "n1",
            claims=claims,
            patch_claim=claims.patch,
            bind_timeout=0.01,
            poll=0.001,
        )
    assert [name for _, name, _ in claims.patches] == ["a", "b"]

"""The local volume provisioner's pure decisions (controllers/volumes/util.py):
the PV made for a claim, the volume phases, the claim's Bound status."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.volumes import util
from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery import codec
from pinnace.machinery.wellknown import ANNOTATION_PROVISIONED_BY


def claim(
    name: str = "data-web-0",
    *,
    uid: str = "u1",
    storage: str | None = "1Mi",
    volume_name: str = "",
    **spec: Any,
) -> util.PVC:
    body: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], **spec}
    if storage is not None:
        body["resources"] = {"requests": {"storage": storage}}
    if volume_name:
        body["volumeName"] = volume_name
    return codec.from_dict(
        util.PVC,
        {"metadata": {"name": name, "namespace": "ns", "uid": uid}, "spec": body},
    )


def volume(name: str = "pvc-u1", *, ref: dict[str, str] | None = None) -> util.PV:
    body: dict[str, Any] = {"metadata": {"name": name}, "spec": {}}
    if ref is not None:
        body["spec"]["claimRef"] = ref
    return codec.from_dict(util.PV, body)


REF = {"namespace": "ns", "name": "data-web-0", "uid": "u1"}


def test_new_volume_is_prebound_local_and_pinned_to_the_node() -> None:
    pv = util.new_volume(claim(), "node-2", "/var/lib/pinnace/local-volumes/")
    assert pv.metadata.name == "pvc-u1" == util.volume_name(claim())
    assert util.is_ours(pv)
    assert pv.spec.local.path == "/var/lib/pinnace/local-volumes/pvc-u1"
    assert dict(pv.spec.capacity) == {"storage": "1Mi"}
    assert list(pv.spec.access_modes) == ["ReadWriteOnce"]
    assert pv.spec.persistent_volume_reclaim_policy == "Delete"
    (term,) = pv.spec.node_affinity.required.node_selector_terms
    (req,) = term.match_expressions
    assert (req.key, req.operator, list(req.values)) == ("kubernetes.io/hostname", "In", ["node-2"])
    ref = pv.spec.claim_ref
    assert (ref.kind, ref.namespace, ref.name, ref.uid) == (
        "PersistentVolumeClaim",
        "ns",
        "data-web-0",
        "u1",
    )
    assert util.claim_ref_key(pv) == "ns/data-web-0"


@pytest.mark.parametrize(
    ("spec", "field", "want"),
    [
        pytest.param({"storage": None}, "capacity", {"storage": "1Gi"}, id="default-size"),
        pytest.param({"storage": "5Gi"}, "capacity", {"storage": "5Gi"}, id="requested-size"),
        pytest.param({"storageClassName": "fast"}, "storage_class_name", "fast", id="class"),
        pytest.param({}, "storage_class_name", "", id="no-class"),
        pytest.param({"volumeMode": "Filesystem"}, "volume_mode", "Filesystem", id="mode"),
    ],
)
def test_new_volume_follows_the_claim(spec: dict[str, Any], field: str, want: Any) -> None:
    pv = util.new_volume(claim(**spec), "n", "/d")
    got = getattr(pv.spec, field)
    assert (dict(got) if field == "capacity" else got) == want


def test_is_ours_only_for_our_provisioner() -> None:
    pv = volume()
    assert not util.is_ours(pv)
    pv.metadata.annotations[ANNOTATION_PROVISIONED_BY] = "someone/else"
    assert not util.is_ours(pv)
    pv.metadata.annotations[ANNOTATION_PROVISIONED_BY] = util.PROVISIONER
    assert util.is_ours(pv)


@pytest.mark.parametrize(
    ("pv", "pvc", "want"),
    [
        pytest.param(volume(), None, util.AVAILABLE, id="no-claim-ref"),
        pytest.param(volume(ref={"namespace": "ns"}), None, util.AVAILABLE, id="empty-ref"),
        pytest.param(volume(ref=REF), None, util.RELEASED, id="claim-gone"),
        pytest.param(
            volume(ref=REF),
            claim(uid="u2", volume_name="pvc-u1"),
            util.RELEASED,
            id="claim-recreated",
        ),
        pytest.param(volume(ref=REF), claim(volume_name="pvc-u1"), util.BOUND, id="bound"),
        pytest.param(volume(ref=REF), claim(), util.PENDING, id="claim-not-pointing-back"),
        pytest.param(
            volume(ref={"namespace": "ns", "name": "data-web-0"}),
            claim(uid="any", volume_name="pvc-u1"),
            util.BOUND,
            id="ref-without-uid",
        ),
    ],
)
def test_volume_phase(pv: util.PV, pvc: util.PVC | None, want: str) -> None:
    assert util.volume_phase(pv, pvc) == want


@pytest.mark.parametrize(
    ("ref", "want"),
    [
        pytest.param(None, "", id="none"),
        pytest.param({"namespace": "ns"}, "", id="no-name"),
        pytest.param(REF, "ns/data-web-0", id="named"),
    ],
)
def test_claim_ref_key(ref: dict[str, str] | None, want: str) -> None:
    assert util.claim_ref_key(volume(ref=ref)) == want


def test_bound_claim_status_takes_the_volume_capacity_and_modes() -> None:
    pvc = claim()
    pvc.status.phase = util.PENDING
    pvc.status.capacity["storage"] = "stale"
    pvc.status.access_modes.append("ReadOnlyMany")
    pvc.status.conditions.add(type="Resizing", status="True")
    pv = util.new_volume(claim(storage="2Mi"), "n", "/d")
    status = util.bound_claim_status(pvc, pv)
    assert status.phase == util.BOUND
    assert dict(status.capacity) == {"storage": "2Mi"}
    assert list(status.access_modes) == ["ReadWriteOnce"]
    assert [c.type for c in status.conditions] == ["Resizing"]  # the rest is kept
    assert pvc.status.phase == util.PENDING  # the claim itself is not touched
    assert isinstance(status, volume_pb2.PersistentVolumeClaimStatus)

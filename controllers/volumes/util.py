"""Pure helpers of the local volume provisioner: names, annotations, the PV
made for a claim, and the phases Kubernetes shows.

Convention (shared with the kubelet, kubelet/volumes.py): every kubelet
publishes the absolute directory under which its node-local volumes live
as the Node annotation ``pinnace.io/local-volume-dir``
(wellknown.ANNOTATION_LOCAL_VOLUME_DIR; ``--local-volume-dir``, default
``<root-dir>/local-volumes``). A provisioned PV is
``pvc-<claim uid>`` with ``spec.local.path`` = ``<that dir>/pvc-<claim uid>``
and required node affinity ``kubernetes.io/hostname In [<node>]``; the
kubelet creates the directory when a pod first mounts the volume and
removes it once the PV is gone.
"""

from __future__ import annotations

from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery.wellknown import ANNOTATION_PROVISIONED_BY, LABEL_HOSTNAME

PV = volume_pb2.PersistentVolume
PVC = volume_pb2.PersistentVolumeClaim

PROVISIONER = "pinnace.io/local"

PENDING, BOUND, LOST = "Pending", "Bound", "Lost"
AVAILABLE, RELEASED = "Available", "Released"


def volume_name(claim: PVC) -> str:
    return f"pvc-{claim.metadata.uid}"


def is_ours(pv: PV) -> bool:
    return pv.metadata.annotations.get(ANNOTATION_PROVISIONED_BY) == PROVISIONER


def new_volume(claim: PVC, node: str, directory: str) -> PV:
    """The PV that backs claim with a directory on node, pre-bound to claim."""
    pv = PV(api_version="v1", kind="PersistentVolume")
    name = volume_name(claim)
    pv.metadata.name = name
    pv.metadata.annotations[ANNOTATION_PROVISIONED_BY] = PROVISIONER
    spec = pv.spec
    spec.capacity["storage"] = claim.spec.resources.requests.get("storage", "1Gi")
    spec.access_modes.extend(claim.spec.access_modes)
    spec.local.path = f"{directory.rstrip('/')}/{name}"
    spec.persistent_volume_reclaim_policy = "Delete"
    if claim.spec.HasField("storage_class_name"):
        spec.storage_class_name = claim.spec.storage_class_name
    if claim.spec.HasField("volume_mode"):
        spec.volume_mode = claim.spec.volume_mode
    term = spec.node_affinity.required.node_selector_terms.add()
    term.match_expressions.add(key=LABEL_HOSTNAME, operator="In", values=[node])
    set_claim_ref(pv, claim)
    return pv


def set_claim_ref(pv: PV, claim: PVC) -> None:
    ref = pv.spec.claim_ref
    ref.kind = "PersistentVolumeClaim"
    ref.api_version = "v1"
    ref.namespace = claim.metadata.namespace
    ref.name = claim.metadata.name
    ref.uid = claim.metadata.uid


def claim_ref_key(pv: PV) -> str:
    ref = pv.spec.claim_ref
    return f"{ref.namespace}/{ref.name}" if ref.name else ""


def volume_phase(pv: PV, claim: PVC | None) -> str:
    """Available (no claim), Bound (the claim, same uid, points back),
    Released (the claim it was bound to is gone), else Pending (binding)."""
    if not pv.spec.HasField("claim_ref") or not pv.spec.claim_ref.name:
        return AVAILABLE
    if claim is None or (pv.spec.claim_ref.uid and claim.metadata.uid != pv.spec.claim_ref.uid):
        return RELEASED
    if claim.spec.volume_name == pv.metadata.name:
        return BOUND
    return PENDING


def bound_claim_status(claim: PVC, pv: PV) -> volume_pb2.PersistentVolumeClaimStatus:
    status = volume_pb2.PersistentVolumeClaimStatus()
    status.CopyFrom(claim.status)
    status.phase = BOUND
    del status.access_modes[:]
    status.access_modes.extend(pv.spec.access_modes)
    status.capacity.clear()
    status.capacity.update(pv.spec.capacity)
    return status

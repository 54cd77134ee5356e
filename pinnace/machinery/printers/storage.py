"""Printers of PersistentVolume and PersistentVolumeClaim (Kubernetes'
printPersistentVolume and printPersistentVolumeClaim).

A claim shows CAPACITY and ACCESS MODES only once it names its volume;
either kind shows STATUS ``Terminating`` while being deleted. The storage
class is the beta annotation when present, else ``storageClassName``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery.printers.columns import (
    AGE,
    NAME,
    Cell,
    Printer,
    access_modes,
    age,
    column,
    quantity,
)

__all__ = ["PERSISTENT_VOLUME", "PERSISTENT_VOLUME_CLAIM"]

ANNOTATION_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def _class(annotations: Mapping[str, str], name: str) -> str:
    return annotations.get(ANNOTATION_BETA_STORAGE_CLASS, name)


def _pv_cells(pv: volume_pb2.PersistentVolume, now: datetime) -> list[Cell]:
    spec = pv.spec
    claim = (
        f"{spec.claim_ref.namespace}/{spec.claim_ref.name}" if spec.HasField("claim_ref") else ""
    )
    return [
        pv.metadata.name,
        quantity(spec.capacity, "storage"),
        access_modes(spec.access_modes),
        spec.persistent_volume_reclaim_policy,
        "Terminating" if pv.metadata.deletion_timestamp else pv.status.phase,
        claim,
        _class(pv.metadata.annotations, spec.storage_class_name),
        spec.volume_attributes_class_name
        if spec.HasField("volume_attributes_class_name")
        else "<unset>",
        pv.status.reason,
        age(pv, now),
        spec.volume_mode if spec.HasField("volume_mode") else "<unset>",
    ]


PERSISTENT_VOLUME = Printer(
    columns=(
        NAME,
        column("Capacity", doc="PersistentVolumeSpec.capacity"),
        column("Access Modes", doc="PersistentVolumeSpec.accessModes"),
        column("Reclaim Policy", doc="PersistentVolumeSpec.persistentVolumeReclaimPolicy"),
        column("Status", doc="PersistentVolumeStatus.phase"),
        column("Claim", doc="PersistentVolumeSpec.claimRef"),
        column("StorageClass", doc="StorageClass of the pv"),
        column("VolumeAttributesClass", doc="VolumeAttributesClass of the pv"),
        column("Reason", doc="PersistentVolumeStatus.reason"),
        AGE,
        column("VolumeMode", doc="PersistentVolumeSpec.volumeMode", priority=1),
    ),
    cells=_pv_cells,
)


def _pvc_cells(pvc: volume_pb2.PersistentVolumeClaim, now: datetime) -> list[Cell]:
    spec, status = pvc.spec, pvc.status
    capacity = modes = ""
    if spec.volume_name:
        capacity = quantity(status.capacity, "storage")
        modes = access_modes(status.access_modes)
    return [
        pvc.metadata.name,
        "Terminating" if pvc.metadata.deletion_timestamp else status.phase,
        spec.volume_name,
        capacity,
        modes,
        _class(pvc.metadata.annotations, spec.storage_class_name),
        spec.volume_attributes_class_name
        if spec.HasField("volume_attributes_class_name")
        else "<unset>",
        age(pvc, now),
        spec.volume_mode if spec.HasField("volume_mode") else "<unset>",
    ]


PERSISTENT_VOLUME_CLAIM = Printer(
    columns=(
        NAME,
        column("Status", doc="PersistentVolumeClaimStatus.phase"),
        column("Volume", doc="PersistentVolumeClaimSpec.volumeName"),
        column("Capacity", doc="PersistentVolumeClaimStatus.capacity"),
        column("Access Modes", doc="PersistentVolumeClaimStatus.accessModes"),
        column("StorageClass", doc="StorageClass of the pvc"),
        column("VolumeAttributesClass", doc="VolumeAttributesClass of the pvc"),
        AGE,
        column("VolumeMode", doc="PersistentVolumeClaimSpec.volumeMode", priority=1),
    ),
    cells=_pvc_cells,
)

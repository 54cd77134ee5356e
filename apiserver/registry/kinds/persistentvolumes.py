"""The PersistentVolumeClaim and PersistentVolume strategies."""

from __future__ import annotations

import posixpath

from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_dns1123_subdomain,
    not_supported,
    required,
)

from .claims import VOLUME_MODES, default_pvc, validate_access_modes, validate_pvc_spec
from .common import (
    Shown,
    changed_fields,
    immutable_opt,
    opt,
    quantity,
    same,
    validate_quantity,
    validate_resource_list,
)
from .podspec.scheduling import validate_node_selector
from .podspec.volumes import validate_host_path, validate_nfs

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")


class PersistentVolumeClaimStrategy(Strategy[volume_pb2.PersistentVolumeClaim]):
    def default(self, obj: volume_pb2.PersistentVolumeClaim) -> None:
        default_pvc(obj)

    def validate(self, obj: volume_pb2.PersistentVolumeClaim) -> list[FieldError]:
        return validate_pvc_spec(obj.spec, SPEC)

    def validate_update(
        self, new: volume_pb2.PersistentVolumeClaim, old: volume_pb2.PersistentVolumeClaim
    ) -> list[FieldError]:
        """Kubernetes' ValidatePersistentVolumeClaimUpdate: the spec is
        immutable, except volumeName once and, for a bound claim,
        resources.requests.storage (never below the previous value)."""
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec
        new_clone, old_clone = type(ns)(), type(os_)()
        new_clone.CopyFrom(ns)
        old_clone.CopyFrom(os_)
        if not os_.volume_name:
            old_clone.volume_name = ns.volume_name
        if new.status.phase == "Bound" and "storage" in os_.resources.requests:
            new_clone.resources.requests["storage"] = os_.resources.requests["storage"]
        if not same(new_clone, old_clone):
            changed = changed_fields(new_clone, old_clone)
            errs.append(
                forbidden(
                    SPEC,
                    "spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims\nchanged: "
                    + ", ".join(f"spec.{c}" for c in changed),
                )
            )
        new_size = quantity(ns.resources.requests.get("storage", ""))
        old_size = quantity(os_.resources.requests.get("storage", ""))
        if new_size is not None and old_size is not None and new_size < old_size:
            errs.append(
                forbidden(
                    SPEC.child("resources", "requests", "storage"),
                    "field can not be less than previous value",
                )
            )
        errs += immutable_opt(ns, os_, "volume_mode", FieldPath.root("volumeMode"))
        return errs

    def validate_status_update(
        self, new: volume_pb2.PersistentVolumeClaim, old: volume_pb2.PersistentVolumeClaim
    ) -> list[FieldError]:
        status = new.status
        errs: list[FieldError] = []
        if status.phase and status.phase not in ("Pending", "Bound", "Lost"):
            errs.append(
                not_supported(STATUS.child("phase"), status.phase, ["Pending", "Bound", "Lost"])
            )
        errs += validate_access_modes(status.access_modes, STATUS.child("accessModes"))
        errs += validate_resource_list(status.capacity, STATUS.child("capacity"))
        return errs


_PV_SOURCES = (("host_path", "hostPath"), ("nfs", "nfs"), ("local", "local"), ("csi", "csi"))


class PersistentVolumeStrategy(Strategy[volume_pb2.PersistentVolume]):
    def default(self, obj: volume_pb2.PersistentVolume) -> None:
        """SetDefaults_PersistentVolume: reclaim Retain, volumeMode
        Filesystem, phase Pending, hostPath type ""."""
        spec, status = obj.spec, obj.status
        if not spec.persistent_volume_reclaim_policy:
            spec.persistent_volume_reclaim_policy = "Retain"
        if not spec.HasField("volume_mode"):
            spec.volume_mode = "Filesystem"
        if not status.phase:
            status.phase = "Pending"
        if spec.HasField("host_path") and not spec.host_path.HasField("type"):
            spec.host_path.type = ""

    def validate(self, obj: volume_pb2.PersistentVolume) -> list[FieldError]:
        """Kubernetes' ValidatePersistentVolumeSpec."""
        spec = obj.spec
        errs: list[FieldError] = []
        modes_path = SPEC.child("accessModes")
        if not spec.access_modes:
            errs.append(required(modes_path, ""))
        cap_path = SPEC.child("capacity")
        if not spec.capacity:
            errs.append(required(cap_path, ""))
        if "storage" not in spec.capacity or len(spec.capacity) > 1:
            errs.append(not_supported(cap_path, Shown(spec.capacity), ["storage"]))
        for name, text in sorted(spec.capacity.items()):
            errs += validate_quantity(text, cap_path.key(name), positive=True)
        errs += validate_access_modes(spec.access_modes, modes_path)
        policy = spec.persistent_volume_reclaim_policy
        if policy and policy not in RECLAIM_POLICIES:
            errs.append(
                not_supported(SPEC.child("persistentVolumeReclaimPolicy"), policy, RECLAIM_POLICIES)
            )
        if spec.storage_class_name:
            errs += [
                invalid(SPEC.child("storageClassName"), spec.storage_class_name, m)
                for m in is_dns1123_subdomain(spec.storage_class_name)
            ]
        count = 0
        for field, json_name in _PV_SOURCES:
            if not spec.HasField(field):
                continue
            p = SPEC.child(json_name)
            if count:
                errs.append(forbidden(p, "may not specify more than 1 volume type"))
                continue
            count += 1
            src = getattr(spec, field)
            if field == "host_path":
                errs += validate_host_path(src, p)
            elif field == "nfs":
                errs += validate_nfs(src, p)
            elif field == "local":
                if not src.path:
                    errs.append(required(p.child("path"), ""))
                if not spec.HasField("node_affinity"):
                    errs.append(
                        required(SPEC.child("nodeAffinity"), "Local volume requires node affinity")
                    )
            elif field == "csi":
                if not src.driver:
                    errs.append(required(p.child("driver"), ""))
                if not src.volume_handle:
                    errs.append(required(p.child("volumeHandle"), ""))
        if count == 0:
            errs.append(required(SPEC, "must specify a volume type"))
        if (
            spec.HasField("host_path")
            and posixpath.normpath(spec.host_path.path or ".") == "/"
            and policy == "Recycle"
        ):
            errs.append(
                forbidden(
                    SPEC.child("persistentVolumeReclaimPolicy"),
                    "may not be 'recycle' for a hostPath mount of '/'",
                )
            )
        mode = opt(spec, "volume_mode")
        if mode is not None and mode not in VOLUME_MODES:
            errs.append(not_supported(SPEC.child("volumeMode"), mode, VOLUME_MODES))
        if spec.HasField("node_affinity") and spec.node_affinity.HasField("required"):
            errs += validate_node_selector(
                spec.node_affinity.required, SPEC.child("nodeAffinity", "required")
            )
        return errs

    def validate_update(
        self, new: volume_pb2.PersistentVolume, old: volume_pb2.PersistentVolume
    ) -> list[FieldError]:
        """The volume source and volumeMode are immutable; nodeAffinity may
        only be set when it was unset."""
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec
        changed = [json for field, json in _PV_SOURCES if not same(opt(ns, field), opt(os_, field))]
        if changed:
            errs.append(
                forbidden(
                    SPEC.child("persistentvolumesource"),
                    "spec.persistentvolumesource is immutable after creation\nchanged: "
                    + ", ".join(f"spec.{c}" for c in changed),
                )
            )
        errs += immutable_opt(ns, os_, "volume_mode", FieldPath.root("volumeMode"))
        if os_.HasField("node_affinity"):
            errs += immutable_opt(ns, os_, "node_affinity", FieldPath.root("nodeAffinity"))
        return errs

    def validate_status_update(
        self, new: volume_pb2.PersistentVolume, old: volume_pb2.PersistentVolume
    ) -> list[FieldError]:
        phase = new.status.phase
        allowed = ("Pending", "Available", "Bound", "Released", "Failed")
        if phase and phase not in allowed:
            return [not_supported(STATUS.child("phase"), phase, allowed)]
        return []

"""Owner references: who controls an object, adoption and release."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import kinds
from pinnace.machinery.objects import object_meta


def controller_ref(obj: Any) -> meta_pb2.OwnerReference | None:
    """The ownerReference with controller=true, if any."""
    for ref in obj.metadata.owner_references:
        if ref.controller:  # an unset optional bool reads False
            return ref
    return None


# A pod (or any object) informer index: the uid of the object's controller,
# or, for an orphan, ORPHAN_INDEX_PREFIX + its namespace (a uid has no ":").
# A ReplicaSet's sync reads its own pods and its namespace's orphans from it
# instead of walking every pod of the namespace (Kubernetes'
# PodControllerUIDIndex and OrphanPodIndexKeyForNamespace).
CONTROLLER_UID_INDEX = "controller-uid"
ORPHAN_INDEX_PREFIX = "orphan:"


def controller_uid_index(obj: Any) -> list[str]:
    """CONTROLLER_UID_INDEX's indexer."""
    ref = controller_ref(obj)
    if ref is not None:
        return [ref.uid]
    return [orphan_index_value(obj.metadata.namespace)]


def orphan_index_value(namespace: str) -> str:
    """The CONTROLLER_UID_INDEX value of the orphans in ``namespace``."""
    return ORPHAN_INDEX_PREFIX + namespace


def owner_reference(owner: Message, *, block: bool = True) -> meta_pb2.OwnerReference:
    """A controller ownerReference pointing at owner (controller=true,
    blockOwnerDeletion=true), as controllers set on what they create."""
    info = kinds.by_message(owner)
    meta = object_meta(owner)
    return meta_pb2.OwnerReference(
        api_version=info.api_version,
        kind=info.kind,
        name=meta.name,
        uid=meta.uid,
        controller=True,
        block_owner_deletion=block,
    )


def is_controlled_by(obj: Any, owner: Any) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.uid == owner.metadata.uid


def adoption_patch(owner: Message, obj: Any) -> dict:
    """A merge patch adding owner as obj's controller, guarded by obj's uid
    (so a re-created object of the same name is never adopted by mistake)."""
    refs = [_ref_dict(r) for r in obj.metadata.owner_references] + [
        _ref_dict(owner_reference(owner))
    ]
    return {"metadata": {"uid": obj.metadata.uid, "ownerReferences": refs}}


def release_patch(owner: Any, obj: Any) -> dict:
    """A merge patch removing owner's reference from obj."""
    refs = [_ref_dict(r) for r in obj.metadata.owner_references if r.uid != owner.metadata.uid]
    return {"metadata": {"uid": obj.metadata.uid, "ownerReferences": refs or None}}


def _ref_dict(ref: meta_pb2.OwnerReference) -> dict:
    out: dict = {"apiVersion": ref.api_version, "kind": ref.kind, "name": ref.name, "uid": ref.uid}
    if ref.HasField("controller"):
        out["controller"] = ref.controller
    if ref.HasField("block_owner_deletion"):
        out["blockOwnerDeletion"] = ref.block_owner_deletion
    return out

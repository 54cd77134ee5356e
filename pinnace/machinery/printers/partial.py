"""The meta.k8s.io/v1 metadata-only shapes: PartialObjectMetadata (a Table
row's object under includeObject=Metadata, and the answer to ``Accept:
application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io``) and
PartialObjectMetadataList, and the ListMeta they and Tables carry.

* Each PartialObjectMetadata has kind and apiVersion, in a list too.
* ``metadata`` of a list is always there, its fields only when set
  (remainingItemCount whenever set, even 0: a pointer in Go).
* A list without items has ``"items": null`` (a nil Go slice without
  omitempty), as kube-apiserver sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec
from pinnace.machinery.objects import object_meta

__all__ = [
    "META_API_VERSION",
    "list_meta_dict",
    "partial_object_metadata",
    "partial_object_metadata_list",
]

META_API_VERSION = "meta.k8s.io/v1"


def list_meta_dict(list_meta: meta_pb2.ListMeta | None) -> dict[str, Any]:
    """ListMeta as JSON: resourceVersion, continue, remainingItemCount when set."""
    if list_meta is None:
        return {}
    out: dict[str, Any] = {}
    if list_meta.resource_version:
        out["resourceVersion"] = list_meta.resource_version
    if list_meta.continue_token:
        out["continue"] = list_meta.continue_token
    if list_meta.HasField("remaining_item_count"):
        out["remainingItemCount"] = list_meta.remaining_item_count
    return out


def partial_object_metadata(obj: Message) -> dict[str, Any]:
    """obj's metadata as a PartialObjectMetadata."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": META_API_VERSION,
        "metadata": codec.to_dict(object_meta(obj)),
    }


def partial_object_metadata_list(
    objects: Sequence[Message], list_meta: meta_pb2.ListMeta | None = None
) -> dict[str, Any]:
    """A list's objects as a PartialObjectMetadataList."""
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": META_API_VERSION,
        "metadata": list_meta_dict(list_meta),
        "items": [partial_object_metadata(o) for o in objects] or None,
    }

"""Which representation a client asks for in its Accept header.

Kubernetes serves an object (or list) as itself, as a ``meta.k8s.io/v1``
Table (what ``kubectl get`` asks for: ``application/json;as=Table;v=v1;
g=meta.k8s.io``), or as PartialObjectMetadata(List) (metadata only). The
first entry of the Accept header this server can give wins, as in
kube-apiserver; entries for other media types (protobuf) are skipped, and
plain JSON is the fallback.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Representation", "media_type", "representation"]

Representation = Literal["object", "table", "partial"]

_AS = {"Table": "table", "PartialObjectMetadata": "partial", "PartialObjectMetadataList": "partial"}


def representation(accept: str) -> Representation:
    for entry in accept.split(","):
        media, *params = (p.strip() for p in entry.split(";"))
        if media not in ("application/json", "*/*", "application/*"):
            continue
        values = dict(p.split("=", 1) for p in params if "=" in p)
        kind = values.get("as")
        if kind is None:
            return "object"
        if values.get("g") == "meta.k8s.io" and values.get("v") in ("v1", "v1beta1"):
            found = _AS.get(kind)
            if found == "table":
                return "table"
            if found == "partial":
                return "partial"
    return "object"


def media_type(rep: Representation, *, is_list: bool) -> str:
    """The Content-Type of an answer in representation ``rep``."""
    if rep == "table":
        return "application/json;as=Table;v=v1;g=meta.k8s.io"
    if rep == "partial":
        kind = "PartialObjectMetadataList" if is_list else "PartialObjectMetadata"
        return f"application/json;as={kind};v=v1;g=meta.k8s.io"
    return "application/json"

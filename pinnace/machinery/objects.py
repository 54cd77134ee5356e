"""Typed access to what every served object shares, for code that handles any kind.

Every served kind's message has ``api_version``, ``kind`` and ``metadata``
fields, but ``google.protobuf.message.Message`` (what generic code holds: the
API server's verbs and storage, the SDK, the CLI, the fake client) declares
none of them, so ``obj.metadata`` on a ``Message`` is a type error. Generic
code reads them through these functions instead, which check at run time what
the type checker cannot: ``object_meta(obj).name``. Code that knows its kind
uses the generated class directly (``pod.metadata.name``).
"""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2

M = TypeVar("M", bound=Message)


def object_meta(obj: Message) -> meta_pb2.ObjectMeta:
    """The metadata of an object of any served kind (each kind's message has
    a ``metadata`` field); TypeError for a message without one."""
    meta = getattr(obj, "metadata", None)
    if not isinstance(meta, meta_pb2.ObjectMeta):
        raise TypeError(f"a {obj.DESCRIPTOR.full_name} has no ObjectMeta")
    return meta


def set_type_meta(obj: Message, api_version: str, kind: str) -> None:
    """Stamp apiVersion and kind on an object of any served kind."""
    fields = obj.DESCRIPTOR.fields_by_name
    if "api_version" not in fields or "kind" not in fields:
        raise TypeError(f"a {obj.DESCRIPTOR.full_name} has no apiVersion and kind")
    # Message declares no fields: the two names are checked just above.
    setattr(obj, "api_version", api_version)  # noqa: B010
    setattr(obj, "kind", kind)  # noqa: B010


def copy_message(obj: M) -> M:
    """A deep copy of obj, of obj's own class."""
    new = type(obj)()
    new.CopyFrom(obj)
    return new


def replace_field(dst: Message, src: Message, name: str) -> None:
    """dst's message field ``name`` becomes src's (cleared when src has none
    set): how a status write replaces ``status`` whatever the kind."""
    dst.ClearField(name)
    if src.HasField(name):
        getattr(dst, name).CopyFrom(getattr(src, name))


__all__ = ["M", "copy_message", "object_meta", "replace_field", "set_type_meta"]

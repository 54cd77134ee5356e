"""The row type of the generated schema (schema.py): one protobuf field of a
Kubernetes message and the JSON field it is."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Field"]


class Field(NamedTuple):
    """One field of a message in Kubernetes' protobuf encoding.

    ``json`` is the JSON name ("" for an embedded struct: its fields are the
    parent's); ``kind`` the proto type ("string", "int64", ... or "message",
    then ``message`` is the full name); ``repeated`` a list; ``map_key`` the
    key type of a map field, whose values are kind/message; ``omit_zero``
    that Kubernetes' JSON leaves the field out when it holds its zero value.
    """

    json: str
    kind: str
    message: str = ""
    repeated: bool = False
    omit_zero: bool = False
    map_key: str = ""

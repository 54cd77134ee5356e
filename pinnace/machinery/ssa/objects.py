"""Server-side apply over typed API objects: what the apiserver's verbs call.

``apply_object`` and ``record_update`` run apply.apply / apply.update_managed
on the codec dicts of messages and give back messages (managedFields set);
``parse_applied`` reads an apply request body (YAML, or JSON, which is YAML);
``conflict_error`` is the 409 Status kube-apiserver answers a conflict with;
``manager_name`` is the manager of a write that names none (Kubernetes: the
User-Agent up to its first "/", else "unknown").
"""

from __future__ import annotations

import copy
import logging
from typing import Any, TypeVar

import yaml
from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.objects import object_meta

from .apply import ApplyConflict, ApplyError, ManagerEntry, apply, update_entries
from .fieldsets import fields_v1_json

__all__ = ["apply_object", "conflict_error", "manager_name", "parse_applied", "record_update"]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)
FIELD_MANAGER_CONFLICT = "FieldManagerConflict"


def manager_name(field_manager: str, user_agent: str) -> str:
    """The manager a write is recorded under: the fieldManager parameter, else
    the User-Agent before its first "/" ("kubectl/v1.32.0 (linux/amd64)" →
    "kubectl"), else "unknown"."""
    return field_manager or user_agent.split("/")[0].strip() or "unknown"


def parse_applied(body: bytes) -> dict[str, Any]:
    """An apply request's body: a YAML (or JSON) object. ApplyError if not."""
    try:
        data = yaml.safe_load(body or b"")
    except yaml.YAMLError as e:
        raise ApplyError(f"error decoding YAML: {e}") from None
    if not isinstance(data, dict):
        raise ApplyError("error decoding YAML: the applied configuration must be an object")
    return data


def apply_object(
    live: M | None,
    applied: dict[str, Any],
    cls: type[M],
    *,
    manager: str,
    api_version: str,
    force: bool,
    now: str,
    subresource: str = "",
) -> M:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: to
    be created), managedFields included. Raises ApplyConflict, ApplyError,
    or codec.CodecError if the result is not a valid ``cls``."""
    merged, _ = apply(
        codec.to_dict(live) if live is not None else None,
        applied,
        manager=manager,
        api_version=api_version,
        force=force,
        now=now,
        schema=cls,
        subresource=subresource,
        zero=zero_object(cls),
    )
    return codec.from_dict(cls, merged)


def record_update(
    live: Message | None,
    new: Message,
    *,
    manager: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> None:
    """Set ``new``'s managedFields to record a non-apply write of ``new``
    over ``live`` (None: a create) by ``manager``. An object the field sets
    cannot describe (a keyed list item without its key, which validation
    rejects afterwards) keeps live's managedFields, as Kubernetes does."""
    meta = object_meta(new)
    try:
        _, managed = update_entries(
            codec.to_dict(live) if live is not None else None,
            codec.to_dict(new),
            manager=manager,
            api_version=api_version,
            now=now,
            schema=type(new),
            subresource=subresource,
            zero=zero_object(type(new)),
        )
    except ApplyError as e:
        log.debug("managedFields of %s not updated: %s", meta.name, e)
        del meta.managed_fields[:]
        if live is not None:
            meta.managed_fields.extend(object_meta(live).managed_fields)
        return
    del meta.managed_fields[:]
    meta.managed_fields.extend(_entry(e) for e in managed)


def zero_object(cls: type[Message]) -> dict[str, Any]:
    """The kind's zero object as Kubernetes prints its Go zero value (a
    copy: callers may keep it)."""
    name = cls.DESCRIPTOR.full_name
    if name not in _ZEROS:
        _ZEROS[name] = codec.to_dict(cls())
    return copy.deepcopy(_ZEROS[name])


_ZEROS: dict[str, dict[str, Any]] = {}


def _entry(entry: ManagerEntry) -> meta_pb2.ManagedFieldsEntry:
    """A managedFields entry as a message."""
    return meta_pb2.ManagedFieldsEntry(
        manager=entry.manager,
        operation=entry.operation,
        api_version=entry.api_version,
        time=entry.time,
        fields_type="FieldsV1",
        fields_v1=meta_pb2.FieldsV1(raw=fields_v1_json(entry.fields)),
        subresource=entry.subresource,
    )


def conflict_error(conflict: ApplyConflict) -> errors.Conflict:
    """The 409 Conflict of an apply, with a FieldManagerConflict cause per field."""
    return errors.Conflict(
        conflict.message,
        causes=[
            meta_pb2.StatusCause(reason=FIELD_MANAGER_CONFLICT, message=message, field=field)
            for message, field in conflict.causes
        ],
    )

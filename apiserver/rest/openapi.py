"""OpenAPI documents of the served kinds: ``/openapi/v2`` and ``/openapi/v3``.

Generated from the API types, never written by hand: the schemas from the
protobuf descriptors of the kinds in pinnace/machinery/kinds.py, with what
only Kubernetes' Go types say from two tables generated from them
(pinnace/machinery/apischema.py: descriptions, required fields, the Time /
Quantity / RawExtension types behind proto strings; patchmeta.py: patch
strategies, merge keys, list types) and which fields are always written
(omitempty.py, for ``default``).

Shapes are Kubernetes' (api/openapi-spec in kubernetes/kubernetes):

* Definition names as Kubernetes' (``io.k8s.api.apps.v1.Deployment``,
  ``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``); every served kind
  and its List carry ``x-kubernetes-group-version-kind``; list fields carry
  ``x-kubernetes-patch-strategy``, ``x-kubernetes-patch-merge-key``,
  ``x-kubernetes-list-type`` and ``x-kubernetes-list-map-keys``; an
  IntOrString is ``format: int-or-string`` (``x-kubernetes-int-or-string``),
  a time a ``date-time`` string, a quantity a string (v3: string or number).
* v2 (swagger 2.0): one document, ``$ref`` to ``#/definitions/...``.
* v3 (OpenAPI 3.0): an index, ``{"paths": {"apis/apps/v1":
  {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=<H>"}}}``, and one
  document per group-version holding its paths and only the schemas they
  reach; a reference is ``allOf: [{$ref}]`` beside its description, as
  Kubernetes writes it. H is the upper-case hex SHA-512 of the document
  (Kubernetes' ETag), so a client may cache a hashed URL for good.
* Paths per resource: the collection (list with watch, create,
  deletecollection), the object (read, replace, patch, delete), and the
  ``status``, ``scale`` and ``binding`` subresources the kind has. Each
  operation has an ``operationId`` as Kubernetes names it
  (``patchAppsV1NamespacedDeployment``), ``x-kubernetes-action`` and
  ``x-kubernetes-group-version-kind``. A PATCH accepts the four patch media
  types and declares ``fieldValidation``: kubectl 1.32 reads that to use
  the document for client-side apply and server-side validation, and
  ``kubectl explain`` reads the v3 schemas.

Every document is built once and cached; the functions returning dicts
return the cached object, which callers must not modify.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import kinds, omitempty
from pinnace.machinery.apischema import SCHEMA, FieldDoc
from pinnace.machinery.codec import JSON_MESSAGES
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.patchmeta import PATCH

__all__ = [
    "definition_name",
    "v2_document",
    "v2_json",
    "v3_document",
    "v3_hash",
    "v3_index",
    "v3_index_json",
    "v3_json",
    "v3_paths",
]

V3_PREFIX = "/openapi/v3"
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
PATCH_DEFINITION = f"{META}.Patch"
SPECIAL_DEFINITIONS = {
    "Time": f"{META}.Time",
    "MicroTime": f"{META}.MicroTime",
    "Quantity": QUANTITY,
    "RawExtension": RAW_EXTENSION,
}
PATCH_MEDIA_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
RESPONSE_MEDIA_TYPES = ("application/json", "application/yaml")
_SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_INT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_ZERO = {"string": "", "boolean": False, "integer": 0, "number": 0}


def definition_name(message_name: str) -> str:
    """Kubernetes' definition name of a Pinnace message (or List) full name:
    pinnace.api.apps.v1.Deployment -> io.k8s.api.apps.v1.Deployment."""
    package, _, name = message_name.rpartition(".")
    group_version = package.removeprefix("pinnace.api.")
    if group_version == "meta.v1":
        return f"{META}.{name}"
    return f"io.k8s.api.{group_version}.{name}"


# ---- schemas ----------------------------------------------------------------------


class _Schemas:
    """Definitions in one OpenAPI version's reference style, built on demand:
    asking for a reference adds the referenced definition (and what it
    references) to ``definitions``."""

    def __init__(self, *, v3: bool) -> None:
        self.v3 = v3
        self.definitions: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, Descriptor] = {}

    def ref(self, name: str) -> dict[str, Any]:
        """A bare reference (a response or request body)."""
        self._define(name)
        where = "#/components/schemas/" if self.v3 else "#/definitions/"
        return {"$ref": where + name}

    def _field_ref(self, name: str, description: str, default: Any = None) -> dict[str, Any]:
        """A property that is a reference, with its description."""
        out: dict[str, Any] = {"allOf": [self.ref(name)]} if self.v3 else self.ref(name)
        if default is not None and self.v3:
            out["default"] = default
        if description:
            out["description"] = description
        return out

    def message(self, cls: type[Message]) -> dict[str, Any]:
        """A bare reference to a message class's definition."""
        return self._message(_descriptor(cls))

    def _message(self, descriptor: Descriptor) -> dict[str, Any]:
        name = definition_name(descriptor.full_name)
        self._messages[name] = descriptor
        return self.ref(name)

    def _define(self, name: str) -> None:
        if name in self.definitions:
            return
        self.definitions[name] = {}  # placeholder: a cycle refers back to it
        self.definitions[name] = self._build(name)

    def _build(self, name: str) -> dict[str, Any]:
        if name in _FIXED:
            return _FIXED[name](self.v3)
        if name in self._messages:
            return self._object(self._messages[name])
        list_of = _LISTS.get(name)
        if list_of is not None:
            return self._list(list_of)
        raise KeyError(f"no schema for {name}")

    def _object(self, descriptor: Descriptor) -> dict[str, Any]:
        doc = SCHEMA.get(descriptor.full_name)
        patch = PATCH.get(descriptor.full_name, {})
        rules = omitempty.RULES.get(descriptor.full_name, {})
        properties: dict[str, Any] = {}
        required = []
        for fd in descriptor.fields:
            field_doc = doc.fields.get(fd.json_name) if doc else None
            prop = self._property(fd, field_doc, rules.get(fd.json_name))
            meta = patch.get(fd.json_name)
            if meta is not None:
                prop.update(_patch_extensions(meta))
            properties[fd.json_name] = prop
            if field_doc is not None and field_doc.required:
                required.append(fd.json_name)
        out: dict[str, Any] = {}
        if doc is not None and doc.description:
            out["description"] = doc.description
        out["properties"] = dict(sorted(properties.items()))
        if required:
            out["required"] = required
        out["type"] = "object"
        info = _KIND_BY_MESSAGE.get(descriptor.full_name)
        if info is not None:
            out["x-kubernetes-group-version-kind"] = [_gvk(info)]
        return out

    def _list(self, info: KindInfo) -> dict[str, Any]:
        doc = SCHEMA[_list_name(info)]
        item = self.message(info.message_class)
        self._messages[f"{META}.ListMeta"] = _descriptor(meta_pb2.ListMeta)
        items: dict[str, Any] = {"allOf": [item], "default": {}} if self.v3 else item
        properties = {
            "apiVersion": {"description": doc.fields["apiVersion"].description, "type": "string"},
            "items": {
                "description": doc.fields["items"].description,
                "items": items,
                "type": "array",
            },
            "kind": {"description": doc.fields["kind"].description, "type": "string"},
            "metadata": self._field_ref(f"{META}.ListMeta", doc.fields["metadata"].description, {}),
        }
        return {
            "description": doc.description,
            "properties": properties,
            "required": ["items"],
            "type": "object",
            "x-kubernetes-group-version-kind": [{**_gvk(info), "kind": f"{info.kind}List"}],
        }

    def _property(
        self, fd: FieldDescriptor, doc: FieldDoc | None, rule: str | None
    ) -> dict[str, Any]:
        description = doc.description if doc else ""
        special = doc.special if doc else ""
        if _is_map(fd):
            value = self._value(_map_value(fd), special, item=True)
            out = {"additionalProperties": value, "type": "object"}
        elif fd.is_repeated:
            out = {"items": self._value(fd, special, item=True), "type": "array"}
        else:
            default = _default(fd, rule)
            value = self._value(fd, special, description=description, default=default)
            if "$ref" in value or "allOf" in value:
                return value
            out = value
            if default is not None and self.v3:
                out["default"] = default
        if description:
            out["description"] = description
        return dict(sorted(out.items()))

    def _value(
        self,
        fd: FieldDescriptor,
        special: str,
        *,
        item: bool = False,
        description: str = "",
        default: Any = None,
    ) -> dict[str, Any]:
        """The schema of one value of a field (an item, for a list)."""
        if special in SPECIAL_DEFINITIONS:
            target = SPECIAL_DEFINITIONS[special]
        elif fd.message_type is None:
            return dict(_SCALARS[fd.type])
        elif fd.message_type.full_name == "pinnace.api.meta.v1.IntOrString":
            target = INT_OR_STRING
        elif fd.message_type.full_name in JSON_MESSAGES:
            return {"type": "object"}
        else:
            target = definition_name(fd.message_type.full_name)
            self._messages[target] = fd.message_type
        if item:
            ref = self.ref(target)
            is_struct = target not in SPECIAL_DEFINITIONS.values() and target != INT_OR_STRING
            return {"allOf": [ref], "default": {}} if self.v3 and is_struct else ref
        return self._field_ref(target, description, default)


def _default(fd: FieldDescriptor, rule: str | None) -> Any:
    """Kubernetes' ``default``: the zero value of a field that is always written."""
    if rule != omitempty.ZERO:
        return None
    if fd.message_type is None:
        return _ZERO.get(_SCALARS[fd.type]["type"])
    name = fd.message_type.full_name
    if name == "pinnace.api.meta.v1.IntOrString" or name in JSON_MESSAGES:
        return None
    return {}


def _patch_extensions(meta: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if meta.list_map_keys:
        out["x-kubernetes-list-map-keys"] = list(meta.list_map_keys)
    if meta.list_type:
        out["x-kubernetes-list-type"] = meta.list_type
    if meta.merge_key:
        out["x-kubernetes-patch-merge-key"] = meta.merge_key
    if meta.strategy:
        out["x-kubernetes-patch-strategy"] = meta.strategy
    return out


def _is_map(fd: FieldDescriptor) -> bool:
    return fd.message_type is not None and fd.message_type.GetOptions().map_entry


def _map_value(fd: FieldDescriptor) -> FieldDescriptor:
    assert fd.message_type is not None  # a map field
    return fd.message_type.fields_by_name["value"]


def _descriptor(cls: type[Message]) -> Descriptor:
    """The message descriptor of a generated class. The stubs type it as the
    pure-Python class or the C (upb) one; ``Descriptor`` is both at run time."""
    descriptor = cls.DESCRIPTOR
    if not isinstance(descriptor, Descriptor):  # pragma: no cover - every implementation passes
        raise TypeError(f"not a message descriptor: {descriptor!r}")
    return descriptor


def _gvk(info: KindInfo) -> dict[str, str]:
    return {"group": info.group, "kind": info.kind, "version": info.version}


def _list_name(info: KindInfo) -> str:
    return f"{info.message_name}List"


_KIND_BY_MESSAGE = {k.message_name: k for k in (*kinds.KINDS, kinds.BINDING, kinds.SCALE)}
_LISTS = {definition_name(_list_name(k)): k for k in kinds.KINDS}


def _time(description: str) -> Any:
    def build(v3: bool) -> dict[str, Any]:
        return {"description": description, "format": "date-time", "type": "string"}

    return build


def _int_or_string(v3: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": "IntOrString is a type that can hold an int32 or a string. When used in "
        "JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type. "
        "This allows you to have, for example, a JSON field that can accept a name or number.",
        "format": "int-or-string",
        "x-kubernetes-int-or-string": True,
    }
    if v3:
        out["oneOf"] = [{"type": "integer"}, {"type": "string"}]
    else:
        out["type"] = "string"
    return out


def _quantity(v3: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": "Quantity is a fixed-point representation of a number: a decimal with "
        "an optional SI suffix (m, k, M, G, T, P, E) or binary suffix (Ki, Mi, Gi, Ti, Pi, Ei), "
        'e.g. "500m", "128Mi", "1.5".'
    }
    if v3:
        out["oneOf"] = [{"type": "string"}, {"type": "number"}]
    else:
        out["type"] = "string"
    return out


def _object_of(description: str) -> Any:
    def build(v3: bool) -> dict[str, Any]:
        return {"description": description, "type": "object"}

    return build


_FIXED = {
    f"{META}.Time": _time(
        "Time is a wrapper around time.Time which supports correct marshaling to YAML and "
        "JSON: an RFC 3339 date and time in UTC, to the second."
    ),
    f"{META}.MicroTime": _time(
        "MicroTime is version of Time with microsecond level precision: an RFC 3339 date "
        "and time in UTC with six fractional digits."
    ),
    INT_OR_STRING: _int_or_string,
    QUANTITY: _quantity,
    RAW_EXTENSION: _object_of("RawExtension holds an embedded object, as JSON, whatever its kind."),
    PATCH_DEFINITION: _object_of(
        "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."
    ),
}


# ---- paths ------------------------------------------------------------------------


def _group_word(group: str) -> str:
    """The group's part of an operationId: "" -> Core, "coordination.k8s.io" -> Coordination."""
    if not group:
        return "Core"
    return "".join(part.capitalize() for part in group.split(".")[0].split("-"))


def _prefix(info: KindInfo) -> str:
    return f"/api/{info.version}" if not info.group else f"/apis/{info.group}/{info.version}"


def _tag(info: KindInfo) -> str:
    group = info.group.split(".")[0] if info.group else "core"
    return f"{group}_{info.version}"


_QUERY = {
    "dryRun": (
        "string",
        "When present, indicates that modifications should not be persisted. "
        "Valid values are: - All: all dry run stages will be processed",
    ),
    "fieldManager": (
        "string",
        "fieldManager is a name associated with the actor or entity that "
        "is making these changes. Required for apply requests "
        "(application/apply-patch), optional otherwise.",
    ),
    "fieldValidation": (
        "string",
        "fieldValidation instructs the server on how to handle objects "
        "in the request (POST/PUT/PATCH) containing unknown or duplicate fields: "
        "Ignore, Warn (the default) or Strict.",
    ),
    "force": (
        "boolean",
        'Force is going to "force" Apply requests: the user re-acquires '
        "conflicting fields owned by other managers. Must be unset for non-apply patches.",
    ),
    "gracePeriodSeconds": (
        "integer",
        "The duration in seconds before the object should be "
        "deleted. Zero means delete immediately.",
    ),
    "propagationPolicy": (
        "string",
        "Whether and how garbage collection will be performed: Orphan, Background or Foreground.",
    ),
    "labelSelector": (
        "string",
        "A selector to restrict the list of returned objects by their "
        "labels. Defaults to everything.",
    ),
    "fieldSelector": (
        "string",
        "A selector to restrict the list of returned objects by their "
        "fields. Defaults to everything.",
    ),
    "limit": (
        "integer",
        "limit is a maximum number of responses to return for a list call; "
        "the list's continue token fetches the rest.",
    ),
    "continue": (
        "string",
        "The continue option should be set when retrieving more results "
        "from the server: the continue value of the previous list.",
    ),
    "resourceVersion": (
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    "resourceVersionMatch": (
        "string",
        "resourceVersionMatch determines how resourceVersion is "
        "applied to list calls: Exact or NotOlderThan.",
    ),
    "watch": (
        "boolean",
        "Watch for changes to the described resources and return them as a "
        "stream of add, update, and remove notifications.",
    ),
    "allowWatchBookmarks": (
        "boolean",
        'allowWatchBookmarks requests watch events with type "BOOKMARK".',
    ),
    "sendInitialEvents": (
        "boolean",
        "sendInitialEvents=true may be set together with watch=true: "
        "the stream begins with the current objects, then a bookmark.",
    ),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
}
_LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_DELETE_PARAMS = ("dryRun", "gracePeriodSeconds", "propagationPolicy")


class _Paths:
    """The paths of the resources of one group-version, in one OpenAPI version."""

    def __init__(self, schemas: _Schemas) -> None:
        self.s = schemas
        self.paths: dict[str, dict[str, Any]] = {}

    def add_kind(self, info: KindInfo) -> None:
        kind_ref = self.s.message(info.message_class)
        list_ref = self.s.ref(definition_name(_list_name(info)))
        status_ref = self.s.message(meta_pb2.Status)
        delete_body = self.s.message(meta_pb2.DeleteOptions)
        scope = "Namespaced" if info.namespaced else ""
        name = f"{_group_word(info.group)}{info.version.capitalize()}{scope}{info.kind}"
        collection = _prefix(info) + (
            f"/namespaces/{{namespace}}/{info.plural}" if info.namespaced else f"/{info.plural}"
        )
        item = collection + "/{name}"
        gvk = _gvk(info)
        self._path(
            collection,
            info.namespaced,
            named="",
            ops={
                "get": self._op(
                    f"list{name}",
                    f"list or watch objects of kind {info.kind}",
                    "list",
                    gvk,
                    info,
                    _LIST_PARAMS,
                    responses={"200": list_ref},
                    watch=True,
                ),
                "post": self._op(
                    f"create{name}",
                    f"create a {info.kind}",
                    "post",
                    gvk,
                    info,
                    _WRITE_PARAMS,
                    body=kind_ref,
                    responses={"200": kind_ref, "201": kind_ref, "202": kind_ref},
                ),
                "delete": self._op(
                    f"deletecollection{name}",
                    f"delete collection of {info.kind}",
                    "deletecollection",
                    gvk,
                    info,
                    (*_DELETE_PARAMS, *_LIST_PARAMS),
                    body=delete_body,
                    responses={"200": status_ref},
                ),
            },
        )
        self._item(item, info, name, "", gvk, kind_ref, status_ref, delete_body)
        if info.namespaced:
            self._path(
                f"{_prefix(info)}/{info.plural}",
                False,
                named="",
                ops={
                    "get": self._op(
                        f"list{_group_word(info.group)}{info.version.capitalize()}{info.kind}"
                        "ForAllNamespaces",
                        f"list or watch objects of kind {info.kind}",
                        "list",
                        gvk,
                        info,
                        _LIST_PARAMS,
                        responses={"200": list_ref},
                        watch=True,
                    ),
                },
            )
        for sub in info.subresources:
            self._subresource(item, info, name, sub, gvk, kind_ref)

    def _item(
        self,
        path: str,
        info: KindInfo,
        name: str,
        what: str,
        gvk: dict[str, str],
        kind_ref: dict[str, Any],
        status_ref: dict[str, Any],
        delete_body: dict[str, Any],
    ) -> None:
        self._path(
            path,
            info.namespaced,
            named=info.kind,
            ops={
                "get": self._op(
                    f"read{name}",
                    f"read the specified {info.kind}",
                    "get",
                    gvk,
                    info,
                    (),
                    responses={"200": kind_ref},
                ),
                "put": self._op(
                    f"replace{name}",
                    f"replace the specified {info.kind}",
                    "put",
                    gvk,
                    info,
                    _WRITE_PARAMS,
                    body=kind_ref,
                    responses={"200": kind_ref, "201": kind_ref},
                ),
                "patch": self._patch_op(
                    f"patch{name}",
                    f"partially update the specified {info.kind}",
                    gvk,
                    info,
                    kind_ref,
                ),
                "delete": self._op(
                    f"delete{name}",
                    f"delete a {info.kind}",
                    "delete",
                    gvk,
                    info,
                    _DELETE_PARAMS,
                    body=delete_body,
                    responses={"200": kind_ref, "202": kind_ref},
                ),
            },
        )

    def _subresource(
        self,
        item: str,
        info: KindInfo,
        name: str,
        sub: str,
        gvk: dict[str, str],
        kind_ref: dict[str, Any],
    ) -> None:
        path = f"{item}/{sub}"
        if sub == "status":
            ref, sub_gvk, word = kind_ref, gvk, "Status"
        elif sub == "scale":
            ref, sub_gvk, word = (
                self.s.message(scale_pb2.Scale),
                _gvk(kinds.SCALE),
                "Scale",
            )
        elif sub == "binding":
            ref = self.s.message(kinds.BINDING.message_class)
            self._path(
                path,
                info.namespaced,
                named="Binding",
                ops={
                    "post": self._op(
                        f"create{name}Binding",
                        f"create binding of a {info.kind}",
                        "post",
                        _gvk(kinds.BINDING),
                        info,
                        _WRITE_PARAMS,
                        body=ref,
                        responses={"200": ref, "201": ref, "202": ref},
                    ),
                },
            )
            return
        else:
            return
        self._path(
            path,
            info.namespaced,
            named=info.kind if sub == "status" else "Scale",
            ops={
                "get": self._op(
                    f"read{name}{word}",
                    f"read {sub} of the specified {info.kind}",
                    "get",
                    sub_gvk,
                    info,
                    (),
                    responses={"200": ref},
                ),
                "put": self._op(
                    f"replace{name}{word}",
                    f"replace {sub} of the specified {info.kind}",
                    "put",
                    sub_gvk,
                    info,
                    _WRITE_PARAMS,
                    body=ref,
                    responses={"200": ref, "201": ref},
                ),
                "patch": self._patch_op(
                    f"patch{name}{word}",
                    f"partially update {sub} of the specified {info.kind}",
                    sub_gvk,
                    info,
                    ref,
                ),
            },
        )

    def _path(self, path: str, namespaced: bool, *, named: str, ops: dict[str, Any]) -> None:
        params = []
        if named:
            params.append(self._param("name", "path", "string", f"name of the {named}"))
        if namespaced:
            params.append(
                self._param(
                    "namespace",
                    "path",
                    "string",
                    "object name and auth scope, such as for teams and projects",
                )
            )
        params.append(
            self._param(
                "pretty", "query", "string", "If 'true', then the output is pretty printed."
            )
        )
        self.paths[path] = {**ops, "parameters": params}

    def _param(self, name: str, where: str, kind: str, description: str) -> dict[str, Any]:
        out: dict[str, Any] = {"description": description, "in": where, "name": name}
        if where == "path":
            out["required"] = True
        if self.s.v3:
            out["schema"] = {"type": kind, "uniqueItems": True}
        else:
            out["type"] = kind
            out["uniqueItems"] = True
        return out

    def _query(self, names: Iterable[str]) -> list[dict[str, Any]]:
        return [self._param(n, "query", *_QUERY[n]) for n in names]

    def _patch_op(
        self,
        operation_id: str,
        description: str,
        gvk: dict[str, str],
        info: KindInfo,
        ref: dict[str, Any],
    ) -> dict[str, Any]:
        patch_ref = self.s.ref(PATCH_DEFINITION)
        return self._op(
            operation_id,
            description,
            "patch",
            gvk,
            info,
            (*_WRITE_PARAMS, "force"),
            body=patch_ref,
            body_types=PATCH_MEDIA_TYPES,
            responses={"200": ref, "201": ref},
        )

    def _op(
        self,
        operation_id: str,
        description: str,
        action: str,
        gvk: dict[str, str],
        info: KindInfo,
        query: Iterable[str],
        *,
        responses: dict[str, dict[str, Any]],
        body: dict[str, Any] | None = None,
        body_types: Iterable[str] = ("*/*",),
        watch: bool = False,
    ) -> dict[str, Any]:
        words = {"200": "OK", "201": "Created", "202": "Accepted"}
        media = (
            (*RESPONSE_MEDIA_TYPES, "application/json;stream=watch")
            if watch
            else (RESPONSE_MEDIA_TYPES)
        )
        out: dict[str, Any] = {"description": description, "operationId": operation_id}
        params = self._query(query)
        body_types = tuple(body_types)
        if self.s.v3:
            if params:
                out["parameters"] = params
            if body is not None:
                out["requestBody"] = {
                    "content": {t: {"schema": body} for t in body_types},
                    "required": action != "delete" and action != "deletecollection",
                }
            out["responses"] = {
                code: {"content": {m: {"schema": ref} for m in media}, "description": words[code]}
                for code, ref in responses.items()
            }
        else:
            if body is not None:
                params = [
                    {
                        "in": "body",
                        "name": "body",
                        "required": action not in ("delete", "deletecollection"),
                        "schema": body,
                    },
                    *params,
                ]
                out["consumes"] = list(body_types)
            if params:
                out["parameters"] = params
            out["produces"] = list(media)
            out["responses"] = {
                code: {"description": words[code], "schema": ref} for code, ref in responses.items()
            }
            out["schemes"] = ["https"]
        out["responses"]["401"] = {"description": "Unauthorized"}
        out["tags"] = [_tag(info)]
        out["x-kubernetes-action"] = action
        out["x-kubernetes-group-version-kind"] = gvk
        return out


# ---- documents --------------------------------------------------------------------

_INFO = {"title": "Kubernetes", "version": "unversioned"}
_BEARER = {
    "description": "Bearer Token authentication",
    "in": "header",
    "name": "authorization",
    "type": "apiKey",
}


def _group_versions() -> dict[str, list[KindInfo]]:
    """v3 path ("api/v1", "apis/apps/v1") -> the served kinds of that group-version."""
    out: dict[str, list[KindInfo]] = {}
    for info in kinds.KINDS:
        out.setdefault(_prefix(info).lstrip("/"), []).append(info)
    return out


def _build(infos: Iterable[KindInfo], *, v3: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    schemas = _Schemas(v3=v3)
    paths = _Paths(schemas)
    for info in infos:
        paths.add_kind(info)
    return dict(sorted(paths.paths.items())), dict(sorted(schemas.definitions.items()))


@functools.cache
def v2_document() -> dict[str, Any]:
    """The swagger 2.0 document of every served kind (``GET /openapi/v2``)."""
    paths, definitions = _build(kinds.KINDS, v3=False)
    return {
        "definitions": definitions,
        "info": _INFO,
        "paths": paths,
        "security": [{"BearerToken": []}],
        "securityDefinitions": {"BearerToken": _BEARER},
        "swagger": "2.0",
    }


@functools.cache
def v2_json() -> bytes:
    """v2_document as compact JSON bytes."""
    return _dumps(v2_document())


def v3_paths() -> tuple[str, ...]:
    """The group-version paths the v3 index lists ("api/v1", "apis/apps/v1", ...)."""
    return tuple(sorted(_group_versions()))


@functools.cache
def v3_document(path: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of one group-version ("apis/apps/v1"); KeyError
    if no served kind is in it (the caller answers 404)."""
    infos = _group_versions()[path.strip("/")]
    paths, schemas = _build(infos, v3=True)
    return {
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {k: v for k, v in _BEARER.items() if k != "type"}
                | {"type": "apiKey"}
            },
        },
        "info": _INFO,
        "openapi": "3.0.0",
        "paths": paths,
        "security": [{"BearerToken": []}],
    }


@functools.cache
def v3_json(path: str) -> bytes:
    """v3_document(path) as compact JSON bytes."""
    return _dumps(v3_document(path))


@functools.cache
def v3_hash(path: str) -> str:
    """The hash of v3_json(path) the index's URL carries (Kubernetes' ETag form:
    upper-case hex SHA-512)."""
    return hashlib.sha512(v3_json(path)).hexdigest().upper()


@functools.cache
def v3_index() -> dict[str, Any]:
    """``GET /openapi/v3``: every group-version document's URL with its hash."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"{V3_PREFIX}/{path}?hash={v3_hash(path)}"}
            for path in v3_paths()
        }
    }


@functools.cache
def v3_index_json() -> bytes:
    """v3_index as compact JSON bytes."""
    return _dumps(v3_index())


def _dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=False).encode()

"""The HTTP front door's verbs: Kubernetes JSON in and out, the registry's
``Verbs`` (the same as the gRPC service's) in between.

Objects go out as ``codec.to_dict`` shapes them (Kubernetes' field
presence) with apiVersion and kind; lists as ``<Kind>List`` with
``metadata.resourceVersion`` and ``continue``; errors as a ``Status`` with
the HTTP code of the error (app.py). Bodies come in as JSON (or YAML) and
are decoded strictly: an unknown field is a 400 BadRequest naming it, as
kube-apiserver with ``fieldValidation=Strict`` (kubectl's default).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from google.protobuf.message import Message

from apiserver.registry.resource import Resource
from apiserver.registry.verbs import Verbs
from apiserver.rest.encoding import ObjectEncoder, list_envelope
from apiserver.rest.paths import RequestInfo
from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.api.core.v1 import binding_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, errors, k8sproto, ssa
from pinnace.machinery.codec import CodecError
from pinnace.machinery.objects import object_meta
from pinnace.machinery.patch import CONTENT_TYPES, PatchError, apply_patch

__all__ = ["PATCH_TYPES", "Handlers", "decode_body", "object_dict"]

JSON_TYPE = "application/json"
# The media types a create or update body may have.
BODY_TYPES = (JSON_TYPE, "application/yaml")
# Content-Type of a PATCH → the registry's patch type.
PATCH_TYPES = {**CONTENT_TYPES, "application/apply-patch+yaml": "apply"}
# Kinds whose DELETE answers with the object itself (ReturnDeletedObject).
_RETURN_DELETED = frozenset(
    {"Pod", "Service", "PersistentVolume", "PersistentVolumeClaim", "ServiceAccount"}
)


def object_dict(res: Resource, obj: Message) -> dict[str, Any]:
    """The object as Kubernetes serves it: its fields, with apiVersion and kind."""
    out = codec.to_dict(obj)
    return {"apiVersion": res.info.api_version, "kind": res.info.kind, **out}


def decode_body(body: bytes, content_type: str) -> dict[str, Any]:
    """A request body as a dict (JSON, YAML for application/yaml, or
    Kubernetes' protobuf read into the same JSON shape). Other media types
    (CBOR) are 415, after which client-go sends JSON."""
    media = content_type.split(";")[0].strip() or JSON_TYPE
    if media == k8sproto.MEDIA_TYPE:
        return k8sproto.decode_body(body)
    if media not in BODY_TYPES:
        raise errors.UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types "
            f"include: {', '.join((*BODY_TYPES, k8sproto.MEDIA_TYPE))}"
        )
    if not body.strip():
        raise errors.BadRequest("the request body is empty; an object is required")
    try:
        data = yaml.safe_load(body) if content_type.endswith("yaml") else json.loads(body)
    except (ValueError, yaml.YAMLError) as e:
        raise errors.BadRequest(
            f"the body is not valid {'YAML' if content_type.endswith('yaml') else 'JSON'}: {e}"
        ) from None
    if not isinstance(data, dict):
        raise errors.BadRequest("the body must be an object")
    return data


def _decode(cls: type[Message], data: dict[str, Any], what: str, version: str = "v1") -> Any:
    """``data`` as a ``cls``; BadRequest in kube-apiserver's words if it does
    not fit (unknown fields: fieldValidation=Strict, kubectl's default)."""
    try:
        return codec.from_dict(cls, data)
    except CodecError as e:
        problems = [
            f'unknown field "{fe.path}"' if fe.message.startswith("unknown field") else str(fe)
            for fe in e.errors
        ]
        raise errors.BadRequest(
            f'{what} in version "{version}" cannot be handled as a {what}: '
            f"strict decoding error: {', '.join(problems)}"
        ) from None


class Handlers:
    """One method per verb; each returns (HTTP status, JSON-able body)."""

    def __init__(self, verbs: Verbs) -> None:
        self.verbs = verbs
        # Each stored object version's JSON, for lists and watch events.
        self.encoder = ObjectEncoder()

    def _check_type(self, res: Resource, data: dict[str, Any], ri: RequestInfo) -> None:
        api_version, kind = data.get("apiVersion", ""), data.get("kind", "")
        if (api_version and api_version != res.info.api_version) or (
            kind and kind != res.info.kind
        ):
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({res.info.api_version})"
                if api_version != res.info.api_version
                else f"the kind in the data ({kind}) does not match the expected kind "
                f"({res.info.kind})"
            )
        meta = data.get("metadata") or {}
        body_ns = meta.get("namespace", "") if isinstance(meta, dict) else ""
        if res.info.namespaced and body_ns and ri.namespace and body_ns != ri.namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent "
                "on the request"
            )

    def _body_object(self, res: Resource, data: dict[str, Any], ri: RequestInfo) -> Message:
        self._check_type(res, data, ri)
        fields = {k: v for k, v in data.items() if k not in ("apiVersion", "kind")}
        obj = _decode(res.info.message_class, fields, res.info.kind, res.info.version)
        return obj

    async def get(self, res: Resource, ri: RequestInfo) -> dict[str, Any]:
        if ri.subresource == "scale":
            scale = await self.verbs.get_scale(res, ri.namespace, ri.name)
            return {"apiVersion": "autoscaling/v1", "kind": "Scale", **codec.to_dict(scale)}
        if ri.subresource not in ("", "status"):
            raise errors.NotFound(f'{res.qualified} has no "{ri.subresource}" subresource')
        stored = await self.verbs.get(res, ri.namespace, ri.name)
        return object_dict(res, stored.obj)

    async def list_items(
        self, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> tuple[list[Message], meta_pb2.ListMeta]:
        raws, lm = await self.list_raw(res, ri, query)
        cls = res.info.message_class
        return [cls.FromString(raw) for raw in raws], lm

    async def list_raw(
        self, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> tuple[list[bytes], meta_pb2.ListMeta]:
        """The listed objects' wire bytes (as the watch cache holds them) and list metadata."""
        flt = self.verbs.make_filter(
            res, ri.namespace, query.get("labelSelector", ""), query.get("fieldSelector", "")
        )
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise errors.BadRequest(f'invalid limit "{query.get("limit")}"') from None
        raws, lm = await self.verbs.list(
            res,
            flt,
            limit=limit,
            continue_token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
        )
        return raws, lm

    def list_dict(
        self, res: Resource, items: list[Message], lm: meta_pb2.ListMeta
    ) -> dict[str, Any]:
        return {**list_envelope(res.info, lm), "items": [object_dict(res, o) for o in items]}

    async def create(
        self,
        res: Resource,
        ri: RequestInfo,
        data: dict[str, Any],
        *,
        dry_run: bool,
        query: Mapping[str, str] = {},
        user_agent: str = "",
    ) -> tuple[int, dict[str, Any]]:
        if ri.subresource == "binding" or (
            res.info.kind == "Pod" and ri.subresource == "" and data.get("kind") == "Binding"
        ):
            if res.info.kind != "Pod":
                raise errors.NotFound(f"{res.qualified} has no binding subresource")
            fields = {k: v for k, v in data.items() if k not in ("apiVersion", "kind")}
            binding = _decode(binding_pb2.Binding, fields, "Binding")
            name = ri.name or binding.metadata.name
            await self.verbs.bind(res, ri.namespace, name, binding)
            return 201, {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            }
        if ri.subresource:
            raise errors.NotFound(
                f'{res.qualified} has no "{ri.subresource}" subresource for create'
            )
        obj = self._body_object(res, data, ri)
        created = await self.verbs.create(
            res, ri.namespace, obj, dry_run=dry_run, field_manager=_manager(query, user_agent)
        )
        return 201, object_dict(res, created)

    async def update(
        self,
        res: Resource,
        ri: RequestInfo,
        data: dict[str, Any],
        *,
        dry_run: bool,
        query: Mapping[str, str] = {},
        user_agent: str = "",
    ) -> dict[str, Any]:
        manager = _manager(query, user_agent)
        if ri.subresource == "scale":
            fields = {k: v for k, v in data.items() if k not in ("apiVersion", "kind")}
            scale = _decode(scale_pb2.Scale, fields, "Scale")
            out = await self.verbs.update_scale(
                res, ri.namespace, scale, dry_run=dry_run, field_manager=manager
            )
            return {"apiVersion": "autoscaling/v1", "kind": "Scale", **codec.to_dict(out)}
        obj = self._body_object(res, data, ri)
        name = object_meta(obj).name
        if name and name != ri.name:
            raise errors.BadRequest(
                f"the name of the object ({name}) does not match the name on the URL ({ri.name})"
            )
        updated = await self.verbs.update(
            res,
            ri.namespace,
            obj,
            subresource=ri.subresource,
            dry_run=dry_run,
            field_manager=manager,
        )
        return object_dict(res, updated)

    async def patch(
        self,
        res: Resource,
        ri: RequestInfo,
        body: bytes,
        content_type: str,
        *,
        dry_run: bool,
        query: Mapping[str, str] = {},
        user_agent: str = "",
    ) -> tuple[int, dict[str, Any]]:
        patch_type = PATCH_TYPES.get(content_type.split(";")[0].strip())
        if patch_type is None:
            raise errors.UnsupportedMediaType(
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(PATCH_TYPES)}"
            )
        # Apply records the fieldManager it names (required); the others
        # default it from the User-Agent, as kube-apiserver.
        manager = (
            query.get("fieldManager", "") if patch_type == "apply" else _manager(query, user_agent)
        )
        if ri.subresource == "scale":
            scale = await self.verbs.get_scale(res, ri.namespace, ri.name)
            doc = codec.to_dict(scale)
            patched = _apply_scale_patch(doc, body, patch_type)
            spec = patched.get("spec") or {}
            scale.spec.replicas = int(spec.get("replicas", scale.spec.replicas))
            out = await self.verbs.update_scale(
                res, ri.namespace, scale, dry_run=dry_run, field_manager=manager
            )
            return 200, {"apiVersion": "autoscaling/v1", "kind": "Scale", **codec.to_dict(out)}
        if patch_type == "apply":  # 201 when the apply created the object, as Kubernetes
            obj, created = await self.verbs.apply(
                res, ri.namespace, ri.name, body,
                field_manager=manager, force=query.get("force") == "true",
                subresource=ri.subresource, dry_run=dry_run,
            )  # fmt: skip
            return (201 if created else 200), object_dict(res, obj)
        obj = await self.verbs.patch(
            res, ri.namespace, ri.name, patch_type, body,
            subresource=ri.subresource, dry_run=dry_run, field_manager=manager,
        )  # fmt: skip
        return 200, object_dict(res, obj)

    async def delete(
        self, res: Resource, ri: RequestInfo, options: meta_pb2.DeleteOptions
    ) -> dict[str, Any]:
        result = await self.verbs.delete(res, ri.namespace, ri.name, options)
        if not result.finished or res.info.kind in _RETURN_DELETED:
            return object_dict(res, result.obj)
        meta = object_meta(result.obj)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": ri.name,
                "group": res.info.group,
                "kind": res.info.plural,
                "uid": meta.uid,
            },
        }

    async def delete_collection(
        self, res: Resource, ri: RequestInfo, query: dict[str, str], options: meta_pb2.DeleteOptions
    ) -> dict[str, Any]:
        flt = self.verbs.make_filter(
            res, ri.namespace, query.get("labelSelector", ""), query.get("fieldSelector", "")
        )
        deleted = await self.verbs.delete_collection(res, flt, options)
        return self.list_dict(res, deleted, meta_pb2.ListMeta())


def _manager(query: Mapping[str, str], user_agent: str) -> str:
    """The field manager a write is recorded under (server-side apply)."""
    return ssa.manager_name(query.get("fieldManager", ""), user_agent)


def _apply_scale_patch(doc: dict[str, Any], body: bytes, patch_type: str) -> dict[str, Any]:
    """A patch of a Scale (kubectl scale sends a merge patch of spec.replicas)."""
    try:
        patch = json.loads(body)
    except ValueError as e:
        raise errors.BadRequest(f"the patch is not valid JSON: {e}") from None
    try:
        patched = apply_patch(patch_type, doc, patch, schema=scale_pb2.Scale)
    except PatchError as e:
        raise errors.Invalid(f"the patch cannot be applied: {e}") from None
    if not isinstance(patched, dict):
        raise errors.BadRequest("the patched object is not a JSON object")
    return patched

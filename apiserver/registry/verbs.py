"""The generic verbs over every resource, with Kubernetes' semantics.

Each verb validates everything before it writes, and writes with one etcd
transaction, so a rejected request leaves etcd untouched and an accepted one
is never half applied. Server-managed metadata (uid, creationTimestamp,
resourceVersion, generation, deletionTimestamp) cannot be set by clients.
"""

from __future__ import annotations

import builtins
import json
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from apiserver.etcd.client import prefix_range_end
from apiserver.etcd.errors import CompactedError
from apiserver.registry import meta as metavalidation
from apiserver.registry.continue_token import decode_continue, encode_continue
from apiserver.registry.deletion import (
    begin_delete,
    check_preconditions,
    validate_delete_options,
)
from apiserver.registry.resource import Resource
from apiserver.registry.strategy import spec_bytes
from apiserver.storage.store import ClaimTaken, Stored
from apiserver.storage.watchcache import CachedObject, Filter
from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.api.core.v1 import binding_pb2, pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, errors, ssa
from pinnace.machinery.conditions import set_condition
from pinnace.machinery.fields import FieldSelector, parse_field_selector
from pinnace.machinery.labels import Selector, parse_selector
from pinnace.machinery.objects import copy_message, object_meta, replace_field, set_type_meta
from pinnace.machinery.patch import PATCH_TYPES, PatchError, apply_patch
from pinnace.machinery.timeutil import now_rfc3339
from pinnace.machinery.validation import FieldError, required
from pinnace.machinery.wellknown import POD_SCHEDULED

log = logging.getLogger(__name__)

MAX_OBJECT_BYTES = 1_572_864  # 1.5 MiB, Kubernetes' etcd request limit
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


# mutate(current, rv): the object to store instead of current, or None for no change.
Mutation = Callable[[Message, int], Awaitable[Message | None]]


@dataclass(frozen=True)
class DeleteResult:
    obj: Message
    finished: bool


# A last check on a write: (resource, new, old); create: old None; delete: new None.
Admit = Callable[[Resource, Message | None, Message | None], None]


class Verbs:
    """create/get/list/update/patch/delete over resources; see module doc."""

    def __init__(
        self,
        *,
        namespace_phase: Callable[[str], Awaitable[str | None]],
        clock: Callable[[], str] = now_rfc3339,
        admit: Admit | None = None,
    ) -> None:
        # namespace_phase(ns): "Active", "Terminating", or None (no such namespace).
        self._namespace_phase = namespace_phase
        self._now = clock
        # admit(res, new, old): the last check of a create (old None), an
        # update after validation, or a delete (new None), on who writes what
        # (raises ApiError).
        self.admit = admit

    # ---- helpers -----------------------------------------------------------

    @staticmethod
    def not_found(res: Resource, name: str) -> errors.NotFound:
        return errors.NotFound(
            f'{res.qualified} "{name}" not found',
            kind=res.info.plural,
            name=name,
            group=res.info.group,
        )

    @staticmethod
    def conflict(res: Resource, name: str, why: str) -> errors.Conflict:
        return errors.Conflict(
            f'Operation cannot be fulfilled on {res.qualified} "{name}": {why}',
            kind=res.info.plural,
            name=name,
            group=res.info.group,
        )

    def _check_resource_version(
        self, res: Resource, name: str, expected: int | None, rv: int
    ) -> None:
        """Optimistic concurrency: a write that names a resourceVersion
        (``expected``) applies only to that version of the object; any other
        stored version (``rv``) is a 409 Conflict, and the client re-reads."""
        if expected is not None and expected != rv:
            raise self.conflict(
                res,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )

    def _check_kind(self, res: Resource, obj: Message) -> None:
        if obj.DESCRIPTOR.full_name != res.info.message_name:
            raise errors.BadRequest(
                f"the object is a {obj.DESCRIPTOR.full_name} but resource {res.qualified}"
                f" holds {res.info.message_name}"
            )

    def _place(self, res: Resource, namespace: str, obj: Message) -> None:
        """Reconcile the request namespace with the object's."""
        meta = object_meta(obj)
        if res.info.namespaced:
            if not meta.namespace:
                meta.namespace = namespace
            elif namespace and meta.namespace != namespace:
                raise errors.BadRequest(
                    f"the namespace of the provided object ({meta.namespace}) does not match"
                    f" the namespace sent on the request ({namespace})"
                )
            if not meta.namespace:
                raise errors.BadRequest(f"{res.qualified} must be created in a namespace")
        elif meta.namespace:
            raise errors.BadRequest(
                f'{res.qualified} is not namespaced: metadata.namespace must be empty, got "{meta.namespace}"'
            )
        set_type_meta(obj, res.info.api_version, res.info.kind)

    async def _check_namespace_open(self, res: Resource, namespace: str) -> None:
        if not res.info.namespaced:
            return
        phase = await self._namespace_phase(namespace)
        if phase is None:
            raise errors.NotFound(
                f'namespaces "{namespace}" not found', kind="namespaces", name=namespace
            )
        if phase == "Terminating":
            raise errors.Forbidden(
                f"unable to create new content in namespace {namespace} because it is being terminated",
                kind="namespaces",
                name=namespace,
            )

    def _validate(self, res: Resource, obj: Message, errs: builtins.list[FieldError]) -> None:
        meta = object_meta(obj)
        if errs:
            raise errors.invalid(
                res.info.kind, meta.name or meta.generate_name, errs, res.info.group
            )
        size = obj.ByteSize()
        if size > MAX_OBJECT_BYTES:
            raise errors.TooLarge(
                f"Request entity too large: {res.info.kind} {meta.name!r} is {size} bytes;"
                f" the limit is {MAX_OBJECT_BYTES} bytes (1.5 MiB)"
            )

    # ---- create ----------------------------------------------------------------

    async def create(
        self,
        res: Resource,
        namespace: str,
        obj: Message,
        *,
        dry_run: bool = False,
        field_manager: str = "",
    ) -> Message:
        self._check_kind(res, obj)
        self._place(res, namespace, obj)
        codec.canonicalize(obj)
        meta = object_meta(obj)
        await self._check_namespace_open(res, meta.namespace)
        generated = not meta.name and bool(meta.generate_name)
        for attempt in range(8):
            if generated:
                meta.name = meta.generate_name + "".join(
                    secrets.choice(_NAME_CHARS) for _ in range(5)
                )
            meta.uid = str(uuid.uuid4())
            meta.creation_timestamp = self._now()
            meta.generation = 1
            meta.resource_version = ""
            meta.ClearField("deletion_timestamp")
            meta.ClearField("deletion_grace_period_seconds")
            meta.self_link = ""
            res.strategy.prepare_for_create(obj)
            res.strategy.default(obj)
            self._tracked(res, None, obj, field_manager, "")
            errs = metavalidation.validate_object_meta(meta, res.strategy, create=True)
            errs += res.strategy.validate(obj)
            self._validate(res, obj, errs)
            if self.admit is not None:
                self.admit(res, obj, None)
            if dry_run:
                return obj
            try:
                await self._create_with_claims(res, obj)
                return obj
            except errors.AlreadyExists:
                if not generated or attempt == 7:
                    raise
        raise AssertionError("unreachable")

    async def _create_with_claims(self, res: Resource, obj: Message) -> None:
        """Allocate what obj needs from shared ranges and store it with its
        claims. A value the client asked for that another object holds is
        Invalid; a value picked here that another apiserver took in the
        meantime is picked again."""
        meta = object_meta(obj)
        requested = set(res.strategy.claims(obj))
        for _ in range(8):
            candidate = copy_message(obj)
            await res.strategy.allocate(candidate, None, res.store.claimed)
            try:
                await res.store.create(res.key(meta.namespace, meta.name), candidate)
            except ClaimTaken as e:
                mine = [k for k in e.keys if k in requested]
                if mine:
                    raise self._claims_invalid(res, candidate, mine) from None
                continue
            obj.CopyFrom(candidate)
            return
        raise self.conflict(res, meta.name, "the values allocated keep being taken; try again")

    @staticmethod
    def _claims_invalid(res: Resource, obj: Message, keys: builtins.list[str]) -> errors.Invalid:
        return errors.invalid(
            res.info.kind,
            object_meta(obj).name,
            res.strategy.claim_errors(obj, keys),
            res.info.group,
        )

    # ---- get / list ------------------------------------------------------------

    async def get(self, res: Resource, namespace: str, name: str) -> Stored:
        stored = await res.store.get(res.key(namespace, name))
        if stored is None:
            raise self.not_found(res, name)
        return stored

    def make_filter(
        self, res: Resource, namespace: str, label_selector: str, field_selector: str
    ) -> Filter:
        labels: Selector | None = None
        fields: FieldSelector | None = None
        try:
            if label_selector:
                labels = parse_selector(label_selector)
        except ValueError as e:
            raise errors.BadRequest(f"unable to parse requirement: {e}") from None
        if field_selector:
            try:
                fields = parse_field_selector(field_selector)
            except ValueError as e:
                raise errors.BadRequest(f"invalid field selector: {e}") from None
            allowed = {"metadata.name", "metadata.namespace", *res.strategy.field_labels}
            for f in sorted(fields.fields()):
                if f not in allowed:
                    raise errors.BadRequest(
                        f'field label not supported: "{f}" for {res.qualified}; supported: '
                        + ", ".join(sorted(allowed))
                    )
        return Filter(
            namespace=namespace if res.info.namespaced else "", labels=labels, fields=fields
        )

    async def list(
        self,
        res: Resource,
        flt: Filter,
        *,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> tuple[list[bytes], meta_pb2.ListMeta]:
        """Items (wire bytes) and list metadata. The first page comes from the
        watch cache once it is fresh; later pages are read from etcd at the
        first page's revision, so all pages are one snapshot."""
        if limit < 0:
            raise errors.BadRequest(f"limit must be >= 0, got {limit}")
        if continue_token:
            return await self._list_continue(res, flt, limit, continue_token)
        if resource_version not in ("", "0"):
            try:
                int(resource_version)
            except ValueError:
                raise errors.BadRequest(f'invalid resourceVersion "{resource_version}"') from None
        if resource_version != "0":
            await res.cache.wait_fresh(await res.store.current_revision())
        rv = res.cache.rv
        items, last_key = res.cache.list(flt, limit=limit)
        lm = meta_pb2.ListMeta(resource_version=str(rv))
        if last_key:
            lm.continue_token = encode_continue(rv, last_key)
        return [o.raw for o in items], lm

    async def _list_continue(
        self, res: Resource, flt: Filter, limit: int, token: str
    ) -> tuple[builtins.list[bytes], meta_pb2.ListMeta]:
        rv, after = decode_continue(token)
        if not after.startswith(res.prefix):
            raise errors.BadRequest("continue token does not belong to this resource")
        out: builtins.list[bytes] = []
        last_key = ""
        key = after + "\0"
        end = prefix_range_end(res.prefix.encode())
        while True:
            try:
                page = await res.store.range_at(
                    key.encode(), end, limit=max(limit, 100), revision=rv
                )
            except CompactedError:
                raise errors.Expired(
                    "The provided continue parameter is too old to display a consistent list result."
                    " You can start a new list without the continue parameter."
                ) from None
            for kv in page.kvs:
                obj = res.store.decode(kv.value, kv.mod_revision)
                ns, name, labels, fields = res.extract(obj)
                cached = CachedObject(
                    kv.key.decode(), ns, name, kv.mod_revision, b"", labels, fields
                )
                if not flt.matches(cached):
                    continue
                if limit and len(out) == limit:
                    lm = meta_pb2.ListMeta(resource_version=str(rv))
                    lm.continue_token = encode_continue(rv, last_key)
                    return out, lm
                out.append(obj.SerializeToString())
                last_key = cached.key
            if not page.more or not page.kvs:
                break
            key = page.kvs[-1].key.decode() + "\0"
        return out, meta_pb2.ListMeta(resource_version=str(rv))

    # ---- update ----------------------------------------------------------------

    async def update(
        self,
        res: Resource,
        namespace: str,
        new: Message,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str = "",
    ) -> Message:
        self._check_kind(res, new)
        self._place(res, namespace, new)
        meta = object_meta(new)
        if not meta.name:
            raise errors.BadRequest("metadata.name: Required value: name is required for an update")
        expected = _parse_rv(meta.resource_version)

        async def mutate(current: Message, rv: int) -> Message | None:
            self._check_resource_version(res, meta.name, expected, rv)
            merged = self._merge_update(res, current, copy_message(new), subresource)
            return self._tracked(res, current, merged, field_manager, subresource)

        return await self._write(
            res, res.key(meta.namespace, meta.name), meta.name, mutate, dry_run
        )

    def _merge_update(
        self, res: Resource, current: Message, new: Message, subresource: str
    ) -> Message:
        """The object an update of ``current`` to ``new`` stores (validated),
        in the canonical form (codec.canonicalize) every stored object has."""
        strategy = res.strategy
        codec.canonicalize(new)
        cur_meta = object_meta(current)
        new_meta = object_meta(new)
        if new_meta.uid and new_meta.uid != cur_meta.uid:
            raise errors.PreconditionFailed(
                f"Precondition failed: UID in precondition: {new_meta.uid}, UID in object meta: {cur_meta.uid}"
            )
        if subresource == "status":
            if not strategy.has_status:
                raise errors.MethodNotAllowed(f"{res.qualified} has no status subresource")
            result = copy_message(current)
            replace_field(result, new, "status")
            codec.canonicalize(result)
            errs = strategy.validate_status_update(result, current)
            self._validate(res, result, errs)
            if self.admit is not None:
                self.admit(res, result, current)
            return result
        if subresource:
            raise errors.BadRequest(f'unsupported subresource "{subresource}" for update')
        # Server-managed metadata always comes from the stored object.
        for name in ("uid", "creation_timestamp", "generation", "deletion_timestamp", "self_link"):
            setattr(new_meta, name, getattr(cur_meta, name))
        if cur_meta.HasField("deletion_grace_period_seconds"):
            new_meta.deletion_grace_period_seconds = cur_meta.deletion_grace_period_seconds
        else:
            new_meta.ClearField("deletion_grace_period_seconds")
        new_meta.generate_name = new_meta.generate_name or cur_meta.generate_name
        strategy.default(new)
        strategy.prepare_for_update(new, current)
        if spec_bytes(new) != spec_bytes(current):
            new_meta.generation = cur_meta.generation + 1
        errs = metavalidation.validate_object_meta(new_meta, strategy, create=False)
        errs += metavalidation.validate_meta_update(new_meta, cur_meta)
        errs += strategy.validate_update(new, current)
        self._validate(res, new, errs)
        if self.admit is not None:
            self.admit(res, new, current)
        return new

    async def _write(
        self, res: Resource, key: str, name: str, mutate: Mutation, dry_run: bool
    ) -> Message:
        """guaranteed_update, then finish a deletion the update unblocked."""
        if dry_run:
            current = await self.get(res, *_split(res, key))
            result = await mutate(current.obj, current.rv)
            return result if result is not None else current.obj

        async def guarded(current: Message, rv: int) -> Message | None:
            new = await mutate(current, rv)
            if new is not None:
                await res.strategy.allocate(new, current, res.store.claimed)
            return new

        try:
            stored, _ = await res.store.guaranteed_update(
                key, guarded, not_found=lambda: self.not_found(res, name)
            )
        except ClaimTaken as e:
            raise self._claims_invalid(res, e.obj, e.keys) from None
        obj = stored.obj
        meta = object_meta(obj)
        if (
            meta.deletion_timestamp
            and not meta.finalizers
            and not meta.deletion_grace_period_seconds
        ):
            if not res.strategy.deletion_blocked(obj) and await res.store.delete_if_unchanged(
                key, stored.rv, old=obj
            ):
                log.info(
                    "deleted %s %s/%s: its last finalizer was removed",
                    res.qualified,
                    meta.namespace,
                    name,
                )
        return obj

    # ---- patch -----------------------------------------------------------------

    async def patch(
        self,
        res: Resource,
        namespace: str,
        name: str,
        patch_type: str,
        patch: bytes,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str = "",
        force: bool = False,
    ) -> Message:
        if patch_type == "apply":
            applied, _ = await self.apply(
                res, namespace, name, patch,
                field_manager=field_manager, force=force, subresource=subresource, dry_run=dry_run,
            )  # fmt: skip
            return applied
        try:
            doc = json.loads(patch or b"null")
        except ValueError as e:
            raise errors.BadRequest(f"the patch is not valid JSON: {e}") from None
        if patch_type not in PATCH_TYPES:
            raise errors.BadRequest(
                f'unsupported patch type "{patch_type}"; supported: {", ".join(PATCH_TYPES)}'
            )
        if patch_type in ("merge", "strategic") and not isinstance(doc, dict):
            raise errors.BadRequest(f"a {patch_type} patch must be a JSON object")

        async def mutate(current: Message, rv: int) -> Message | None:
            original = codec.to_dict(current)
            # A JSON patch may test it (kubectl's managedFields upgrade does).
            original.setdefault("metadata", {})["resourceVersion"] = str(rv)
            try:
                patched = apply_patch(patch_type, original, doc, schema=type(current))
            except PatchError as e:
                raise errors.Invalid(f"the patch cannot be applied: {e}") from None
            if not isinstance(patched, dict):
                raise errors.BadRequest("the patched object is not a JSON object")
            try:
                new = codec.from_dict(type(current), patched)
            except codec.CodecError as e:
                raise errors.invalid(res.info.kind, name, e.errors, res.info.group) from None
            new_meta = object_meta(new)
            self._check_resource_version(res, name, _parse_rv(new_meta.resource_version), rv)
            if new_meta.name != name or (res.info.namespaced and new_meta.namespace != namespace):
                raise errors.BadRequest(
                    "metadata.name and metadata.namespace cannot be changed by a patch"
                )
            merged = self._merge_update(res, current, new, subresource)
            return self._tracked(res, current, merged, field_manager, subresource)

        return await self._write(res, res.key(namespace, name), name, mutate, dry_run)

    # ---- server-side apply ---------------------------------------------------------

    def _tracked(
        self, res: Resource, live: Message | None, new: Message, manager: str, subresource: str
    ) -> Message:
        """new, its managedFields recording this write as an Update by
        ``manager`` (no manager: the write is not tracked)."""
        if manager:
            ssa.record_update(
                live,
                new,
                manager=manager,
                api_version=res.info.api_version,
                now=self._now(),
                subresource=subresource,
            )
        return new

    async def apply(
        self,
        res: Resource,
        namespace: str,
        name: str,
        body: bytes,
        *,
        field_manager: str,
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
    ) -> tuple[Message, bool]:
        """Server-side apply (pinnace/machinery/ssa): patch the object, or
        create it when there is none; the object, and whether it was created."""
        manager = field_manager
        if not manager:
            raise errors.invalid(
                "PatchOptions",
                "",
                [required("fieldManager", "is required for apply patch")],
                "meta.k8s.io",
            )
        try:
            applied = ssa.parse_applied(body)
        except ssa.ApplyError as e:
            raise errors.BadRequest(str(e)) from None
        self._check_applied(res, namespace, name, applied)
        expected = _parse_rv(str(applied["metadata"].get("resourceVersion") or ""))

        def merged(current: Message | None) -> Message:
            try:
                return ssa.apply_object(
                    current,
                    applied,
                    res.info.message_class,
                    manager=manager,
                    api_version=res.info.api_version,
                    force=force,
                    now=self._now(),
                    subresource=subresource,
                )
            except ssa.ApplyConflict as e:
                raise ssa.conflict_error(e) from None
            except ssa.ApplyError as e:
                raise errors.BadRequest(str(e)) from None
            except codec.CodecError as e:
                raise errors.invalid(res.info.kind, name, e.errors, res.info.group) from None

        async def mutate(current: Message, rv: int) -> Message | None:
            self._check_resource_version(res, name, expected, rv)
            new = merged(current)
            result = self._merge_update(res, current, new, subresource)
            if result is not new:  # a status apply: the result keeps new's managedFields
                managed = object_meta(result).managed_fields
                del managed[:]
                managed.extend(object_meta(new).managed_fields)
            return result

        for _ in range(4):
            try:
                written = await self._write(res, res.key(namespace, name), name, mutate, dry_run)
                return written, False
            except errors.NotFound as e:
                if subresource or e.status.details.name != name:
                    raise
            try:
                return await self.create(res, namespace, merged(None), dry_run=dry_run), True
            except errors.AlreadyExists:
                continue  # created meanwhile: apply to it
        raise self.conflict(res, name, "the object keeps being created and deleted; try again")

    def _check_applied(
        self, res: Resource, namespace: str, name: str, applied: dict[str, Any]
    ) -> None:
        """An applied configuration names this resource's type and this object;
        its fields are the kind's (strict: an unknown field is a BadRequest)."""
        version, kind = applied.get("apiVersion"), applied.get("kind")
        if version != res.info.api_version:
            raise errors.BadRequest(
                "Incorrect version specified in apply patch. Specified patch version: "
                f"{version}, expected: {res.info.api_version}"
            )
        if kind != res.info.kind:
            raise errors.BadRequest(
                f"the kind in the applied configuration ({kind}) does not match the expected "
                f"kind ({res.info.kind})"
            )
        meta = applied.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.BadRequest(
                "metadata: the applied configuration's metadata is not an object"
            )
        if meta.setdefault("name", name) != name:
            raise errors.BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if res.info.namespaced and meta.setdefault("namespace", namespace) != namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        fields = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
        try:
            codec.from_dict(res.info.message_class, fields)
        except codec.CodecError as e:
            where = f"{namespace}/{name}" if namespace else name
            raise errors.BadRequest(
                f"failed to create typed patch object ({where}; {res.info.api_version}, "
                f"Kind={res.info.kind}): " + "; ".join(str(fe) for fe in e.errors)
            ) from None

    # ---- scale -----------------------------------------------------------------

    async def get_scale(self, res: Resource, namespace: str, name: str) -> scale_pb2.Scale:
        stored = await self.get(res, namespace, name)
        return self._scale_of(res, stored.obj)

    def _scale_of(self, res: Resource, obj: Message) -> scale_pb2.Scale:
        if not res.strategy.has_scale:
            raise errors.MethodNotAllowed(f"{res.qualified} has no scale subresource")
        spec_replicas, status_replicas, selector = res.strategy.scale_replicas(obj)
        meta = object_meta(obj)
        scale = scale_pb2.Scale(api_version="autoscaling/v1", kind="Scale")
        for f in ("name", "namespace", "uid", "resource_version", "creation_timestamp"):
            setattr(scale.metadata, f, getattr(meta, f))
        scale.spec.replicas = spec_replicas
        scale.status.replicas = status_replicas
        scale.status.selector = selector
        return scale

    async def update_scale(
        self,
        res: Resource,
        namespace: str,
        scale: scale_pb2.Scale,
        *,
        dry_run: bool = False,
        field_manager: str = "",
    ) -> scale_pb2.Scale:
        if not res.strategy.has_scale:
            raise errors.MethodNotAllowed(f"{res.qualified} has no scale subresource")
        name = scale.metadata.name
        replicas = scale.spec.replicas
        if replicas < 0:
            raise errors.invalid(
                "Scale",
                name,
                [
                    metavalidation.invalid_value(
                        "spec.replicas", replicas, "must be greater than or equal to 0"
                    )
                ],
                "autoscaling",
            )
        expected = _parse_rv(scale.metadata.resource_version)

        async def mutate(current: Message, rv: int) -> Message | None:
            self._check_resource_version(res, name, expected, rv)
            new = copy_message(current)
            res.strategy.set_scale_replicas(new, replicas)
            merged = self._merge_update(res, current, new, "")
            return self._tracked(res, current, merged, field_manager, "scale")

        obj = await self._write(res, res.key(namespace, name), name, mutate, dry_run)
        return self._scale_of(res, obj)

    # ---- delete ----------------------------------------------------------------

    async def delete(
        self, res: Resource, namespace: str, name: str, options: meta_pb2.DeleteOptions
    ) -> DeleteResult:
        key = res.key(namespace, name)
        validate_delete_options(options)
        for _ in range(16):
            current = await self.get(res, namespace, name)
            if self.admit is not None:
                self.admit(res, None, current.obj)
            obj = copy_message(current.obj)
            meta = object_meta(obj)
            check_preconditions(res.qualified, name, meta, current.rv, options.preconditions)
            pending = begin_delete(res.strategy, obj, options, self._now())
            if pending:
                if current.obj == obj:
                    return DeleteResult(current.obj, False)
                stored = await res.store.put_if_unchanged(key, obj, current.rv, old=current.obj)
                if stored is not None:
                    return DeleteResult(stored.obj, False)
                continue
            if await res.store.delete_if_unchanged(key, current.rv, old=current.obj):
                return DeleteResult(current.obj, True)
        raise self.conflict(res, name, "the object keeps changing; try the delete again")

    async def delete_collection(
        self, res: Resource, flt: Filter, options: meta_pb2.DeleteOptions
    ) -> builtins.list[Message]:
        """Delete every object ``flt`` matches. Each is tried even when an
        earlier one fails; the failures are raised together afterwards."""
        await res.cache.wait_fresh(await res.store.current_revision())
        items, _ = res.cache.list(flt)
        deleted = []
        failed: builtins.list[errors.ApiError] = []
        for item in items:
            try:
                result = await self.delete(res, item.namespace, item.name, options)
            except errors.NotFound:
                continue
            except errors.ApiError as e:
                failed.append(e)
                continue
            deleted.append(result.obj)
        err = errors.aggregate(failed)
        if err is not None:
            raise err
        return deleted

    # ---- bind ------------------------------------------------------------------

    async def bind(
        self, res: Resource, namespace: str, name: str, binding: binding_pb2.Binding
    ) -> pod_pb2.Pod:
        target = binding.target
        if not target.name:
            raise errors.invalid(
                "Binding", name, [metavalidation.required("target.name", "a node name is required")]
            )
        if target.kind and target.kind != "Node":
            raise errors.invalid(
                "Binding",
                name,
                [metavalidation.not_supported("target.kind", target.kind, ["Node"])],
            )
        bname = binding.metadata.name or name
        if bname != name:
            raise errors.BadRequest(f"the binding's name {bname!r} does not match the pod {name!r}")

        async def mutate(current: Message, rv: int) -> Message | None:
            pod = _as_pod(current)
            if pod.metadata.deletion_timestamp:
                raise self.conflict(res, name, "pod is being deleted, cannot be assigned to a host")
            if pod.spec.node_name:
                raise self.conflict(
                    res,
                    name,
                    f'pod {name} is already assigned to node "{pod.spec.node_name}"',
                )
            pod.spec.node_name = target.name
            _set_pod_scheduled(pod, self._now())
            return pod

        stored, _ = await res.store.guaranteed_update(
            res.key(namespace, name), mutate, not_found=lambda: self.not_found(res, name)
        )
        return _as_pod(stored.obj)


def _as_pod(obj: Message) -> pod_pb2.Pod:
    """obj as the Pod it is: only the pods resource serves bind."""
    if not isinstance(obj, pod_pb2.Pod):  # pragma: no cover - the pods store holds Pods
        raise TypeError(f"a binding targets a Pod, not a {obj.DESCRIPTOR.full_name}")
    return obj


def _set_pod_scheduled(pod: pod_pb2.Pod, now: str) -> None:
    """PodScheduled=True, as Kubernetes' binding does (podutil.UpdatePodCondition)."""
    set_condition(
        pod.status.conditions,
        pod_pb2.PodCondition(type=POD_SCHEDULED, status="True", last_transition_time=now),
    )


def _split(res: Resource, key: str) -> tuple[str, str]:
    rest = key[len(res.prefix) :]
    if res.info.namespaced:
        ns, _, name = rest.partition("/")
        return ns, name
    return "", rest


def _parse_rv(rv: str) -> int | None:
    if not rv:
        return None
    try:
        return int(rv)
    except ValueError:
        raise errors.BadRequest(
            f'invalid resourceVersion "{rv}": must be one returned by the server'
        ) from None

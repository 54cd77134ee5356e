"""A fake API client for unit tests, like client-go's fake clientset
(k8s.io/client-go/kubernetes/fake over k8s.io/client-go/testing).

    client = FakeClient(rs, pod)                  # objects the "server" holds
    client.fail("update", "replicasets", errors.Conflict("modified"), times=1)
    ctl = ReplicaSetController(ControllerContext(client=client, ...))
    await ctl.sync("ns/web")
    assert client.verbs("update") == [...]        # every call, as an Action

It has the same surface as `AsyncClient` for components: per-kind handles
(``client.pods("ns")``, ``client.resource(kind, ns)``) with get, list,
watch, create, update, update_status, patch, delete, delete_collection,
get_scale, scale and bind, and ``client.create(obj)``.

Guarantees:

* Every call through a handle is recorded, in order, as an `Action` (verb,
  resource, namespace, name, subresource, a copy of the object sent, the
  patch, the options) before anything else happens, failed calls included.
* Reactors run first, newest first, as client-go's ``PrependReactor``: one
  that answers (handled=True) or raises ends the call; otherwise the object
  tracker answers.
* The tracker is an in-memory server: objects are stored and returned as
  copies (never the caller's object); every write stamps a new
  resourceVersion from one counter; create sets uid (``uid-<name>`` unless
  given; ``uid-<name>-2`` for the second object of that name), creationTimestamp (from ``clock``) and generation 1, generateName
  gets a deterministic suffix; a write carrying a resourceVersion other than
  the stored one is a Conflict, as are delete preconditions that do not
  hold; missing objects are NotFound, duplicates AlreadyExists, with
  Kubernetes' messages. Patches are merge or JSON patches, as the apiserver
  takes them.
* Simplifications (as client-go's tracker): update and update_status store
  the object as sent (no spec/status split, no generation bump); delete
  removes the object at once unless it has finalizers (then it gets a
  deletionTimestamp), with no grace period and no garbage collection; field
  selectors compare a dotted path of the object's JSON form.
* Watches see every write made through the client after the requested
  resourceVersion ("" or "0": the current objects first, as ADDED), and
  what a test injects with `inject_watch` (an event, or an exception that
  breaks the open streams). Changing ``client.tracker`` directly is a change
  no watch sees (as if it happened while the watch was broken).
"""

from __future__ import annotations

import asyncio
import builtins
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2
from pinnace.client._accessors import KindAccessors, kind_info
from pinnace.client._requests import ObjectList, WatchEvent
from pinnace.machinery import codec, errors
from pinnace.machinery.fields import FieldSelector, parse_field_selector
from pinnace.machinery.kinds import BINDING, SCALE, KindInfo
from pinnace.machinery.labels import Selector, parse_selector
from pinnace.machinery.objects import object_meta
from pinnace.machinery.patch import PatchError, json_patch, merge_patch
from pinnace.machinery.timeutil import Clock, FakeClock, format_rfc3339

__all__ = ["Action", "FakeClient", "FakeResourceClient", "ObjectTracker", "Reaction"]

T = TypeVar("T", bound=Message)

Key = tuple[str, str, str]  # (resource, namespace, name)


@dataclass(frozen=True)
class Action:
    """One call made through the fake client.

    ``resource`` is the plural ("pods", "replicasets"); ``object`` a copy of
    the object sent (create, update, update_status; the Scale or Binding for
    scale and bind); ``patch`` the decoded patch; ``options`` the keyword
    arguments of delete, list and watch (selectors, resource_version, ...).
    """

    verb: str
    resource: str
    namespace: str
    name: str = ""
    subresource: str = ""
    object: Any = None
    patch: Any = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, verb: str, resource: str) -> bool:
        """client-go's ``Action.Matches``, with "*" matching any verb or resource."""
        return verb in ("*", self.verb) and resource in ("*", self.resource)


# A reactor gets the action and returns (handled, result): handled=False
# passes the call on; raising fails the call with that error.
Reaction = Callable[[Action], tuple[bool, Any]]


@dataclass
class _Reactor:
    verb: str
    resource: str
    reaction: Reaction


class ObjectTracker:
    """The fake server's state: objects by (resource, namespace, name) and
    the resourceVersion counter. Changing it directly records no action and
    sends no watch event."""

    def __init__(self) -> None:
        self.objects: dict[Key, Message] = {}
        self.resource_version = 0

    def add(self, *objs: Message) -> None:
        """Store copies of `objs` as they are (an empty resourceVersion gets
        the next one; a numeric one moves the counter up to it)."""
        for obj in objs:
            info = kind_info(type(obj))
            stored = _copy(obj)
            meta = stored.metadata
            if meta.resource_version.isdigit():
                self.resource_version = max(self.resource_version, int(meta.resource_version))
            else:
                meta.resource_version = self.next_version()
            self.objects[_key(info, meta.namespace, meta.name)] = stored

    def remove(self, resource: str, namespace: str, name: str) -> None:
        """Forget an object (no error if absent)."""
        self.objects.pop((resource, namespace, name), None)

    def get(self, resource: str, namespace: str, name: str) -> Message | None:
        """The stored object itself (not a copy), or None."""
        return self.objects.get((resource, namespace, name))

    def next_version(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)


class FakeClient(KindAccessors):
    """An in-memory stand-in for `AsyncClient` that records actions; see the
    module docstring."""

    def __init__(self, *objects: Message, clock: Clock | None = None) -> None:
        self.tracker = ObjectTracker()
        self.tracker.add(*objects)
        self.actions: list[Action] = []
        self.clock: Clock = clock or FakeClock()
        self._reactors: list[_Reactor] = []
        self._history: list[tuple[str, str, WatchEvent[Any]]] = []  # (resource, ns, event)
        self._watches: list[_Watch] = []
        self._pending_breaks: dict[str, list[BaseException]] = {}
        self._generated = 0
        self._created: dict[Key, int] = {}

    # ---- the AsyncClient surface --------------------------------------------------

    def resource(self, kind: Any, namespace: str = "default") -> FakeResourceClient[Any]:
        return FakeResourceClient(self, kind_info(kind), namespace)

    async def create(self, obj: Message, *, dry_run: bool = False) -> Any:
        ns = _meta(obj).namespace or "default"
        return await self.resource(type(obj), ns).create(obj, dry_run=dry_run)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    # ---- what tests use -----------------------------------------------------------

    def prepend_reactor(self, verb: str, resource: str, reaction: Reaction) -> None:
        """Run `reaction` before the tracker (and before earlier reactors) on
        calls matching verb and resource ("*" for any)."""
        self._reactors.insert(0, _Reactor(verb, resource, reaction))

    def fail(
        self,
        verb: str,
        resource: str,
        error: BaseException,
        *,
        name: str = "",
        times: int | None = None,
    ) -> None:
        """Make matching calls raise `error`: only on object `name` if given,
        only the next `times` of them if given."""
        left = [times]

        def reaction(action: Action) -> tuple[bool, Any]:
            if (name and action.name != name) or left[0] == 0:
                return False, None
            if left[0] is not None:
                left[0] -= 1
            raise error

        self.prepend_reactor(verb, resource, reaction)

    def verbs(self, *verbs: str) -> list[Action]:
        """The actions with one of these verbs, in order."""
        return [a for a in self.actions if a.verb in verbs]

    def inject_watch(self, resource: str, item: WatchEvent[Any] | BaseException) -> None:
        """Send an event to the watches of `resource` (open ones, and later
        ones whose resourceVersion is older than the event's), or break the
        open watches with an exception (the next watch opened if none is)."""
        if isinstance(item, BaseException):
            targets = [w for w in self._watches if w.resource == resource]
            if not targets:
                self._pending_breaks.setdefault(resource, []).append(item)
            for w in targets:
                w.queue.put_nowait(item)
            return
        namespace = item.object.metadata.namespace if item.object is not None else ""
        self._publish(resource, namespace, item)

    # ---- internals ----------------------------------------------------------------

    def _react(self, action: Action) -> tuple[bool, Any]:
        self.actions.append(action)
        for reactor in list(self._reactors):
            if action.matches(reactor.verb, reactor.resource):
                handled, result = reactor.reaction(action)
                if handled:
                    return True, result
        return False, None

    def _publish(self, resource: str, namespace: str, event: WatchEvent[Any]) -> None:
        self._history.append((resource, namespace, event))
        for w in self._watches:
            if w.wants(resource, namespace, event):
                w.queue.put_nowait(event)

    def _new_uid(self, resource: str, namespace: str, name: str) -> str:
        """A uid for a new object: uid-<name>, then uid-<name>-2, ... when re-created."""
        n = self._created[(resource, namespace, name)] = (
            self._created.get((resource, namespace, name), 0) + 1
        )
        return f"uid-{name}" if n == 1 else f"uid-{name}-{n}"

    def _generate_name(self, prefix: str) -> str:
        self._generated += 1
        return f"{prefix}{self._generated:05d}"


class _Watch:
    def __init__(
        self, resource: str, namespace: str, label_selector: str, field_selector: str
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.labels = parse_selector(label_selector)
        self.fields = parse_field_selector(field_selector)
        self.queue: asyncio.Queue[WatchEvent[Any] | BaseException] = asyncio.Queue()

    def wants(self, resource: str, namespace: str, event: WatchEvent[Any]) -> bool:
        if resource != self.resource:
            return False
        if event.object is None:  # a bookmark
            return True
        if self.namespace and namespace != self.namespace:
            return False
        return _selected(event.object, self.labels, self.fields)


class FakeResourceClient(Generic[T]):
    """Every verb on one kind in one namespace, as `AsyncResourceClient`."""

    def __init__(self, client: FakeClient, info: KindInfo, namespace: str) -> None:
        self._client = client
        self._tracker = client.tracker
        self.info = info
        self.namespace = namespace if info.namespaced else ""
        self._resource = info.plural

    # ---- reads --------------------------------------------------------------------

    async def get(self, name: str) -> T:
        handled, result = self._act("get", name)
        return cast(T, result if handled else _copy(self._stored(self.namespace, name)))

    async def list(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> ObjectList[T]:
        handled, result = self._act(
            "list",
            options={
                "label_selector": label_selector,
                "field_selector": field_selector,
                "limit": limit,
                "continue_token": continue_token,
                "resource_version": resource_version,
            },
        )
        if handled:
            return cast("ObjectList[T]", result)
        items = self._matching(label_selector, field_selector)
        start = int(continue_token or 0)
        end = start + limit if limit else len(items)
        token = str(end) if end < len(items) else ""
        return ObjectList(
            items=[_copy(o) for o in items[start:end]],
            resource_version=str(self._tracker.resource_version),
            continue_token=token,
        )

    async def watch(
        self,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[WatchEvent[T]]:
        handled, result = self._act(
            "watch",
            options={
                "resource_version": resource_version,
                "label_selector": label_selector,
                "field_selector": field_selector,
                "allow_bookmarks": allow_bookmarks,
            },
        )
        if handled:
            async for ev in result:
                yield ev
            return
        watch = _Watch(self._resource, self.namespace, label_selector, field_selector)
        for broken in self._client._pending_breaks.pop(self._resource, []):
            watch.queue.put_nowait(broken)
        if resource_version in ("", "0"):
            for obj in self._matching(label_selector, field_selector):
                rv = _meta(obj).resource_version
                watch.queue.put_nowait(WatchEvent("ADDED", _copy(obj), rv))
        else:
            since = int(resource_version)
            for resource, ns, ev in self._client._history:
                if _version(ev) > since and watch.wants(resource, ns, ev):
                    watch.queue.put_nowait(ev)
        self._client._watches.append(watch)
        try:
            while True:
                item = await watch.queue.get()
                if isinstance(item, BaseException):
                    raise item
                if item.type == "BOOKMARK" and not allow_bookmarks:
                    continue
                yield item
        finally:
            self._client._watches.remove(watch)

    # ---- writes -------------------------------------------------------------------

    async def create(self, obj: T, *, dry_run: bool = False) -> T:
        self._check(obj)
        meta = _meta(obj)
        ns = self.namespace or (meta.namespace if self.info.namespaced else "")
        handled, result = self._act(
            "create", meta.name, namespace=ns, obj=obj, options={"dry_run": dry_run}
        )
        if handled:
            return cast(T, result)
        new = _copy(obj)
        meta = new.metadata
        meta.namespace = ns
        if not meta.name and meta.generate_name:
            meta.name = self._client._generate_name(meta.generate_name)
        if not meta.name:
            raise errors.Invalid(f"{self.info.kind}: metadata.name: Required value")
        if self._tracker.get(self._resource, ns, meta.name) is not None:
            raise errors.AlreadyExists(
                f'{self.info.resource} "{meta.name}" already exists',
                kind=self.info.kind,
                name=meta.name,
            )
        meta.uid = meta.uid or self._client._new_uid(self._resource, ns, meta.name)
        meta.creation_timestamp = format_rfc3339(self._client.clock.now())
        meta.generation = meta.generation or 1
        meta.resource_version = ""
        if dry_run:
            return cast(T, new)
        return cast(T, self._write("ADDED", new))

    async def update(self, obj: T, *, dry_run: bool = False) -> T:
        return await self._update(obj, "", dry_run)

    async def update_status(self, obj: T) -> T:
        return await self._update(obj, "status", False)

    async def patch(
        self,
        name: str,
        patch: Mapping[str, Any] | builtins.list[Any] | str | bytes,
        *,
        patch_type: str = "merge",
        subresource: str = "",
        dry_run: bool = False,
    ) -> T:
        doc = json.loads(patch) if isinstance(patch, (str, bytes)) else patch
        handled, result = self._act(
            "patch",
            name,
            subresource=subresource,
            patch=doc,
            options={"patch_type": patch_type, "dry_run": dry_run},
        )
        if handled:
            return cast(T, result)
        current = self._stored(self.namespace, name)
        try:
            if patch_type == "merge":
                patched = merge_patch(codec.to_dict(current), doc)
            elif patch_type == "json":
                patched = json_patch(codec.to_dict(current), doc)
            else:
                raise errors.BadRequest(
                    f'unsupported patch type "{patch_type}"; supported: merge, json'
                )
        except PatchError as e:
            raise errors.Invalid(f"the patch cannot be applied: {e}") from None
        new = codec.from_dict(type(current), patched)
        self._precondition(current, _meta(new).resource_version)
        if dry_run:
            return cast(T, new)
        return cast(T, self._write("MODIFIED", new))

    async def delete(self, name: str, **options: Any) -> T:
        handled, result = self._act("delete", name, options=options)
        if handled:
            return cast(T, result)
        current = self._stored(self.namespace, name)
        uid = options.get("uid")
        if uid is not None and uid != current.metadata.uid:
            raise self._conflict(name, f"Precondition failed: UID in precondition: {uid}")
        rv = options.get("resource_version")
        if rv is not None:
            self._precondition(current, rv)
        if options.get("dry_run"):
            return cast(T, _copy(current))
        meta = current.metadata
        if meta.finalizers:
            if not meta.deletion_timestamp:
                gone = _copy(current)
                gone.metadata.deletion_timestamp = format_rfc3339(self._client.clock.now())
                return cast(T, self._write("MODIFIED", gone))
            return cast(T, _copy(current))
        self._tracker.remove(self._resource, meta.namespace, name)
        gone = _copy(current)
        gone.metadata.resource_version = self._tracker.next_version()
        self._client._publish(
            self._resource,
            meta.namespace,
            WatchEvent("DELETED", _copy(gone), gone.metadata.resource_version),
        )
        return cast(T, gone)

    async def delete_collection(
        self, *, label_selector: str = "", field_selector: str = "", **options: Any
    ) -> builtins.list[T]:
        handled, result = self._act(
            "delete-collection",
            options={"label_selector": label_selector, "field_selector": field_selector, **options},
        )
        if handled:
            return cast("builtins.list[T]", result)
        gone: builtins.list[T] = []
        for obj in self._matching(label_selector, field_selector):
            meta = _meta(obj)
            handle: FakeResourceClient[T] = FakeResourceClient(
                self._client, self.info, meta.namespace
            )
            gone.append(await handle.delete(meta.name, **options))
        return gone

    # ---- subresources -------------------------------------------------------------

    async def get_scale(self, name: str) -> Any:
        handled, result = self._act("get", name, subresource="scale")
        if handled:
            return result
        return self._scale_of(self._stored(self.namespace, name))

    async def scale(self, name: str, replicas: int, *, resource_version: str = "") -> Any:
        scale: Any = SCALE.new()
        scale.metadata.name, scale.metadata.namespace = name, self.namespace
        scale.metadata.resource_version = resource_version
        scale.spec.replicas = replicas
        handled, result = self._act("update", name, subresource="scale", obj=scale)
        if handled:
            return result
        new = _copy(self._stored(self.namespace, name))
        self._precondition(new, resource_version)
        new.spec.replicas = replicas
        return self._scale_of(self._write("MODIFIED", new))

    async def bind(self, name: str, node: str) -> T:
        if self.info.kind != "Pod":
            raise TypeError("only pods can be bound")
        binding: Any = BINDING.new()
        binding.metadata.name, binding.metadata.namespace = name, self.namespace
        binding.target.kind, binding.target.name = "Node", node
        handled, result = self._act("create", name, subresource="binding", obj=binding)
        if handled:
            return cast(T, result)
        pod = _copy(self._stored(self.namespace, name))
        if pod.spec.node_name:
            raise self._conflict(
                name,
                f'pod {name} is already assigned to node "{pod.spec.node_name}"',
            )
        pod.spec.node_name = node
        return cast(T, self._write("MODIFIED", pod))

    # ---- internals ----------------------------------------------------------------

    def _act(
        self,
        verb: str,
        name: str = "",
        *,
        namespace: str | None = None,
        subresource: str = "",
        obj: Message | None = None,
        patch: Any = None,
        options: Mapping[str, Any] | None = None,
    ) -> tuple[bool, Any]:
        action = Action(
            verb=verb,
            resource=self._resource,
            namespace=self.namespace if namespace is None else namespace,
            name=name,
            subresource=subresource,
            object=_copy(obj) if obj is not None else None,
            patch=patch,
            options=dict(options or {}),
        )
        return self._client._react(action)

    async def _update(self, obj: T, subresource: str, dry_run: bool) -> T:
        self._check(obj)
        meta = _meta(obj)
        ns = self.namespace or (meta.namespace if self.info.namespaced else "")
        handled, result = self._act(
            "update",
            meta.name,
            namespace=ns,
            subresource=subresource,
            obj=obj,
            options={"dry_run": dry_run},
        )
        if handled:
            return cast(T, result)
        current = self._stored(ns, meta.name)
        self._precondition(current, meta.resource_version)
        new = _copy(obj)
        new.metadata.namespace = ns
        if dry_run:
            return cast(T, new)
        return cast(T, self._write("MODIFIED", new))

    def _write(self, event_type: str, obj: Message) -> Any:
        """Store `obj` with a new resourceVersion, tell the watches, return a copy."""
        meta = _meta(obj)
        meta.resource_version = self._tracker.next_version()
        self._tracker.objects[(self._resource, meta.namespace, meta.name)] = obj
        event = WatchEvent(event_type, _copy(obj), meta.resource_version)
        self._client._publish(self._resource, meta.namespace, event)
        return _copy(obj)

    def _stored(self, namespace: str, name: str) -> Any:
        obj = self._tracker.get(self._resource, namespace, name)
        if obj is None:
            raise errors.NotFound(
                f'{self.info.resource} "{name}" not found', kind=self.info.kind, name=name
            )
        return obj

    def _matching(self, label_selector: str, field_selector: str) -> builtins.list[Message]:
        labels, fields = parse_selector(label_selector), parse_field_selector(field_selector)
        return [
            obj
            for (resource, ns, _), obj in sorted(self._tracker.objects.items())
            if resource == self._resource
            and (not self.namespace or ns == self.namespace)
            and _selected(obj, labels, fields)
        ]

    def _precondition(self, current: Message, resource_version: str) -> None:
        meta = _meta(current)
        if resource_version and resource_version != meta.resource_version:
            raise self._conflict(
                meta.name,
                "the object has been modified; please apply your changes "
                "to the latest version and try again",
            )

    def _conflict(self, name: str, why: str) -> errors.Conflict:
        return errors.Conflict(
            f'Operation cannot be fulfilled on {self.info.resource} "{name}": {why}',
            kind=self.info.kind,
            name=name,
        )

    def _check(self, obj: Message) -> None:
        if obj.DESCRIPTOR.full_name != self.info.message_name:
            raise TypeError(f"expected a {self.info.kind}, got {obj.DESCRIPTOR.full_name}")

    def _scale_of(self, obj: Any) -> Any:
        scale: Any = SCALE.new()
        scale.metadata.name = obj.metadata.name
        scale.metadata.namespace = obj.metadata.namespace
        scale.metadata.resource_version = obj.metadata.resource_version
        scale.spec.replicas = obj.spec.replicas
        scale.status.replicas = obj.status.replicas
        return scale


def _meta(obj: Message) -> meta_pb2.ObjectMeta:
    """The ObjectMeta of any served kind."""
    return object_meta(obj)


def _key(info: KindInfo, namespace: str, name: str) -> Key:
    return (info.plural, namespace if info.namespaced else "", name)


def _copy(obj: Any) -> Any:
    new = type(obj)()
    new.CopyFrom(obj)
    return new


def _version(event: WatchEvent[Any]) -> int:
    return int(event.resource_version) if event.resource_version.isdigit() else 0


def _selected(obj: Any, labels: Selector, fields: FieldSelector) -> bool:
    if not labels.matches(obj.metadata.labels):
        return False
    if fields.empty:
        return True
    doc = codec.to_dict(obj)
    return fields.matches({f: _field_value(doc, f) for f in fields.fields()})


def _field_value(doc: Mapping[str, Any], path: str) -> str:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)

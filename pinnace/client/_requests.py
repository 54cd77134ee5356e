"""Request building and answer decoding shared by the sync and async clients.

Only sending differs between ``Client`` and ``AsyncClient``; everything that
turns arguments into request messages, and answers into typed objects, is
here once.
"""

from __future__ import annotations

import builtins
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar, cast

import grpc
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.api.core.v1 import binding_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.api.service.v1 import api_pb2
from pinnace.client.config import ClientConfig
from pinnace.machinery import errors
from pinnace.machinery.kinds import BINDING, SCALE, KindInfo
from pinnace.machinery.objects import object_meta

T = TypeVar("T", bound=Message)
C = TypeVar("C")

SERVICE = "/pinnace.api.service.v1.Api/"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]

UNARY: dict[str, tuple[type[Message], type[Message] | None]] = {
    "Create": (api_pb2.CreateRequest, api_pb2.ObjectResponse),
    "Get": (api_pb2.GetRequest, api_pb2.ObjectResponse),
    # List answers are decoded per kind (typed_list_class), so they arrive as bytes.
    "List": (api_pb2.ListRequest, None),
    "Update": (api_pb2.UpdateRequest, api_pb2.ObjectResponse),
    "Patch": (api_pb2.PatchRequest, api_pb2.ObjectResponse),
    "Delete": (api_pb2.DeleteRequest, api_pb2.DeleteResponse),
    "DeleteCollection": (api_pb2.DeleteCollectionRequest, api_pb2.ListResponse),
    "Discovery": (api_pb2.DiscoveryRequest, api_pb2.DiscoveryResponse),
}


def target(endpoints: Sequence[str]) -> str:
    """A gRPC target over every endpoint (pick_first fails over in order)."""
    if len(endpoints) == 1:
        return endpoints[0]
    return "ipv4:" + ",".join(endpoints)


def channel(config: ClientConfig, insecure: Callable[..., C], secure: Callable[..., C]) -> C:
    """A channel (sync or aio: the module's insecure_channel and secure_channel)
    to the config's endpoints, over TLS with its credentials when it has a CA."""
    options = [*CHANNEL_OPTIONS, *config.channel_options()]
    credentials = config.channel_credentials()
    if credentials is None:
        return insecure(target(config.servers), options=options)
    return secure(target(config.servers), credentials, options=options)


# A patch body: a merge patch as a mapping, a JSON patch as a list, or either
# already encoded.
Patch = Mapping[str, Any] | builtins.list[Any] | str | bytes


class ListOptions(TypedDict, total=False):
    """The options of a list (the keyword arguments of a handle's ``list``)."""

    label_selector: str
    field_selector: str
    limit: int
    continue_token: str
    resource_version: str


class DeleteOptions(TypedDict, total=False):
    """The options of a delete (``delete_options`` builds the message)."""

    grace_period_seconds: int | None
    propagation_policy: str | None
    orphan_dependents: bool | None
    uid: str | None
    resource_version: str | None
    dry_run: bool


class PatchOptions(TypedDict, total=False):
    """The options of a patch: ``patch_type`` "merge" (default) or "json"."""

    patch_type: str
    subresource: str
    dry_run: bool


@dataclass(frozen=True)
class ObjectList(Generic[T]):
    """One list answer: the items and the list's resourceVersion."""

    items: list[T]
    resource_version: str
    continue_token: str = ""


@dataclass(frozen=True)
class WatchEvent(Generic[T]):
    """ADDED, MODIFIED, DELETED or BOOKMARK (object None)."""

    type: str
    object: T | None
    resource_version: str


def pack(obj: Message) -> any_pb2.Any:
    return any_pb2.Any(
        type_url=f"type.googleapis.com/{obj.DESCRIPTOR.full_name}", value=obj.SerializeToString()
    )


def unpack(info: KindInfo, packed: any_pb2.Any) -> Any:
    got = packed.type_url.rpartition("/")[2]
    if got != info.message_name:
        raise errors.BadRequest(f"the server answered with a {got}, expected {info.message_name}")
    return info.message_class.FromString(packed.value)


class Requests(Generic[T]):
    """Builds the requests of one resource handle (a kind in a namespace) and
    decodes its answers as ``T``, the kind's message class. ``T`` is what the
    handle was declared with; ``unpack`` checks the answer's type at run time."""

    def __init__(self, info: KindInfo, namespace: str) -> None:
        self.info = info
        self.namespace = namespace if info.namespaced else ""

    def _check(self, obj: Message) -> None:
        if obj.DESCRIPTOR.full_name != self.info.message_name:
            raise TypeError(f"expected a {self.info.kind}, got {obj.DESCRIPTOR.full_name}")

    def _namespace_of(self, obj: Message) -> str:
        return self.namespace or object_meta(obj).namespace

    def get(self, name: str, subresource: str = "") -> api_pb2.GetRequest:
        return api_pb2.GetRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            name=name,
            subresource=subresource,
        )

    def list(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> api_pb2.ListRequest:
        return api_pb2.ListRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
        )

    def create(self, obj: Message, dry_run: bool) -> api_pb2.CreateRequest:
        self._check(obj)
        return api_pb2.CreateRequest(
            resource=self.info.resource,
            namespace=self._namespace_of(obj),
            object=pack(obj),
            dry_run=dry_run,
        )

    def update(self, obj: Message, subresource: str, dry_run: bool) -> api_pb2.UpdateRequest:
        self._check(obj)
        return api_pb2.UpdateRequest(
            resource=self.info.resource,
            namespace=self._namespace_of(obj),
            object=pack(obj),
            subresource=subresource,
            dry_run=dry_run,
        )

    def patch(
        self,
        name: str,
        patch: Patch,
        *,
        patch_type: str = "merge",
        subresource: str = "",
        dry_run: bool = False,
    ) -> api_pb2.PatchRequest:
        if isinstance(patch, (dict, list)) or isinstance(patch, Mapping):
            body = json.dumps(patch).encode()
        elif isinstance(patch, str):
            body = patch.encode()
        else:
            body = bytes(patch)
        return api_pb2.PatchRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            name=name,
            patch_type=patch_type,
            patch=body,
            subresource=subresource,
            dry_run=dry_run,
        )

    def delete(self, name: str, options: meta_pb2.DeleteOptions) -> api_pb2.DeleteRequest:
        return api_pb2.DeleteRequest(
            resource=self.info.resource, namespace=self.namespace, name=name, options=options
        )

    def delete_collection(
        self, label_selector: str, field_selector: str, options: DeleteOptions
    ) -> api_pb2.DeleteCollectionRequest:
        return api_pb2.DeleteCollectionRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            options=delete_options(**options),
        )

    def watch(
        self,
        *,
        label_selector: str,
        field_selector: str,
        resource_version: str,
        allow_bookmarks: bool,
    ) -> api_pb2.WatchRequest:
        return api_pb2.WatchRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
        )

    def update_scale(
        self, name: str, replicas: int, resource_version: str
    ) -> api_pb2.UpdateRequest:
        scale = scale_pb2.Scale(api_version=SCALE.api_version, kind=SCALE.kind)
        scale.metadata.name = name
        scale.metadata.namespace = self.namespace
        scale.metadata.resource_version = resource_version
        scale.spec.replicas = replicas
        return api_pb2.UpdateRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            object=pack(scale),
            subresource="scale",
        )

    def bind(self, name: str, node: str) -> api_pb2.CreateRequest:
        if self.info.kind != "Pod":
            raise TypeError("only pods can be bound")
        binding = binding_pb2.Binding(api_version=BINDING.api_version, kind=BINDING.kind)
        binding.metadata.name = name
        binding.metadata.namespace = self.namespace
        binding.target.kind = "Node"
        binding.target.name = node
        return api_pb2.CreateRequest(
            resource=self.info.resource,
            namespace=self.namespace,
            name=name,
            subresource="binding",
            object=pack(binding),
        )

    # ---- answers ---------------------------------------------------------------

    def object(self, resp: api_pb2.ObjectResponse) -> T:
        return cast(T, unpack(self.info, resp.object))

    def deleted(self, resp: api_pb2.DeleteResponse) -> T:
        return cast(T, unpack(self.info, resp.object))

    def typed_items(self, raw: bytes) -> ObjectList[T]:
        """A List answer decoded in one pass into this kind's messages."""
        # The list class is built at run time (typed_list_class): it has no
        # stub, so its fields are read untyped; its items are T by construction.
        resp: Any = typed_list_class(self.info.message_class).FromString(raw)
        return ObjectList(
            items=[item.value for item in resp.items],
            resource_version=resp.metadata.resource_version,
            continue_token=resp.metadata.continue_token,
        )

    def items(self, resp: api_pb2.ListResponse) -> ObjectList[T]:
        cls = self.info.message_class
        return ObjectList(
            items=[cast(T, cls.FromString(a.value)) for a in resp.items],
            resource_version=resp.metadata.resource_version,
            continue_token=resp.metadata.continue_token,
        )

    def scale(self, resp: api_pb2.ObjectResponse) -> scale_pb2.Scale:
        return cast(scale_pb2.Scale, unpack(SCALE, resp.object))

    def event(self, ev: api_pb2.WatchEvent) -> WatchEvent[T]:
        obj = unpack(self.info, ev.object) if ev.object.type_url else None
        return WatchEvent(type=ev.type, object=obj, resource_version=ev.resource_version)


def typed_list_class(message_class: type[Message]) -> type[Message]:
    """A message class with ListResponse's wire format whose items decode
    straight into ``message_class``: ``Item{type_url = 1; K value = 2}`` has
    the encoding of ``Any`` holding a K. Decoding a 10,000-pod list in one
    protobuf call is ~3x faster than decoding 10,000 ``Any`` values one by
    one in Python. Built once per kind, at run time, in the default
    descriptor pool."""
    return _typed_list_class(message_class.DESCRIPTOR.full_name)


@functools.cache
def _typed_list_class(full_name: str) -> type[Message]:
    desc = descriptor_pool.Default().FindMessageTypeByName(full_name)
    package = "pinnace.client.typedlist." + desc.full_name.replace(".", "_")
    pool = descriptor_pool.Default()
    f = descriptor_pb2.FileDescriptorProto(
        name=package.replace(".", "/") + ".proto", package=package, syntax="proto3"
    )
    f.dependency.extend([desc.file.name, meta_pb2.DESCRIPTOR.name])
    field = descriptor_pb2.FieldDescriptorProto
    item = f.message_type.add(name="Item")
    item.field.add(name="type_url", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    item.field.add(
        name="value",
        number=2,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_OPTIONAL,
        type_name="." + desc.full_name,
    )
    lst = f.message_type.add(name="List")
    lst.field.add(
        name="metadata",
        number=1,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_OPTIONAL,
        type_name=".pinnace.api.meta.v1.ListMeta",
    )
    lst.field.add(
        name="items",
        number=2,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_REPEATED,
        type_name=f".{package}.Item",
    )
    pool.Add(f)
    cls: type[Message] = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{package}.List")
    )
    return cls


def delete_options(
    *,
    grace_period_seconds: int | None = None,
    propagation_policy: str | None = None,
    orphan_dependents: bool | None = None,
    uid: str | None = None,
    resource_version: str | None = None,
    dry_run: bool = False,
) -> meta_pb2.DeleteOptions:
    """DeleteOptions with only what was given set (presence matters)."""
    opts = meta_pb2.DeleteOptions()
    if grace_period_seconds is not None:
        opts.grace_period_seconds = grace_period_seconds
    if propagation_policy is not None:
        opts.propagation_policy = propagation_policy
    if orphan_dependents is not None:
        opts.orphan_dependents = orphan_dependents
    if uid is not None:
        opts.preconditions.uid = uid
    if resource_version is not None:
        opts.preconditions.resource_version = resource_version
    if dry_run:
        opts.dry_run.append("All")
    return opts


def translate(err: grpc.RpcError) -> errors.ApiError:
    return errors.from_grpc_error(err)


class ResumePoint:
    """Where a broken watch resumes, shared by the sync and async clients.

    A watch from "" or "0" first gets the current objects as ADDED events
    (each with its own resourceVersion, in key order, not version order) and
    then a BOOKMARK with the snapshot's resourceVersion. Until that bookmark
    a resume must start over; after it, it continues from the last event.
    The client always asks for bookmarks and hides them from callers that
    did not (``deliver`` says whether to pass an event on).
    """

    def __init__(self, resource_version: str, allow_bookmarks: bool) -> None:
        self._start = resource_version
        self._initial = resource_version in ("", "0")
        self.resource_version = resource_version
        self._bookmarks = allow_bookmarks

    @property
    def request_version(self) -> str:
        return self._start if self._initial else self.resource_version

    def deliver(self, ev: api_pb2.WatchEvent) -> bool:
        if ev.type == "BOOKMARK":
            self.resource_version = ev.resource_version or self.resource_version
            self._initial = False
            return self._bookmarks
        if not self._initial:
            self.resource_version = ev.resource_version or self.resource_version
        return True


# Watch resumption: reconnect delays after a broken stream.
RESUME_BACKOFF_START = 0.05
RESUME_BACKOFF_MAX = 2.0

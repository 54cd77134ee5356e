"""Typed handles on one kind in one namespace: ``ResourceClient[T]`` (blocking)
and ``AsyncResourceClient[T]`` (asyncio).

``client.deployments("ns")`` is a ``ResourceClient[Deployment]``: ``get``
returns a ``Deployment``, ``list`` an ``ObjectList[Deployment]``, ``watch``
``WatchEvent[Deployment]`` values. A handle made from a KindInfo or a name
(``client.resource("deploy", ns)``) is a ``ResourceClient[Any]``.

A handle builds its requests with ``_requests.Requests`` and sends them
through its client, which it sees only as a ``Transport`` (a unary ``call``
and ``open_watch``): the handles sit below the clients, so the per-kind
accessors (``_accessors``) can name the handle types without an import
cycle. Only sending differs between the two classes.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import AsyncGenerator, Generator
from typing import Any, Generic, Protocol, TypeVar, Unpack

import grpc
from google.protobuf.message import Message

from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.api.service.v1 import api_pb2
from pinnace.client import _requests as rq
from pinnace.machinery import errors
from pinnace.machinery.kinds import KindInfo

__all__ = ["AsyncResourceClient", "AsyncTransport", "ResourceClient", "Transport"]

log = logging.getLogger(__name__)
T = TypeVar("T", bound=Message)

# Errors after which a broken watch is resumed rather than raised.
_RESUMABLE = (errors.Unavailable, errors.InternalError)


class Transport(Protocol):
    """What a blocking handle needs of its client."""

    def call(self, method: str, request: Message, *, timeout: float | None = None) -> Any:
        """One unary call; gRPC errors become typed ApiErrors."""
        ...

    def open_watch(self, request: api_pb2.WatchRequest, *, timeout: float | None = None) -> Any:
        """A server stream of api WatchEvents (a grpc call: iterate, cancel)."""
        ...


class AsyncTransport(Protocol):
    """What an asyncio handle needs of its client."""

    async def call(self, method: str, request: Message, *, timeout: float | None = None) -> Any:
        """One unary call; gRPC errors become typed ApiErrors."""
        ...

    def open_watch(self, request: api_pb2.WatchRequest) -> Any:
        """A server stream of api WatchEvents (a grpc.aio call: async-iterate, cancel)."""
        ...


class _Handle(Generic[T]):
    """What the blocking and the asyncio handle share: the kind, the
    namespace, the request builder, and what a broken watch does."""

    def __init__(self, info: KindInfo, namespace: str) -> None:
        self._rq: rq.Requests[T] = rq.Requests(info, namespace)
        self.info = info
        self.namespace = self._rq.namespace

    def _watch_request(
        self, point: rq.ResumePoint, label_selector: str, field_selector: str
    ) -> api_pb2.WatchRequest:
        """The request that (re)opens a watch at ``point``; it always asks for
        bookmarks (ResumePoint hides them from callers that did not)."""
        return self._rq.watch(
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=point.request_version,
            allow_bookmarks=True,
        )

    def _resume_after(self, err: errors.ApiError, point: rq.ResumePoint) -> None:
        """Log a watch stream broken by ``err`` that resumes (the server went
        away or failed); raise ``err`` when a resume cannot help."""
        if not isinstance(err, _RESUMABLE):
            raise err from None
        log.debug(
            "watch %s broke (%s); resuming from %s",
            self.info.resource,
            err,
            point.request_version,
        )


class ResourceClient(_Handle[T]):
    """Every verb on one kind in one namespace."""

    def __init__(self, client: Transport, info: KindInfo, namespace: str) -> None:
        super().__init__(info, namespace)
        self._client = client

    def get(self, name: str) -> T:
        return self._rq.object(self._client.call("Get", self._rq.get(name)))

    def list(self, **options: Unpack[rq.ListOptions]) -> rq.ObjectList[T]:
        """One page of the kind's objects (all, unless ``limit``); options:
        label_selector, field_selector, limit, continue_token,
        resource_version."""
        return self._rq.typed_items(self._client.call("List", self._rq.list(**options)))

    def create(self, obj: T, *, dry_run: bool = False) -> T:
        return self._rq.object(self._client.call("Create", self._rq.create(obj, dry_run)))

    def update(self, obj: T, *, dry_run: bool = False) -> T:
        req = self._rq.update(obj, "", dry_run)
        return self._rq.object(self._client.call("Update", req))

    def update_status(self, obj: T) -> T:
        req = self._rq.update(obj, "status", False)
        return self._rq.object(self._client.call("Update", req))

    def patch(self, name: str, patch: rq.Patch, **options: Unpack[rq.PatchOptions]) -> T:
        """Patch; options: patch_type ("merge" or "json"), subresource, dry_run."""
        req = self._rq.patch(name, patch, **options)
        return self._rq.object(self._client.call("Patch", req))

    def delete(self, name: str, **options: Any) -> T:
        """Delete; options as rq.delete_options (grace_period_seconds,
        propagation_policy, orphan_dependents, uid, resource_version). Returns
        the object as deleted or, when deletion is pending, as it now is.
        (``**options`` stays untyped, not ``Unpack[rq.DeleteOptions]``: callers
        pass option dicts built at run time, which a checker cannot match.)"""
        resp = self._client.call("Delete", self._rq.delete(name, rq.delete_options(**options)))
        return self._rq.deleted(resp)

    def delete_collection(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        **options: Unpack[rq.DeleteOptions],
    ) -> builtins.list[T]:
        req = self._rq.delete_collection(label_selector, field_selector, options)
        return self._rq.items(self._client.call("DeleteCollection", req)).items

    def get_scale(self, name: str) -> scale_pb2.Scale:
        return self._rq.scale(self._client.call("Get", self._rq.get(name, "scale")))

    def scale(self, name: str, replicas: int, *, resource_version: str = "") -> scale_pb2.Scale:
        req = self._rq.update_scale(name, replicas, resource_version)
        return self._rq.scale(self._client.call("Update", req))

    def bind(self, name: str, node: str) -> T:
        return self._rq.object(self._client.call("Create", self._rq.bind(name, node)))

    def watch(
        self,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = True,
        timeout: float | None = None,
    ) -> Generator[rq.WatchEvent[T], None, None]:
        """Events after resource_version ("" : current objects as ADDED first).
        A broken stream is resumed from the last event seen, so no event is
        lost or repeated; Expired is raised when that point is too old (relist)."""
        point = rq.ResumePoint(resource_version, allow_bookmarks)
        deadline = None if timeout is None else time.monotonic() + timeout
        backoff = rq.RESUME_BACKOFF_START
        while True:
            req = self._watch_request(point, label_selector, field_selector)
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            stream = self._client.open_watch(req, timeout=remaining)
            try:
                for ev in stream:
                    backoff = rq.RESUME_BACKOFF_START
                    if point.deliver(ev):
                        yield self._rq.event(ev)
            except grpc.RpcError as e:
                err = rq.translate(e)
                if isinstance(err, errors.Timeout) and deadline is not None:
                    return
                self._resume_after(err, point)
            finally:
                stream.cancel()
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(backoff)
            backoff = min(backoff * 2, rq.RESUME_BACKOFF_MAX)


class AsyncResourceClient(_Handle[T]):
    """Every verb on one kind in one namespace (asyncio)."""

    def __init__(self, client: AsyncTransport, info: KindInfo, namespace: str) -> None:
        super().__init__(info, namespace)
        self._client = client

    async def get(self, name: str) -> T:
        return self._rq.object(await self._client.call("Get", self._rq.get(name)))

    async def list(self, **options: Unpack[rq.ListOptions]) -> rq.ObjectList[T]:
        """One page of the kind's objects (all, unless ``limit``); options:
        label_selector, field_selector, limit, continue_token,
        resource_version."""
        return self._rq.typed_items(await self._client.call("List", self._rq.list(**options)))

    async def create(self, obj: T, *, dry_run: bool = False) -> T:
        req = self._rq.create(obj, dry_run)
        return self._rq.object(await self._client.call("Create", req))

    async def update(self, obj: T, *, dry_run: bool = False) -> T:
        req = self._rq.update(obj, "", dry_run)
        return self._rq.object(await self._client.call("Update", req))

    async def update_status(self, obj: T) -> T:
        req = self._rq.update(obj, "status", False)
        return self._rq.object(await self._client.call("Update", req))

    async def patch(self, name: str, patch: rq.Patch, **options: Unpack[rq.PatchOptions]) -> T:
        """Patch; options: patch_type ("merge" or "json"), subresource, dry_run."""
        req = self._rq.patch(name, patch, **options)
        return self._rq.object(await self._client.call("Patch", req))

    async def delete(self, name: str, **options: Any) -> T:
        """Delete; options as in rq.delete_options. Returns the object as
        deleted or, when deletion is pending, as it now is."""
        req = self._rq.delete(name, rq.delete_options(**options))
        resp = await self._client.call("Delete", req)
        return self._rq.deleted(resp)

    async def delete_collection(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        **options: Unpack[rq.DeleteOptions],
    ) -> builtins.list[T]:
        req = self._rq.delete_collection(label_selector, field_selector, options)
        return self._rq.items(await self._client.call("DeleteCollection", req)).items

    async def get_scale(self, name: str) -> scale_pb2.Scale:
        return self._rq.scale(await self._client.call("Get", self._rq.get(name, "scale")))

    async def scale(
        self, name: str, replicas: int, *, resource_version: str = ""
    ) -> scale_pb2.Scale:
        req = self._rq.update_scale(name, replicas, resource_version)
        return self._rq.scale(await self._client.call("Update", req))

    async def bind(self, name: str, node: str) -> T:
        req = self._rq.bind(name, node)
        return self._rq.object(await self._client.call("Create", req))

    async def watch(
        self,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = True,
    ) -> AsyncGenerator[rq.WatchEvent[T], None]:
        """Events after resource_version ("": current objects as ADDED first).
        A broken stream is resumed from the last event seen (see
        ResumePoint), so no event is lost or repeated; Expired is raised when
        that point is too old (relist)."""
        point = rq.ResumePoint(resource_version, allow_bookmarks)
        backoff = rq.RESUME_BACKOFF_START
        while True:
            req = self._watch_request(point, label_selector, field_selector)
            stream = self._client.open_watch(req)
            try:
                async for ev in stream:
                    backoff = rq.RESUME_BACKOFF_START
                    if point.deliver(ev):
                        yield self._rq.event(ev)
            except grpc.RpcError as e:
                self._resume_after(rq.translate(e), point)
            finally:
                stream.cancel()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, rq.RESUME_BACKOFF_MAX)

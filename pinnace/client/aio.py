"""The asyncio client, for components and asyncio programs.

from pinnace.client import AsyncClient
async with AsyncClient("127.0.0.1:6443") as client:
    pods = await client.pods("default").list(label_selector="app=web")
    async for ev in client.pods("default").watch(resource_version=pods.resource_version):
        ...
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message

from pinnace.api.service.v1 import api_pb2
from pinnace.client import _requests as rq
from pinnace.client._accessors import KindAccessors, kind_info
from pinnace.client.config import resolve_server
from pinnace.machinery import errors

log = logging.getLogger(__name__)
T = TypeVar("T", bound=Message)

# Errors after which a broken watch is resumed rather than raised.
_RESUMABLE = (errors.Unavailable, errors.InternalError)


class AsyncClient(KindAccessors):
    """An asyncio connection to the API (one or several apiserver endpoints).
    Create it inside the event loop that uses it."""

    def __init__(self, server: str | list[str] | None = None, *, timeout: float = 30.0) -> None:
        self.endpoints = resolve_server(server)
        self.timeout = timeout
        self._channel = grpc.aio.insecure_channel(
            rq.target(self.endpoints), options=rq.CHANNEL_OPTIONS
        )
        self._unary = {
            name: self._channel.unary_unary(
                rq.SERVICE + name,
                request_serializer=req.SerializeToString,
                response_deserializer=resp.FromString if resp is not None else None,
            )
            for name, (req, resp) in rq.UNARY.items()
        }
        self._watch = self._channel.unary_stream(
            rq.SERVICE + "Watch",
            request_serializer=api_pb2.WatchRequest.SerializeToString,
            response_deserializer=api_pb2.WatchEvent.FromString,
        )

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, method: str, request: Message, *, timeout: float | None = None) -> Any:
        """One unary call; gRPC errors become typed ApiErrors."""
        try:
            return await self._unary[method](
                request, timeout=timeout or self.timeout, wait_for_ready=True
            )
        except grpc.RpcError as e:
            raise rq.translate(e) from None

    def resource(self, kind: Any, namespace: str = "default") -> AsyncResourceClient:
        """A handle on one kind in one namespace: a message class, a KindInfo
        or a name ("pods", "deploy", "deployments.apps")."""
        return AsyncResourceClient(self, kind_info(kind), namespace)

    async def discovery(self) -> api_pb2.DiscoveryResponse:
        return await self.call("Discovery", api_pb2.DiscoveryRequest())

    async def create(self, obj: Message, *, dry_run: bool = False) -> Any:
        """Create any object (its kind and namespace come from the object)."""
        ns = obj.metadata.namespace or "default"  # type: ignore[attr-defined]
        return await self.resource(type(obj), ns).create(obj, dry_run=dry_run)


class AsyncResourceClient(Generic[T]):
    """Every verb on one kind in one namespace."""

    def __init__(self, client: AsyncClient, info: Any, namespace: str) -> None:
        self._client = client
        self._rq = rq.Requests(info, namespace)
        self.info = info
        self.namespace = self._rq.namespace

    async def get(self, name: str) -> T:
        return self._rq.object(await self._client.call("Get", self._rq.get(name)))

    async def list(
        self,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> rq.ObjectList[T]:
        req = self._rq.list(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
        )
        return self._rq.typed_items(await self._client.call("List", req))

    async def create(self, obj: T, *, dry_run: bool = False) -> T:
        return self._rq.object(await self._client.call("Create", self._rq.create(obj, dry_run)))

    async def update(self, obj: T, *, dry_run: bool = False) -> T:
        return self._rq.object(await self._client.call("Update", self._rq.update(obj, "", dry_run)))

    async def update_status(self, obj: T) -> T:
        return self._rq.object(
            await self._client.call("Update", self._rq.update(obj, "status", False))
        )

    async def patch(
        self,
        name: str,
        patch: Mapping[str, Any] | list | str | bytes,
        *,
        patch_type: str = "merge",
        subresource: str = "",
        dry_run: bool = False,
    ) -> T:
        req = self._rq.patch(name, patch, patch_type, subresource, dry_run)
        return self._rq.object(await self._client.call("Patch", req))

    async def delete(self, name: str, **options: Any) -> T:
        """Delete; options as in rq.delete_options. Returns the object as
        deleted or, when deletion is pending, as it now is."""
        resp = await self._client.call(
            "Delete", self._rq.delete(name, rq.delete_options(**options))
        )
        return rq.unpack(self.info, resp.object)

    async def delete_collection(
        self, *, label_selector: str = "", field_selector: str = "", **options: Any
    ) -> list[T]:
        req = self._rq.delete_collection(
            label_selector=label_selector,
            field_selector=field_selector,
            options=rq.delete_options(**options),
        )
        return self._rq.items(await self._client.call("DeleteCollection", req)).items

    async def get_scale(self, name: str) -> Any:
        return self._rq.scale(await self._client.call("Get", self._rq.get(name, "scale")))

    async def scale(self, name: str, replicas: int, *, resource_version: str = "") -> Any:
        req = self._rq.update_scale(name, replicas, resource_version)
        return self._rq.scale(await self._client.call("Update", req))

    async def bind(self, name: str, node: str) -> T:
        return self._rq.object(await self._client.call("Create", self._rq.bind(name, node)))

    async def watch(
        self,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[rq.WatchEvent[T]]:
        """Events after resource_version ("": current objects as ADDED first).
        A broken stream is resumed from the last event seen (see
        ResumePoint), so no event is lost or repeated; Expired is raised when
        that point is too old (relist)."""
        point = rq.ResumePoint(resource_version, allow_bookmarks)
        backoff = rq.RESUME_BACKOFF_START
        while True:
            req = self._rq.watch(
                label_selector=label_selector,
                field_selector=field_selector,
                resource_version=point.request_version,
                allow_bookmarks=True,
            )
            stream = self._client._watch(req, wait_for_ready=True)
            try:
                async for ev in stream:
                    backoff = rq.RESUME_BACKOFF_START
                    if point.deliver(ev):
                        yield self._rq.event(ev)
            except grpc.RpcError as e:
                err = rq.translate(e)
                if not isinstance(err, _RESUMABLE):
                    raise err from None
                log.debug(
                    "watch %s broke (%s); resuming from %s",
                    self.info.resource,
                    err,
                    point.request_version,
                )
            finally:
                stream.cancel()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, rq.RESUME_BACKOFF_MAX)

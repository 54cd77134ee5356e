"""The asyncio client, for components and asyncio programs.

from pinnace.client import AsyncClient
async with AsyncClient("127.0.0.1:6443") as client:
    pods = await client.pods("default").list(label_selector="app=web")
    async for ev in client.pods("default").watch(resource_version=pods.resource_version):
        ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar, overload

import grpc
from google.protobuf.message import Message

from pinnace.api.service.v1 import api_pb2
from pinnace.client import _requests as rq
from pinnace.client._accessors import AsyncKinds, kind_info
from pinnace.client.config import ClientConfig, load_config
from pinnace.client.handles import AsyncResourceClient
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.objects import object_meta

__all__ = ["AsyncClient", "AsyncResourceClient"]

T = TypeVar("T", bound=Message)


class AsyncClient(AsyncKinds):
    """An asyncio connection to the API (one or several apiserver endpoints).
    Create it inside the event loop that uses it. Its per-kind shortcuts
    (``client.pods(ns)``) give typed ``AsyncResourceClient``s."""

    def __init__(
        self,
        server: str | list[str] | None = None,
        *,
        timeout: float = 30.0,
        config: ClientConfig | None = None,
        kubeconfig: str | Path | None = None,
    ) -> None:
        self.config = config or load_config(server, kubeconfig=kubeconfig)
        self.endpoints = list(self.config.servers)
        self.timeout = timeout
        self._channel = rq.channel(self.config, grpc.aio.insecure_channel, grpc.aio.secure_channel)
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
                request,
                timeout=timeout or self.timeout,
                wait_for_ready=True,
                metadata=self.config.call_metadata(),
            )
        except grpc.RpcError as e:
            raise rq.translate(e) from None

    def open_watch(self, request: api_pb2.WatchRequest) -> Any:
        """The raw watch stream an AsyncResourceClient reads (handles.AsyncTransport)."""
        return self._watch(request, wait_for_ready=True, metadata=self.config.call_metadata())

    @overload
    def resource(self, kind: type[T], namespace: str = "default") -> AsyncResourceClient[T]: ...
    @overload
    def resource(
        self, kind: KindInfo | str, namespace: str = "default"
    ) -> AsyncResourceClient[Any]: ...
    def resource(
        self, kind: type[Message] | KindInfo | str, namespace: str = "default"
    ) -> AsyncResourceClient[Any]:
        """A handle on one kind in one namespace: a message class (typed:
        ``resource(Pod, ns)`` is an ``AsyncResourceClient[Pod]``), a KindInfo
        or a name ("pods", "deploy", "deployments.apps")."""
        return AsyncResourceClient(self, kind_info(kind), namespace)

    async def discovery(self) -> api_pb2.DiscoveryResponse:
        resp: api_pb2.DiscoveryResponse = await self.call("Discovery", api_pb2.DiscoveryRequest())
        return resp

    async def create(self, obj: T, *, dry_run: bool = False) -> T:
        """Create any object (its kind and namespace come from the object)."""
        ns = object_meta(obj).namespace or "default"
        return await self.resource(type(obj), ns).create(obj, dry_run=dry_run)

"""The blocking client, for scripts and the CLI.

from pinnace.client import Client
client = Client("127.0.0.1:6443")
web = client.deployments("default").get("web")
for ev in client.pods("default").watch(label_selector="app=web"):
    print(ev.type, ev.object.metadata.name)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar, overload

import grpc
from google.protobuf.message import Message

from pinnace.api.service.v1 import api_pb2
from pinnace.client import _requests as rq
from pinnace.client._accessors import SyncKinds, kind_info
from pinnace.client.config import ClientConfig, load_config
from pinnace.client.handles import ResourceClient
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.objects import object_meta

__all__ = ["Client", "ResourceClient"]

T = TypeVar("T", bound=Message)


class Client(SyncKinds):
    """A connection to the API (one or several apiserver endpoints). Its
    per-kind shortcuts (``client.pods(ns)``) give typed ``ResourceClient``s."""

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
        self._channel = rq.channel(self.config, grpc.insecure_channel, grpc.secure_channel)
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

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, request: Message, *, timeout: float | None = None) -> Any:
        """One unary call; gRPC errors become typed ApiErrors."""
        try:
            return self._unary[method](
                request,
                timeout=timeout or self.timeout,
                wait_for_ready=True,
                metadata=self.config.call_metadata(),
            )
        except grpc.RpcError as e:
            raise rq.translate(e) from None

    def open_watch(self, request: api_pb2.WatchRequest, *, timeout: float | None = None) -> Any:
        """The raw watch stream a ResourceClient reads (see handles.Transport)."""
        return self._watch(
            request, timeout=timeout, wait_for_ready=True, metadata=self.config.call_metadata()
        )

    @overload
    def resource(self, kind: type[T], namespace: str = "default") -> ResourceClient[T]: ...
    @overload
    def resource(self, kind: KindInfo | str, namespace: str = "default") -> ResourceClient[Any]: ...
    def resource(
        self, kind: type[Message] | KindInfo | str, namespace: str = "default"
    ) -> ResourceClient[Any]:
        """A handle on one kind in one namespace: a message class (typed:
        ``resource(Pod, ns)`` is a ``ResourceClient[Pod]``), a KindInfo or a
        name ("pods", "deploy", "deployments.apps")."""
        return ResourceClient(self, kind_info(kind), namespace)

    def discovery(self) -> api_pb2.DiscoveryResponse:
        resp: api_pb2.DiscoveryResponse = self.call("Discovery", api_pb2.DiscoveryRequest())
        return resp

    def create(self, obj: T, *, dry_run: bool = False) -> T:
        """Create any object (its kind and namespace come from the object)."""
        ns = object_meta(obj).namespace or "default"
        return self.resource(type(obj), ns).create(obj, dry_run=dry_run)

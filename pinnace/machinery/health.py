"""A gRPC health endpoint for components that serve nothing else over gRPC
(controller-manager, scheduler, kubelet). ``pinnace up`` and the tests wait
on it (grpc.health.v1, service "")."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


class HealthEndpoint:
    """A tiny grpc.aio server answering Health/Check."""

    def __init__(self, listen: str) -> None:
        self.listen = listen
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._servicer = health.aio.HealthServicer()

    async def start(self) -> int:
        """Bind and serve; returns the port. The status starts NOT_SERVING."""
        self._server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(self._servicer, self._server)
        self.port = self._server.add_insecure_port(self.listen)
        if not self.port:
            raise OSError(f"cannot listen on {self.listen}")
        await self._server.start()
        await self._servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        return self.port

    async def set_serving(self, serving: bool = True) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self._servicer.set("", status)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(0.5)

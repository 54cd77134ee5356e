"""Client-side endpoint list: one lazily opened gRPC channel per endpoint.

Calls go to the *current* endpoint. When a call to it fails with
UNAVAILABLE, the caller reports it with `failed(index)` and the next
endpoint becomes current. Reports are per index, so many calls failing on
the same endpoint at once move the list on by one, not by N. Channels stay
open until `close()`, so moving on never cuts calls or watch streams that
are still running on another endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from apiserver.etcd.rpcpb import rpc_pb2_grpc

__all__ = [
    "CHANNEL_OPTIONS",
    "REQUIRE_LEADER",
    "Endpoints",
    "Stubs",
    "is_connect_failure",
    "parse_endpoint",
]

# Call metadata asking a member to fail at once (UNAVAILABLE "etcdserver: no
# leader") when it has no leader, instead of waiting for a quorum that may
# not come back: the call then moves on to another member, or fails fast.
REQUIRE_LEADER = (("hasleader", "true"),)

_MIB = 1024 * 1024

CHANNEL_OPTIONS: list[tuple[str, int]] = [
    # A Range over a large resource can exceed gRPC's 4 MiB default.
    ("grpc.max_send_message_length", 256 * _MIB),
    ("grpc.max_receive_message_length", 256 * _MIB),
    # Detect a dead member under a long-lived watch. etcd's server enforces
    # a 5 s minimum ping interval and rejects pings with no call open
    # (--grpc-keepalive-min-time), so stay above it and only ping with calls.
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 0),
    # While a member is down, calls fail fast; retry its connection often so
    # that it is used again soon after it is back (gRPC's backoff grows to 2 min).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


def parse_endpoint(endpoint: str) -> str:
    """Turn "127.0.0.1:2379" or "http://127.0.0.1:2379" into a gRPC target "host:port"."""
    target = endpoint.strip()
    if target.startswith("https://"):
        raise ValueError(f"TLS endpoints are not supported yet: {endpoint!r}")
    target = target.removeprefix("http://").rstrip("/")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(
            f"etcd endpoint must look like host:port or http://host:port: {endpoint!r}"
        )
    return target


def is_connect_failure(err: grpc.aio.AioRpcError) -> bool:
    """True if the call failed because no connection could be made, so the
    request never reached etcd and even a mutation is safe to send elsewhere."""
    if err.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    details = err.details() or ""
    return details.startswith("failed to connect to all addresses") or (
        "Connection refused" in details
    )


@dataclass(frozen=True, slots=True)
class Stubs:
    kv: rpc_pb2_grpc.KVStub
    watch: rpc_pb2_grpc.WatchStub
    lease: rpc_pb2_grpc.LeaseStub
    maintenance: rpc_pb2_grpc.MaintenanceStub


class Endpoints:
    """The endpoint list and its channels. Not thread-safe; one event loop."""

    def __init__(
        self, endpoints: list[str], credentials: grpc.ChannelCredentials | None = None
    ) -> None:
        self._credentials = credentials
        if isinstance(endpoints, str):
            raise TypeError("endpoints must be a list of strings, not a string")
        self.targets = [parse_endpoint(e) for e in endpoints]
        if not self.targets:
            raise ValueError("at least one etcd endpoint is required")
        self._index = 0
        self._open: dict[int, tuple[grpc.aio.Channel, Stubs]] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self.targets)

    def current(self) -> tuple[int, Stubs]:
        """The current endpoint's index and stubs, opening its channel if needed."""
        if self._closed:
            raise RuntimeError("etcd client is closed")
        index = self._index
        opened = self._open.get(index)
        if opened is None:
            target = self.targets[index]
            channel = (
                grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
                if self._credentials is None
                else grpc.aio.secure_channel(target, self._credentials, options=CHANNEL_OPTIONS)
            )
            stubs = Stubs(
                kv=rpc_pb2_grpc.KVStub(channel),
                watch=rpc_pb2_grpc.WatchStub(channel),
                lease=rpc_pb2_grpc.LeaseStub(channel),
                maintenance=rpc_pb2_grpc.MaintenanceStub(channel),
            )
            opened = self._open[index] = (channel, stubs)
        return index, opened[1]

    def failed(self, index: int) -> None:
        """Report that endpoint `index` is unavailable; move on if it is still current."""
        if index == self._index:
            self._index = (index + 1) % len(self.targets)

    async def close(self) -> None:
        """Close every channel; calls still running on them are cancelled."""
        self._closed = True
        opened, self._open = self._open, {}
        for channel, _ in opened.values():
            await channel.close()

"""One etcd watch on one bidirectional gRPC stream.

Guarantees, for a single consumer iterating a `Watch`:

* Events arrive in revision order, each exactly once, never split inside a
  revision (fragmented responses are reassembled before delivery).
* If the stream breaks (member down, leader lost, connection reset), the
  watch reopens on the next endpoint from `next_revision` (one past the last
  delivered event) and carries on; the consumer sees no gap and no repeat.
  Reopening gives up after `reconnect_timeout` seconds with `EtcdUnavailable`.
* If the history the watch needs was compacted, iteration raises
  `CompactedError(compact_revision)` and the watch is finished; the caller
  must relist and watch from the list's revision.
* `request_progress()` makes etcd send a progress batch (no events) whose
  `revision` is the store's current revision. From etcd 3.4.24 / 3.5.8 on,
  etcd sends it only once the watch has delivered every event up to it
  (etcd issue #15220). Older servers answer at once, so a progress batch can
  overtake events still being sent; for this reason only the periodic
  notifications of `progress_notify=True` (sent in order on every version)
  move `next_revision` forward, never a requested one.

The iterator is not meant to be consumed by two tasks at once.
`request_progress()` and `cancel()` may be called from any task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc

from apiserver.etcd.endpoints import REQUIRE_LEADER, Endpoints, Stubs
from apiserver.etcd.errors import (
    CompactedError,
    EtcdError,
    EtcdUnavailable,
    WatchCanceledError,
    from_rpc_error,
)
from apiserver.etcd.rpcpb import kv_pb2, rpc_pb2
from apiserver.etcd.types import WatchBatch, event_from_pb

__all__ = ["Watch"]

# Watch id etcd uses for answers to a WatchProgressRequest.
_BROADCAST_WATCH_ID = -1
_PROGRESS_REQUEST = rpc_pb2.WatchRequest(progress_request=rpc_pb2.WatchProgressRequest())


class Watch:
    """An async iterator of `WatchBatch`es for one key range.

    Created by `EtcdClient.watch()`; the stream opens on first use (`start()`,
    `async with`, iteration or `request_progress()`).
    """

    def __init__(
        self,
        endpoints: Endpoints,
        create: rpc_pb2.WatchCreateRequest,
        *,
        reconnect_timeout: float = 10.0,
    ) -> None:
        self._endpoints = endpoints
        self._create = create
        self._reconnect_timeout = reconnect_timeout
        # Revision the (re)opened stream starts from; 0 until the first
        # stream says what "now" is.
        self._next_rev = create.start_revision
        self._call: grpc.aio.StreamStreamCall | None = None
        self._call_index = -1
        self._watch_id: int | None = None
        self._fragments: list[kv_pb2.Event] = []
        self._progress_pending = False
        self._broken_streams = 0
        self._closed = False
        self._open_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()

    @property
    def next_revision(self) -> int:
        """The revision the watch would resume from: every event below it was
        delivered. 0 before a "from now" watch has started."""
        return self._next_rev

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self) -> None:
        """Open the stream and wait until etcd has created the watch.

        After this, a "from now" watch has a fixed `next_revision`: events
        committed after `start()` returns are delivered.
        """
        if await self._ensure_open() is None:
            raise EtcdError("the watch is closed")

    async def request_progress(self) -> None:
        """Ask etcd for a progress batch carrying the current revision."""
        self._progress_pending = True
        call = await self._ensure_open()
        if call is None:
            raise EtcdError("the watch is closed")
        async with self._write_lock:
            try:
                await call.write(_PROGRESS_REQUEST)
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                # The stream broke; the reader reopens it and, seeing the
                # request still pending, sends it again on the new stream.
                pass

    async def cancel(self) -> None:
        """Stop the watch. A consumer blocked in iteration gets StopAsyncIteration."""
        self._closed = True
        self._drop()

    async def __aenter__(self) -> Watch:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.cancel()

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchBatch:
        while True:
            call = await self._ensure_open()
            if call is None:
                raise StopAsyncIteration
            try:
                resp = await call.read()
            except asyncio.CancelledError:
                # Our task is being cancelled (which cancels the RPC too; the
                # next iteration reopens it), or the RPC was cancelled under
                # us by cancel() or by closing the client.
                self._drop(call)
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                if self._closed:
                    raise StopAsyncIteration from None
                self._closed = True
                raise EtcdError("the watch stream was cancelled (client closed?)") from None
            except grpc.aio.AioRpcError as err:
                self._drop(call)
                if self._closed:
                    raise StopAsyncIteration from None
                if err.code() != grpc.StatusCode.UNAVAILABLE:
                    self._closed = True
                    raise from_rpc_error(err) from err
                self._stream_broke()
                continue
            if resp is grpc.aio.EOF:
                self._drop(call)
                self._stream_broke()
                continue
            batch = self._handle(resp)
            if batch is not None:
                self._broken_streams = 0
                return batch

    def _handle(self, resp: rpc_pb2.WatchResponse) -> WatchBatch | None:
        """Turn one response into a batch, or None if there is nothing to deliver."""
        if resp.canceled or resp.compact_revision:
            self._closed = True
            self._drop()
            if resp.compact_revision:
                raise CompactedError(resp.compact_revision)
            raise WatchCanceledError(resp.cancel_reason or "watch canceled by etcd")
        if resp.created or resp.watch_id not in (self._watch_id, _BROADCAST_WATCH_ID):
            return None
        if resp.fragment:
            self._fragments.extend(resp.events)
            return None
        raw: Sequence[kv_pb2.Event] = resp.events
        if self._fragments:
            raw = [*self._fragments, *raw]
            self._fragments.clear()
        if raw:
            events = [event_from_pb(ev) for ev in raw]
            self._next_rev = events[-1].kv.mod_revision + 1
            return WatchBatch(events, resp.header.revision, False)
        if resp.watch_id == _BROADCAST_WATCH_ID:
            self._progress_pending = False
        else:
            # Periodic notifications travel in order with the events.
            self._next_rev = max(self._next_rev, resp.header.revision + 1)
        return WatchBatch([], resp.header.revision, True)

    def _stream_broke(self) -> None:
        self._endpoints.failed(self._call_index)
        self._broken_streams += 1

    def _drop(self, call: grpc.aio.StreamStreamCall | None = None) -> None:
        """Forget (and cancel) the current stream, if it is `call` or any when None."""
        if self._call is None or (call is not None and call is not self._call):
            return
        current, self._call = self._call, None
        self._fragments.clear()
        current.cancel()

    async def _ensure_open(self) -> grpc.aio.StreamStreamCall | None:
        """Return the open stream, opening it (on the next endpoints, with
        backoff) if there is none; None once the watch is closed."""
        async with self._open_lock:
            if self._closed:
                return None
            if self._call is not None:
                return self._call
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._reconnect_timeout
            delay = 0.05
            attempt = 0
            while True:
                # Back off once every endpoint has been tried, and before
                # reopening a stream that keeps breaking right after opening.
                if (attempt and attempt % len(self._endpoints) == 0) or (
                    attempt == 0 and self._broken_streams > 1
                ):
                    if loop.time() + delay > deadline:
                        raise EtcdUnavailable(
                            f"could not reopen the watch within {self._reconnect_timeout} s"
                        )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
                attempt += 1
                index, stubs = self._endpoints.current()
                try:
                    return await self._open_on(index, stubs)
                except grpc.aio.AioRpcError as err:
                    if err.code() != grpc.StatusCode.UNAVAILABLE:
                        self._closed = True
                        raise from_rpc_error(err) from err
                    self._endpoints.failed(index)
                    if loop.time() > deadline:
                        raise from_rpc_error(err) from err
                except EtcdUnavailable:
                    self._endpoints.failed(index)
                    if loop.time() > deadline:
                        raise

    async def _open_on(self, index: int, stubs: Stubs) -> grpc.aio.StreamStreamCall:
        create = rpc_pb2.WatchCreateRequest()
        create.CopyFrom(self._create)
        create.start_revision = self._next_rev
        call = stubs.watch.Watch(metadata=REQUIRE_LEADER)
        try:
            await call.write(rpc_pb2.WatchRequest(create_request=create))
            resp = await call.read()
            if resp is grpc.aio.EOF:
                raise EtcdUnavailable("etcd closed the watch stream before creating the watch")
            if not resp.created:
                raise EtcdError(f"etcd answered a watch create with {resp}")
            if resp.canceled:
                self._closed = True
                if resp.compact_revision:
                    raise CompactedError(resp.compact_revision)
                raise WatchCanceledError(resp.cancel_reason or "etcd refused to create the watch")
            if self._progress_pending:
                await call.write(_PROGRESS_REQUEST)
        except BaseException:
            call.cancel()
            raise
        self._watch_id = resp.watch_id
        if self._next_rev == 0:
            # A "from now" watch sees every event after the header revision.
            self._next_rev = resp.header.revision + 1
        self._fragments.clear()
        self._call, self._call_index = call, index
        return call

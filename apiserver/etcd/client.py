"""An asyncio etcd v3 client over grpc.aio, shaped for the apiserver.

It exposes what storage and the watch cache need and the popular clients
hide: a Range at an exact revision with a limit, the header revision of
every answer, txns whose branch results are returned, watches that resume
from an exact revision, progress notifications, and compaction surfaced as
`CompactedError`.

Guarantees:

* Nothing blocks the event loop; every call is a grpc.aio call.
* Endpoints form a client-side list. A call that finds its endpoint
  UNAVAILABLE moves the list on. Reads (and other idempotent calls) are then
  retried on the next endpoints, each tried once. A mutation is retried only
  if the connection could not be made at all, so it was never sent;
  otherwise `EtcdUnavailable` is raised and the write may or may not have
  been applied (use a txn on mod_revision to make retries safe).
* Every failure raises an `EtcdError` subclass (see `errors`).
* Reads are linearizable unless `serializable=True`.
* Every call asks for a member with a leader (`REQUIRE_LEADER`): a member
  cut off from its quorum answers UNAVAILABLE at once, so a read moves on
  to another member and a write fails fast instead of hanging.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from apiserver.etcd.endpoints import REQUIRE_LEADER, Endpoints, Stubs, is_connect_failure
from apiserver.etcd.errors import LeaseNotFoundError, from_rpc_error
from apiserver.etcd.requests import (
    Compare,
    RequestOp,
    delete_request,
    key_range,
    prefix_range_end,
    put_request,
    range_request,
)
from apiserver.etcd.rpcpb import rpc_pb2
from apiserver.etcd.types import (
    DeleteResult,
    LeaseInfo,
    PutResult,
    RangeResult,
    StatusResult,
    TxnResult,
    delete_from_pb,
    put_from_pb,
    range_from_pb,
    txn_from_pb,
)
from apiserver.etcd.watch import Watch

__all__ = ["EtcdClient", "prefix_range_end"]

_T = TypeVar("_T")


class EtcdClient:
    """An etcd v3 client for one event loop.

    `endpoints` are "host:port" or "http://host:port" strings of members of
    one cluster. `timeout` is the deadline in seconds of each unary call
    (None: no deadline). `credentials`: TLS (the CA, and the client pair
    etcd's --client-cert-auth asks for); None: plain gRPC. Use as `async with EtcdClient([...]) as etcd:` or
    call `close()`.
    """

    def __init__(
        self,
        endpoints: list[str],
        *,
        timeout: float | None = 30.0,
        watch_reconnect_timeout: float = 10.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self._endpoints = Endpoints(endpoints, credentials)
        self._timeout = timeout
        self._watch_reconnect_timeout = watch_reconnect_timeout

    @property
    def endpoints(self) -> list[str]:
        """The gRPC targets ("host:port"), in failover order."""
        return list(self._endpoints.targets)

    async def close(self) -> None:
        """Close all channels; running calls and watches are cancelled."""
        await self._endpoints.close()

    async def __aenter__(self) -> EtcdClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _call(self, invoke: Callable[[Stubs], Awaitable[_T]], *, idempotent: bool) -> _T:
        """Run one unary call with endpoint failover (see module docstring)."""
        attempts = len(self._endpoints)
        for attempt in range(attempts):
            index, stubs = self._endpoints.current()
            try:
                return await invoke(stubs)
            except grpc.aio.AioRpcError as err:
                if err.code() != grpc.StatusCode.UNAVAILABLE:
                    raise from_rpc_error(err) from err
                self._endpoints.failed(index)
                retry = idempotent or is_connect_failure(err)
                if not retry or attempt + 1 == attempts:
                    raise from_rpc_error(err) from err
        raise AssertionError("unreachable")

    # ---- KV ----

    async def range(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        prefix: bool = False,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
        count_only: bool = False,
        serializable: bool = False,
        sort_ascending_by_key: bool = False,
    ) -> RangeResult:
        """Read one key, a prefix or [key, range_end) (see `requests`).

        `revision` > 0 reads the store as of that revision (`CompactedError`
        if compacted, `FutureRevisionError` if not reached yet). `limit` > 0
        returns at most that many keys, in key order, with `more` set if
        some were left out; page on with key = last key + b"\\0" and the same
        revision. The result's `revision` is the revision the read saw.
        """
        req = range_request(
            key,
            range_end,
            prefix=prefix,
            limit=limit,
            revision=revision,
            keys_only=keys_only,
            count_only=count_only,
            serializable=serializable,
            sort_ascending_by_key=sort_ascending_by_key,
        )
        resp = await self._call(
            lambda s: s.kv.Range(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=True,
        )
        return range_from_pb(resp)

    async def get(self, key: bytes, *, revision: int = 0) -> RangeResult:
        """Read a single key; `kvs` is empty if it does not exist."""
        return await self.range(key, revision=revision)

    async def put(
        self, key: bytes, value: bytes, *, lease: int = 0, prev_kv: bool = False
    ) -> PutResult:
        """Write `value` at `key`, attached to `lease` if non-zero (the lease
        must exist: `LeaseNotFoundError`). With `prev_kv`, the result holds
        the value it replaced."""
        req = put_request(key, value, lease=lease, prev_kv=prev_kv)
        resp = await self._call(
            lambda s: s.kv.Put(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=False,
        )
        return put_from_pb(resp)

    async def delete_range(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        prefix: bool = False,
        prev_kv: bool = False,
    ) -> DeleteResult:
        """Delete one key, a prefix or [key, range_end); `deleted` counts the
        keys removed. With `prev_kv`, the result holds them."""
        req = delete_request(key, range_end, prefix=prefix, prev_kv=prev_kv)
        resp = await self._call(
            lambda s: s.kv.DeleteRange(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=False,
        )
        return delete_from_pb(resp)

    async def txn(
        self, compare: list[Compare], success: list[RequestOp], failure: list[RequestOp]
    ) -> TxnResult:
        """Atomically: if every compare holds run `success`, else `failure`.

        The txn is one revision. `responses` holds one result per op of the
        branch that ran, e.g. a compare-and-put whose failure branch is an
        `op_range` returns the key's current value when the compare fails.
        A key may be written at most once per txn.
        """
        req = rpc_pb2.TxnRequest(compare=compare, success=success, failure=failure)
        resp = await self._call(
            lambda s: s.kv.Txn(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=False,
        )
        return txn_from_pb(resp)

    async def compact(self, revision: int, *, physical: bool = False) -> int:
        """Drop the history below `revision`; reads and watches before it then
        raise `CompactedError`. `physical` waits until the space is freed in
        the backend. Returns the header revision."""
        req = rpc_pb2.CompactionRequest(revision=revision, physical=physical)
        resp = await self._call(
            lambda s: s.kv.Compact(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=True,
        )
        return resp.header.revision

    # ---- Watch ----

    def watch(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        prefix: bool = False,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
        fragment: bool = True,
    ) -> Watch:
        """Watch one key, a prefix or [key, range_end) on its own gRPC stream.

        `start_revision` > 0 delivers every change from that revision on
        (inclusive); 0 means changes after the watch is created. `prev_kv`
        attaches each key's previous version to its event. `progress_notify`
        asks etcd for periodic empty batches while idle. `fragment` lets etcd
        split huge revisions across messages (reassembled here). See `Watch`
        for the delivery guarantees.
        """
        key, end = key_range(key, range_end, prefix)
        create = rpc_pb2.WatchCreateRequest(
            key=key,
            range_end=end,
            start_revision=start_revision,
            prev_kv=prev_kv,
            progress_notify=progress_notify,
            fragment=fragment,
        )
        return Watch(self._endpoints, create, reconnect_timeout=self._watch_reconnect_timeout)

    # ---- Lease ----

    async def lease_grant(self, ttl: int, *, lease_id: int = 0) -> int:
        """Create a lease of `ttl` seconds and return its id (`lease_id` asks
        for a specific one). Keys attached to it are deleted when it expires."""
        req = rpc_pb2.LeaseGrantRequest(TTL=ttl, ID=lease_id)
        resp = await self._call(
            lambda s: s.lease.LeaseGrant(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=False,
        )
        return resp.ID

    async def lease_revoke(self, lease_id: int) -> int:
        """Revoke a lease, deleting its keys; returns the header revision.
        `LeaseNotFoundError` if it does not exist."""
        req = rpc_pb2.LeaseRevokeRequest(ID=lease_id)
        resp = await self._call(
            lambda s: s.lease.LeaseRevoke(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=True,
        )
        return resp.header.revision

    async def lease_keepalive_once(self, lease_id: int) -> int:
        """Renew a lease once and return its new TTL in seconds.
        `LeaseNotFoundError` if it expired or does not exist."""

        async def invoke(stubs: Stubs) -> Any:
            call = stubs.lease.LeaseKeepAlive(timeout=self._timeout, metadata=REQUIRE_LEADER)
            try:
                await call.write(rpc_pb2.LeaseKeepAliveRequest(ID=lease_id))
                await call.done_writing()
                return await call.read()
            finally:
                call.cancel()

        resp = await self._call(invoke, idempotent=True)
        if resp is grpc.aio.EOF or resp.TTL <= 0:
            raise LeaseNotFoundError(f"etcdserver: requested lease not found: {lease_id:x}")
        return resp.TTL

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseInfo:
        """Remaining and granted TTL of a lease (ttl -1 if it is gone), with
        its attached keys if `keys`."""
        req = rpc_pb2.LeaseTimeToLiveRequest(ID=lease_id, keys=keys)
        resp = await self._call(
            lambda s: s.lease.LeaseTimeToLive(req, timeout=self._timeout, metadata=REQUIRE_LEADER),
            idempotent=True,
        )
        return LeaseInfo(resp.ID, resp.TTL, resp.grantedTTL, list(resp.keys))

    # ---- Maintenance ----

    async def status(self) -> StatusResult:
        """Status of the member behind the current endpoint."""
        req = rpc_pb2.StatusRequest()
        resp = await self._call(
            lambda s: s.maintenance.Status(req, timeout=self._timeout), idempotent=True
        )
        return StatusResult(
            revision=resp.header.revision,
            db_size=resp.dbSize,
            db_size_in_use=resp.dbSizeInUse,
            leader=resp.leader,
            member_id=resp.header.member_id,
            raft_term=resp.raftTerm,
            version=resp.version,
            errors=list(resp.errors),
        )

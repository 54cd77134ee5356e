"""Immutable results returned by the etcd client, and their conversion from
the wire messages.

Revisions: every result carries `revision`, the store revision in the
response header, i.e. the revision at which a read was served or a write was
applied. A key's `mod_revision` is what the apiserver uses as
resourceVersion.

`KeyValue` and `Event` are NamedTuples because lists of thousands of them are
built per Range or watch batch; the rest are frozen dataclasses.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from apiserver.etcd.rpcpb import kv_pb2, rpc_pb2

__all__ = [
    "DeleteResult",
    "Event",
    "EventType",
    "KeyValue",
    "LeaseInfo",
    "OpResult",
    "PutResult",
    "RangeResult",
    "StatusResult",
    "TxnResult",
    "WatchBatch",
]


class KeyValue(NamedTuple):
    """A key with its value and bookkeeping at one revision.

    `version` counts writes since the key was (re)created; `lease` is 0 when
    no lease is attached.
    """

    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int


class EventType(enum.IntEnum):
    PUT = kv_pb2.Event.PUT
    DELETE = kv_pb2.Event.DELETE


class Event(NamedTuple):
    """One change seen by a watch.

    For DELETE, `kv.mod_revision` is the revision of the delete and `kv.value`
    is empty. `prev_kv` is set only when the watch asked for it and the
    previous version was not compacted.
    """

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None


@dataclass(frozen=True, slots=True)
class RangeResult:
    """`kvs` in key order; `count` is the number of keys in the whole range
    (ignoring `limit`); `more` is true when `limit` cut the result short."""

    kvs: list[KeyValue]
    count: int
    more: bool
    revision: int


@dataclass(frozen=True, slots=True)
class PutResult:
    revision: int
    prev_kv: KeyValue | None


@dataclass(frozen=True, slots=True)
class DeleteResult:
    revision: int
    deleted: int
    prev_kvs: list[KeyValue]


@dataclass(frozen=True, slots=True)
class TxnResult:
    """`responses` holds one result per op of the branch that ran (success if
    `succeeded`, else failure), in order. All of them share `revision`."""

    succeeded: bool
    revision: int
    responses: list[OpResult]


OpResult = RangeResult | PutResult | DeleteResult | TxnResult
"""The result of one op inside a txn."""


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Status of the member that answered. `leader` and `member_id` are raft
    member ids; `db_size` is the physically allocated size in bytes."""

    revision: int
    db_size: int
    db_size_in_use: int
    leader: int
    member_id: int
    raft_term: int
    version: str
    errors: list[str]


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """`ttl` is the remaining time to live in seconds, -1 if the lease is gone."""

    id: int
    ttl: int
    granted_ttl: int
    keys: list[bytes]


@dataclass(frozen=True, slots=True)
class WatchBatch:
    """What one watch response delivered.

    `events` are in revision order, never split inside one revision.
    `revision` is the header revision: for a progress notification
    (`is_progress_notify`, no events) every later event of this watch has a
    higher revision.
    """

    events: list[Event]
    revision: int
    is_progress_notify: bool


def kv_from_pb(kv: kv_pb2.KeyValue) -> KeyValue:
    return KeyValue(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)


def kvs_from_pb(kvs: Iterable[kv_pb2.KeyValue]) -> list[KeyValue]:
    return [
        KeyValue(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)
        for kv in kvs
    ]


def event_from_pb(ev: kv_pb2.Event) -> Event:
    prev = kv_from_pb(ev.prev_kv) if ev.HasField("prev_kv") else None
    return Event(EventType(ev.type), kv_from_pb(ev.kv), prev)


def range_from_pb(resp: rpc_pb2.RangeResponse, revision: int | None = None) -> RangeResult:
    rev = resp.header.revision if revision is None else revision
    return RangeResult(kvs_from_pb(resp.kvs), resp.count, resp.more, rev)


def put_from_pb(resp: rpc_pb2.PutResponse, revision: int | None = None) -> PutResult:
    rev = resp.header.revision if revision is None else revision
    prev = kv_from_pb(resp.prev_kv) if resp.HasField("prev_kv") else None
    return PutResult(rev, prev)


def delete_from_pb(resp: rpc_pb2.DeleteRangeResponse, revision: int | None = None) -> DeleteResult:
    rev = resp.header.revision if revision is None else revision
    return DeleteResult(rev, resp.deleted, kvs_from_pb(resp.prev_kvs))


def txn_from_pb(resp: rpc_pb2.TxnResponse, revision: int | None = None) -> TxnResult:
    # Responses nested in a txn may carry a partial header; the outer txn's
    # header revision is the revision of the whole txn.
    rev = resp.header.revision if revision is None else revision
    results: list[OpResult] = []
    for op in resp.responses:
        kind = op.WhichOneof("response")
        if kind == "response_range":
            results.append(range_from_pb(op.response_range, rev))
        elif kind == "response_put":
            results.append(put_from_pb(op.response_put, rev))
        elif kind == "response_delete_range":
            results.append(delete_from_pb(op.response_delete_range, rev))
        elif kind == "response_txn":
            results.append(txn_from_pb(op.response_txn, rev))
        else:
            raise ValueError(f"unknown txn response op {kind!r}")
    return TxnResult(resp.succeeded, rev, results)

"""Pinnace's own asyncio etcd v3 client (see `client` for its guarantees).

Only the apiserver talks to etcd. `rpcpb/` holds the generated stubs of our
subset of etcd's wire API (protos/apiserver/etcd/rpcpb/).
"""

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.errors import (
    CompactedError,
    EtcdError,
    EtcdTimeout,
    EtcdUnavailable,
    FutureRevisionError,
    InvalidRequestError,
    LeaseNotFoundError,
    NoSpaceError,
    WatchCanceledError,
)
from apiserver.etcd.requests import (
    cmp_create_revision,
    cmp_lease,
    cmp_mod_revision,
    cmp_value,
    cmp_version,
    op_delete,
    op_put,
    op_range,
    op_txn,
    prefix_range_end,
)
from apiserver.etcd.types import (
    DeleteResult,
    Event,
    EventType,
    KeyValue,
    LeaseInfo,
    PutResult,
    RangeResult,
    StatusResult,
    TxnResult,
    WatchBatch,
)
from apiserver.etcd.watch import Watch

__all__ = [
    "CompactedError",
    "DeleteResult",
    "EtcdClient",
    "EtcdError",
    "EtcdTimeout",
    "EtcdUnavailable",
    "Event",
    "EventType",
    "FutureRevisionError",
    "InvalidRequestError",
    "KeyValue",
    "LeaseInfo",
    "LeaseNotFoundError",
    "NoSpaceError",
    "PutResult",
    "RangeResult",
    "StatusResult",
    "TxnResult",
    "Watch",
    "WatchBatch",
    "WatchCanceledError",
    "cmp_create_revision",
    "cmp_lease",
    "cmp_mod_revision",
    "cmp_value",
    "cmp_version",
    "op_delete",
    "op_put",
    "op_range",
    "op_txn",
    "prefix_range_end",
]

"""Builders for etcd requests: key ranges, txn compares and txn ops.

The same builders back the client's `range`/`put`/`delete_range` calls and
the ops inside a txn, so a key range means the same thing everywhere:

* `range_end=None, prefix=False`: the single key `key`;
* `prefix=True`: every key starting with `key` (an empty `key` means all keys);
* `range_end=b"..."`: the half-open range [key, range_end); `b"\\0"` means
  every key >= key.

Compare operators are "=", "!=", ">" and "<". A missing key compares as
version 0, create_revision 0 and mod_revision 0, so
`cmp_create_revision(key, "=", 0)` means "key does not exist".
"""

from __future__ import annotations

from apiserver.etcd.rpcpb import rpc_pb2

__all__ = [
    "Compare",
    "RequestOp",
    "cmp_create_revision",
    "cmp_lease",
    "cmp_mod_revision",
    "cmp_value",
    "cmp_version",
    "delete_request",
    "key_range",
    "op_delete",
    "op_put",
    "op_range",
    "op_txn",
    "prefix_range_end",
    "put_request",
    "range_request",
]

Compare = rpc_pb2.Compare
RequestOp = rpc_pb2.RequestOp

_OPERATORS = {
    "=": rpc_pb2.Compare.EQUAL,
    "==": rpc_pb2.Compare.EQUAL,
    "!=": rpc_pb2.Compare.NOT_EQUAL,
    ">": rpc_pb2.Compare.GREATER,
    "<": rpc_pb2.Compare.LESS,
}


def prefix_range_end(prefix: bytes) -> bytes:
    """Return the range end covering every key that starts with `prefix`.

    The last byte below 0xff is incremented and the rest dropped
    (b"/registry/pods/" -> b"/registry/pods0", b"a\\xff" -> b"b"). A prefix
    of only 0xff bytes (or empty) has no upper bound: b"\\0", which etcd reads
    as "to the end of the keyspace".
    """
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


def key_range(key: bytes, range_end: bytes | None, prefix: bool) -> tuple[bytes, bytes]:
    """Resolve (key, range_end, prefix) into etcd's (key, range_end) pair."""
    if prefix:
        if range_end is not None:
            raise ValueError("give either range_end or prefix=True, not both")
        if not key:
            return b"\0", b"\0"
        return key, prefix_range_end(key)
    return key, range_end or b""


def _operator(op: str) -> rpc_pb2.Compare.CompareResult:
    try:
        return _OPERATORS[op]
    except KeyError:
        raise ValueError(f"unknown compare operator {op!r}; use =, !=, > or <") from None


def cmp_version(key: bytes, op: str, version: int) -> Compare:
    """Compare the key's version (writes since creation; 0 if missing)."""
    return Compare(key=key, target=Compare.VERSION, result=_operator(op), version=version)


def cmp_create_revision(key: bytes, op: str, revision: int) -> Compare:
    """Compare the key's create revision (0 if missing)."""
    return Compare(key=key, target=Compare.CREATE, result=_operator(op), create_revision=revision)


def cmp_mod_revision(key: bytes, op: str, revision: int) -> Compare:
    """Compare the key's last modification revision (0 if missing)."""
    return Compare(key=key, target=Compare.MOD, result=_operator(op), mod_revision=revision)


def cmp_value(key: bytes, op: str, value: bytes) -> Compare:
    """Compare the key's value bytes (a missing key fails every value compare)."""
    return Compare(key=key, target=Compare.VALUE, result=_operator(op), value=value)


def cmp_lease(key: bytes, op: str, lease: int) -> Compare:
    """Compare the id of the lease attached to the key (0 if none)."""
    return Compare(key=key, target=Compare.LEASE, result=_operator(op), lease=lease)


def range_request(
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
) -> rpc_pb2.RangeRequest:
    key, end = key_range(key, range_end, prefix)
    req = rpc_pb2.RangeRequest(
        key=key,
        range_end=end,
        limit=limit,
        revision=revision,
        keys_only=keys_only,
        count_only=count_only,
        serializable=serializable,
    )
    if sort_ascending_by_key:
        req.sort_order = rpc_pb2.RangeRequest.ASCEND
        req.sort_target = rpc_pb2.RangeRequest.KEY
    return req


def put_request(
    key: bytes, value: bytes, *, lease: int = 0, prev_kv: bool = False
) -> rpc_pb2.PutRequest:
    return rpc_pb2.PutRequest(key=key, value=value, lease=lease, prev_kv=prev_kv)


def delete_request(
    key: bytes, range_end: bytes | None = None, *, prefix: bool = False, prev_kv: bool = False
) -> rpc_pb2.DeleteRangeRequest:
    key, end = key_range(key, range_end, prefix)
    return rpc_pb2.DeleteRangeRequest(key=key, range_end=end, prev_kv=prev_kv)


def op_range(
    key: bytes,
    range_end: bytes | None = None,
    *,
    prefix: bool = False,
    limit: int = 0,
    revision: int = 0,
    keys_only: bool = False,
    count_only: bool = False,
) -> RequestOp:
    """A Range inside a txn; its result comes back as a `RangeResult`."""
    req = range_request(
        key,
        range_end,
        prefix=prefix,
        limit=limit,
        revision=revision,
        keys_only=keys_only,
        count_only=count_only,
    )
    return RequestOp(request_range=req)


def op_put(key: bytes, value: bytes, *, lease: int = 0, prev_kv: bool = False) -> RequestOp:
    """A Put inside a txn; its result comes back as a `PutResult`."""
    return RequestOp(request_put=put_request(key, value, lease=lease, prev_kv=prev_kv))


def op_delete(
    key: bytes, range_end: bytes | None = None, *, prefix: bool = False, prev_kv: bool = False
) -> RequestOp:
    """A DeleteRange inside a txn; its result comes back as a `DeleteResult`."""
    return RequestOp(
        request_delete_range=delete_request(key, range_end, prefix=prefix, prev_kv=prev_kv)
    )


def op_txn(compare: list[Compare], success: list[RequestOp], failure: list[RequestOp]) -> RequestOp:
    """A nested txn (etcd >= 3.3); its result comes back as a `TxnResult`."""
    return RequestOp(
        request_txn=rpc_pb2.TxnRequest(compare=compare, success=success, failure=failure)
    )

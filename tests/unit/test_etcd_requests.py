"""Pure parts of the etcd client: key ranges, compares, endpoints, error mapping."""

from __future__ import annotations

import grpc
import pytest

from apiserver.etcd import errors
from apiserver.etcd.endpoints import is_connect_failure, parse_endpoint
from apiserver.etcd.requests import (
    cmp_create_revision,
    cmp_mod_revision,
    cmp_value,
    key_range,
    op_delete,
    op_range,
    prefix_range_end,
)
from apiserver.etcd.rpcpb import rpc_pb2


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        pytest.param(b"/registry/pods/", b"/registry/pods0", id="slash"),
        pytest.param(b"a", b"b", id="one-byte"),
        pytest.param(b"a\xff", b"b", id="trailing-ff"),
        pytest.param(b"a\xff\xff", b"b", id="trailing-ffs"),
        pytest.param(b"\xff\xff", b"\0", id="all-ff"),
        pytest.param(b"", b"\0", id="empty"),
    ],
)
def test_prefix_range_end(prefix: bytes, end: bytes):
    assert prefix_range_end(prefix) == end


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((b"k", None, False), (b"k", b""), id="single-key"),
        pytest.param((b"a", b"c", False), (b"a", b"c"), id="explicit-range"),
        pytest.param((b"p/", None, True), (b"p/", b"p0"), id="prefix"),
        pytest.param((b"", None, True), (b"\0", b"\0"), id="everything"),
    ],
)
def test_key_range(args: tuple, expected: tuple):
    assert key_range(*args) == expected


def test_key_range_rejects_prefix_with_range_end():
    with pytest.raises(ValueError, match="not both"):
        key_range(b"a", b"b", True)


def test_compares_and_ops_build_etcd_messages():
    cmp = cmp_mod_revision(b"k", "=", 7)
    assert (cmp.target, cmp.result, cmp.mod_revision) == (
        rpc_pb2.Compare.MOD,
        rpc_pb2.Compare.EQUAL,
        7,
    )
    assert cmp.WhichOneof("target_union") == "mod_revision"
    assert cmp_create_revision(b"k", "!=", 0).result == rpc_pb2.Compare.NOT_EQUAL
    assert cmp_value(b"k", "<", b"v").WhichOneof("target_union") == "value"
    with pytest.raises(ValueError, match="unknown compare operator"):
        cmp_mod_revision(b"k", "<=", 1)
    assert op_range(b"p/", prefix=True, limit=5).request_range.range_end == b"p0"
    assert op_delete(b"k", prev_kv=True).request_delete_range.prev_kv


@pytest.mark.parametrize(
    ("endpoint", "target"),
    [
        ("127.0.0.1:2379", "127.0.0.1:2379"),
        ("http://127.0.0.1:2379", "127.0.0.1:2379"),
        ("http://etcd-0.local:2379/", "etcd-0.local:2379"),
    ],
)
def test_parse_endpoint(endpoint: str, target: str):
    assert parse_endpoint(endpoint) == target


@pytest.mark.parametrize("endpoint", ["127.0.0.1", "https://127.0.0.1:2379", "http://:2379"])
def test_parse_endpoint_rejects(endpoint: str):
    with pytest.raises(ValueError):
        parse_endpoint(endpoint)


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        (grpc.StatusCode.UNAVAILABLE, "etcdserver: leader changed", errors.EtcdUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", errors.EtcdTimeout),
        (
            grpc.StatusCode.OUT_OF_RANGE,
            "etcdserver: mvcc: required revision has been compacted",
            errors.CompactedError,
        ),
        (
            grpc.StatusCode.OUT_OF_RANGE,
            "etcdserver: mvcc: required revision is a future revision",
            errors.FutureRevisionError,
        ),
        (
            grpc.StatusCode.NOT_FOUND,
            "etcdserver: requested lease not found",
            errors.LeaseNotFoundError,
        ),
        (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "etcdserver: mvcc: database space exceeded",
            errors.NoSpaceError,
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            "etcdserver: duplicate key given in txn request",
            errors.InvalidRequestError,
        ),
        (grpc.StatusCode.PERMISSION_DENIED, "etcdserver: permission denied", errors.EtcdError),
    ],
)
def test_error_mapping(code: grpc.StatusCode, details: str, expected: type):
    err = errors.from_rpc_error(rpc_error(code, details))
    assert type(err) is expected
    assert (err.code, err.details) == (code, details)


def test_connect_failure_detection():
    refused = (
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: "
        "Failed to connect to remote host: Connection refused"
    )
    assert is_connect_failure(rpc_error(grpc.StatusCode.UNAVAILABLE, refused))
    assert not is_connect_failure(rpc_error(grpc.StatusCode.UNAVAILABLE, "Socket closed"))
    assert not is_connect_failure(rpc_error(grpc.StatusCode.INTERNAL, refused))

"""Typed errors raised by the etcd client.

Every failed call raises an `EtcdError`; the gRPC status it came from is kept
in `.code` and `.details`. The tree:

    EtcdError
    ├── EtcdUnavailable        no endpoint answered, or the member lost its leader;
    │                          the request may or may not have been applied
    ├── EtcdTimeout            the call's deadline passed (same caveat)
    ├── CompactedError         the requested revision was compacted away
    ├── FutureRevisionError    the requested revision is newer than the store
    ├── LeaseNotFoundError     the lease does not exist (expired or revoked)
    ├── NoSpaceError           the backend quota is exhausted (etcd's NOSPACE alarm)
    ├── InvalidRequestError    etcd rejected the request as malformed
    └── WatchCanceledError     the server canceled a watch for another reason
"""

from __future__ import annotations

import grpc

__all__ = [
    "CompactedError",
    "EtcdError",
    "EtcdTimeout",
    "EtcdUnavailable",
    "FutureRevisionError",
    "InvalidRequestError",
    "LeaseNotFoundError",
    "NoSpaceError",
    "WatchCanceledError",
    "from_rpc_error",
]


class EtcdError(Exception):
    """A failed etcd call. `code` is the gRPC status code (None if not from gRPC)."""

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = message


class EtcdUnavailable(EtcdError):
    """No endpoint could serve the call. A mutation may still have been applied."""


class EtcdTimeout(EtcdError):
    """The call's deadline passed. A mutation may still have been applied."""


class CompactedError(EtcdError):
    """The requested revision is older than the store's compaction point.

    `compact_revision` is the oldest revision still available, when etcd says it
    (watches do; a Range at a compacted revision does not, and then it is None).
    A watcher must relist and watch again from the list's revision.
    """

    def __init__(
        self,
        compact_revision: int | None,
        message: str = "etcdserver: mvcc: required revision has been compacted",
        *,
        code: grpc.StatusCode | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.compact_revision = compact_revision

    def __str__(self) -> str:
        if self.compact_revision is None:
            return self.details
        return f"{self.details} (compact revision {self.compact_revision})"


class FutureRevisionError(EtcdError):
    """The requested revision is newer than the store's current revision."""


class LeaseNotFoundError(EtcdError):
    """The lease does not exist: it expired, was revoked, or never existed."""


class NoSpaceError(EtcdError):
    """The backend database exceeded its quota; etcd accepts only reads and deletes."""


class InvalidRequestError(EtcdError):
    """etcd rejected the request (empty key, duplicate key in a txn, too large, ...)."""


class WatchCanceledError(EtcdError):
    """The server canceled a watch for a reason other than compaction."""


def from_rpc_error(err: grpc.aio.AioRpcError) -> EtcdError:
    """Map a gRPC error from etcd to the matching `EtcdError` subclass."""
    code = err.code()
    details = err.details() or code.name
    if code == grpc.StatusCode.UNAVAILABLE:
        return EtcdUnavailable(details, code=code)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return EtcdTimeout(details, code=code)
    if code == grpc.StatusCode.OUT_OF_RANGE:
        if "compacted" in details:
            return CompactedError(None, details, code=code)
        if "future revision" in details:
            return FutureRevisionError(details, code=code)
    if code == grpc.StatusCode.NOT_FOUND and "lease not found" in details:
        return LeaseNotFoundError(details, code=code)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and "space exceeded" in details:
        return NoSpaceError(details, code=code)
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
        return InvalidRequestError(details, code=code)
    return EtcdError(details, code=code)

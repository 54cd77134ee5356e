"""Typed API errors, shared by the apiserver and the SDK.

Every failed call travels as a gRPC status code plus a ``meta.v1.Status``
(Kubernetes' error object), serialized in the trailing metadata key
``pinnace-status-bin``. The server raises an ``ApiError`` subclass; the SDK
turns the gRPC error back into the same subclass, so callers write
``except NotFound`` on both sides.

    ApiError
     ├── NotFound            NOT_FOUND            404 NotFound
     ├── AlreadyExists       ALREADY_EXISTS       409 AlreadyExists
     ├── Conflict            ABORTED              409 Conflict (stale resourceVersion)
     │    └── PreconditionFailed FAILED_PRECONDITION 409 Conflict (delete preconditions)
     ├── Invalid             INVALID_ARGUMENT     422 Invalid (field causes listed)
     ├── BadRequest          INVALID_ARGUMENT     400 BadRequest
     ├── Expired             OUT_OF_RANGE         410 Expired (resourceVersion too old: relist)
     ├── Unauthorized        UNAUTHENTICATED      401 Unauthorized
     ├── Forbidden           PERMISSION_DENIED    403 Forbidden
     ├── TooLarge            RESOURCE_EXHAUSTED   413 RequestEntityTooLarge
     ├── MethodNotAllowed    UNIMPLEMENTED        405 MethodNotAllowed
     ├── Timeout             DEADLINE_EXCEEDED    504 Timeout
     ├── Unavailable         UNAVAILABLE          503 ServiceUnavailable
     └── InternalError       INTERNAL             500 InternalError
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

import grpc

from pinnace.api.meta.v1 import meta_pb2

STATUS_METADATA_KEY = "pinnace-status-bin"


class ApiError(Exception):
    """An API call failed; ``status`` is the server's Status object."""

    reason: ClassVar[str] = "Unknown"
    http_code: ClassVar[int] = 500
    grpc_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        name: str = "",
        group: str = "",
        causes: Sequence[meta_pb2.StatusCause] = (),
        status: meta_pb2.Status | None = None,
    ) -> None:
        super().__init__(message)
        if status is None:
            status = meta_pb2.Status(
                api_version="v1",
                kind="Status",
                status="Failure",
                message=message,
                reason=self.reason,
                code=self.http_code,
                details=meta_pb2.StatusDetails(name=name, group=group, kind=kind, causes=causes),
            )
        self.status = status

    @property
    def message(self) -> str:
        return self.status.message

    @property
    def causes(self) -> list[meta_pb2.StatusCause]:
        return list(self.status.details.causes)

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return ((STATUS_METADATA_KEY, self.status.SerializeToString()),)


class NotFound(ApiError):
    reason, http_code, grpc_code = "NotFound", 404, grpc.StatusCode.NOT_FOUND


class AlreadyExists(ApiError):
    reason, http_code, grpc_code = "AlreadyExists", 409, grpc.StatusCode.ALREADY_EXISTS


class Conflict(ApiError):
    reason, http_code, grpc_code = "Conflict", 409, grpc.StatusCode.ABORTED


class PreconditionFailed(Conflict):
    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class Invalid(ApiError):
    reason, http_code, grpc_code = "Invalid", 422, grpc.StatusCode.INVALID_ARGUMENT


class BadRequest(ApiError):
    reason, http_code, grpc_code = "BadRequest", 400, grpc.StatusCode.INVALID_ARGUMENT


class Expired(ApiError):
    reason, http_code, grpc_code = "Expired", 410, grpc.StatusCode.OUT_OF_RANGE


class Unauthorized(ApiError):
    reason, http_code, grpc_code = "Unauthorized", 401, grpc.StatusCode.UNAUTHENTICATED


class Forbidden(ApiError):
    reason, http_code, grpc_code = "Forbidden", 403, grpc.StatusCode.PERMISSION_DENIED


class TooLarge(ApiError):
    reason, http_code, grpc_code = "RequestEntityTooLarge", 413, grpc.StatusCode.RESOURCE_EXHAUSTED


class MethodNotAllowed(ApiError):
    reason, http_code, grpc_code = "MethodNotAllowed", 405, grpc.StatusCode.UNIMPLEMENTED


class NotAcceptable(ApiError):
    reason, http_code, grpc_code = "NotAcceptable", 406, grpc.StatusCode.INVALID_ARGUMENT


class UnsupportedMediaType(ApiError):
    reason, http_code, grpc_code = "UnsupportedMediaType", 415, grpc.StatusCode.INVALID_ARGUMENT


class Timeout(ApiError):
    reason, http_code, grpc_code = "Timeout", 504, grpc.StatusCode.DEADLINE_EXCEEDED


class Unavailable(ApiError):
    reason, http_code, grpc_code = "ServiceUnavailable", 503, grpc.StatusCode.UNAVAILABLE


class InternalError(ApiError):
    reason, http_code, grpc_code = "InternalError", 500, grpc.StatusCode.INTERNAL


_BY_REASON: dict[str, type[ApiError]] = {
    c.reason: c
    for c in (
        NotFound,
        AlreadyExists,
        Conflict,
        Invalid,
        BadRequest,
        Expired,
        Unauthorized,
        Forbidden,
        TooLarge,
        MethodNotAllowed,
        NotAcceptable,
        UnsupportedMediaType,
        Timeout,
        Unavailable,
        InternalError,
    )
}
_BY_CODE: dict[grpc.StatusCode, type[ApiError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.FAILED_PRECONDITION: PreconditionFailed,
    grpc.StatusCode.INVALID_ARGUMENT: BadRequest,
    grpc.StatusCode.OUT_OF_RANGE: Expired,
    grpc.StatusCode.UNAUTHENTICATED: Unauthorized,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TooLarge,
    grpc.StatusCode.UNIMPLEMENTED: MethodNotAllowed,
    grpc.StatusCode.DEADLINE_EXCEEDED: Timeout,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
}


def from_grpc_error(err: grpc.RpcError) -> ApiError:
    """The typed error a failed gRPC call stands for."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = err.details() if hasattr(err, "details") else str(err)
    status = None
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == STATUS_METADATA_KEY:
            status = meta_pb2.Status.FromString(value)
            break
    if status is not None:
        cls = _BY_REASON.get(status.reason) or _BY_CODE.get(code, ApiError)
        if cls is Conflict and code == grpc.StatusCode.FAILED_PRECONDITION:
            cls = PreconditionFailed
        return cls(status.message, status=status)
    cls = _BY_CODE.get(code, Unavailable if code == grpc.StatusCode.CANCELLED else ApiError)
    return cls(details or code.name)


def invalid(kind: str, name: str, errors: Iterable[object], group: str = "") -> Invalid:
    """An Invalid error listing every field error, worded like Kubernetes:
    'Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: ...]'."""
    causes = []
    texts = []
    for e in errors:
        field = str(getattr(e, "field", "") or getattr(e, "path", ""))
        text = str(e)
        texts.append(text)
        detail = text[len(field) + 2 :] if field and text.startswith(field + ": ") else text
        causes.append(
            meta_pb2.StatusCause(
                reason=_cause_reason(getattr(e, "type", "")), message=detail, field=field
            )
        )
    qualified = f"{kind}.{group}" if group else kind
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return Invalid(
        f'{qualified} "{name}" is invalid: {joined}',
        kind=kind,
        name=name,
        group=group,
        causes=causes,
    )


def _cause_reason(error_type: object) -> str:
    """Kubernetes' StatusCause reason for a validation ErrorType."""
    name = str(getattr(error_type, "name", error_type)).upper()
    return {
        "NOT_FOUND": "FieldValueNotFound",
        "REQUIRED": "FieldValueRequired",
        "INVALID": "FieldValueInvalid",
        "NOT_SUPPORTED": "FieldValueNotSupported",
        "DUPLICATE": "FieldValueDuplicate",
        "FORBIDDEN": "FieldValueForbidden",
        "TOO_LONG": "FieldValueTooLong",
        "TOO_MANY": "FieldValueTooMany",
    }.get(name, "FieldValueInvalid")


def aggregate(errs: Sequence[ApiError]) -> ApiError | None:
    """Several failed calls as one error, as Kubernetes'
    ``utilerrors.NewAggregate``: None for none, the error itself for one.
    For several, the message lists each one (``[a, b]``, Kubernetes' format)
    and the type is theirs when they share it, else InternalError (a 500, as
    Kubernetes answers an aggregate that is no single API status). Used
    wherever several deletions are tried and every failure must be seen."""
    if not errs:
        return None
    if len(errs) == 1:
        return errs[0]
    message = "[" + ", ".join(e.message for e in errs) + "]"
    first = type(errs[0])
    cls = first if all(type(e) is first for e in errs) else InternalError
    return cls(message)


def raise_aggregate(errs: Sequence[BaseException]) -> None:
    """Raise every failure of several tried calls at once: nothing for none,
    else ``aggregate`` of them (Kubernetes returns ``NewAggregate(errs)``
    after trying each deletion, so no failure hides behind the first). An
    error that is no API error (a bug, a cancellation) is raised as it is,
    before any aggregate."""
    for e in errs:
        if not isinstance(e, ApiError):
            raise e
    err = aggregate([e for e in errs if isinstance(e, ApiError)])
    if err is not None:
        raise err

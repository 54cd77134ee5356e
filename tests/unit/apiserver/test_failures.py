"""apiserver/failures.py: what a client is told when serving failed for a
reason that is not an ApiError (the same at both doors)."""

from __future__ import annotations

import grpc
import pytest

from apiserver.etcd.errors import EtcdTimeout, EtcdUnavailable
from apiserver.failures import api_error
from pinnace.machinery import errors


@pytest.mark.parametrize(
    ("exc", "kind", "http", "code", "words"),
    [
        pytest.param(
            EtcdUnavailable("etcdserver: no leader"),
            errors.Unavailable,
            503,
            grpc.StatusCode.UNAVAILABLE,
            "etcd is unavailable: etcdserver: no leader",
            id="etcd-without-quorum",
        ),
        pytest.param(
            EtcdTimeout("deadline exceeded"),
            errors.Timeout,
            504,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "etcd did not answer in time: deadline exceeded",
            id="etcd-too-slow",
        ),
        pytest.param(
            KeyError("x"),
            errors.InternalError,
            500,
            grpc.StatusCode.INTERNAL,
            "internal error: KeyError: 'x'",
            id="a-bug",
        ),
    ],
)
def test_each_failure_is_answered_as_kube_apiserver_answers_it(
    exc: Exception, kind: type[errors.ApiError], http: int, code: grpc.StatusCode, words: str
) -> None:
    err = api_error(exc, "create pods")
    assert isinstance(err, kind)
    assert (err.http_code, err.grpc_code, err.message) == (http, code, words)

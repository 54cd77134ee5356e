"""common.one_of: Kubernetes' "may not specify more than 1 ... type" rule."""

from __future__ import annotations

import pytest

from apiserver.registry.kinds.common import one_of
from pinnace.api.core.v1 import container_pb2
from pinnace.machinery.validation import FieldPath

KINDS = ("exec", "http_get", "tcp_socket")
JSON = {"exec": "exec", "http_get": "httpGet", "tcp_socket": "tcpSocket"}


@pytest.mark.parametrize(
    ("handler", "chosen", "forbidden_at"),
    [
        pytest.param({}, None, [], id="none"),
        pytest.param({"exec": {}}, "exec", [], id="one"),
        pytest.param(
            {"exec": {}, "tcp_socket": {}, "http_get": {}},
            "exec",
            ["h.httpGet", "h.tcpSocket"],
            id="first-wins-others-forbidden",
        ),
        pytest.param({"tcp_socket": {}, "http_get": {}}, "http_get", ["h.tcpSocket"], id="order"),
    ],
)
def test_one_of(handler: dict, chosen: str | None, forbidden_at: list[str]) -> None:
    msg = container_pb2.LifecycleHandler(**handler)
    got, errs = one_of(msg, KINDS, JSON, FieldPath.root("h"), "only one")
    assert got == chosen
    assert [e.field for e in errs] == forbidden_at
    assert all(e.detail == "only one" for e in errs)

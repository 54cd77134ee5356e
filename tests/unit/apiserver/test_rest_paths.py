"""Which API request a URL is (apiserver/rest/paths.py), as Kubernetes'
RequestInfoFactory reads it."""

from __future__ import annotations

import pytest

from apiserver.rest.paths import RequestInfo, request_info


@pytest.mark.parametrize(
    ("method", "path", "watch", "expected"),
    [
        ("GET", "/api/v1/namespaces/ns/pods", False, RequestInfo("list", "", "v1", "pods", "ns")),
        ("GET", "/api/v1/namespaces/ns/pods/p", False, RequestInfo("get", "", "v1", "pods", "ns", "p")),
        ("GET", "/api/v1/namespaces/ns/pods/p/log", False,
         RequestInfo("get", "", "v1", "pods", "ns", "p", "log")),
        ("GET", "/api/v1/pods", False, RequestInfo("list", "", "v1", "pods")),
        ("GET", "/api/v1/pods", True, RequestInfo("watch", "", "v1", "pods")),
        ("GET", "/api/v1/nodes/n1", False, RequestInfo("get", "", "v1", "nodes", "", "n1")),
        ("GET", "/api/v1/namespaces/ns", False,
         RequestInfo("get", "", "v1", "namespaces", "ns", "ns")),
        ("PUT", "/api/v1/namespaces/ns/finalize", False,
         RequestInfo("update", "", "v1", "namespaces", "ns", "ns", "finalize")),
        ("POST", "/apis/apps/v1/namespaces/ns/deployments", False,
         RequestInfo("create", "apps", "v1", "deployments", "ns")),
        ("PUT", "/apis/apps/v1/namespaces/ns/deployments/d/scale", False,
         RequestInfo("update", "apps", "v1", "deployments", "ns", "d", "scale")),
        ("PATCH", "/apis/batch/v1/namespaces/ns/jobs/j/status", False,
         RequestInfo("patch", "batch", "v1", "jobs", "ns", "j", "status")),
        ("DELETE", "/apis/apps/v1/namespaces/ns/deployments/d", False,
         RequestInfo("delete", "apps", "v1", "deployments", "ns", "d")),
        ("DELETE", "/apis/apps/v1/namespaces/ns/deployments", False,
         RequestInfo("deletecollection", "apps", "v1", "deployments", "ns")),
    ],
    ids=[
        "list-in-namespace", "get", "subresource", "list-all-namespaces", "watch",
        "cluster-scoped", "namespace-object", "namespace-finalize", "create-in-group",
        "scale", "status-patch", "delete", "deletecollection",
    ],
)  # fmt: skip
def test_request_info(method: str, path: str, watch: bool, expected: RequestInfo) -> None:
    assert request_info(method, path, watch=watch) == expected


@pytest.mark.parametrize(
    "path", ["/", "/api", "/apis/apps", "/apis/apps/v1", "/version", "/api/v1/a/b/c/d"],
    ids=["root", "api", "group", "group-version", "version", "too-deep"],
)  # fmt: skip
def test_not_a_resource_path(path: str) -> None:
    assert request_info("GET", path) is None

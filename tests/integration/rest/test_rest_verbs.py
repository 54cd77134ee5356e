"""The Kubernetes HTTP API of a real apiserver (on the session etcd), over
plain HTTP with urllib: the shapes, codes and Status bodies kubectl and
client libraries read. (TLS, kubectl and the official client: test_kubectl*.)"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.waiting import wait_for

JSON = "application/json"


class Http:
    def __init__(self, base: str, context: ssl.SSLContext) -> None:
        self.base = base
        self.context = context  # TLS as the cluster's admin

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = JSON,
        accept: str = JSON,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], Any]:
        data = (
            None
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "Accept": accept},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.context) as resp:
                raw = resp.read()
                return resp.status, dict(resp.headers), _parse(raw)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), _parse(e.read())


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()


@pytest.fixture(scope="module")
def http(start_apiserver: Callable[..., Any]) -> Http:
    # A small watch window, so a test can fall out of it.
    server = start_apiserver("--watch-cache-size", "20", rest=True)
    return Http(server.rest_url, server.https_context())


@pytest.fixture
def ns(http: Http) -> Iterator[str]:
    name = f"r-{uuid.uuid4().hex[:8]}"
    code, _, _ = http.call("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201
    yield name
    http.call("DELETE", f"/api/v1/namespaces/{name}")


def deployment(name: str, replicas: int = 1, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "x", "command": ["sleep", "9"]}]},
            },
            **spec,
        },
    }


def test_version_health_and_discovery(http: Http) -> None:
    code, _, version = http.call("GET", "/version")
    assert code == 200 and version["major"] == "1" and version["gitVersion"].startswith("v1.32")
    for path in ("/healthz", "/livez", "/readyz"):
        assert http.call("GET", path)[0] == 200
    code, _, apis = http.call("GET", "/apis")
    assert {g["name"] for g in apis["groups"]} >= {"apps", "batch", "discovery.k8s.io"}
    code, _, core = http.call("GET", "/api/v1")
    names = {r["name"] for r in core["resources"]}
    assert {"pods", "pods/status", "pods/binding", "services", "namespaces"} <= names
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["namespaced"] and pods["kind"] == "Pod" and "po" in pods["shortNames"]
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    code, headers, agg = http.call("GET", "/apis", accept=accept)
    assert headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    apps = next(i for i in agg["items"] if i["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deploy["scope"] == "Namespaced" and deploy["responseKind"]["kind"] == "Deployment"
    assert {s["subresource"] for s in deploy["subresources"]} == {"status", "scale"}


def test_crud_with_kubernetes_shapes_and_codes(http: Http, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    code, _, created = http.call("POST", base, deployment("web"))
    assert code == 201 and created["kind"] == "Deployment" and created["apiVersion"] == "apps/v1"
    assert created["metadata"]["namespace"] == ns and created["metadata"]["resourceVersion"]
    code, _, again = http.call("POST", base, deployment("web"))
    assert (code, again["reason"], again["kind"]) == (409, "AlreadyExists", "Status")
    assert again["details"] == {"name": "web", "group": "apps", "kind": "deployments"}

    code, _, listed = http.call("GET", base)
    assert code == 200 and listed["kind"] == "DeploymentList"
    assert listed["metadata"]["resourceVersion"] and [
        i["metadata"]["name"] for i in listed["items"]
    ] == ["web"]

    code, _, patched = http.call(
        "PATCH",
        f"{base}/web",
        {"spec": {"replicas": 3}},
        content_type="application/merge-patch+json",
    )
    assert code == 200 and patched["spec"]["replicas"] == 3
    code, _, patched = http.call(
        "PATCH",
        f"{base}/web",
        [{"op": "replace", "path": "/spec/replicas", "value": 2}],
        content_type="application/json-patch+json",
    )
    assert code == 200 and patched["spec"]["replicas"] == 2

    stale = dict(created)
    code, _, conflict = http.call("PUT", f"{base}/web", stale)
    assert (code, conflict["reason"]) == (409, "Conflict")

    code, _, scale = http.call("GET", f"{base}/web/scale")
    assert (code, scale["kind"], scale["spec"]["replicas"]) == (200, "Scale", 2)
    scale["spec"]["replicas"] = 5
    code, _, scale = http.call("PUT", f"{base}/web/scale", scale)
    assert code == 200 and scale["spec"]["replicas"] == 5

    code, _, _ = http.call("POST", f"{base}?dryRun=All", deployment("dry"))
    assert code == 201 and http.call("GET", f"{base}/dry")[0] == 404

    code, _, status = http.call("DELETE", f"{base}/web")
    assert code == 200 and status["kind"] == "Status" and status["status"] == "Success"
    code, _, missing = http.call("GET", f"{base}/web")
    assert (code, missing["reason"], missing["message"]) == (
        404,
        "NotFound",
        'deployments.apps "web" not found',
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "code", "reason", "text"),
    [
        ("POST", "deployments", {**deployment("x"), "spec": {"bogus": 1}}, JSON, 400, "BadRequest",
         'strict decoding error: unknown field "spec.bogus"'),
        ("POST", "deployments", deployment("x", replicas=-1), JSON, 422, "Invalid",
         "spec.replicas: Invalid value: -1"),
        ("POST", "deployments", b"{not json", JSON, 400, "BadRequest", "not valid JSON"),
        ("PATCH", "deployments/none", {"spec": {}}, "application/merge-patch+json", 404, "NotFound",
         'deployments.apps "none" not found'),
        ("PATCH", "deployments/none", {}, "text/plain", 415, "UnsupportedMediaType",
         "accepted media types include"),
        ("GET", "nothings", None, JSON, 404, "NotFound", "could not find the requested resource"),
        ("PATCH", "deployments/x", [{"op": "remove", "path": "/spec/nothing"}],
         "application/json-patch+json", 422, "Invalid", "the patch cannot be applied"),
    ],
    ids=["unknown-field", "invalid", "bad-json", "patch-missing", "bad-patch-type",
         "unknown-resource", "bad-json-patch"],
)  # fmt: skip
def test_bad_requests_get_kubernetes_codes(
    http: Http, ns: str, method: str, path: str, body: Any, content_type: str,
    code: int, reason: str, text: str,
) -> None:  # fmt: skip
    group = "/api/v1" if path == "nothings" else "/apis/apps/v1"
    if path == "deployments/x":  # a patch needs an object to fail on
        http.call("POST", f"{group}/namespaces/{ns}/deployments", deployment("x"))
    got, _, status = http.call(
        method, f"{group}/namespaces/{ns}/{path}", body, content_type=content_type
    )
    assert (got, status["kind"], status["reason"], status["code"]) == (code, "Status", reason, code)
    assert text in status["message"], status["message"]
    # Nothing half-written: no object made, or the patched one unchanged.
    got_x, _, x = http.call("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/x")
    if path == "deployments/x":
        assert x["metadata"]["generation"] == 1 and x["metadata"]["resourceVersion"]
    else:
        assert got_x == 404


def test_watch_streams_events_and_expires(http: Http, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    _, _, listed = http.call("GET", base)
    rv = listed["metadata"]["resourceVersion"]
    lines: list[dict[str, Any]] = []

    def watch() -> None:
        req = urllib.request.Request(
            f"{http.base}{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=5"
        )
        with urllib.request.urlopen(req, timeout=10, context=http.context) as resp:
            for line in resp:
                lines.append(json.loads(line))

    t = threading.Thread(target=watch)
    t.start()
    http.call("POST", base, deployment("w"))
    http.call(
        "PATCH", f"{base}/w", {"spec": {"replicas": 2}}, content_type="application/merge-patch+json"
    )
    http.call("DELETE", f"{base}/w")
    wait_for(lambda: len([e for e in lines if e["type"] != "BOOKMARK"]) >= 3, 10, "three events")
    t.join()
    events = [
        (e["type"], e["object"]["metadata"]["name"]) for e in lines if e["type"] != "BOOKMARK"
    ]
    assert events[:3] == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]
    assert lines[0]["object"]["kind"] == "Deployment"

    # 30 changes later the window (20 events) no longer reaches back to rv.
    http.call("POST", base, deployment("churn"))
    for i in range(30):
        body = {"metadata": {"labels": {"n": str(i)}}}
        http.call("PATCH", f"{base}/churn", body, content_type="application/merge-patch+json")
    req = urllib.request.Request(f"{http.base}{base}?watch=1&resourceVersion={rv}")
    with urllib.request.urlopen(req, timeout=10, context=http.context) as resp:
        first = json.loads(resp.readline())
    assert first["type"] == "ERROR" and first["object"]["code"] == 410
    assert first["object"]["reason"] == "Expired"


def test_watch_list_sends_initial_events_then_the_end_bookmark(http: Http, ns: str) -> None:
    """sendInitialEvents=true (client-go's WatchList): every current object as
    ADDED, then a BOOKMARK annotated k8s.io/initial-events-end."""
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    for name in ("a", "b"):
        http.call("POST", base, deployment(name))
    query = (
        "watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=2"
    )
    req = urllib.request.Request(f"{http.base}{base}?{query}")
    with urllib.request.urlopen(req, timeout=10, context=http.context) as resp:
        events = [json.loads(resp.readline()) for _ in range(3)]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:2]] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]
    end = events[2]
    assert end["type"] == "BOOKMARK"
    assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    code, _, status = http.call("GET", f"{base}?watch=1&sendInitialEvents=true")
    assert (code, status["reason"]) == (422, "Invalid")


def test_partial_object_metadata_when_asked(http: Http, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    http.call("POST", base, deployment("m"))
    accept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
    code, headers, one = http.call("GET", f"{base}/m", accept=accept)
    assert code == 200 and one["kind"] == "PartialObjectMetadata" and "spec" not in one
    assert one["metadata"]["name"] == "m" and "as=PartialObjectMetadata" in headers["Content-Type"]
    accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    code, _, many = http.call("GET", base, accept=accept)
    assert many["kind"] == "PartialObjectMetadataList"
    assert [i["metadata"]["name"] for i in many["items"]] == ["m"]


def test_a_body_too_large_is_413_and_writes_nothing(http: Http, ns: str) -> None:
    huge = deployment("big")
    huge["metadata"]["annotations"] = {"blob": "x" * (4 * 1024 * 1024)}
    code, _, status = http.call("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", huge)
    assert (code, status["reason"]) == (413, "RequestEntityTooLarge")
    assert http.call("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/big")[0] == 404

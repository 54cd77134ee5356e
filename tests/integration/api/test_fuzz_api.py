"""Property-based: malformed and adversarial objects at both front doors of
a real (secure) apiserver. The HTTP API gets the JSON as written; gRPC gets
what the codec could make of it (the SDK decodes before it sends). Each
write is accepted (and then readable), or refused with 400/422 naming a
field, and a refused write leaves nothing behind. The apiserver never
answers 500 and still serves at the end."""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery import codec, errors, kinds
from tests.fuzzing import BASES, Mutated, mutated, names_a_field, patches
from tests.integration.conftest import RunningApiServer, fresh_namespace
from tests.waiting import wait_for

EXAMPLES = int(os.environ.get("PINNACE_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def server(start_apiserver: Callable[..., RunningApiServer]) -> RunningApiServer:
    return start_apiserver(rest=True)


@pytest.fixture(scope="module")
def admin(server: RunningApiServer) -> Iterator[Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def ns(admin: Client) -> Iterator[str]:
    with fresh_namespace(admin, "fz") as name:
        yield name


def _collection(m: Mutated, ns: str) -> str:
    info = kinds.by_resource(m.resource)
    base = f"/api/{info.version}" if not info.group else f"/apis/{info.group}/{info.version}"
    scope = f"/namespaces/{ns}" if info.namespaced else ""
    return f"{base}{scope}/{info.plural}"


def _http(
    server: RunningApiServer, context: ssl.SSLContext, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        server.rest_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_http_api_accepts_or_names_the_field(server: RunningApiServer, ns: str) -> None:
    context = server.https_context()
    seen: set[int] = set()

    @FUZZ
    @given(mutated())
    def attempt(m: Mutated) -> None:
        collection = _collection(m, ns)
        code, body = _http(server, context, "POST", collection, m.doc)
        assert code in (201, 400, 422), (m, code, body.get("message"))
        got, _ = _http(server, context, "GET", f"{collection}/{m.name}")
        seen.add(code)
        if code == 201:
            assert got == 200, (m, got)
            return
        assert names_a_field(body), (m, body.get("message"), body.get("details"))
        assert got == 404, f"a refused write left {m.name} behind: {m}"

    attempt()
    assert 201 in seen and seen & {400, 422}, f"one outcome never happened: {seen}"
    with urllib.request.urlopen(f"{server.rest_url}/readyz", timeout=10, context=context) as r:
        assert (r.status, r.read()) == (200, b"ok")


def test_grpc_accepts_or_names_the_field(server: RunningApiServer, admin: Client, ns: str) -> None:
    outcomes: set[str] = set()

    @FUZZ
    @given(mutated())
    def attempt(m: Mutated) -> None:
        info = kinds.by_resource(m.resource)
        try:
            obj = codec.from_dict(type(info.new()), m.doc)
        except codec.CodecError:
            return  # the SDK refuses it before sending (the unit fuzz covers this)
        handle = admin.resource(info, ns)
        try:
            handle.create(obj)
        except (errors.Invalid, errors.BadRequest) as e:
            assert any(c.field for c in e.causes) or names_a_field({"message": e.message}), (
                m,
                e.message,
            )
            with pytest.raises(errors.NotFound):
                handle.get(obj.metadata.name or m.name)
            outcomes.add("refused")
            return
        assert handle.get(obj.metadata.name).metadata.uid
        outcomes.add("created")

    attempt()
    assert outcomes == {"created", "refused"}, f"one outcome never happened: {outcomes}"
    assert admin.namespaces().get(ns).metadata.name == ns


CLUSTER_EXAMPLES = max(EXAMPLES // 5, 1)
# Valid counts can be huge (a Deployment of 2**31-1 replicas is valid): the
# cluster test keeps each workload's size small, whatever else is strange.
MAX_COUNT = 2


def _bounded(msg: Any) -> None:
    """Every replicas, parallelism and completions in ``msg`` at most MAX_COUNT."""
    for field, value in msg.ListFields():
        if field.name in ("replicas", "parallelism", "completions") and value > MAX_COUNT:
            setattr(msg, field.name, MAX_COUNT)
        elif field.message_type is not None and not field.is_repeated:
            _bounded(value)


def test_the_cluster_copes_with_whatever_was_accepted(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    """Strange but valid objects reach the controllers, the scheduler and
    the kubelets of the session cluster: none of them crashes or logs a
    traceback, and the cluster still runs a pod afterwards."""
    logs = sorted((cluster.data_dir / "logs").glob("*.log"))
    offsets = {log: log.stat().st_size for log in logs}
    accepted: list[str] = []

    @settings(FUZZ, max_examples=CLUSTER_EXAMPLES)
    @given(mutated())
    def attempt(m: Mutated) -> None:
        info = kinds.by_resource(m.resource)
        try:
            obj = codec.from_dict(type(info.new()), m.doc)
            _bounded(obj)
            cluster_client.resource(info, cluster_namespace).create(obj)
        except (codec.CodecError, errors.Invalid, errors.BadRequest):
            return
        accepted.append(f"{m.resource}/{obj.metadata.name}: {m.changes}")

    attempt()
    assert accepted, "nothing was accepted: the cluster was not exercised"
    probe = kinds.by_resource("pods").new()
    probe.metadata.name = "probe"
    probe.spec.restart_policy = "Never"
    c = probe.spec.containers.add(name="c", image="busybox")
    c.command[:] = ["true"]
    cluster_client.pods(cluster_namespace).create(probe)
    wait_for(
        lambda: cluster_client.pods(cluster_namespace).get("probe").status.phase == "Succeeded",
        60,
        "a pod still runs to completion",
    )
    assert cluster.check() == []
    for log in logs:
        with log.open(errors="replace") as f:
            f.seek(offsets[log])
            assert "Traceback" not in f.read(), (
                f"{log.name} logged a traceback; accepted: {accepted}"
            )


def test_a_patch_applies_whole_or_not_at_all(server: RunningApiServer, ns: str) -> None:
    """JSON, merge and strategic-merge patches that may be anything, on one
    Deployment: each is applied (and the result is a valid Deployment), or
    refused with 400/422 and the Deployment is exactly as it was."""
    context = server.https_context()
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "target", "labels": {"app": "x"}},
        "spec": BASES["deployments.apps"][2],
    }
    assert _http(server, context, "POST", base, doc)[0] == 201
    seen: set[int] = set()

    @settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))
    @given(patches())
    def attempt(patch: tuple[str, Any]) -> None:
        content_type, body = patch
        _, before = _http(server, context, "GET", f"{base}/target")
        req = urllib.request.Request(
            f"{server.rest_url}{base}/target",
            data=json.dumps(body).encode(),
            method="PATCH",
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10, context=context) as resp:
                code = resp.status
        except urllib.error.HTTPError as e:
            code = e.code
        assert code in (200, 400, 409, 422), (patch, code)
        seen.add(code)
        got, after = _http(server, context, "GET", f"{base}/target")
        assert got == 200, (patch, after)
        if code != 200:
            rv = (before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"])
            assert rv[0] == rv[1], f"a refused patch changed the object: {patch}"

    attempt()
    assert 200 in seen and seen - {200}, f"one outcome never happened: {seen}"

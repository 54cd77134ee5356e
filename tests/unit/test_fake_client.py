"""The shared fake API client (pinnace/client/fake.py): recorded actions,
the object tracker's answers, reactors and watches."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client._requests import WatchEvent
from pinnace.client.fake import Action, FakeClient
from pinnace.client.informer import Informer
from pinnace.machinery import errors
from pinnace.machinery.timeutil import FakeClock


def pod(
    name: str,
    ns: str = "ns",
    *,
    rv: str = "",
    node: str = "",
    finalizers: tuple[str, ...] = (),
    **labels: str,
) -> pod_pb2.Pod:
    p = pod_pb2.Pod(api_version="v1", kind="Pod")
    p.metadata.name, p.metadata.namespace, p.metadata.resource_version = name, ns, rv
    p.metadata.uid = f"uid-{name}"
    p.metadata.labels.update(labels)
    p.metadata.finalizers.extend(finalizers)
    p.spec.node_name = node
    return p


def deployment(name: str, replicas: int) -> deployment_pb2.Deployment:
    d = deployment_pb2.Deployment(api_version="apps/v1", kind="Deployment")
    d.metadata.name, d.metadata.namespace = name, "ns"
    d.spec.replicas = replicas
    return d


def node(name: str) -> node_pb2.Node:
    n = node_pb2.Node(api_version="v1", kind="Node")
    n.metadata.name = name
    return n


def summary(client: FakeClient) -> list[tuple[str, str, str, str, str]]:
    return [(a.verb, a.resource, a.namespace, a.name, a.subresource) for a in client.actions]


# ---- reads --------------------------------------------------------------------------


async def test_seeded_objects_are_served_as_copies() -> None:
    seeded = pod("a", rv="7")
    client = FakeClient(seeded, node("n1"))
    got = await client.pods("ns").get("a")
    assert got == seeded and got is not seeded
    got.metadata.labels["x"] = "y"
    assert "x" not in (await client.pods("ns").get("a")).metadata.labels
    assert (await client.nodes().get("n1")).metadata.name == "n1"
    assert summary(client) == [
        ("get", "pods", "ns", "a", ""),
        ("get", "pods", "ns", "a", ""),
        ("get", "nodes", "", "n1", ""),
    ]


@pytest.mark.parametrize(
    ("namespace", "labels", "fields", "want"),
    [
        pytest.param("ns", "", "", ["a", "b", "c"], id="namespace"),
        pytest.param("", "", "", ["a", "b", "c", "d"], id="all-namespaces"),
        pytest.param("ns", "app=web", "", ["a", "b"], id="label-selector"),
        pytest.param("ns", "app in (web),tier!=db", "", ["a"], id="set-selector"),
        pytest.param("", "", "spec.nodeName=n1", ["a", "d"], id="field-selector"),
        pytest.param("ns", "", "spec.nodeName=", ["c"], id="field-selector-empty"),
        pytest.param("ns", "", "metadata.name!=a", ["b", "c"], id="field-name"),
    ],
)
async def test_list_selects_like_the_apiserver(
    namespace: str, labels: str, fields: str, want: list[str]
) -> None:
    client = FakeClient(
        pod("a", node="n1", app="web"),
        pod("b", node="n2", app="web", tier="db"),
        pod("c"),
        pod("d", "other", node="n1"),
    )
    got = await client.pods(namespace).list(label_selector=labels, field_selector=fields)
    assert [p.metadata.name for p in got.items] == want
    (action,) = client.actions
    assert action.verb == "list" and action.options["label_selector"] == labels


async def test_list_pages_and_reports_the_resource_version() -> None:
    client = FakeClient(*(pod(f"p{i}") for i in range(5)))
    handle = client.pods("ns")
    first = await handle.list(limit=2)
    second = await handle.list(limit=2, continue_token=first.continue_token)
    last = await handle.list(limit=2, continue_token=second.continue_token)
    names = [p.metadata.name for page in (first, second, last) for p in page.items]
    assert names == ["p0", "p1", "p2", "p3", "p4"] and last.continue_token == ""
    assert first.resource_version == str(client.tracker.resource_version) == "5"


# ---- writes -------------------------------------------------------------------------


async def test_create_stamps_metadata_and_records_what_was_sent() -> None:
    clock = FakeClock()
    client = FakeClient(clock=clock)
    sent = pod("a")
    sent.metadata.uid = ""
    made = await client.pods("ns").create(sent)
    assert (made.metadata.uid, made.metadata.resource_version, made.metadata.generation) == (
        "uid-a",
        "1",
        1,
    )
    assert made.metadata.creation_timestamp == "2024-01-01T00:00:00Z"
    assert sent.metadata.resource_version == "" and not sent.metadata.uid
    sent.metadata.labels["changed"] = "after"
    (action,) = client.actions
    want = pod("a")
    want.metadata.uid = ""
    assert action == Action("create", "pods", "ns", "a", object=want, options={"dry_run": False})
    await client.pods("ns").delete("a")
    assert (await client.pods("ns").create(pod("a"))).metadata.uid == "uid-a"  # given: kept
    tmpl = pod_pb2.Pod()
    tmpl.metadata.generate_name = "web-"
    named = await client.pods("ns").create(tmpl)
    assert named.metadata.name == "web-00001" and named.metadata.uid == "uid-web-00001"


async def test_client_create_takes_the_namespace_from_the_object() -> None:
    client = FakeClient()
    await client.create(pod("a", "elsewhere"))
    assert client.tracker.get("pods", "elsewhere", "a") is not None


async def test_update_status_and_scale_bind() -> None:
    client = FakeClient(deployment("web", 1), pod("p"))
    d = await client.deployments("ns").get("web")
    d.status.replicas = 1
    d = await client.deployments("ns").update_status(d)
    scale = await client.deployments("ns").scale("web", 3)
    assert (scale.spec.replicas, scale.status.replicas) == (3, 1)
    assert (await client.deployments("ns").get_scale("web")).spec.replicas == 3
    bound = await client.pods("ns").bind("p", "n1")
    assert bound.spec.node_name == "n1"
    with pytest.raises(errors.Conflict, match='already assigned to node "n1"'):
        await client.pods("ns").bind("p", "n2")
    assert [(a.verb, a.subresource) for a in client.actions] == [
        ("get", ""),
        ("update", "status"),
        ("update", "scale"),
        ("get", "scale"),
        ("create", "binding"),
        ("create", "binding"),
    ]
    assert client.actions[2].object.spec.replicas == 3


async def test_patch_merge_and_json() -> None:
    client = FakeClient(pod("a", app="web"))
    patched = await client.pods("ns").patch(
        "a", {"metadata": {"labels": {"app": None, "tier": "fe"}}}
    )
    assert dict(patched.metadata.labels) == {"tier": "fe"}
    patched = await client.pods("ns").patch(
        "a", [{"op": "add", "path": "/spec/nodeName", "value": "n1"}], patch_type="json"
    )
    assert patched.spec.node_name == "n1"
    assert [a.patch for a in client.verbs("patch")] == [
        {"metadata": {"labels": {"app": None, "tier": "fe"}}},
        [{"op": "add", "path": "/spec/nodeName", "value": "n1"}],
    ]


Call = Callable[[FakeClient], Awaitable[Any]]


async def _stale(client: FakeClient) -> Any:
    return await client.pods("ns").update(pod("a", rv="1"))


ERRORS: list[Any] = [
    pytest.param(
        lambda c: c.pods("ns").get("nope"),
        errors.NotFound,
        'pods "nope" not found',
        id="get-missing",
    ),
    pytest.param(
        lambda c: c.deployments("ns").get("nope"),
        errors.NotFound,
        'deployments.apps "nope" not found',
        id="group-in-message",
    ),
    pytest.param(
        lambda c: c.pods("ns").create(pod("a")),
        errors.AlreadyExists,
        'pods "a" already exists',
        id="create-twice",
    ),
    pytest.param(_stale, errors.Conflict, "the object has been modified", id="update-stale"),
    pytest.param(
        lambda c: c.pods("ns").patch("a", {"metadata": {"resourceVersion": "1"}}),
        errors.Conflict,
        "has been modified",
        id="patch-stale",
    ),
    pytest.param(
        lambda c: c.pods("ns").delete("a", uid="other"),
        errors.Conflict,
        "Precondition failed: UID in precondition: other",
        id="delete-uid-precondition",
    ),
    pytest.param(
        lambda c: c.pods("ns").patch("a", [{"op": "remove", "path": "/nope"}], patch_type="json"),
        errors.Invalid,
        "cannot be applied",
        id="json-patch-fails",
    ),
    pytest.param(
        lambda c: c.pods("ns").update(node("n")), TypeError, "expected a Pod", id="wrong-kind"
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), ERRORS)
async def test_errors_as_the_apiserver_gives_them(
    call: Call, error: type[Exception], message: str
) -> None:
    client = FakeClient(pod("a", rv="5"))
    with pytest.raises(error, match=message):
        await call(client)
    assert client.tracker.resource_version == 5  # nothing written


async def test_update_without_resource_version_is_unconditional() -> None:
    client = FakeClient(pod("a", rv="5"))
    updated = await client.pods("ns").update(pod("a", app="x"))
    assert updated.metadata.resource_version == "6"


async def test_delete_removes_or_marks_objects_with_finalizers() -> None:
    client = FakeClient(pod("plain"), pod("held", finalizers=("example.com/keep",)))
    gone = await client.pods("ns").delete("plain", grace_period_seconds=0)
    assert gone.metadata.name == "plain" and client.tracker.get("pods", "ns", "plain") is None
    held = await client.pods("ns").delete("held")
    assert held.metadata.deletion_timestamp == "2024-01-01T00:00:00Z"
    assert client.tracker.get("pods", "ns", "held") is not None
    assert client.actions[0].options == {"grace_period_seconds": 0}


async def test_delete_collection_by_selector() -> None:
    client = FakeClient(pod("a", app="web"), pod("b", app="web"), pod("c"))
    gone = await client.pods("ns").delete_collection(label_selector="app=web")
    assert [p.metadata.name for p in gone] == ["a", "b"]
    assert [p.metadata.name for p in (await client.pods("ns").list()).items] == ["c"]


# ---- reactors -----------------------------------------------------------------------


async def test_fail_by_name_and_times_and_the_failed_call_is_recorded() -> None:
    client = FakeClient(pod("a"), pod("b"))
    client.fail("delete", "pods", errors.InternalError("etcd is down"), name="a", times=1)
    with pytest.raises(errors.InternalError):
        await client.pods("ns").delete("a")
    await client.pods("ns").delete("b")  # other name: not failed
    await client.pods("ns").delete("a")  # second time: not failed
    assert [a.name for a in client.verbs("delete")] == ["a", "b", "a"]


async def test_reactors_run_newest_first_and_may_answer() -> None:
    client = FakeClient(pod("a"))
    seen: list[str] = []

    def answer(action: Action) -> tuple[bool, Any]:
        seen.append("answer")
        return True, pod("answered")

    def look(action: Action) -> tuple[bool, Any]:
        seen.append("look")
        return False, None

    client.prepend_reactor("get", "*", answer)
    client.prepend_reactor("*", "pods", look)
    assert (await client.pods("ns").get("a")).metadata.name == "answered"
    assert seen == ["look", "answer"]


# ---- watches ------------------------------------------------------------------------


async def next_events(stream: Any, n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        ev = await asyncio.wait_for(anext(stream), 2)
        out.append((ev.type, ev.object.metadata.name if ev.object else ev.resource_version))
    return out


async def test_watch_from_now_sees_current_objects_then_writes() -> None:
    client = FakeClient(pod("a"))
    handle = client.pods("ns")
    stream = handle.watch()
    assert await next_events(stream, 1) == [("ADDED", "a")]
    await handle.create(pod("b"))
    await handle.patch("a", {"metadata": {"labels": {"x": "y"}}})
    await handle.delete("b")
    await client.pods("other").create(pod("elsewhere", "other"))
    await handle.create(pod("c"))
    assert await next_events(stream, 4) == [
        ("ADDED", "b"),
        ("MODIFIED", "a"),
        ("DELETED", "b"),
        ("ADDED", "c"),
    ]
    await stream.aclose()


async def test_watch_from_a_version_replays_later_writes_and_injected_events() -> None:
    client = FakeClient(pod("a", rv="3"))
    handle = client.pods("")
    await handle.create(pod("b"))  # rv 4
    client.inject_watch("pods", WatchEvent("BOOKMARK", None, "5"))
    stream = handle.watch(resource_version="3")
    assert await next_events(stream, 2) == [("ADDED", "b"), ("BOOKMARK", "5")]
    client.inject_watch("pods", errors.InternalError("stream broke"))
    with pytest.raises(errors.InternalError):
        await anext(stream)
    assert client.verbs("watch")[0].options["resource_version"] == "3"


async def test_an_informer_runs_on_the_fake() -> None:
    client = FakeClient(pod("a", rv="7"))
    informer = Informer(client, "pods")  # type: ignore[arg-type]  # a stand-in for AsyncClient
    added_b = asyncio.Event()

    def on_add(obj: Any) -> None:
        if obj.metadata.name == "b":
            added_b.set()

    informer.add_handler(on_add=on_add)
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(2)
        await client.pods("ns").create(pod("b"))
        await asyncio.wait_for(added_b.wait(), 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert informer.last_resource_version == "8"

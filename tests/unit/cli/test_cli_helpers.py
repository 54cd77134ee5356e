"""Pure helpers of the CLI: ages, JSONPath, client-side apply (durations:
test_flag_durations.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinnace.api.core.v1 import pod_pb2
from pinnace.cli.commands.resources import three_way_patch
from pinnace.cli.commands.wait import condition_met, jsonpath
from pinnace.cli.printing import age, render, table
from pinnace.machinery import codec

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (5, "5s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (3 * 86400, "3d"),
    ],
    ids=["seconds", "under-2m", "minutes-seconds", "minutes", "hours-minutes", "hours", "days"],
)
def test_age(seconds: int, want: str) -> None:
    stamp = (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert age(stamp, NOW) == want


def test_jsonpath() -> None:
    doc = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    assert jsonpath(doc, "{.status.phase}") == "Running"
    assert jsonpath(doc, "{.status.conditions[0].type}") == "Ready"
    assert jsonpath(doc, "{.status.conditions[3].type}") is None
    assert jsonpath(doc, "{.spec.x}") is None


def _pod(**status: object) -> pod_pb2.Pod:
    return codec.from_dict(pod_pb2.Pod, {"metadata": {"name": "p"}, "status": status})


@pytest.mark.parametrize(
    ("condition", "want"),
    [
        ("condition=Ready", True),
        ("condition=ready", True),
        ("condition=Ready=False", False),
        ("condition=Initialized", False),
        ("jsonpath={.status.phase}=Running", True),
        ("jsonpath={.status.phase}=Pending", False),
    ],
)
def test_condition_met(condition: str, want: bool) -> None:
    pod = _pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    assert condition_met(pod, condition) is want


def test_three_way_patch_removes_what_the_last_apply_set() -> None:
    last = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 3, "paused": True}}
    new = {"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 5}}
    assert three_way_patch(last, new) == {
        "metadata": {"labels": {"a": "1", "b": None}},
        "spec": {"replicas": 5, "paused": None},
    }


def test_table_has_kubectl_columns() -> None:
    pod = _pod(phase="Pending")
    pod.spec.containers.add(name="c")
    text = table([pod])
    header = text.splitlines()[0].split()
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert text.splitlines()[1].split()[:4] == ["p", "0/1", "Pending", "0"]


def test_render_json_list_is_a_kubernetes_list() -> None:
    import json

    doc = json.loads(render([_pod(phase="Running")], "json", single=False))
    assert doc["kind"] == "List" and doc["items"][0]["status"]["phase"] == "Running"
    with pytest.raises(ValueError, match="unknown output format"):
        render([_pod()], "xml", single=True)

"""The meta.k8s.io/v1 Table JSON (includeObject, list metadata, headers,
the default convertor) and the AGE format (apimachinery HumanDuration)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, printers
from pinnace.machinery.printers.registry import DEFAULT

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def deployment(name: str = "web") -> deployment_pb2.Deployment:
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": "u-1",
                "resourceVersion": "41",
                "creationTimestamp": "2026-01-01T11:00:00Z",
                "labels": {"app": name},
            },
            "spec": {"replicas": 2},
            "status": {"readyReplicas": 1},
        },
    )


def test_table_shape() -> None:
    table = printers.table(
        "Deployment",
        [deployment()],
        now=NOW,
        list_meta=meta_pb2.ListMeta(resource_version="42", continue_token="abc"),
    )
    assert list(table) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42", "continue": "abc"}
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
    ]
    (row,) = table["rows"]
    assert list(row) == ["cells", "object"]
    assert row["cells"] == ["web", "1/2", 0, 0, "60m", "", "", ""]


@pytest.mark.parametrize(
    ("include", "want"),
    [
        (
            "Metadata",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {
                    "name": "web",
                    "namespace": "default",
                    "uid": "u-1",
                    "resourceVersion": "41",
                    "creationTimestamp": "2026-01-01T11:00:00Z",
                    "labels": {"app": "web"},
                },
            },
        ),
        ("", "Metadata"),
        ("None", None),
        ("Object", "whole"),
    ],
    ids=["metadata", "default-is-metadata", "none", "object"],
)
def test_include_object(include: str, want: Any) -> None:
    obj = deployment()
    (row,) = printers.table("Deployment", [obj], now=NOW, include_object=include)["rows"]
    if want == "Metadata":
        want = printers.table("Deployment", [obj], now=NOW)["rows"][0]["object"]
    if want == "whole":
        want = codec.to_dict(obj)
        assert want["apiVersion"] == "apps/v1" and want["kind"] == "Deployment"
    assert row["object"] == want


def test_object_without_type_meta_gets_it() -> None:
    obj = deployment()
    obj.api_version = obj.kind = ""
    (row,) = printers.table("Deployment", [obj], now=NOW, include_object="Object")["rows"]
    assert row["object"]["apiVersion"] == "apps/v1" and row["object"]["kind"] == "Deployment"


def test_unknown_include_object_is_kubernetes_bad_request_message() -> None:
    with pytest.raises(
        printers.IncludeObjectError, match='unrecognized includeObject value: "All"'
    ):
        printers.table("Deployment", [deployment()], now=NOW, include_object="All")


def test_empty_list_and_no_headers() -> None:
    table = printers.table("Pod", [], now=NOW, no_headers=True)
    assert table["rows"] == [] and table["columnDefinitions"] is None
    assert table["metadata"] == {}


def test_remaining_item_count_is_sent_when_set_even_zero() -> None:
    meta = meta_pb2.ListMeta(resource_version="7", remaining_item_count=0)
    assert printers.table("Pod", [], now=NOW, list_meta=meta)["metadata"] == {
        "resourceVersion": "7",
        "remainingItemCount": 0,
    }


def test_default_convertor_cells() -> None:
    """Name and the creation time in RFC 3339 UTC (a zero time too)."""
    obj = deployment()
    assert DEFAULT.cells(obj, NOW) == ["web", "2026-01-01T11:00:00Z"]
    obj.metadata.creation_timestamp = "2026-01-01T13:00:00+01:00"
    assert DEFAULT.cells(obj, NOW) == ["web", "2026-01-01T12:00:00Z"]
    obj.metadata.creation_timestamp = ""
    assert DEFAULT.cells(obj, NOW) == ["web", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (-5, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (600, "10m"),
        (179 * 60 + 59, "179m"),
        (3 * 3600, "3h"),
        (4 * 3600 + 30 * 60, "4h30m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (76 * 3600, "3d4h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (2 * 365 * 86400 + 10 * 86400, "2y10d"),
        (3 * 365 * 86400, "3y"),
        (9 * 365 * 86400 + 40 * 86400, "9y"),
    ],
    ids=lambda v: str(v),
)
def test_human_duration(seconds: float, want: str) -> None:
    assert printers.human_duration(seconds) == want


def test_age_of_a_zero_or_unreadable_time_is_unknown() -> None:
    assert printers.since("", NOW) == "<unknown>"
    assert printers.since("yesterday", NOW) == "<unknown>"


def test_partial_object_metadata_list() -> None:
    """What ``as=PartialObjectMetadataList`` answers: items with their own
    kind and apiVersion; no items is null, as a nil Go slice."""
    obj = deployment()
    doc = printers.partial_object_metadata_list([obj], meta_pb2.ListMeta(resource_version="42"))
    assert doc["kind"] == "PartialObjectMetadataList"
    assert doc["apiVersion"] == "meta.k8s.io/v1"
    assert doc["metadata"] == {"resourceVersion": "42"}
    assert doc["items"] == [printers.partial_object_metadata(obj)]
    assert doc["items"][0]["kind"] == "PartialObjectMetadata"
    assert printers.partial_object_metadata_list([])["items"] is None


def test_the_caller_can_encode_whole_objects() -> None:
    (row,) = printers.table(
        "Deployment",
        [deployment()],
        now=NOW,
        include_object="Object",
        encode_object=lambda obj: {"encoded": True},
    )["rows"]
    assert row["object"] == {"encoded": True}

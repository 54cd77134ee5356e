"""``create job NAME --from=cronjob/X``: the Job built from a CronJob, as
kubectl's createJobFromCronJob builds it."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.batch.v1 import cronjob_pb2
from pinnace.cli.commands.batch import job_from_cronjob
from pinnace.machinery import codec


def _cronjob(**template_meta: Any) -> cronjob_pb2.CronJob:
    return codec.from_dict(
        cronjob_pb2.CronJob,
        {
            "metadata": {"name": "nightly", "namespace": "ns", "uid": "cj-uid"},
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "metadata": template_meta,
                    "spec": {
                        "backoffLimit": 2,
                        "template": {"spec": {"containers": [{"name": "c", "image": "b"}]}},
                    },
                },
            },
        },
    )


def test_job_is_controlled_by_its_cronjob() -> None:
    job = job_from_cronjob(_cronjob(), "now")
    doc = codec.to_dict(job)
    assert doc["apiVersion"] == "batch/v1" and doc["kind"] == "Job"
    assert doc["metadata"]["name"] == "now" and doc["metadata"]["namespace"] == "ns"
    # kubectl sets controller but not blockOwnerDeletion (create_job.go).
    assert doc["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "nightly",
            "uid": "cj-uid",
            "controller": True,
        }
    ]
    assert job.spec.backoff_limit == 2


@pytest.mark.parametrize(
    ("template_meta", "labels", "annotations"),
    [
        ({}, {}, {"cronjob.kubernetes.io/instantiate": "manual"}),
        (
            {"labels": {"app": "x"}, "annotations": {"team": "a"}},
            {"app": "x"},
            {"cronjob.kubernetes.io/instantiate": "manual", "team": "a"},
        ),
        (
            {"annotations": {"cronjob.kubernetes.io/instantiate": "other"}},
            {},
            {"cronjob.kubernetes.io/instantiate": "other"},
        ),
    ],
    ids=["bare-template", "template-labels-annotations", "template-annotation-wins"],
)
def test_job_metadata_from_template(
    template_meta: dict[str, Any], labels: dict[str, str], annotations: dict[str, str]
) -> None:
    job = job_from_cronjob(_cronjob(**template_meta), "now")
    assert dict(job.metadata.labels) == labels
    assert dict(job.metadata.annotations) == annotations

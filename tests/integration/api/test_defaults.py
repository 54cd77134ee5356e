"""Kubernetes' defaults applied by the API on create (what a created object
reads back with, through the whole gRPC path)."""

from __future__ import annotations

import pytest

from pinnace.client import Client
from pinnace.machinery import codec
from tests.integration.api.helpers import assert_subset
from tests.integration.api.objects import BY_RESOURCE

UNTAGGED = {"name": "c", "image": "busybox:1.36", "command": ["true"]}

DEFAULTS = [
    pytest.param(
        "namespaces",
        {"metadata": {"name": "@"}},
        {"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
        id="namespace",
    ),
    pytest.param(
        "pods",
        {"metadata": {"name": "p"}, "spec": {"containers": [UNTAGGED]}},
        {"status": {"phase": "Pending"}},
        id="pod-phase",
    ),
    pytest.param(
        "pods",
        {"metadata": {"name": "p"}, "spec": {"containers": [UNTAGGED]}},
        {
            "spec": {
                "restartPolicy": "Always",
                "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler",
                "terminationGracePeriodSeconds": 30,
                "containers": [
                    {
                        "imagePullPolicy": "IfNotPresent",
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    }
                ],
            }
        },
        id="pod-spec",
    ),
    pytest.param(
        "deployments.apps",
        {"spec": {"replicas": None}},
        {
            "spec": {
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                },
            }
        },
        id="deployment",
    ),
    pytest.param(
        "statefulsets.apps",
        {"spec": {"replicas": None}},
        {
            "spec": {
                "replicas": 1,
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate"},
                "revisionHistoryLimit": 10,
            }
        },
        id="statefulset",
    ),
    pytest.param(
        "daemonsets.apps",
        {},
        {
            "spec": {
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                "revisionHistoryLimit": 10,
            }
        },
        id="daemonset",
    ),
    pytest.param(
        "jobs.batch",
        {},
        {
            "spec": {
                "parallelism": 1,
                "completions": 1,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
            }
        },
        id="job",
    ),
    pytest.param(
        "cronjobs.batch",
        {},
        {
            "spec": {
                "concurrencyPolicy": "Allow",
                "suspend": False,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
            }
        },
        id="cronjob",
    ),
]


@pytest.mark.parametrize(("resource", "patch", "expected"), DEFAULTS)
def test_defaults_on_create(
    client: Client, namespace: str, resource: str, patch: dict, expected: dict
) -> None:
    from pinnace.machinery.patch import merge_patch

    case = BY_RESOURCE[resource]
    name = f"{namespace}-d" if not case.info.namespaced else "d"
    data = merge_patch(codec.to_dict(case.new(name)), patch)
    if data["metadata"]["name"] in ("@", "p"):
        data["metadata"]["name"] = name
    api = client.resource(case.info, namespace)
    made = api.create(codec.from_dict(case.info.message_class, data))
    try:
        assert_subset(expected, codec.to_dict(made))
        assert made == api.get(name), "defaults must be stored, not only returned"
    finally:
        api.delete(name, propagation_policy="Background")

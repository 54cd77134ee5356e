"""Kind validation (workloads, batch, core, coordination): one bad manifest
per rule, rejected at exactly Kubernetes' field path with its wording; and a
good manifest of every kind passes."""

from __future__ import annotations

import pytest

from tests.unit.registry.helpers import GOOD, assert_only, create_errors, ctr, template

SEL = {"matchLabels": {"app": "web"}}
NEVER = {"spec": {"template": {"spec": {"restartPolicy": "Never"}}}}


def ru(kind_field: str, **values):
    return {"spec": {kind_field: {"type": "RollingUpdate", "rollingUpdate": values}}}


def job(**spec):
    return {"spec": spec}


def indexed(**spec):
    return {"spec": {"completionMode": "Indexed", "completions": 4, **spec}}


def pfp(*rules, **spec):
    return {"spec": {"podFailurePolicy": {"rules": list(rules)}, **spec}}


def sp(*rules, **spec):
    return {
        "spec": {
            "completionMode": "Indexed",
            "completions": 4,
            "successPolicy": {"rules": list(rules)},
            **spec,
        }
    }


def cron(**spec):
    return {"spec": spec}


CASES = [
    # ---------------------------------------------------------------- Deployment
    (
        "Deployment",
        "replicas",
        {"spec": {"replicas": -1}},
        "spec.replicas",
        "must be greater than or equal to 0",
    ),
    (
        "Deployment",
        "selector-required",
        {"spec": {"selector": None}},
        "spec.selector",
        "Required value",
    ),
    (
        "Deployment",
        "selector-empty",
        {"spec": {"selector": {"matchLabels": None}}},
        "spec.selector",
        "empty selector is invalid for deployment",
    ),
    (
        "Deployment",
        "selector-mismatch",
        {"spec": {"selector": {"matchLabels": {"app": "api"}}}},
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    (
        "Deployment",
        "selector-operator",
        {"spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Has"}]}}},
        "spec.selector.matchExpressions[0].operator",
        'Unsupported value: "Has"',
    ),
    (
        "Deployment",
        "restart-never",
        NEVER,
        "spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    ),
    (
        "Deployment",
        "active-deadline",
        {"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}},
        "spec.template.spec.activeDeadlineSeconds",
        "activeDeadlineSeconds in ReplicaSet is not Supported",
    ),
    (
        "Deployment",
        "min-ready",
        {"spec": {"minReadySeconds": -1}},
        "spec.minReadySeconds",
        "must be greater than or equal to 0",
    ),
    (
        "Deployment",
        "history-limit",
        {"spec": {"revisionHistoryLimit": -1}},
        "spec.revisionHistoryLimit",
        "must be greater than or equal to 0",
    ),
    (
        "Deployment",
        "progress-deadline",
        {"spec": {"minReadySeconds": 600, "progressDeadlineSeconds": 600}},
        "spec.progressDeadlineSeconds",
        "must be greater than minReadySeconds",
    ),
    (
        "Deployment",
        "strategy-type",
        {"spec": {"strategy": {"type": "BlueGreen"}}},
        "spec.strategy.type",
        'supported values: "Recreate", "RollingUpdate"',
    ),
    (
        "Deployment",
        "recreate-with-rolling",
        {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}},
        "spec.strategy.rollingUpdate",
        "may not be specified when strategy `type` is 'Recreate'",
    ),
    (
        "Deployment",
        "both-zero",
        ru("strategy", maxSurge=0, maxUnavailable=0),
        "spec.strategy.rollingUpdate.maxUnavailable",
        "may not be 0 when `maxSurge` is 0",
    ),
    (
        "Deployment",
        "max-surge-negative",
        ru("strategy", maxSurge=-1),
        "spec.strategy.rollingUpdate.maxSurge",
        "must be greater than or equal to 0",
    ),
    (
        "Deployment",
        "max-surge-percent",
        ru("strategy", maxSurge="10 %"),
        "spec.strategy.rollingUpdate.maxSurge",
        "a valid percent string",
    ),
    (
        "Deployment",
        "max-unavailable-over-100",
        ru("strategy", maxUnavailable="150%"),
        "spec.strategy.rollingUpdate.maxUnavailable",
        "must not be greater than 100%",
    ),
    # ---------------------------------------------------------------- ReplicaSet
    (
        "ReplicaSet",
        "replicas",
        {"spec": {"replicas": -2}},
        "spec.replicas",
        "must be greater than or equal to 0",
    ),
    (
        "ReplicaSet",
        "selector-required",
        {"spec": {"selector": None}},
        "spec.selector",
        "Required value",
    ),
    (
        "ReplicaSet",
        "selector-mismatch",
        {"spec": {"template": {"metadata": {"labels": {"app": "other"}}}}},
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    (
        "ReplicaSet",
        "restart-onfailure",
        {"spec": {"template": {"spec": {"restartPolicy": "OnFailure"}}}},
        "spec.template.spec.restartPolicy",
        'supported values: "Always"',
    ),
    (
        "ReplicaSet",
        "min-ready",
        {"spec": {"minReadySeconds": -3}},
        "spec.minReadySeconds",
        "must be greater than or equal to 0",
    ),
    # ----------------------------------------------------- ReplicationController
    (
        "ReplicationController",
        "replicas",
        {"spec": {"replicas": -1}},
        "spec.replicas",
        "must be greater than or equal to 0",
    ),
    (
        "ReplicationController",
        "selector-mismatch",
        {"spec": {"selector": {"app": "api"}}},
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    (
        "ReplicationController",
        "selector-required",
        {"spec": {"template": {"metadata": {"labels": None}}}},
        "spec.selector",
        "Required value",
    ),
    (
        "ReplicationController",
        "template-required",
        {"spec": {"selector": {"app": "web"}, "template": None}},
        "spec.template",
        "Required value",
    ),
    (
        "ReplicationController",
        "active-deadline",
        {"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}},
        "spec.template.spec.activeDeadlineSeconds",
        "Forbidden: activeDeadlineSeconds in ReplicationController is not Supported",
    ),
    (
        "ReplicationController",
        "restart-never",
        NEVER,
        "spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    ),
    # --------------------------------------------------------------- StatefulSet
    (
        "StatefulSet",
        "pod-management",
        {"spec": {"podManagementPolicy": "Random"}},
        "spec.podManagementPolicy",
        "must be 'OrderedReady' or 'Parallel'",
    ),
    (
        "StatefulSet",
        "update-strategy",
        {"spec": {"updateStrategy": {"type": "Recreate"}}},
        "spec.updateStrategy",
        "must be 'RollingUpdate' or 'OnDelete'",
    ),
    (
        "StatefulSet",
        "on-delete-with-rolling",
        {"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": {"partition": 1}}}},
        "spec.updateStrategy.rollingUpdate",
        "only allowed for updateStrategy 'RollingUpdate'",
    ),
    (
        "StatefulSet",
        "partition",
        ru("updateStrategy", partition=-1),
        "spec.updateStrategy.rollingUpdate.partition",
        "must be greater than or equal to 0",
    ),
    (
        "StatefulSet",
        "max-unavailable-zero",
        ru("updateStrategy", maxUnavailable=0),
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        "cannot be 0",
    ),
    (
        "StatefulSet",
        "retention-policy",
        {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Keep"}}},
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
        'Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ),
    (
        "StatefulSet",
        "replicas",
        {"spec": {"replicas": -1}},
        "spec.replicas",
        "must be greater than or equal to 0",
    ),
    (
        "StatefulSet",
        "ordinals",
        {"spec": {"ordinals": {"start": -1}}},
        "spec.ordinals.start",
        "must be greater than or equal to 0",
    ),
    (
        "StatefulSet",
        "selector-empty",
        {"spec": {"selector": {"matchLabels": None}}},
        "spec.selector",
        "empty selector is invalid for statefulset",
    ),
    (
        "StatefulSet",
        "restart-never",
        NEVER,
        "spec.template.spec.restartPolicy",
        'supported values: "Always"',
    ),
    (
        "StatefulSet",
        "active-deadline",
        {"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}},
        "spec.template.spec.activeDeadlineSeconds",
        "Forbidden: activeDeadlineSeconds in StatefulSet is not Supported",
    ),
    (
        "StatefulSet",
        "claim-access-modes",
        {
            "spec": {
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {"resources": {"requests": {"storage": "1Gi"}}},
                    }
                ]
            }
        },
        "spec.volumeClaimTemplates[0].spec.accessModes",
        "at least 1 access mode is required",
    ),
    (
        "StatefulSet",
        "mount-needs-claim-or-volume",
        {"spec": {"volumeClaimTemplates": None}},
        "spec.template.spec.containers[0].volumeMounts[0].name",
        'Not found: "data"',
    ),
    # ----------------------------------------------------------------- DaemonSet
    (
        "DaemonSet",
        "selector-required",
        {"spec": {"selector": None}},
        "spec.selector",
        "Required value",
    ),
    (
        "DaemonSet",
        "selector-empty",
        {"spec": {"selector": {"matchLabels": None}}},
        "spec.selector",
        "empty selector is invalid for daemonset",
    ),
    (
        "DaemonSet",
        "selector-mismatch",
        {"spec": {"selector": {"matchLabels": {"tier": "node"}}}},
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    (
        "DaemonSet",
        "restart-never",
        NEVER,
        "spec.template.spec.restartPolicy",
        'supported values: "Always"',
    ),
    (
        "DaemonSet",
        "active-deadline",
        {"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}},
        "spec.template.spec.activeDeadlineSeconds",
        "activeDeadlineSeconds in DaemonSet is not Supported",
    ),
    (
        "DaemonSet",
        "update-strategy",
        {"spec": {"updateStrategy": {"type": "Surge"}}},
        "spec.updateStrategy",
        'supported values: "RollingUpdate", "OnDelete"',
    ),
    (
        "DaemonSet",
        "both-zero",
        ru("updateStrategy", maxUnavailable=0, maxSurge=0),
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        "cannot be 0 when maxSurge is 0",
    ),
    (
        "DaemonSet",
        "both-non-zero",
        ru("updateStrategy", maxUnavailable=1, maxSurge="10%"),
        "spec.updateStrategy.rollingUpdate.maxSurge",
        "may not be set when maxUnavailable is non-zero",
    ),
    (
        "DaemonSet",
        "max-surge-over-100",
        ru("updateStrategy", maxUnavailable=0, maxSurge="200%"),
        "spec.updateStrategy.rollingUpdate.maxSurge",
        "must not be greater than 100%",
    ),
    (
        "DaemonSet",
        "min-ready",
        {"spec": {"minReadySeconds": -1}},
        "spec.minReadySeconds",
        "must be greater than or equal to 0",
    ),
    # ---------------------------------------------------------------------- Job
    (
        "Job",
        "restart-always",
        {"spec": {"template": {"spec": {"restartPolicy": "Always"}}}},
        "spec.template.spec.restartPolicy",
        'Required value: valid values: "OnFailure", "Never"',
    ),
    (
        "Job",
        "restart-unset-defaults-to-always",
        {"spec": {"template": {"spec": {"restartPolicy": None}}}},
        "spec.template.spec.restartPolicy",
        'valid values: "OnFailure", "Never"',
    ),
    (
        "Job",
        "parallelism",
        job(parallelism=-1),
        "spec.parallelism",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "completions",
        job(completions=-1),
        "spec.completions",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "backoff-limit",
        job(backoffLimit=-1),
        "spec.backoffLimit",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "active-deadline",
        job(activeDeadlineSeconds=-1),
        "spec.activeDeadlineSeconds",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "ttl",
        job(ttlSecondsAfterFinished=-1),
        "spec.ttlSecondsAfterFinished",
        "must be greater than or equal to 0",
    ),
    (
        "Job",
        "completion-mode",
        job(completionMode="Ordered"),
        "spec.completionMode",
        'supported values: "NonIndexed", "Indexed"',
    ),
    (
        "Job",
        "indexed-needs-completions",
        {"spec": {"completionMode": "Indexed", "parallelism": 2}},
        "spec.completions",
        "Required value: when completion mode is Indexed",
    ),
    (
        "Job",
        "indexed-parallelism-limit",
        indexed(parallelism=100_001),
        "spec.parallelism",
        "must be less than or equal to 100000 when completion mode is Indexed",
    ),
    (
        "Job",
        "backoff-per-index-needs-indexed",
        job(backoffLimitPerIndex=1),
        "spec.backoffLimitPerIndex",
        "requires indexed completion mode",
    ),
    (
        "Job",
        "max-failed-needs-backoff-per-index",
        indexed(maxFailedIndexes=1),
        "spec.backoffLimitPerIndex",
        "Required value: when maxFailedIndexes is specified",
    ),
    (
        "Job",
        "max-failed-above-completions",
        indexed(backoffLimitPerIndex=1, maxFailedIndexes=5),
        "spec.maxFailedIndexes",
        "must be less than or equal to completions",
    ),
    (
        "Job",
        "backoff-per-index-needs-never",
        {
            "spec": {
                "completionMode": "Indexed",
                "completions": 2,
                "backoffLimitPerIndex": 1,
                "template": {"spec": {"restartPolicy": "OnFailure"}},
            }
        },
        "spec.template.spec.restartPolicy",
        'must be set to "Never" when backoffLimitPerIndex is specified',
    ),
    (
        "Job",
        "manual-selector-required",
        job(manualSelector=True),
        "spec.selector",
        "Required value",
    ),
    (
        "Job",
        "manual-selector-mismatch",
        job(manualSelector=True, selector={"matchLabels": {"app": "x"}}),
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    (
        "Job",
        "generated-selector-conflict",
        {"spec": {"template": {"metadata": {"labels": {"job-name": "other"}}}}},
        "spec.template.metadata.labels[job-name]",
        '"job-name":"other"}: web',
    ),
    (
        "Job",
        "managed-by",
        job(managedBy="job-controller"),
        "spec.managedBy",
        "must be a domain-prefixed path",
    ),
    (
        "Job",
        "pod-replacement-policy",
        job(podReplacementPolicy="Never"),
        "spec.podReplacementPolicy",
        'supported values: "Failed", "TerminatingOrFailed"',
    ),
    (
        "Job",
        "pod-replacement-with-failure-policy",
        pfp(
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            podReplacementPolicy="TerminatingOrFailed",
        ),
        "spec.podReplacementPolicy",
        'Unsupported value: "TerminatingOrFailed": supported values: "Failed"',
    ),
    (
        "Job",
        "pfp-action",
        pfp({"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]}}),
        "spec.podFailurePolicy.rules[0].action",
        'supported values: "Count", "FailIndex", "FailJob", "Ignore"',
    ),
    (
        "Job",
        "pfp-action-required",
        pfp({"onExitCodes": {"operator": "In", "values": [1]}}),
        "spec.podFailurePolicy.rules[0].action",
        'Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
    ),
    (
        "Job",
        "pfp-fail-index-needs-backoff-per-index",
        pfp({"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}),
        "spec.podFailurePolicy.rules[0].action",
        "requires the backoffLimitPerIndex to be set",
    ),
    (
        "Job",
        "pfp-no-requirement",
        pfp({"action": "FailJob"}),
        "spec.podFailurePolicy.rules[0]",
        "specifying one of OnExitCodes and OnPodConditions is required",
    ),
    (
        "Job",
        "pfp-both-requirements",
        pfp(
            {
                "action": "FailJob",
                "onExitCodes": {"operator": "In", "values": [1]},
                "onPodConditions": [{"type": "DisruptionTarget"}],
            }
        ),
        "spec.podFailurePolicy.rules[0]",
        "specifying both OnExitCodes and OnPodConditions is not supported",
    ),
    (
        "Job",
        "pfp-operator",
        pfp({"action": "FailJob", "onExitCodes": {"operator": "Is", "values": [1]}}),
        "spec.podFailurePolicy.rules[0].onExitCodes.operator",
        'supported values: "In", "NotIn"',
    ),
    (
        "Job",
        "pfp-zero-with-in",
        pfp({"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0, 1]}}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values[0]",
        "must not be 0 for the In operator",
    ),
    (
        "Job",
        "pfp-values-unique",
        pfp({"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [1, 1]}}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values[1]",
        "Duplicate value: 1",
    ),
    (
        "Job",
        "pfp-values-ordered",
        pfp({"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [3, 2]}}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "must be ordered",
    ),
    (
        "Job",
        "pfp-values-required",
        pfp({"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": []}}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "at least one value is required",
    ),
    (
        "Job",
        "pfp-too-many-values",
        pfp(
            {
                "action": "FailJob",
                "onExitCodes": {"operator": "NotIn", "values": list(range(1, 257))},
            }
        ),
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "must have at most 255 items",
    ),
    (
        "Job",
        "pfp-container-name",
        pfp(
            {
                "action": "FailJob",
                "onExitCodes": {"containerName": "nope", "operator": "In", "values": [1]},
            }
        ),
        "spec.podFailurePolicy.rules[0].onExitCodes.containerName",
        "must be one of the container or initContainer names in the pod template",
    ),
    (
        "Job",
        "pfp-condition-status",
        pfp(
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}],
            }
        ),
        "spec.podFailurePolicy.rules[0].onPodConditions[0].status",
        'supported values: "False", "True", "Unknown"',
    ),
    (
        "Job",
        "pfp-needs-restart-never",
        pfp(
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            template={"spec": {"restartPolicy": "OnFailure"}},
        ),
        "spec.template.spec.restartPolicy",
        'only "Never" is supported when podFailurePolicy is specified',
    ),
    (
        "Job",
        "pfp-too-many-rules",
        pfp(*[{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}] * 21),
        "spec.podFailurePolicy.rules",
        "must have at most 20 items",
    ),
    (
        "Job",
        "success-policy-needs-indexed",
        {"spec": {"successPolicy": {"rules": [{"succeededCount": 1}]}}},
        "spec.completionMode",
        "requires indexed completion mode",
    ),
    (
        "Job",
        "success-policy-rules-required",
        sp(),
        "spec.successPolicy.rules",
        "at least one rules must be specified",
    ),
    (
        "Job",
        "success-policy-empty-rule",
        sp({}),
        "spec.successPolicy.rules[0]",
        "at least one of succeededCount or succeededIndexes must be specified",
    ),
    (
        "Job",
        "success-policy-count-above-completions",
        sp({"succeededCount": 5}),
        "spec.successPolicy.rules[0].succeededCount",
        "must be less than or equal to 4 (the number of specified completions)",
    ),
    (
        "Job",
        "success-policy-count-above-indexes",
        sp({"succeededIndexes": "0-1", "succeededCount": 3}),
        "spec.successPolicy.rules[0].succeededCount",
        "must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)",
    ),
    (
        "Job",
        "success-policy-index-too-large",
        sp({"succeededIndexes": "1,4"}),
        "spec.successPolicy.rules[0].succeededIndexes",
        'error parsing succeededIndexes: too large index: "4"',
    ),
    (
        "Job",
        "success-policy-index-order",
        sp({"succeededIndexes": "2,1"}),
        "spec.successPolicy.rules[0].succeededIndexes",
        "non-increasing order, previous: 2, current: 1",
    ),
    (
        "Job",
        "success-policy-index-format",
        sp({"succeededIndexes": "1-2-3"}),
        "spec.successPolicy.rules[0].succeededIndexes",
        "can have at most two parts separated by '-'",
    ),
    # ------------------------------------------------------------------ CronJob
    ("CronJob", "schedule-required", cron(schedule=""), "spec.schedule", "Required value"),
    (
        "CronJob",
        "schedule-fields",
        cron(schedule="every day"),
        "spec.schedule",
        "expected exactly 5 fields, found 2: [every day]",
    ),
    (
        "CronJob",
        "schedule-range",
        cron(schedule="61 * * * *"),
        "spec.schedule",
        "end of range (61) above maximum (59): 61",
    ),
    (
        "CronJob",
        "schedule-dow-7",
        cron(schedule="0 0 * * 7"),
        "spec.schedule",
        "end of range (7) above maximum (6): 7",
    ),
    (
        "CronJob",
        "schedule-step-zero",
        cron(schedule="*/0 * * * *"),
        "spec.schedule",
        "step of range should be a positive number: */0",
    ),
    (
        "CronJob",
        "schedule-descriptor",
        cron(schedule="@sometimes"),
        "spec.schedule",
        "unrecognized descriptor: @sometimes",
    ),
    (
        "CronJob",
        "schedule-tz",
        cron(schedule="CRON_TZ=UTC 0 0 * * *"),
        "spec.schedule",
        "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
    ),
    (
        "CronJob",
        "time-zone",
        cron(timeZone="Mars/Olympus"),
        "spec.timeZone",
        "unknown time zone Mars/Olympus",
    ),
    (
        "CronJob",
        "time-zone-local",
        cron(timeZone="Local"),
        "spec.timeZone",
        "timeZone must be an explicit time zone",
    ),
    (
        "CronJob",
        "time-zone-empty",
        cron(timeZone=""),
        "spec.timeZone",
        "timeZone must be nil or non-empty string",
    ),
    (
        "CronJob",
        "concurrency-policy",
        cron(concurrencyPolicy="Queue"),
        "spec.concurrencyPolicy",
        'supported values: "Allow", "Forbid", "Replace"',
    ),
    (
        "CronJob",
        "starting-deadline",
        cron(startingDeadlineSeconds=-1),
        "spec.startingDeadlineSeconds",
        "must be greater than or equal to 0",
    ),
    (
        "CronJob",
        "successful-history",
        cron(successfulJobsHistoryLimit=-1),
        "spec.successfulJobsHistoryLimit",
        "must be greater than or equal to 0",
    ),
    (
        "CronJob",
        "failed-history",
        cron(failedJobsHistoryLimit=-1),
        "spec.failedJobsHistoryLimit",
        "must be greater than or equal to 0",
    ),
    (
        "CronJob",
        "job-template-selector",
        cron(jobTemplate={"spec": {"selector": SEL}}),
        "spec.jobTemplate.spec.selector",
        "`selector` will be auto-generated",
    ),
    (
        "CronJob",
        "job-template-manual-selector",
        cron(jobTemplate={"spec": {"manualSelector": True}}),
        "spec.jobTemplate.spec.manualSelector",
        'supported values: "nil", "false"',
    ),
    (
        "CronJob",
        "job-template-restart",
        cron(jobTemplate={"spec": {"template": {"spec": {"restartPolicy": "Always"}}}}),
        "spec.jobTemplate.spec.template.spec.restartPolicy",
        'valid values: "OnFailure", "Never"',
    ),
    (
        "CronJob",
        "job-template-job-rules",
        cron(jobTemplate={"spec": {"backoffLimit": -1}}),
        "spec.jobTemplate.spec.backoffLimit",
        "must be greater than or equal to 0",
    ),
    # --------------------------------------------------------------------- Node
    (
        "Node",
        "taint-effect",
        {"spec": {"taints": [{"key": "k", "effect": "NoRun"}]}},
        "spec.taints[0].effect",
        'Unsupported value: "NoRun"',
    ),
    (
        "Node",
        "taint-effect-required",
        {"spec": {"taints": [{"key": "k"}]}},
        "spec.taints[0].effect",
        "Required value",
    ),
    (
        "Node",
        "taint-key",
        {"spec": {"taints": [{"key": "", "effect": "NoSchedule"}]}},
        "spec.taints[0].key",
        "name part must be non-empty",
    ),
    (
        "Node",
        "taint-unique",
        {
            "spec": {
                "taints": [
                    {"key": "k", "effect": "NoSchedule"},
                    {"key": "k", "value": "v", "effect": "NoSchedule"},
                ]
            }
        },
        "spec.taints[1]",
        "taints must be unique by key and effect pair",
    ),
    (
        "Node",
        "pod-cidr",
        {"spec": {"podCIDR": "10.0.0.0"}},
        "spec.podCIDR",
        "must be a valid CIDR value",
    ),
    (
        "Node",
        "pod-cidrs-family",
        {"spec": {"podCIDRs": ["10.0.0.0/24", "10.1.0.0/24"]}},
        "spec.podCIDRs",
        "may specify no more than one CIDR for each IP family",
    ),
    # ---------------------------------------------------------------- Namespace
    (
        "Namespace",
        "finalizer-qualified",
        {"spec": {"finalizers": ["kubernetes", "a/b/c"]}},
        "spec.finalizers[1]",
        "qualified name",
    ),
    (
        "Namespace",
        "finalizer-standard",
        {"spec": {"finalizers": ["mine"]}},
        "spec.finalizers[0]",
        "name is neither a standard finalizer name nor is it fully qualified",
    ),
    # -------------------------------------------------------------------- Event
    ("Event", "involved-object", {"involvedObject": None}, "involvedObject", "Required value"),
    (
        "Event",
        "involved-namespace",
        {"involvedObject": {"namespace": "other"}},
        "involvedObject.namespace",
        "does not match event.namespace",
    ),
    ("Event", "type", {"type": "Error"}, "type", 'supported values: "Normal", "Warning"'),
    (
        "Event",
        "series-needs-reporting",
        {"eventTime": "2024-05-01T12:00:00.000000Z", "action": "Start", "reportingInstance": "i"},
        "reportingComponent",
        "Required value",
    ),
    # ---------------------------------------------------------------------- PVC
    (
        "PersistentVolumeClaim",
        "access-modes-required",
        {"spec": {"accessModes": []}},
        "spec.accessModes",
        "at least 1 access mode is required",
    ),
    (
        "PersistentVolumeClaim",
        "access-mode",
        {"spec": {"accessModes": ["ReadWriteSometimes"]}},
        "spec.accessModes",
        'supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    ),
    (
        "PersistentVolumeClaim",
        "rwop-alone",
        {"spec": {"accessModes": ["ReadWriteOncePod", "ReadWriteOnce"]}},
        "spec.accessModes",
        "may not use ReadWriteOncePod with other access modes",
    ),
    (
        "PersistentVolumeClaim",
        "storage-required",
        {"spec": {"resources": {"requests": None}}},
        "spec.resources[storage]",
        "Required value",
    ),
    (
        "PersistentVolumeClaim",
        "storage-quantity",
        {"spec": {"resources": {"requests": {"storage": "big"}}}},
        "spec.resources[storage]",
        "quantities must match the regular expression",
    ),
    (
        "PersistentVolumeClaim",
        "storage-positive",
        {"spec": {"resources": {"requests": {"storage": "0"}}}},
        "spec.resources[storage]",
        "must be greater than zero",
    ),
    (
        "PersistentVolumeClaim",
        "volume-mode",
        {"spec": {"volumeMode": "Raw"}},
        "spec.volumeMode",
        'supported values: "Block", "Filesystem"',
    ),
    # ----------------------------------------------------------------------- PV
    (
        "PersistentVolume",
        "access-modes",
        {"spec": {"accessModes": []}},
        "spec.accessModes",
        "Required value",
    ),
    (
        "PersistentVolume",
        "capacity-storage",
        {"spec": {"capacity": {"storage": None, "cpu": "1"}}},
        "spec.capacity",
        'supported values: "storage"',
    ),
    (
        "PersistentVolume",
        "capacity-positive",
        {"spec": {"capacity": {"storage": "0"}}},
        "spec.capacity[storage]",
        "must be greater than zero",
    ),
    (
        "PersistentVolume",
        "no-source",
        {"spec": {"hostPath": None}},
        "spec",
        "must specify a volume type",
    ),
    (
        "PersistentVolume",
        "two-sources",
        {"spec": {"nfs": {"server": "s", "path": "/x"}}},
        "spec.nfs",
        "may not specify more than 1 volume type",
    ),
    (
        "PersistentVolume",
        "reclaim-policy",
        {"spec": {"persistentVolumeReclaimPolicy": "Keep"}},
        "spec.persistentVolumeReclaimPolicy",
        'supported values: "Delete", "Recycle", "Retain"',
    ),
    (
        "PersistentVolume",
        "recycle-root",
        {"spec": {"hostPath": {"path": "/"}, "persistentVolumeReclaimPolicy": "Recycle"}},
        "spec.persistentVolumeReclaimPolicy",
        "may not be 'recycle' for a hostPath mount of '/'",
    ),
    (
        "PersistentVolume",
        "local-needs-affinity",
        {"spec": {"hostPath": None, "local": {"path": "/mnt/disk"}}},
        "spec.nodeAffinity",
        "Local volume requires node affinity",
    ),
    # ----------------------------------------------------- ControllerRevision
    (
        "ControllerRevision",
        "data-required",
        {"data": None},
        "data",
        "Required value: data is mandatory",
    ),
    (
        "ControllerRevision",
        "revision",
        {"revision": -1},
        "revision",
        "must be greater than or equal to 0",
    ),
    # -------------------------------------------------------------------- Lease
    (
        "Lease",
        "duration",
        {"spec": {"leaseDurationSeconds": 0}},
        "spec.leaseDurationSeconds",
        "must be greater than 0",
    ),
    (
        "Lease",
        "transitions",
        {"spec": {"leaseTransitions": -1}},
        "spec.leaseTransitions",
        "must be greater than or equal to 0",
    ),
    (
        "Lease",
        "renew-time",
        {"spec": {"renewTime": "yesterday"}},
        "spec.renewTime",
        "must be an RFC 3339 time",
    ),
    (
        "Lease",
        "preferred-holder",
        {"spec": {"preferredHolder": "b"}},
        "spec.preferredHolder",
        "may only be specified if `strategy` is defined",
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch", "path", "fragment"),
    [(c[0], *c[2:]) for c in CASES],
    ids=[f"{c[0]}-{c[1]}" for c in CASES],
)
def test_kind_rule(kind: str, patch: dict, path: str, fragment: str) -> None:
    assert_only(create_errors(kind, patch), path, fragment)


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_good_object_passes(kind: str) -> None:
    assert create_errors(kind) == []


GOOD_VARIANTS = [
    ("Deployment", "recreate", {"spec": {"strategy": {"type": "Recreate"}}}),
    ("Deployment", "max-surge-zero", {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0}}}}),
    ("Job", "indexed", indexed(parallelism=2, backoffLimitPerIndex=1, maxFailedIndexes=2)),
    ("Job", "success-policy", sp({"succeededIndexes": "0,2-3", "succeededCount": 2})),
    (
        "Job",
        "pod-failure-policy",
        pfp(
            {
                "action": "FailJob",
                "onExitCodes": {"containerName": "app", "operator": "In", "values": [1, 42]},
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ),
    ),
    (
        "Job",
        "manual-selector",
        job(manualSelector=True, selector=SEL, template=template(restart="Never")),
    ),
    ("CronJob", "macro", cron(schedule="@hourly")),
    ("CronJob", "question-mark", cron(schedule="0 12 ? * MON-FRI")),
    ("CronJob", "time-zone", cron(schedule="30 2 1,15 jan-jun *", timeZone="Europe/Paris")),
    ("StatefulSet", "on-delete", {"spec": {"updateStrategy": {"type": "OnDelete"}}}),
    ("DaemonSet", "surge", ru("updateStrategy", maxUnavailable=0, maxSurge="25%")),
    ("Pod", "sidecar", {"spec": {"initContainers": [ctr("proxy", restartPolicy="Always")]}}),
    (
        "Event",
        "cluster-object-any-namespace",
        {"involvedObject": {"kind": "Node", "namespace": None}},
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch"),
    [(k, p) for k, _, p in GOOD_VARIANTS],
    ids=[f"{k}-{i}" for k, i, _ in GOOD_VARIANTS],
)
def test_good_variant_passes(kind: str, patch: dict) -> None:
    assert [str(e) for e in create_errors(kind, patch)] == []


def test_cronjob_name_length() -> None:
    errs = create_errors("CronJob", name="c" * 53)
    assert_only(errs, "metadata.name", "must be no more than 52 characters")
    assert create_errors("CronJob", name="c" * 52) == []


def test_statefulset_name_is_a_dns_label() -> None:
    from tests.unit.registry.helpers import strategy

    assert strategy("StatefulSet").validate_name("web.v1")
    assert strategy("Deployment").validate_name("web.v1") == []

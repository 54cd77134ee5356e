"""podFailurePolicy: what a failed pod means for its Job (Kubernetes'
pod_failure_policy.go).

Rules are tried in order and the first that matches decides; only pods in
phase Failed are matched. ``onExitCodes`` looks at every terminated
container (init containers too), optionally only the one named, with
operator In or NotIn; exit code 0 never matches. ``onPodConditions``
matches a pod condition of that type and status (DisruptionTarget after an
eviction, for example). No rule matching means Count, the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2

FAIL_JOB = "FailJob"
IGNORE = "Ignore"
COUNT = "Count"
FAIL_INDEX = "FailIndex"


@dataclass(frozen=True)
class Match:
    """The action for a failed pod, and the message if a rule matched."""

    action: str
    message: str = ""


def match(job: job_pb2.Job, pod: pod_pb2.Pod) -> Match:
    """The action of the first rule matching a failed pod (Count if none)."""
    if not job.spec.HasField("pod_failure_policy") or pod.status.phase != "Failed":
        return Match(COUNT)
    for i, rule in enumerate(job.spec.pod_failure_policy.rules):
        if rule.HasField("on_exit_codes"):
            container = _matching_container(rule.on_exit_codes, pod)
            if container is not None:
                name, code = container
                return Match(
                    rule.action,
                    f"Container {name} for pod {pod.metadata.namespace}/{pod.metadata.name} "
                    f"failed with exit code {code} matching {rule.action} rule at index {i}",
                )
        elif _matching_condition(rule.on_pod_conditions, pod) is not None:
            kind = _matching_condition(rule.on_pod_conditions, pod)
            return Match(
                rule.action,
                f"Pod {pod.metadata.namespace}/{pod.metadata.name} has condition {kind} "
                f"matching {rule.action} rule at index {i}",
            )
    return Match(COUNT)


def _matching_container(
    req: job_pb2.PodFailurePolicyOnExitCodesRequirement, pod: pod_pb2.Pod
) -> tuple[str, int] | None:
    only = req.container_name if req.HasField("container_name") else None
    for cs in (*pod.status.init_container_statuses, *pod.status.container_statuses):
        if only is not None and cs.name != only:
            continue
        if not cs.state.HasField("terminated"):
            continue
        code = cs.state.terminated.exit_code
        if code == 0:
            continue
        inside = code in req.values
        if (req.operator == "In" and inside) or (req.operator == "NotIn" and not inside):
            return cs.name, code
    return None


def _matching_condition(
    patterns: Sequence[job_pb2.PodFailurePolicyOnPodConditionsPattern], pod: pod_pb2.Pod
) -> str | None:
    for pattern in patterns:
        want = pattern.status or "True"
        for c in pod.status.conditions:
            if c.type == pattern.type and c.status == want:
                return c.type
    return None

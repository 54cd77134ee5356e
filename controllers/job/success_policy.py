"""successPolicy of Indexed Jobs (Kubernetes' success_policy.go).

Rules are tried in order; a rule is met when

* only ``succeededIndexes``: every listed index succeeded;
* only ``succeededCount``: at least that many indexes succeeded;
* both: at least ``succeededCount`` of the listed indexes succeeded.

A met rule gives the Job ``SuccessCriteriaMet`` (reason SuccessPolicy):
its remaining pods are terminated, then it is Complete.
"""

from __future__ import annotations

from controllers.job.indexed import parse_indexes
from pinnace.api.batch.v1 import job_pb2

REASON = "SuccessPolicy"
MESSAGE = "Matched rules at index {index}"


def met(job: job_pb2.Job, succeeded: set[int]) -> str | None:
    """The message of the first met rule, or None."""
    if not job.spec.HasField("success_policy") or job.spec.completion_mode != "Indexed":
        return None
    completions = job.spec.completions
    for i, rule in enumerate(job.spec.success_policy.rules):
        if rule.HasField("succeeded_indexes"):
            wanted = parse_indexes(rule.succeeded_indexes, completions)
            done = len(wanted & succeeded)
            if rule.HasField("succeeded_count"):
                if done >= rule.succeeded_count:
                    return MESSAGE.format(index=i)
            elif wanted and wanted <= succeeded:
                return MESSAGE.format(index=i)
        elif rule.HasField("succeeded_count") and len(succeeded) >= rule.succeeded_count:
            return MESSAGE.format(index=i)
    return None

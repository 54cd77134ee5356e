"""The Job strategy: defaults, the generated selector
(pkg/registry/batch/job/strategy.go), the update and status rules; the
spec's own rules are in jobspec.py."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    required,
    validate_nonnegative,
)
from pinnace.machinery.wellknown import (
    LABEL_JOB_CONTROLLER_UID,
    LABEL_JOB_NAME,
    LABEL_LEGACY_JOB_CONTROLLER_UID,
    LABEL_LEGACY_JOB_NAME,
)

from . import podspec
from .common import (
    INT32_MAX,
    Shown,
    immutable,
    immutable_opt,
    opt,
    selector_mismatch,
)
from .jobspec import manual_selector, parse_indexes, validate_job_spec

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")


def default_job_spec(spec: job_pb2.JobSpec) -> None:
    """SetDefaults_Job's spec part (not applied to a CronJob's jobTemplate)."""
    if not spec.HasField("completions") and not spec.HasField("parallelism"):
        spec.completions = 1
        spec.parallelism = 1
    if not spec.HasField("parallelism"):
        spec.parallelism = 1
    if not spec.HasField("backoff_limit"):
        spec.backoff_limit = INT32_MAX if spec.HasField("backoff_limit_per_index") else 6
    if not spec.HasField("completion_mode"):
        spec.completion_mode = "NonIndexed"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if not spec.HasField("manual_selector"):
        spec.manual_selector = False
    if spec.HasField("pod_failure_policy"):
        for rule in spec.pod_failure_policy.rules:
            for pattern in rule.on_pod_conditions:
                if not pattern.status:
                    pattern.status = "True"
    if not spec.HasField("pod_replacement_policy"):
        spec.pod_replacement_policy = (
            "Failed" if spec.HasField("pod_failure_policy") else "TerminatingOrFailed"
        )


def generate_selector(job: job_pb2.Job) -> None:
    """The apiserver's generated selector: template labels naming the job and
    its uid (kept when the user set them, so validation can reject a
    conflict), and a selector on the uid label."""
    meta, labels = job.metadata, job.spec.template.metadata.labels
    for key, value in (
        (LABEL_LEGACY_JOB_NAME, meta.name),
        (LABEL_JOB_NAME, meta.name),
        (LABEL_LEGACY_JOB_CONTROLLER_UID, meta.uid),
        (LABEL_JOB_CONTROLLER_UID, meta.uid),
    ):
        labels.setdefault(key, value)
    job.spec.selector.match_labels.setdefault(LABEL_JOB_CONTROLLER_UID, meta.uid)


class JobStrategy(Strategy[job_pb2.Job]):
    # batch/v1 Job orphans its pods when a delete names no policy.
    default_delete_policy = "Orphan"

    def prepare_for_create(self, obj: job_pb2.Job) -> None:
        super().prepare_for_create(obj)
        if not manual_selector(obj.spec):
            generate_selector(obj)

    def default(self, obj: job_pb2.Job) -> None:
        spec, meta = obj.spec, obj.metadata
        default_job_spec(spec)
        if spec.template.metadata.labels and not meta.labels:
            meta.labels.update(spec.template.metadata.labels)
        podspec.default_pod_template(spec.template)

    def validate(self, obj: job_pb2.Job) -> list[FieldError]:
        """Kubernetes' ValidateJob: the generated selector, then the spec."""
        return _validate_generated_selector(obj) + validate_job_spec(obj.spec, SPEC)

    def validate_update(self, new: job_pb2.Job, old: job_pb2.Job) -> list[FieldError]:
        """Kubernetes' ValidateJobSpecUpdate."""
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec
        errs += _validate_completions_update(ns, os_)
        errs += immutable_opt(ns, os_, "selector", SPEC.child("selector"))
        scheduling_mutable = os_.HasField("suspend") and os_.suspend and not old.status.start_time
        errs += _validate_template_update(ns.template, os_.template, scheduling_mutable)
        for field, json_name in (
            ("completion_mode", "completionMode"),
            ("pod_failure_policy", "podFailurePolicy"),
            ("backoff_limit_per_index", "backoffLimitPerIndex"),
            ("managed_by", "managedBy"),
            ("success_policy", "successPolicy"),
        ):
            errs += immutable_opt(ns, os_, field, SPEC.child(json_name))
        return errs

    def validate_status_update(self, new: job_pb2.Job, old: job_pb2.Job) -> list[FieldError]:
        return validate_job_status_update(new, old)


def _validate_generated_selector(job: job_pb2.Job) -> list[FieldError]:
    spec, meta = job.spec, job.metadata
    if manual_selector(spec) or not spec.HasField("selector"):
        return []
    errs: list[FieldError] = []
    if not meta.uid:
        errs.append(required(FieldPath.root("metadata", "uid"), ""))
    labels = spec.template.metadata.labels
    labels_path = SPEC.child("template", "metadata", "labels")
    expected = {
        LABEL_LEGACY_JOB_CONTROLLER_UID: meta.uid,
        LABEL_LEGACY_JOB_NAME: meta.name,
        LABEL_JOB_CONTROLLER_UID: meta.uid,
        LABEL_JOB_NAME: meta.name,
    }
    for key, value in expected.items():
        if key not in labels:
            errs.append(required(labels_path.key(key), value))
        elif labels[key] != value:
            errs.append(invalid(labels_path.key(key), Shown(labels), value))
    mismatch = selector_mismatch(spec.selector, expected, FieldPath.root("x"), skip_empty=False)
    if mismatch:
        errs.append(
            invalid(SPEC.child("selector"), Shown(spec.selector), "`selector` not auto-generated")
        )
    return errs


def _validate_completions_update(ns: job_pb2.JobSpec, os_: job_pb2.JobSpec) -> list[FieldError]:
    """Completions are immutable, except for an Indexed job scaled with
    completions == parallelism (elastic Indexed jobs)."""
    path = SPEC.child("completions")
    new, old = opt(ns, "completions"), opt(os_, "completions")
    if opt(ns, "completion_mode") != "Indexed":
        return immutable(new, old, path)
    if new == old or new is None:
        return []
    if new != opt(ns, "parallelism"):
        return [invalid(path, new, "can only be modified in tandem with spec.parallelism")]
    return []


def _validate_template_update(
    new: pod_pb2.PodTemplateSpec, old: pod_pb2.PodTemplateSpec, scheduling_mutable: bool
) -> list[FieldError]:
    """The template is immutable; while a job is suspended and never started,
    its scheduling directives (node affinity, node selector, tolerations,
    labels, annotations, scheduling gates) may change."""
    base = pod_pb2.PodTemplateSpec()
    base.CopyFrom(old)
    if scheduling_mutable:
        if new.spec.HasField("affinity"):
            base.spec.affinity.SetInParent()
            base.spec.affinity.ClearField("node_affinity")
            if new.spec.affinity.HasField("node_affinity"):
                base.spec.affinity.node_affinity.CopyFrom(new.spec.affinity.node_affinity)
        elif base.spec.HasField("affinity"):
            base.spec.affinity.ClearField("node_affinity")
            if not base.spec.affinity.ListFields():
                base.spec.ClearField("affinity")
        for field in ("node_selector", "tolerations", "scheduling_gates"):
            base.spec.ClearField(field)
            target = getattr(base.spec, field)
            if field == "node_selector":
                target.update(new.spec.node_selector)
            else:
                target.extend(getattr(new.spec, field))
        for field in ("labels", "annotations"):
            base.metadata.ClearField(field)
            getattr(base.metadata, field).update(getattr(new.metadata, field))
    return immutable(new, base, SPEC.child("template"))


_JOB_STATUS_COUNTERS = (
    ("active", "active"),
    ("succeeded", "succeeded"),
    ("failed", "failed"),
    ("ready", "ready"),
    ("terminating", "terminating"),
)


def _condition_true(status: job_pb2.JobStatus, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in status.conditions)


def validate_job_status_update(new: job_pb2.Job, old: job_pb2.Job) -> list[FieldError]:
    """Job status writes: non-negative counters that never decrease
    (succeeded, failed), consistent terminal conditions and completionTime."""
    status, old_status = new.status, old.status
    errs: list[FieldError] = []
    for field, json_name in _JOB_STATUS_COUNTERS:
        value = (
            opt(status, field)
            if status.DESCRIPTOR.fields_by_name[field].has_presence
            else getattr(status, field)
        )
        if value is not None:
            errs += validate_nonnegative(value, STATUS.child(json_name))
    for field in ("succeeded", "failed"):
        if getattr(status, field) < getattr(old_status, field):
            errs.append(
                invalid(
                    STATUS.child(field),
                    getattr(status, field),
                    f"cannot decrease the {field} counter",
                )
            )
    complete = _condition_true(status, "Complete")
    conds_path = STATUS.child("conditions")
    if complete and _condition_true(status, "Failed"):
        errs.append(
            invalid(conds_path, None, "cannot set Complete=True and Failed=true conditions")
        )
    if complete and _condition_true(status, "FailureTarget"):
        errs.append(
            invalid(conds_path, None, "cannot set Complete=True and FailureTarget=true conditions")
        )
    ct_path = STATUS.child("completionTime")
    if complete and not status.completion_time:
        errs.append(required(ct_path, "completionTime must be set when Complete=True"))
    if status.completion_time and not complete:
        errs.append(
            invalid(
                ct_path, status.completion_time, "completionTime can only be set when Complete=True"
            )
        )
    for field, json_name in (("start_time", "startTime"), ("completion_time", "completionTime")):
        value = getattr(status, field)
        if value:
            try:
                parse_rfc3339(value)
            except ValueError:
                errs.append(
                    invalid(
                        STATUS.child(json_name),
                        value,
                        "must be an RFC 3339 time (e.g. '2024-05-01T12:00:00Z')",
                    )
                )
    if status.start_time and status.completion_time:
        try:
            if parse_rfc3339(status.completion_time) < parse_rfc3339(status.start_time):
                errs.append(
                    invalid(
                        ct_path,
                        status.completion_time,
                        "completionTime cannot be set before startTime",
                    )
                )
        except ValueError:
            pass
    if opt(new.spec, "completion_mode") == "Indexed" and status.completed_indexes:
        completions = opt(new.spec, "completions") or 0
        _, err = parse_indexes(status.completed_indexes, completions)
        if err:
            errs.append(
                invalid(
                    STATUS.child("completedIndexes"),
                    status.completed_indexes,
                    f"error parsing completedIndexes: {err}",
                )
            )
    return errs

"""The Job strategy: defaults, the generated selector
(pkg/registry/batch/job/strategy.go) and validation
(pkg/apis/batch/validation/validation.go)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apiserver.registry.strategy import Strategy
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    not_supported,
    required,
    too_long,
    too_many,
    validate_annotations,
    validate_label_selector,
    validate_labels,
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
    Shown,
    immutable,
    immutable_opt,
    nonnegative_opt,
    opt,
    selector_mismatch,
)

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
INT32_MAX = 2**31 - 1


MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000
MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000
MAX_POD_FAILURE_POLICY_RULES = 20
MAX_ON_EXIT_CODES_VALUES = 255
MAX_ON_POD_CONDITIONS_PATTERNS = 20
MAX_SUCCESS_POLICY_RULES = 20
MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024
MAX_MANAGED_BY_LENGTH = 63

POD_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
CONDITION_STATUSES = ("False", "True", "Unknown")
EXIT_CODE_OPERATORS = ("In", "NotIn")
POD_REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")
COMPLETION_MODES = ("NonIndexed", "Indexed")


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


def _manual(spec: job_pb2.JobSpec) -> bool:
    return spec.HasField("manual_selector") and spec.manual_selector


class JobStrategy(Strategy[job_pb2.Job]):
    # batch/v1 Job orphans its pods when a delete names no policy.
    default_delete_policy = "Orphan"

    def prepare_for_create(self, obj: job_pb2.Job) -> None:
        super().prepare_for_create(obj)
        if not _manual(obj.spec):
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
    if _manual(spec) or not spec.HasField("selector"):
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


def validate_job_spec(spec: job_pb2.JobSpec, path: FieldPath) -> list[FieldError]:
    """Kubernetes' ValidateJobSpec: the common rules, a valid selector that
    matches the template's labels."""
    errs = _validate_job_spec_common(spec, path)
    sel_path = path.child("selector")
    if not spec.HasField("selector"):
        errs.append(required(sel_path, ""))
    else:
        errs += validate_label_selector(spec.selector, sel_path)
        errs += selector_mismatch(
            spec.selector, spec.template.metadata.labels, path.child("template"), skip_empty=False
        )
    return errs


def _validate_job_spec_common(spec: job_pb2.JobSpec, path: FieldPath) -> list[FieldError]:
    """Kubernetes' validateJobSpec (shared by Job and a CronJob's jobTemplate)."""
    errs: list[FieldError] = []
    for field, json_name in (
        ("parallelism", "parallelism"),
        ("completions", "completions"),
        ("active_deadline_seconds", "activeDeadlineSeconds"),
        ("backoff_limit", "backoffLimit"),
        ("ttl_seconds_after_finished", "ttlSecondsAfterFinished"),
    ):
        errs += nonnegative_opt(spec, field, path.child(json_name))
    if spec.HasField("backoff_limit_per_index"):
        errs += validate_nonnegative(
            spec.backoff_limit_per_index, path.child("backoffLimitPerIndex")
        )
    if spec.HasField("max_failed_indexes"):
        errs += validate_nonnegative(spec.max_failed_indexes, path.child("maxFailedIndexes"))
        if not spec.HasField("backoff_limit_per_index"):
            errs.append(
                required(path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified")
            )
    if spec.HasField("managed_by"):
        errs += _validate_managed_by(spec.managed_by, path.child("managedBy"))
    errs += _validate_completion_mode(spec, path)
    if spec.HasField("pod_failure_policy"):
        errs += _validate_pod_failure_policy(spec, path.child("podFailurePolicy"))
    if spec.HasField("success_policy"):
        errs += _validate_success_policy(spec, path)
    errs += _validate_pod_replacement_policy(spec, path.child("podReplacementPolicy"))
    errs += podspec.validate_pod_template(spec.template, path.child("template"))
    rp_path = path.child("template", "spec", "restartPolicy")
    restart = spec.template.spec.restart_policy
    if restart in ("Always", ""):
        errs.append(required(rp_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported(rp_path, restart, ["OnFailure", "Never"]))
    elif spec.HasField("pod_failure_policy") and restart != "Never":
        errs.append(
            invalid(
                rp_path, restart, 'only "Never" is supported when podFailurePolicy is specified'
            )
        )
    if spec.HasField("backoff_limit_per_index") and restart != "Never":
        errs.append(
            invalid(
                rp_path, restart, 'must be set to "Never" when backoffLimitPerIndex is specified'
            )
        )
    return errs


def _validate_managed_by(value: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    prefix, slash, rest = value.partition("/")
    if not slash or not rest or is_dns1123_subdomain(prefix):
        errs.append(invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")'))
    if len(value) > MAX_MANAGED_BY_LENGTH:
        errs.append(too_long(path, value, MAX_MANAGED_BY_LENGTH))
    return errs


def _validate_completion_mode(spec: job_pb2.JobSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    mode = opt(spec, "completion_mode")
    completions, parallelism = opt(spec, "completions"), opt(spec, "parallelism")
    max_failed = opt(spec, "max_failed_indexes")
    if mode is not None and mode not in COMPLETION_MODES:
        errs.append(not_supported(path.child("completionMode"), mode, COMPLETION_MODES))
    if mode == "Indexed":
        if completions is None:
            errs.append(required(path.child("completions"), "when completion mode is Indexed"))
        if parallelism is not None and parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
            errs.append(
                invalid(
                    path.child("parallelism"),
                    parallelism,
                    f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed",
                )
            )
        if completions is not None and max_failed is not None and max_failed > completions:
            errs.append(
                invalid(
                    path.child("maxFailedIndexes"),
                    max_failed,
                    "must be less than or equal to completions",
                )
            )
        if max_failed is not None and max_failed > MAX_FAILED_INDEXES_FOR_INDEXED_JOB:
            errs.append(
                invalid(
                    path.child("maxFailedIndexes"),
                    max_failed,
                    f"must be less than or equal to {MAX_FAILED_INDEXES_FOR_INDEXED_JOB}",
                )
            )
        high = f"when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
        if (
            completions is not None
            and completions > COMPLETIONS_SOFT_LIMIT
            and spec.HasField("backoff_limit_per_index")
        ):
            if max_failed is None:
                errs.append(
                    required(
                        path.child("maxFailedIndexes"),
                        f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}",
                    )
                )
            elif max_failed > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS:
                errs.append(
                    invalid(
                        path.child("maxFailedIndexes"),
                        max_failed,
                        f"must be less than or equal to {MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} {high}",
                    )
                )
            if parallelism is not None and parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS:
                errs.append(
                    invalid(
                        path.child("parallelism"),
                        parallelism,
                        f"must be less than or equal to {PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} {high}",
                    )
                )
    if mode is None or mode == "NonIndexed":
        if spec.HasField("backoff_limit_per_index"):
            errs.append(
                invalid(
                    path.child("backoffLimitPerIndex"),
                    spec.backoff_limit_per_index,
                    "requires indexed completion mode",
                )
            )
        if max_failed is not None:
            errs.append(
                invalid(
                    path.child("maxFailedIndexes"), max_failed, "requires indexed completion mode"
                )
            )
    return errs


def _validate_pod_failure_policy(spec: job_pb2.JobSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    rules = spec.pod_failure_policy.rules
    rules_path = path.child("rules")
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        errs.append(too_many(rules_path, len(rules), MAX_POD_FAILURE_POLICY_RULES))
    names = {c.name for c in (*spec.template.spec.containers, *spec.template.spec.init_containers)}
    for i, rule in enumerate(rules):
        p = rules_path.index(i)
        action_path = p.child("action")
        if not rule.action:
            errs.append(required(action_path, "valid values: " + _go_list(POD_FAILURE_ACTIONS)))
        elif rule.action == "FailIndex":
            if not spec.HasField("backoff_limit_per_index"):
                errs.append(
                    invalid(action_path, rule.action, "requires the backoffLimitPerIndex to be set")
                )
        elif rule.action not in POD_FAILURE_ACTIONS:
            errs.append(not_supported(action_path, rule.action, POD_FAILURE_ACTIONS))
        has_codes = rule.HasField("on_exit_codes")
        if has_codes:
            errs += _validate_on_exit_codes(rule.on_exit_codes, p.child("onExitCodes"), names)
        if rule.on_pod_conditions:
            errs += _validate_on_pod_conditions(rule.on_pod_conditions, p.child("onPodConditions"))
        if has_codes and rule.on_pod_conditions:
            errs.append(
                invalid(p, None, "specifying both OnExitCodes and OnPodConditions is not supported")
            )
        if not has_codes and not rule.on_pod_conditions:
            errs.append(
                invalid(p, None, "specifying one of OnExitCodes and OnPodConditions is required")
            )
    return errs


def _go_list(values: Iterable[object]) -> str:
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def _validate_on_exit_codes(
    req: job_pb2.PodFailurePolicyOnExitCodesRequirement, path: FieldPath, names: set[str]
) -> list[FieldError]:
    errs: list[FieldError] = []
    op_path = path.child("operator")
    if not req.operator:
        errs.append(required(op_path, "valid values: " + _go_list(EXIT_CODE_OPERATORS)))
    elif req.operator not in EXIT_CODE_OPERATORS:
        errs.append(not_supported(op_path, req.operator, EXIT_CODE_OPERATORS))
    container = opt(req, "container_name")
    if container is not None and container not in names:
        errs.append(
            invalid(
                path.child("containerName"),
                container,
                "must be one of the container or initContainer names in the pod template",
            )
        )
    values_path = path.child("values")
    values = list(req.values)
    if not values:
        errs.append(invalid(values_path, Shown(values), "at least one value is required"))
    elif len(values) > MAX_ON_EXIT_CODES_VALUES:
        errs.append(too_many(values_path, len(values), MAX_ON_EXIT_CODES_VALUES))
    else:
        seen: set[int] = set()
        for j, value in enumerate(values):
            vp = values_path.index(j)
            if req.operator == "In" and value == 0:
                errs.append(invalid(vp, value, "must not be 0 for the In operator"))
            if value in seen:
                errs.append(duplicate(vp, value))
            seen.add(value)
        if values != sorted(values):
            errs.append(invalid(values_path, Shown(values), "must be ordered"))
    return errs


def _validate_on_pod_conditions(
    patterns: Sequence[job_pb2.PodFailurePolicyOnPodConditionsPattern], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if len(patterns) > MAX_ON_POD_CONDITIONS_PATTERNS:
        errs.append(too_many(path, len(patterns), MAX_ON_POD_CONDITIONS_PATTERNS))
    for j, pattern in enumerate(patterns):
        p = path.index(j)
        errs += [invalid(p.child("type"), pattern.type, m) for m in is_qualified_name(pattern.type)]
        if not pattern.status:
            errs.append(
                required(p.child("status"), "valid values: " + _go_list(CONDITION_STATUSES))
            )
        elif pattern.status not in CONDITION_STATUSES:
            errs.append(not_supported(p.child("status"), pattern.status, CONDITION_STATUSES))
    return errs


def _validate_success_policy(spec: job_pb2.JobSpec, spec_path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    rules = spec.success_policy.rules
    rules_path = spec_path.child("successPolicy", "rules")
    if opt(spec, "completion_mode") != "Indexed":
        errs.append(
            invalid(
                spec_path.child("completionMode"),
                opt(spec, "completion_mode"),
                "requires indexed completion mode",
            )
        )
    if not rules:
        errs.append(
            required(
                rules_path,
                "at least one rules must be specified when the successPolicy is specified",
            )
        )
    if len(rules) > MAX_SUCCESS_POLICY_RULES:
        errs.append(too_many(rules_path, len(rules), MAX_SUCCESS_POLICY_RULES))
    completions = opt(spec, "completions")
    for i, rule in enumerate(rules):
        p = rules_path.index(i)
        indexes, count = opt(rule, "succeeded_indexes"), opt(rule, "succeeded_count")
        if indexes is None and count is None:
            errs.append(
                required(p, "at least one of succeededCount or succeededIndexes must be specified")
            )
        total = 0
        if indexes is not None:
            ip = p.child("succeededIndexes")
            if len(indexes) > MAX_SUCCEEDED_INDEXES_LENGTH:
                errs.append(too_long(ip, indexes, MAX_SUCCEEDED_INDEXES_LENGTH))
            total, err = parse_indexes(indexes, completions if completions is not None else 0)
            if err:
                errs.append(invalid(ip, indexes, f"error parsing succeededIndexes: {err}"))
        if count is not None:
            cp = p.child("succeededCount")
            errs += validate_nonnegative(count, cp)
            if completions is not None and count > completions:
                errs.append(
                    invalid(
                        cp,
                        count,
                        f"must be less than or equal to {completions} (the number of specified completions)",
                    )
                )
            if indexes is not None and count > total:
                errs.append(
                    invalid(
                        cp,
                        count,
                        f"must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)",
                    )
                )
    return errs


def parse_indexes(text: str, completions: int) -> tuple[int, str | None]:
    """Kubernetes' validateIndexesFormat: "1,3-5,7", increasing, each index
    below completions. Returns (number of indexes, error or None)."""
    if not text:
        return 0, None
    total = 0
    last: int | None = None
    for interval in text.split(","):
        limits = interval.split("-")
        if len(limits) > 2:
            return 0, (
                f'the fragment "{interval}" violates the requirement that an index interval '
                "can have at most two parts separated by '-'"
            )
        bounds = []
        for part in limits:
            if not part.isdigit():
                return 0, f'cannot convert string to integer for index: "{part}"'
            value = int(part)
            if value >= completions:
                return 0, f'too large index: "{part}"'
            if last is not None and last >= value:
                return 0, f"non-increasing order, previous: {last}, current: {value}"
            last = value
            bounds.append(value)
        total += 1 if len(bounds) == 1 else bounds[1] - bounds[0] + 1
    return total, None


def _validate_pod_replacement_policy(spec: job_pb2.JobSpec, path: FieldPath) -> list[FieldError]:
    policy = opt(spec, "pod_replacement_policy")
    if policy is None:
        return []
    if spec.HasField("pod_failure_policy"):
        if policy != "Failed":
            return [not_supported(path, policy, ["Failed"])]
    elif policy not in POD_REPLACEMENT_POLICIES:
        return [not_supported(path, policy, POD_REPLACEMENT_POLICIES)]
    return []


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


def validate_job_template(template: job_pb2.JobTemplateSpec, path: FieldPath) -> list[FieldError]:
    """Kubernetes' ValidateJobTemplateSpec: a job spec whose selector the
    CronJob controller generates."""
    meta = template.metadata
    errs = validate_labels(meta.labels, path.child("metadata", "labels"))
    errs += validate_annotations(meta.annotations, path.child("metadata", "annotations"))
    spec = template.spec
    errs += _validate_job_spec_common(spec, path.child("spec"))
    if spec.HasField("selector"):
        errs.append(
            invalid(
                path.child("spec", "selector"),
                Shown(spec.selector),
                "`selector` will be auto-generated",
            )
        )
    if _manual(spec):
        errs.append(not_supported(path.child("spec", "manualSelector"), True, ["nil", "false"]))
    return errs

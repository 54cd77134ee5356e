"""Validation of a JobSpec (pkg/apis/batch/validation/validation.go
ValidateJobSpec, ValidateJobTemplateSpec): parallelism and completions, the
completion mode and its index limits, the pod failure and success policies,
the pod replacement policy and managedBy. Used by the Job kind and by a
CronJob's job template."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pinnace.api.batch.v1 import job_pb2
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

from . import podspec
from .common import (
    Shown,
    nonnegative_opt,
    opt,
    selector_mismatch,
)

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


def manual_selector(spec: job_pb2.JobSpec) -> bool:
    return spec.HasField("manual_selector") and spec.manual_selector


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
    if manual_selector(spec):
        errs.append(not_supported(path.child("spec", "manualSelector"), True, ["nil", "false"]))
    return errs

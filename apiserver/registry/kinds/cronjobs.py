"""The CronJob strategy (batch/v1 defaults, batch/validation ValidateCronJob)."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.batch.v1 import cronjob_pb2
from pinnace.machinery.cron import schedule_error, time_zone_error
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    not_supported,
    required,
)

from . import podspec
from .common import (
    nonnegative_opt,
    opt,
    same,
)
from .jobspec import validate_job_template

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
CRONJOB_NAME_MAX = 63 - 11
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
# ============================================================================= CronJob


class CronJobStrategy(Strategy[cronjob_pb2.CronJob]):
    def default(self, obj: cronjob_pb2.CronJob) -> None:
        """SetDefaults_CronJob (the jobTemplate gets pod template defaults only)."""
        spec = obj.spec
        if not spec.concurrency_policy:
            spec.concurrency_policy = "Allow"
        if not spec.HasField("suspend"):
            spec.suspend = False
        if not spec.HasField("successful_jobs_history_limit"):
            spec.successful_jobs_history_limit = 3
        if not spec.HasField("failed_jobs_history_limit"):
            spec.failed_jobs_history_limit = 1
        podspec.default_pod_template(spec.job_template.spec.template)

    def validate(self, obj: cronjob_pb2.CronJob) -> list[FieldError]:
        """Kubernetes' ValidateCronJobCreate, including the 52-character name limit."""
        errs = validate_cronjob_spec(obj.spec, None)
        name = obj.metadata.name
        if len(name) > CRONJOB_NAME_MAX:
            errs.append(
                invalid(
                    FieldPath.root("metadata", "name"),
                    name,
                    f"must be no more than {CRONJOB_NAME_MAX} characters",
                )
            )
        return errs

    def validate_update(
        self, new: cronjob_pb2.CronJob, old: cronjob_pb2.CronJob
    ) -> list[FieldError]:
        """ValidateCronJobUpdate: no name-length rule (older long names stay
        updatable); a TZ in an old schedule stays allowed."""
        return validate_cronjob_spec(new.spec, old.spec)

    def validate_status_update(
        self, new: cronjob_pb2.CronJob, old: cronjob_pb2.CronJob
    ) -> list[FieldError]:
        status = new.status
        errs: list[FieldError] = []
        for field, json_name in (
            ("last_schedule_time", "lastScheduleTime"),
            ("last_successful_time", "lastSuccessfulTime"),
        ):
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
        return errs


def validate_cronjob_spec(
    spec: cronjob_pb2.CronJobSpec, old_spec: cronjob_pb2.CronJobSpec | None
) -> list[FieldError]:
    """Kubernetes' validateCronJobSpec."""
    errs: list[FieldError] = []
    sched_path = SPEC.child("schedule")
    time_zone = opt(spec, "time_zone")
    if not spec.schedule:
        errs.append(required(sched_path, ""))
    else:
        err = schedule_error(spec.schedule)
        if err:
            errs.append(invalid(sched_path, spec.schedule, err))
        allow_tz = old_spec is not None and "TZ" in old_spec.schedule
        if allow_tz and "TZ" in spec.schedule and time_zone is not None:
            errs.append(
                invalid(
                    sched_path,
                    spec.schedule,
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                )
            )
        elif not allow_tz and "TZ" in spec.schedule:
            errs.append(
                invalid(
                    sched_path,
                    spec.schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
    errs += nonnegative_opt(
        spec, "starting_deadline_seconds", SPEC.child("startingDeadlineSeconds")
    )
    if old_spec is None or not same(time_zone, opt(old_spec, "time_zone")):
        errs += _validate_time_zone(time_zone, SPEC.child("timeZone"))
    policy_path = SPEC.child("concurrencyPolicy")
    if not spec.concurrency_policy:
        errs.append(required(policy_path, ""))
    elif spec.concurrency_policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported(policy_path, spec.concurrency_policy, CONCURRENCY_POLICIES))
    errs += validate_job_template(spec.job_template, SPEC.child("jobTemplate"))
    errs += nonnegative_opt(
        spec, "successful_jobs_history_limit", SPEC.child("successfulJobsHistoryLimit")
    )
    errs += nonnegative_opt(spec, "failed_jobs_history_limit", SPEC.child("failedJobsHistoryLimit"))
    return errs


def _validate_time_zone(zone: str | None, path: FieldPath) -> list[FieldError]:
    if zone is None:
        return []
    if not zone:
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    errs: list[FieldError] = []
    if zone.lower() == "local":
        errs.append(
            invalid(
                path,
                zone,
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            )
        )
    err = time_zone_error(zone)
    if err:
        errs.append(invalid(path, zone, err))
    return errs

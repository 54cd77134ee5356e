"""The CronJob controller (Kubernetes' pkg/controller/cronjob, v2)."""

from controllers.cronjob.controller import CronJobController

__all__ = ["CronJobController"]

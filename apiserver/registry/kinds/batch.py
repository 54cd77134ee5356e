"""Strategies of batch/v1 kinds: Job, CronJob."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy


class JobStrategy(Strategy):
    # batch/v1 Job orphans its pods when a delete names no policy.
    default_delete_policy = "Orphan"


class CronJobStrategy(Strategy):
    pass

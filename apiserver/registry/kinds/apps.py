"""Strategies of apps/v1 kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet,
ControllerRevision."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy


class DeploymentStrategy(Strategy):
    pass


class ReplicaSetStrategy(Strategy):
    pass


class StatefulSetStrategy(Strategy):
    pass


class DaemonSetStrategy(Strategy):
    pass


class ControllerRevisionStrategy(Strategy):
    pass

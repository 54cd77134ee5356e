"""The ClusterRole aggregation controller (Kubernetes'
pkg/controller/clusterroleaggregation)."""

from controllers.clusterroleaggregation.controller import ClusterRoleAggregationController

__all__ = ["ClusterRoleAggregationController"]

"""Node lifecycle: node health and taints, and taint-based eviction
(Kubernetes' pkg/controller/nodelifecycle and pkg/controller/tainteviction)."""

from controllers.nodelifecycle.controller import NodeLifecycleController
from controllers.nodelifecycle.tainteviction import TaintEvictionController

__all__ = ["NodeLifecycleController", "TaintEvictionController"]

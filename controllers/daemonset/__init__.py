"""The DaemonSet controller (Kubernetes' pkg/controller/daemon)."""

from controllers.daemonset.controller import DaemonSetController

__all__ = ["DaemonSetController"]

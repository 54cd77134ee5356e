"""The pod garbage collector (Kubernetes' pkg/controller/podgc)."""

from controllers.podgc.controller import PodGCController

__all__ = ["PodGCController"]

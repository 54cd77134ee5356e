"""The StatefulSet controller (see controller.py)."""

from controllers.statefulset.controller import StatefulSetController

__all__ = ["StatefulSetController"]

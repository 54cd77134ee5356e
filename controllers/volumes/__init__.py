"""The persistent volume binder and node-local provisioner (see controller.py)."""

from controllers.volumes.controller import PersistentVolumeBinder

__all__ = ["PersistentVolumeBinder"]

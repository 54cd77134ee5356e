"""The node IPAM controller (Kubernetes' pkg/controller/nodeipam)."""

from controllers.nodeipam.controller import NodeIPAMController

__all__ = ["NodeIPAMController"]

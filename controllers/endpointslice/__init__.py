"""The EndpointSlice controller (Kubernetes' pkg/controller/endpointslice)."""

from controllers.endpointslice.controller import EndpointSliceController

__all__ = ["EndpointSliceController"]

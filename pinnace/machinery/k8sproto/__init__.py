"""Kubernetes' protobuf encoding (``application/vnd.kubernetes.protobuf``),
read into the JSON shape of the same object: ``decode_body`` (decode.py),
over the field table generated from Kubernetes' protos (schema.py)."""

from pinnace.machinery.k8sproto.decode import MEDIA_TYPE, decode_body

__all__ = ["MEDIA_TYPE", "decode_body"]

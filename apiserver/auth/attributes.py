"""What a request asks to do, as the authorizers read it (Kubernetes'
authorizer.Attributes), and how a refusal is worded.

Each front door turns its request into Attributes once (gRPC: the method
and the request's resource, namespace, name and subresource; HTTP: the
RequestInfo of the path, or the path itself for a non-resource URL), so the
authorizers see both doors the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.auth.user import UserInfo
from pinnace.machinery import errors

__all__ = ["Attributes", "forbidden"]


@dataclass(frozen=True)
class Attributes:
    """One request: who, which verb, on what. A resource request names a
    ``resource`` (plural); otherwise it is for the non-resource ``path``."""

    user: UserInfo
    verb: str
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    # A list's, watch's or deletecollection's field selector (the Node
    # authorizer lets a kubelet list only its own pods and Node).
    field_selector: str = ""

    @property
    def is_resource_request(self) -> bool:
        return bool(self.resource)

    @property
    def full_resource(self) -> str:
        """``pods`` or ``pods/log``: how rules and messages name it."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def forbidden(attrs: Attributes, reason: str = "") -> errors.Forbidden:
    """The 403 kube-apiserver answers a refused request with, in its words:
    ``pods "web" is forbidden: User "alice" cannot get resource "pods" in
    API group "" in the namespace "default"``."""
    user = attrs.user.name
    if not attrs.is_resource_request:
        message = f'forbidden: User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    else:
        qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
        what = f'{qualified} "{attrs.name}"' if attrs.name else qualified
        scope = (
            f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
        )
        message = (
            f'{what} is forbidden: User "{user}" cannot {attrs.verb} resource '
            f'"{attrs.full_resource}" in API group "{attrs.api_group}" {scope}'
        )
    if reason:
        message += f": {reason}"
    return errors.Forbidden(message)

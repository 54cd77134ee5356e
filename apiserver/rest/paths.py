"""Which API request a URL is (Kubernetes' RequestInfoFactory, pure).

    /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
    /api/v1/{resource}[/{name}[/{subresource}]]       cluster-scoped, or all namespaces
    /apis/{group}/{version}/...                        the same under a group
    /api/v1/namespaces/{name}[/status|/finalize]       a namespace itself

The verb comes from the method: GET with a name is get, without one list
(watch with ``?watch=true|1``), POST create, PUT update, PATCH patch,
DELETE with a name delete, without one deletecollection.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RequestInfo", "request_info"]

_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class RequestInfo:
    verb: str
    group: str
    version: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""


def request_info(method: str, path: str, *, watch: bool = False) -> RequestInfo | None:
    """The resource request ``path`` names (None: not a resource path)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        return None
    if parts[0] == "api" and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 2:
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
            namespace = rest[1]  # the namespace object itself
        else:
            namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        return None
    return RequestInfo(
        verb=_verb(method, bool(name), watch),
        group=group,
        version=version,
        resource=resource,
        namespace=namespace,
        name=name,
        subresource=subresource,
    )


def _verb(method: str, named: bool, watch: bool) -> str:
    method = method.upper()
    if method == "GET":
        if watch:
            return "watch"
        return "get" if named else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return method.lower()

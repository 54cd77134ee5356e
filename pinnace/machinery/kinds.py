"""The table of every kind Pinnace serves, and lookups over it.

One row per kind: its API group and version, its plural resource name (the
name the API service takes, qualified by group as kubectl prints it:
"deployments.apps"), whether it lives in a namespace, kubectl's short names,
and the protobuf message class. The server, the SDK, the codec's manifest
loader and the CLI all read this one table.

Message classes are resolved lazily (the first lookup imports every generated
module under ``pinnace.api``), so importing this module is cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache

from google.protobuf import symbol_database
from google.protobuf.message import Message

import pinnace.api
from pinnace.machinery.objects import set_type_meta


@dataclass(frozen=True)
class KindInfo:
    """One kind: where it lives in the API and which message carries it."""

    group: str  # "" for core
    version: str
    kind: str
    plural: str
    namespaced: bool
    message_name: str  # full protobuf name, e.g. "pinnace.api.core.v1.Pod"
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    singular: str = field(default="")

    @property
    def api_version(self) -> str:
        """ "v1" for core, "apps/v1" otherwise, as manifests spell it."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The resource name the API service takes: plural[.group]."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def message_class(self) -> type[Message]:
        """The generated protobuf class for this kind."""
        return _message_class(self.message_name)

    @property
    def type_url(self) -> str:
        """The google.protobuf.Any type URL of this kind's message."""
        return f"type.googleapis.com/{self.message_name}"

    def new(self) -> Message:
        """An empty message of this kind with apiVersion and kind set."""
        obj = self.message_class()
        set_type_meta(obj, self.api_version, self.kind)
        return obj


def _k(
    group: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
) -> KindInfo:
    pkg = group.split(".")[0] if group else "core"
    return KindInfo(
        group=group,
        version="v1",
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        message_name=f"pinnace.api.{pkg}.v1.{kind}",
        short_names=short,
        subresources=sub,
        singular=kind.lower(),
    )


KINDS: tuple[KindInfo, ...] = (
    _k(
        "",
        "Pod",
        "pods",
        short=("po",),
        sub=("status", "binding", "eviction", "exec", "log"),
    ),
    _k("", "Node", "nodes", namespaced=False, short=("no",), sub=("status",)),
    _k("", "Namespace", "namespaces", namespaced=False, short=("ns",), sub=("status",)),
    _k("", "Event", "events", short=("ev",)),
    _k(
        "",
        "ReplicationController",
        "replicationcontrollers",
        short=("rc",),
        sub=("status", "scale"),
    ),
    _k("", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), sub=("status",)),
    _k(
        "",
        "PersistentVolume",
        "persistentvolumes",
        namespaced=False,
        short=("pv",),
        sub=("status",),
    ),
    _k("", "Service", "services", short=("svc",), sub=("status",)),
    _k("apps", "Deployment", "deployments", short=("deploy",), sub=("status", "scale")),
    _k("apps", "ReplicaSet", "replicasets", short=("rs",), sub=("status", "scale")),
    _k("apps", "StatefulSet", "statefulsets", short=("sts",), sub=("status", "scale")),
    _k("apps", "DaemonSet", "daemonsets", short=("ds",), sub=("status",)),
    _k("apps", "ControllerRevision", "controllerrevisions"),
    _k("batch", "Job", "jobs", sub=("status",)),
    _k("batch", "CronJob", "cronjobs", short=("cj",), sub=("status",)),
    _k("coordination.k8s.io", "Lease", "leases"),
    _k("discovery.k8s.io", "EndpointSlice", "endpointslices"),
    _k("rbac.authorization.k8s.io", "Role", "roles"),
    _k("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    _k("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced=False),
    _k("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
)

# Not stored kinds: carried by subresources only.
BINDING = _k("", "Binding", "bindings")
SCALE = KindInfo(
    group="autoscaling",
    version="v1",
    kind="Scale",
    plural="scale",
    namespaced=True,
    message_name="pinnace.api.autoscaling.v1.Scale",
    singular="scale",
)

_BY_RESOURCE = {k.resource: k for k in KINDS}
_BY_KIND = {(k.api_version, k.kind): k for k in KINDS}
_BY_MESSAGE = {k.message_name: k for k in (*KINDS, BINDING, SCALE)}


class UnknownKindError(LookupError):
    """No kind or resource of that name is served."""


def by_resource(resource: str) -> KindInfo:
    """The kind served under a resource name ("pods", "deployments.apps")."""
    try:
        return _BY_RESOURCE[resource]
    except KeyError:
        raise UnknownKindError(
            f'the server does not serve resource "{resource}"; served: '
            + ", ".join(sorted(_BY_RESOURCE))
        ) from None


def by_kind(api_version: str, kind: str) -> KindInfo:
    """The kind a manifest names with apiVersion and kind."""
    try:
        return _BY_KIND[(api_version, kind)]
    except KeyError:
        known = ", ".join(f"{k.api_version}/{k.kind}" for k in KINDS)
        raise UnknownKindError(
            f'no kind "{kind}" is registered for version "{api_version}"; known kinds: {known}'
        ) from None


def by_message(message_or_name: Message | str) -> KindInfo:
    """The kind a protobuf message (or its full name) carries."""
    name = (
        message_or_name
        if isinstance(message_or_name, str)
        else message_or_name.DESCRIPTOR.full_name
    )
    try:
        return _BY_MESSAGE[name]
    except KeyError:
        raise UnknownKindError(f'message type "{name}" is not a served kind') from None


def lookup(name: str) -> KindInfo:
    """Resolve what a user types: plural, singular, short name or Kind, with
    an optional ".group" suffix ("deploy", "deployments.apps", "Pod")."""
    lowered = name.lower()
    base, _, group = lowered.partition(".")
    for k in KINDS:
        if group and k.group != group:
            continue
        if base in (k.plural, k.singular, k.kind.lower(), *k.short_names):
            return k
    raise UnknownKindError(
        f'the server doesn\'t have a resource type "{name}"; see "pinnace api-resources"'
    )


@cache
def _message_class(full_name: str) -> type[Message]:
    _import_generated()
    return symbol_database.Default().GetSymbol(full_name)


@cache
def _import_generated() -> None:
    for mod in pkgutil.walk_packages(pinnace.api.__path__, prefix="pinnace.api."):
        if mod.name.endswith("_pb2"):
            importlib.import_module(mod.name)

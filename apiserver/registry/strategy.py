"""Per-kind behaviour of the generic verbs: defaults, validation, status.

A ``Strategy`` is what differs between kinds; everything else (storage,
metadata, deletion, watch) is generic. Kind modules subclass it and override
only what their kind needs. Rules every strategy follows:

* ``default`` applies Kubernetes' defaults in place, on create and update.
* ``validate`` returns every field error at once (never raises); the server
  writes nothing when any is returned.
* ``validate_update`` adds the rules that compare with the old object
  (immutable fields) and must also run ``validate``.
* Objects passed in are private copies: strategies may mutate them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Generic, Protocol, TypeVar

from google.protobuf.message import Message

from apiserver.registry.allocation import Claimed
from apiserver.registry.config import DEFAULT_CONFIG, RegistryConfig
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.labels import selector_from_label_selector, selector_from_map
from pinnace.machinery.objects import object_meta, replace_field
from pinnace.machinery.validation import ErrorType, FieldError, FieldPath, is_dns1123_subdomain

ROOT = FieldPath.root()

# The message type of a kind: Strategy[pod_pb2.Pod] types every hook with Pod.
M = TypeVar("M", bound=Message)


class Strategy(Generic[M]):
    """Default behaviour: a kind with optional spec and status. ``M`` is the
    kind's message class; a subclass names it (``Strategy[pod_pb2.Pod]``)."""

    # kind is set by the registry when a strategy is bound to its kind.
    info: KindInfo
    # "Background" or "Orphan": the deletion propagation when a delete names none.
    default_delete_policy: ClassVar[str] = "Background"
    # Field selector fields beyond metadata.name and metadata.namespace.
    field_labels: ClassVar[tuple[str, ...]] = ()

    def __init__(self, info: KindInfo, config: RegistryConfig = DEFAULT_CONFIG) -> None:
        self.info = info
        self.config = config

    @property
    def has_status(self) -> bool:
        return "status" in self.info.subresources

    @property
    def has_scale(self) -> bool:
        return "scale" in self.info.subresources

    # ---- names -------------------------------------------------------------

    def validate_name(self, name: str) -> list[str]:
        """Problems with an object name (most kinds: a DNS-1123 subdomain)."""
        return is_dns1123_subdomain(name)

    # ---- create / update ---------------------------------------------------

    def default(self, obj: M) -> None:
        """Kubernetes' defaults for this kind, in place."""

    def prepare_for_create(self, obj: M) -> None:
        """Reset what a create cannot set: status, for kinds with a status subresource."""
        if self.has_status and _has_field(obj, "status"):
            obj.ClearField("status")

    def prepare_for_update(self, new: M, old: M) -> None:
        """A spec write cannot change status: keep the stored status."""
        if self.has_status and _has_field(obj=old, name="status"):
            replace_field(new, old, "status")

    def validate(self, obj: M) -> list[FieldError]:
        """Every field error of obj's kind-specific part."""
        return []

    def validate_update(self, new: M, old: M) -> list[FieldError]:
        """validate(new) plus rules that compare new with old."""
        return self.validate(new)

    def validate_status_update(self, new: M, old: M) -> list[FieldError]:
        """Field errors of a status write."""
        return []

    # ---- allocation (values drawn from ranges shared by all objects) -----------

    async def allocate(self, obj: M, old: M | None, claimed: Claimed) -> None:
        """Fill in, in place, the values obj needs from a shared range (a
        Service's clusterIP and node ports); ``claimed(prefix)`` reads the
        values already held. Runs after validation, before the write."""

    def claims(self, obj: M) -> dict[str, bytes]:
        """The exclusive keys obj holds beside its own, with their values
        (Store writes them in the object's txn); most kinds hold none."""
        return {}

    def claim_errors(self, obj: M, keys: list[str]) -> list[FieldError]:
        """Field errors for ``keys`` of obj's claims that other objects hold."""
        return [FieldError(ErrorType.INVALID, "", k, "already allocated") for k in keys]

    # ---- delete --------------------------------------------------------------

    def grace_period(self, obj: M, options: meta_pb2.DeleteOptions) -> int:
        """Seconds of graceful termination a delete grants (0: none; pods override)."""
        return 0

    def deletion_blocked(self, obj: M) -> bool:
        """True while something other than metadata.finalizers holds a
        deleting object (a namespace's spec.finalizers)."""
        return False

    def prepare_for_delete(self, obj: M) -> None:
        """Changes made when a deletion starts but cannot finish yet."""

    # ---- selectors ---------------------------------------------------------

    def fields(self, obj: M) -> dict[str, str]:
        """Field selector values: metadata.name, metadata.namespace and field_labels."""
        meta = object_meta(obj)
        out = {"metadata.name": meta.name, "metadata.namespace": meta.namespace}
        out.update(self.field_values(obj))
        return out

    def extract(self, obj: M) -> tuple[str, str, dict[str, str], dict[str, str]]:
        """What the watch cache indexes: namespace, name, labels, fields."""
        meta = object_meta(obj)
        return meta.namespace, meta.name, dict(meta.labels), self.fields(obj)

    def field_values(self, obj: M) -> dict[str, str]:
        """Kind-specific field selector values (keys from field_labels)."""
        return {}

    # ---- scale subresource ------------------------------------------------

    def scale_replicas(self, obj: M) -> tuple[int, int, str]:
        """(spec replicas, status replicas, status selector string); kinds with
        a scale subresource take ``ReplicasScale``'s."""
        raise NotImplementedError(f"{self.info.kind} has no scale subresource")

    def set_scale_replicas(self, obj: M, replicas: int) -> None:
        """Write a scale's replicas into obj."""
        raise NotImplementedError(f"{self.info.kind} has no scale subresource")


class _ScaleSpec(Protocol):
    replicas: int

    @property
    def selector(self) -> meta_pb2.LabelSelector | Mapping[str, str]: ...


class _ScaleStatus(Protocol):
    @property
    def replicas(self) -> int: ...


class Scalable(Protocol):
    """An object of a kind with a scale subresource: spec.replicas,
    spec.selector (a LabelSelector; a ReplicationController's is a map) and
    status.replicas."""

    @property
    def spec(self) -> _ScaleSpec: ...

    @property
    def status(self) -> _ScaleStatus: ...


S = TypeVar("S", bound=Scalable)


class ReplicasScale(Generic[S]):
    """The scale subresource of a kind scaled by spec.replicas: a strategy of
    such a kind lists it, typed by the kind, before Strategy
    (``DeploymentStrategy(ReplicasScale[Deployment], Strategy[Deployment])``),
    so the checker proves the kind has the fields."""

    def scale_replicas(self, obj: S) -> tuple[int, int, str]:
        """(spec replicas, status replicas, status selector string)."""
        sel = obj.spec.selector
        if isinstance(sel, meta_pb2.LabelSelector):
            selector = str(selector_from_label_selector(sel))
        else:
            selector = str(selector_from_map(dict(sel)))
        return obj.spec.replicas, obj.status.replicas, selector

    def set_scale_replicas(self, obj: S, replicas: int) -> None:
        obj.spec.replicas = replicas


def _has_field(obj: Message, name: str) -> bool:
    return name in obj.DESCRIPTOR.fields_by_name


def spec_bytes(obj: Message) -> bytes:
    """What a generation bump compares: everything but metadata and status,
    in canonical form (an object stored before canonical storage compares
    equal to the same object stored since)."""
    clone = type(obj)()
    clone.CopyFrom(obj)
    for name in ("metadata", "status", "api_version", "kind"):
        if name in clone.DESCRIPTOR.fields_by_name:
            clone.ClearField(name)
    codec.canonicalize(clone)
    return clone.SerializeToString(deterministic=True)


__all__ = [
    "ROOT",
    "FieldError",
    "FieldPath",
    "M",
    "ReplicasScale",
    "Scalable",
    "Strategy",
    "spec_bytes",
]

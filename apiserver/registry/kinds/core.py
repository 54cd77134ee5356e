"""Strategies of core/v1 kinds: Pod, Node, Namespace, Event, ReplicationController,
PersistentVolumeClaim, PersistentVolume."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.registry.strategy import Strategy
from pinnace.machinery.validation import is_dns1123_label

DEFAULT_TERMINATION_GRACE_SECONDS = 30


class PodStrategy(Strategy):
    field_labels = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )

    def field_values(self, obj: Message) -> dict[str, str]:
        spec, status = obj.spec, obj.status  # type: ignore[attr-defined]
        return {
            "spec.nodeName": spec.node_name,
            "spec.restartPolicy": spec.restart_policy,
            "spec.schedulerName": spec.scheduler_name,
            "spec.serviceAccountName": spec.service_account_name,
            "spec.hostNetwork": "true" if spec.host_network else "false",
            "status.phase": status.phase,
            "status.podIP": status.pod_ip,
            "status.nominatedNodeName": status.nominated_node_name,
        }

    def prepare_for_create(self, obj: Message) -> None:
        super().prepare_for_create(obj)
        obj.status.phase = "Pending"  # type: ignore[attr-defined]
        obj.status.qos_class = ""  # type: ignore[attr-defined]

    def grace_period(self, obj: Message, options: Message) -> int:
        """Kubernetes' pod graceful deletion: the option, else the pod's
        terminationGracePeriodSeconds; 0 for pods never scheduled or already
        finished."""
        spec, status = obj.spec, obj.status  # type: ignore[attr-defined]
        if not spec.node_name or status.phase in ("Succeeded", "Failed"):
            return 0
        if options.HasField("grace_period_seconds"):  # type: ignore[attr-defined]
            return int(options.grace_period_seconds)  # type: ignore[attr-defined]
        if spec.HasField("termination_grace_period_seconds"):
            return int(spec.termination_grace_period_seconds)
        return DEFAULT_TERMINATION_GRACE_SECONDS


class NodeStrategy(Strategy):
    field_labels = ("spec.unschedulable",)

    def field_values(self, obj: Message) -> dict[str, str]:
        return {"spec.unschedulable": "true" if obj.spec.unschedulable else "false"}  # type: ignore[attr-defined]


class NamespaceStrategy(Strategy):
    field_labels = ("status.phase",)

    def validate_name(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def field_values(self, obj: Message) -> dict[str, str]:
        return {"status.phase": obj.status.phase}  # type: ignore[attr-defined]

    def default(self, obj: Message) -> None:
        if not obj.status.phase:  # type: ignore[attr-defined]
            obj.status.phase = "Active"  # type: ignore[attr-defined]

    def prepare_for_create(self, obj: Message) -> None:
        super().prepare_for_create(obj)
        obj.status.phase = "Active"  # type: ignore[attr-defined]
        spec = obj.spec  # type: ignore[attr-defined]
        if "kubernetes" not in spec.finalizers:
            spec.finalizers.append("kubernetes")

    def deletion_blocked(self, obj: Message) -> bool:
        return bool(obj.spec.finalizers)  # type: ignore[attr-defined]

    def prepare_for_delete(self, obj: Message) -> None:
        obj.status.phase = "Terminating"  # type: ignore[attr-defined]


class EventStrategy(Strategy):
    field_labels = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )

    def field_values(self, obj: Message) -> dict[str, str]:
        io = obj.involved_object  # type: ignore[attr-defined]
        return {
            "involvedObject.kind": io.kind,
            "involvedObject.namespace": io.namespace,
            "involvedObject.name": io.name,
            "involvedObject.uid": io.uid,
            "involvedObject.apiVersion": io.api_version,
            "involvedObject.resourceVersion": io.resource_version,
            "involvedObject.fieldPath": io.field_path,
            "reason": obj.reason,  # type: ignore[attr-defined]
            "reportingComponent": obj.reporting_component,  # type: ignore[attr-defined]
            "source": obj.source.component,  # type: ignore[attr-defined]
            "type": obj.type,  # type: ignore[attr-defined]
        }


class ReplicationControllerStrategy(Strategy):
    # Kubernetes' v1 RC orphans its pods when a delete names no policy.
    default_delete_policy = "Orphan"


class PersistentVolumeClaimStrategy(Strategy):
    pass


class PersistentVolumeStrategy(Strategy):
    pass

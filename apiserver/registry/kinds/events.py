"""The Event strategy (core/validation ValidateEvent)."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import event_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    not_supported,
    required,
    too_long,
)


class EventStrategy(Strategy[event_pb2.Event]):
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

    def field_values(self, obj: event_pb2.Event) -> dict[str, str]:
        io = obj.involved_object
        return {
            "involvedObject.kind": io.kind,
            "involvedObject.namespace": io.namespace,
            "involvedObject.name": io.name,
            "involvedObject.uid": io.uid,
            "involvedObject.apiVersion": io.api_version,
            "involvedObject.resourceVersion": io.resource_version,
            "involvedObject.fieldPath": io.field_path,
            "reason": obj.reason,
            "reportingComponent": obj.reporting_component,
            "source": obj.source.component,
            "type": obj.type,
        }

    def validate(self, obj: event_pb2.Event) -> list[FieldError]:
        """Kubernetes' legacy (core/v1) event validation, plus: the involved
        object is required and type is Normal or Warning."""
        errs: list[FieldError] = []
        ev = obj
        io = ev.involved_object
        ns = ev.metadata.namespace
        io_ns_path = FieldPath.root("involvedObject", "namespace")
        if not ev.HasField("involved_object") or not (io.kind or io.name):
            errs.append(required(FieldPath.root("involvedObject"), ""))
        # Kubernetes also rejects an involved object without a namespace in a
        # namespace other than "default"; Pinnace accepts it (events about
        # cluster-scoped objects may live in any namespace).
        if io.namespace and ns != io.namespace:
            errs.append(invalid(io_ns_path, io.namespace, "does not match event.namespace"))
        if ev.event_time:
            rc = ev.reporting_component
            if not rc:
                errs.append(required(FieldPath.root("reportingComponent"), ""))
            else:
                errs += [
                    invalid(FieldPath.root("reportingComponent"), rc, m)
                    for m in is_qualified_name(rc)
                ]
            for field, json_name, limit in (
                ("reporting_instance", "reportingInstance", 128),
                ("action", "action", 128),
                ("reason", "reason", 128),
            ):
                value = getattr(ev, field)
                if not value:
                    errs.append(required(FieldPath.root(json_name), ""))
                elif len(value) > limit:
                    errs.append(too_long(FieldPath.root(json_name), "", limit))
            if len(ev.message) > 1024:
                errs.append(too_long(FieldPath.root("message"), "", 1024))
        if ev.type and ev.type not in ("Normal", "Warning"):
            errs.append(not_supported(FieldPath.root("type"), ev.type, ["Normal", "Warning"]))
        if ns:
            errs += [invalid(FieldPath.root("namespace"), ns, m) for m in is_dns1123_subdomain(ns)]
        return errs

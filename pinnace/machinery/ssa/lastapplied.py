"""Server-side apply next to kubectl's client-side apply, as Kubernetes
keeps them compatible for the manager "kubectl" (kubectl apply
--server-side's default):

* conflicts that are only with fields of the live object's
  last-applied-configuration annotation, still holding the values it
  recorded, do not stop the apply (it forces them): switching a manifest
  from ``kubectl apply`` to ``kubectl apply --server-side`` just works;
* after an apply by "kubectl" to an object that has the annotation, the
  annotation is rewritten to the applied configuration, so a later
  client-side apply computes its three-way patch from it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from typing import Any

from pinnace.machinery.wellknown import ANNOTATION_LAST_APPLIED

from .fieldsets import FieldSet, Path

__all__ = ["KUBECTL", "allowed_conflicts", "with_last_applied"]

KUBECTL = "kubectl"
# (config) → its field set; (lhs, rhs) → (added, modified, removed).
ToSet = Callable[[Any], Iterable[Path]]
Compare = Callable[[Any, Any], tuple[set[Path], set[Path], set[Path]]]


def _annotation(obj: dict[str, Any]) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ANNOTATION_LAST_APPLIED, "")
    return value if isinstance(value, str) else ""


def allowed_conflicts(
    live: dict[str, Any], api_version: str, to_set: ToSet, compare: Compare
) -> FieldSet:
    """The fields of live's last-applied configuration whose live values are
    still the ones it recorded (empty without a usable annotation)."""
    text = _annotation(live)
    if not text:
        return frozenset()
    try:
        last = json.loads(text)
    except ValueError:
        return frozenset()
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return frozenset()
    last = {k: v for k, v in last.items() if k not in ("apiVersion", "kind")}
    added, modified, removed = compare(last, live)
    return frozenset(to_set(last)) - added - modified - removed


def with_last_applied(obj: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
    """obj with its last-applied annotation set to ``applied`` (without that
    annotation), if it has one."""
    if not _annotation(obj):
        return obj
    config = copy.deepcopy(applied)
    config_annotations = (config.get("metadata") or {}).get("annotations")
    if isinstance(config_annotations, dict):
        config_annotations.pop(ANNOTATION_LAST_APPLIED, None)
        if not config_annotations:
            config["metadata"].pop("annotations")
    out = dict(obj)
    meta = dict(out["metadata"])
    meta["annotations"] = {
        **meta["annotations"],
        ANNOTATION_LAST_APPLIED: json.dumps(config, separators=(",", ":")),
    }
    out["metadata"] = meta
    return out

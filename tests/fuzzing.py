"""Malformed and adversarial objects for the property-based tests: valid
objects of the workload kinds, then one to three mutations each (a value
replaced by anything JSON can hold, a key deleted, an unknown key added).

Also the judge of an answer: a write is accepted, or refused with an error
that names a field (Kubernetes' Status causes, or a message that points at
a field path).
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from hypothesis import strategies as st

__all__ = ["BASES", "Mutated", "mutated", "names_a_field", "odd_values", "patches"]

_CONTAINER = {"name": "c", "image": "busybox", "command": ["sleep", "300"]}
_TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [_CONTAINER]}}
_SELECTOR = {"matchLabels": {"app": "x"}}

# resource → (apiVersion, kind, spec) of one valid object.
BASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "pods": ("v1", "Pod", {"containers": [_CONTAINER], "restartPolicy": "Never"}),
    "services": ("v1", "Service", {"selector": {"app": "x"}, "ports": [{"port": 80}]}),
    "deployments.apps": (
        "apps/v1",
        "Deployment",
        {"replicas": 0, "selector": _SELECTOR, "template": _TEMPLATE},
    ),
    "statefulsets.apps": (
        "apps/v1",
        "StatefulSet",
        {"replicas": 0, "serviceName": "x", "selector": _SELECTOR, "template": _TEMPLATE},
    ),
    "daemonsets.apps": ("apps/v1", "DaemonSet", {"selector": _SELECTOR, "template": _TEMPLATE}),
    "jobs.batch": (
        "batch/v1",
        "Job",
        {
            "suspend": True,
            "template": {
                "spec": {"containers": [_CONTAINER], "restartPolicy": "Never"},
            },
        },
    ),
    "cronjobs.batch": (
        "batch/v1",
        "CronJob",
        {
            "schedule": "*/5 * * * *",
            "suspend": True,
            "jobTemplate": {
                "spec": {
                    "template": {"spec": {"containers": [_CONTAINER], "restartPolicy": "Never"}}
                }
            },
        },
    ),
}

# Values that have broken parsers before: empty and huge strings, signs,
# unicode, NUL, path tricks, numbers as text and text as numbers.
_TRICKY = [
    "",
    "-1",
    "0",
    "a" * 300,
    "UPPER",
    "../etc/passwd",
    "\x00",
    "🙂",
    "1e309",
    "*/x * * * *",
    "true",
    " ",
]
odd_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(_TRICKY),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

Path = tuple[str | int, ...]


class Mutated:
    """One mutated object: its resource, name, the document, what was done."""

    def __init__(self, resource: str, name: str, doc: Any, changes: list[str]) -> None:
        self.resource = resource
        self.name = name
        self.doc = doc
        self.changes = changes

    def __repr__(self) -> str:
        return f"Mutated({self.resource}, {self.changes})"


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    out: list[Path] = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _parent(doc: Any, path: Path) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated(draw: st.DrawFn, resources: tuple[str, ...] = tuple(BASES)) -> Mutated:
    resource = draw(st.sampled_from(sorted(resources)))
    api_version, kind, spec = BASES[resource]
    name = f"fz-{uuid.uuid4().hex[:12]}"
    doc: Any = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "labels": {"app": "x"}},
        "spec": copy.deepcopy(spec),
    }
    changes = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _paths(doc) if p]  # never the whole document
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        parent = _parent(doc, path)
        where = ".".join(str(k) for k in path)
        if action == "replace":
            parent[path[-1]] = draw(odd_values)
            changes.append(f"{where}={parent[path[-1]]!r}")
        elif action == "delete":
            del parent[path[-1]]
            changes.append(f"del {where}")
        elif isinstance(parent, dict):
            key = draw(st.text(min_size=1, max_size=8))
            parent[key] = draw(odd_values)
            changes.append(f"add {where.rpartition('.')[0]}.{key}")
    return Mutated(resource, name, doc, changes)


# A field path in a message: spec.replicas, spec.template.spec.containers[0].image,
# metadata.name, or a JSON pointer-ish name the decoder reports.
_FIELD_IN_MESSAGE = re.compile(
    r"\b(metadata|spec|status|apiVersion|kind|items)(\.|\[|\b)"
    r"|\b[a-z][A-Za-z0-9]*(\[\d+\])?\.[a-z]"
    r'|field "[^"]*"'  # kube-apiserver's strict decoding: unknown field "x"
    r"|\bAPI version\b"  # kube-apiserver's words for apiVersion
)


def names_a_field(status: dict[str, Any]) -> bool:
    """Whether a refusal (a Kubernetes Status) names the field it is about."""
    causes = (status.get("details") or {}).get("causes") or []
    if any(c.get("field") for c in causes):
        return True
    return bool(_FIELD_IN_MESSAGE.search(str(status.get("message", ""))))


_OPS = ["add", "remove", "replace", "move", "copy", "test", "bogus"]
_POINTERS = [
    "/spec/replicas",
    "/spec/template/spec/containers/0/image",
    "/spec/template/spec/containers/-",
    "/metadata/labels/x",
    "/metadata/name",
    "/spec/selector",
    "/status",
    "/kind",
    "",
    "/",
    "spec",
    "/spec/template/spec/containers/99",
]
json_patches = (
    st.lists(
        st.fixed_dictionaries(
            {"op": st.sampled_from(_OPS), "path": st.sampled_from(_POINTERS)},
            optional={"value": odd_values, "from": st.sampled_from(_POINTERS)},
        ),
        max_size=3,
    )
    | odd_values
)  # not even a list
merge_patches = (
    st.dictionaries(
        st.sampled_from(["spec", "metadata", "status", "kind", "apiVersion", "x"]),
        odd_values | st.fixed_dictionaries({"replicas": odd_values, "template": odd_values}),
        max_size=3,
    )
    | odd_values
)


@st.composite
def patches(draw: st.DrawFn) -> tuple[str, Any]:
    """(content type, body) of a patch that may be anything."""
    content_type = draw(
        st.sampled_from(
            [
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ]
        )
    )
    body = draw(json_patches if content_type.startswith("application/json") else merge_patches)
    return content_type, body

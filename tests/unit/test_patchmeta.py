"""The generated patch metadata says what Kubernetes' Go types declare.

Expected values are the ``patchStrategy``/``patchMergeKey`` tags and
``+listType``/``+listMapKey`` markers of k8s.io/api core/v1, apps/v1 and
apimachinery meta/v1 types.go (as in K8S_NETWORK_AND_HTTP_API.md F21);
the coverage tests check the table against the protos, since CI has no Go
sources to regenerate it from.
"""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor

from pinnace.machinery import kinds
from pinnace.machinery.patchmeta import PATCH

KNOWN = [
    ("core.v1.PodSpec", "containers", "merge", "name"),
    ("core.v1.PodSpec", "initContainers", "merge", "name"),
    ("core.v1.PodSpec", "ephemeralContainers", "merge", "name"),
    ("core.v1.PodSpec", "imagePullSecrets", "merge", "name"),
    ("core.v1.PodSpec", "schedulingGates", "merge", "name"),
    ("core.v1.PodSpec", "volumes", "merge,retainKeys", "name"),
    ("core.v1.PodSpec", "hostAliases", "merge", "ip"),
    ("core.v1.PodSpec", "topologySpreadConstraints", "merge", "topologyKey"),
    ("core.v1.PodSpec", "tolerations", "", ""),
    ("core.v1.Container", "ports", "merge", "containerPort"),
    ("core.v1.Container", "env", "merge", "name"),
    ("core.v1.Container", "volumeMounts", "merge", "mountPath"),
    ("core.v1.Container", "volumeDevices", "merge", "devicePath"),
    ("core.v1.Container", "args", "", ""),
    ("core.v1.Container", "command", "", ""),
    ("core.v1.ServiceSpec", "ports", "merge", "port"),
    ("core.v1.PodStatus", "conditions", "merge", "type"),
    ("core.v1.PodStatus", "podIPs", "merge", "ip"),
    ("core.v1.NodeStatus", "conditions", "merge", "type"),
    ("core.v1.NodeStatus", "addresses", "merge", "type"),
    ("core.v1.NodeSpec", "podCIDRs", "merge", ""),
    ("apps.v1.DeploymentStatus", "conditions", "merge", "type"),
    ("apps.v1.DeploymentSpec", "strategy", "retainKeys", ""),
    ("batch.v1.JobStatus", "conditions", "merge", "type"),
    ("meta.v1.ObjectMeta", "finalizers", "merge", ""),
    ("meta.v1.ObjectMeta", "ownerReferences", "merge", "uid"),
]


@pytest.mark.parametrize(
    ("message", "field", "strategy", "merge_key"),
    KNOWN,
    ids=[f"{m}.{f}" for m, f, _, _ in KNOWN],
)
def test_kubernetes_declared_values(
    message: str, field: str, strategy: str, merge_key: str
) -> None:
    got = PATCH[f"pinnace.api.{message}"].get(field)
    declared = (got.strategy, got.merge_key) if got else ("", "")
    assert declared == (strategy, merge_key)


@pytest.mark.parametrize(
    ("message", "field", "list_type", "keys"),
    [
        pytest.param(
            "core.v1.Container", "ports", "map", ("containerPort", "protocol"), id="ports"
        ),
        pytest.param("core.v1.PodSpec", "tolerations", "atomic", (), id="tolerations"),
        pytest.param("meta.v1.ObjectMeta", "finalizers", "set", (), id="finalizers"),
        pytest.param("core.v1.PodSpec", "containers", "map", ("name",), id="containers"),
    ],
)
def test_list_types(message: str, field: str, list_type: str, keys: tuple[str, ...]) -> None:
    got = PATCH[f"pinnace.api.{message}"][field]
    assert (got.list_type, got.list_map_keys) == (list_type, keys)


def _reachable() -> dict[str, Descriptor]:
    seen: dict[str, Descriptor] = {}
    todo = [k.message_class.DESCRIPTOR for k in kinds.KINDS]
    while todo:
        message = todo.pop()
        if message.full_name in seen or not message.full_name.startswith("pinnace."):
            continue
        if not message.GetOptions().map_entry:
            seen[message.full_name] = message
        todo += [fd.message_type for fd in message.fields if fd.message_type]
    seen.pop("pinnace.api.meta.v1.IntOrString")
    seen.pop("pinnace.api.meta.v1.FieldsV1")
    return seen


def test_every_message_of_every_served_kind_has_an_entry() -> None:
    assert sorted(set(_reachable()) - set(PATCH)) == []


def test_entries_name_real_fields_and_merge_keys() -> None:
    """Each listed field exists in the proto, a merged list of objects has a
    merge key that is a field of its items, a merge key only on a list."""
    problems = []
    for name, message in _reachable().items():
        fields = {fd.json_name: fd for fd in message.fields}
        for field, meta in PATCH[name].items():
            fd = fields.get(field)
            if fd is None:
                problems.append(f"{name}.{field}: no such field")
                continue
            if meta.merge_key and not fd.is_repeated:
                problems.append(f"{name}.{field}: merge key on a non-list")
            if meta.merge_key and fd.message_type:
                item_fields = {f.json_name for f in fd.message_type.fields}
                if meta.merge_key not in item_fields:
                    problems.append(f"{name}.{field}: items have no {meta.merge_key}")
            if "merge" in meta.strategy.split(",") and fd.message_type and not meta.merge_key:
                problems.append(f"{name}.{field}: merged list of objects without a merge key")
    assert problems == []

"""The generated API types: every kind imports, and JSON names and presence
match Kubernetes' (so json_format.ParseDict reads real manifests)."""

from __future__ import annotations

import importlib
import re

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

# (module, message, group/version) of every kind Pinnace serves.
KINDS = [
    ("pinnace.api.core.v1.pod_pb2", "Pod", "v1"),
    ("pinnace.api.core.v1.node_pb2", "Node", "v1"),
    ("pinnace.api.core.v1.namespace_pb2", "Namespace", "v1"),
    ("pinnace.api.core.v1.event_pb2", "Event", "v1"),
    ("pinnace.api.core.v1.replicationcontroller_pb2", "ReplicationController", "v1"),
    ("pinnace.api.core.v1.volume_pb2", "PersistentVolumeClaim", "v1"),
    ("pinnace.api.core.v1.volume_pb2", "PersistentVolume", "v1"),
    ("pinnace.api.core.v1.binding_pb2", "Binding", "v1"),
    ("pinnace.api.apps.v1.deployment_pb2", "Deployment", "apps/v1"),
    ("pinnace.api.apps.v1.replicaset_pb2", "ReplicaSet", "apps/v1"),
    ("pinnace.api.apps.v1.statefulset_pb2", "StatefulSet", "apps/v1"),
    ("pinnace.api.apps.v1.daemonset_pb2", "DaemonSet", "apps/v1"),
    ("pinnace.api.apps.v1.controllerrevision_pb2", "ControllerRevision", "apps/v1"),
    ("pinnace.api.batch.v1.job_pb2", "Job", "batch/v1"),
    ("pinnace.api.batch.v1.cronjob_pb2", "CronJob", "batch/v1"),
    ("pinnace.api.coordination.v1.lease_pb2", "Lease", "coordination.k8s.io/v1"),
    ("pinnace.api.core.v1.service_pb2", "Service", "v1"),
    ("pinnace.api.discovery.v1.endpointslice_pb2", "EndpointSlice", "discovery.k8s.io/v1"),
    ("pinnace.api.autoscaling.v1.scale_pb2", "Scale", "autoscaling/v1"),
    ("pinnace.api.rbac.v1.rbac_pb2", "Role", "rbac.authorization.k8s.io/v1"),
    ("pinnace.api.rbac.v1.rbac_pb2", "RoleBinding", "rbac.authorization.k8s.io/v1"),
    ("pinnace.api.rbac.v1.rbac_pb2", "ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("pinnace.api.rbac.v1.rbac_pb2", "ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
]


def kind(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def by_name(name: str):
    for module, message, _ in KINDS:
        if message == name:
            return kind(module, message)
    raise KeyError(name)


def walk(desc: Descriptor, seen: set[str] | None = None):
    """Every message type reachable from `desc` (itself included), once each."""
    seen = set() if seen is None else seen
    if desc.full_name in seen:
        return
    seen.add(desc.full_name)
    yield desc
    for f in desc.fields:
        if f.message_type is not None:
            yield from walk(f.message_type, seen)


def find_field(desc: Descriptor, json_name: str) -> FieldDescriptor | None:
    """The first field named `json_name` in JSON anywhere under `desc`."""
    for d in walk(desc):
        for f in d.fields:
            if f.json_name == json_name:
                return f
    return None


def field_at(desc: Descriptor, path: str) -> FieldDescriptor:
    """The field at a dotted JSON path, e.g. "spec.template.spec.hostPID"."""
    field = None
    for part in path.split("."):
        if field is not None:
            desc = field.message_type
        matches = [f for f in desc.fields if f.json_name == part]
        assert matches, f"{desc.full_name} has no JSON field {part!r} (path {path})"
        field = matches[0]
    assert field is not None
    return field


def all_messages():
    """Every message type of the five API groups (and meta/v1), from every
    kind and every message declared in a kind's file."""
    out = {}
    seen: set[str] = set()
    roots = [kind(module, message).DESCRIPTOR for module, message, _ in KINDS]
    for module, _, _ in KINDS:
        roots += importlib.import_module(module).DESCRIPTOR.message_types_by_name.values()
    for root in roots:
        for d in walk(root, seen):
            if d.full_name.startswith("pinnace.api.") and not d.GetOptions().map_entry:
                out[d.full_name] = d
    return sorted(out.values(), key=lambda d: d.full_name)


def default_json_name(name: str) -> str:
    """protoc's lowerCamelCase JSON name for a snake_case field name."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@pytest.mark.parametrize(("module", "name", "api_version"), KINDS)
def test_every_kind_imports_with_type_meta_first(module, name, api_version):
    cls = kind(module, name)
    assert cls.DESCRIPTOR.full_name.startswith("pinnace.api.")
    fields = {f.number: f for f in cls.DESCRIPTOR.fields}
    assert (fields[1].name, fields[1].json_name) == ("api_version", "apiVersion")
    assert (fields[2].name, fields[2].json_name) == ("kind", "kind")
    assert fields[3].name == "metadata"
    assert fields[3].message_type.full_name == "pinnace.api.meta.v1.ObjectMeta"
    obj = cls(api_version=api_version, kind=name)
    obj.metadata.name = "x"
    assert cls.FromString(obj.SerializeToString()) == obj


# Kubernetes JSON names that default proto naming gets wrong (or that are easy
# to misspell), looked up anywhere under the given kind.
TRICKY_JSON_NAMES = [
    ("Pod", "podIP"),
    ("Pod", "hostIP"),
    ("Pod", "podIPs"),
    ("Pod", "hostIPs"),
    ("Pod", "containerID"),
    ("Pod", "imageID"),
    ("Pod", "hostPID"),
    ("Pod", "hostIPC"),
    ("Pod", "hostNetwork"),
    ("Pod", "setHostnameAsFQDN"),
    ("Pod", "matchExpressions"),
    ("Pod", "matchFields"),
    ("Pod", "terminationGracePeriodSeconds"),
    ("Pod", "activeDeadlineSeconds"),
    ("Pod", "downwardAPI"),
    ("Pod", "readOnlyRootFilesystem"),
    ("Pod", "terminationMessagePath"),
    ("Pod", "imagePullPolicy"),
    ("Pod", "httpGet"),
    ("Pod", "tcpSocket"),
    ("Pod", "grpc"),
    ("Pod", "qosClass"),
    ("Node", "podCIDR"),
    ("Node", "podCIDRs"),
    ("Node", "providerID"),
    ("Node", "machineID"),
    ("Node", "systemUUID"),
    ("Node", "bootID"),
    ("Node", "Port"),
    ("Deployment", "matchLabels"),
    ("Deployment", "matchExpressions"),
    ("Deployment", "maxSurge"),
    ("Deployment", "maxUnavailable"),
    ("Deployment", "revisionHistoryLimit"),
    ("Deployment", "progressDeadlineSeconds"),
    ("DaemonSet", "maxSurge"),
    ("StatefulSet", "persistentVolumeClaimRetentionPolicy"),
    ("StatefulSet", "volumeClaimTemplates"),
    ("Job", "ttlSecondsAfterFinished"),
    ("Job", "backoffLimitPerIndex"),
    ("Job", "uncountedTerminatedPods"),
    ("CronJob", "lastScheduleTime"),
    ("CronJob", "jobTemplate"),
    ("Lease", "holderIdentity"),
    ("Lease", "renewTime"),
    ("Event", "reportingComponent"),
    ("Event", "involvedObject"),
]


@pytest.mark.parametrize(("kind_name", "json_name"), TRICKY_JSON_NAMES)
def test_kubernetes_json_names(kind_name, json_name):
    field = find_field(by_name(kind_name).DESCRIPTOR, json_name)
    assert field is not None, f"no field with JSON name {json_name!r} under {kind_name}"
    assert field.json_name == json_name


def test_list_meta_continue():
    from pinnace.api.meta.v1 import meta_pb2

    field = meta_pb2.ListMeta.DESCRIPTOR.fields_by_name["continue_token"]
    assert field.json_name == "continue"


@pytest.mark.parametrize(
    ("kind_name", "path", "json_name"),
    [
        ("Pod", "status.podIP", "podIP"),
        ("Pod", "status.podIPs", "podIPs"),
        ("Pod", "status.hostIPs", "hostIPs"),
        ("Pod", "status.containerStatuses.containerID", "containerID"),
        ("Pod", "status.containerStatuses.state.terminated.containerID", "containerID"),
        ("Pod", "spec.containers.ports.hostIP", "hostIP"),
        ("Deployment", "spec.template.spec.hostPID", "hostPID"),
        ("Deployment", "spec.strategy.rollingUpdate.maxSurge", "maxSurge"),
        ("Node", "status.daemonEndpoints.kubeletEndpoint.Port", "Port"),
        ("Node", "status.nodeInfo.systemUUID", "systemUUID"),
        ("Job", "status.uncountedTerminatedPods.succeeded", "succeeded"),
        (
            "Pod",
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
            ".nodeSelectorTerms.matchFields",
            "matchFields",
        ),
    ],
)
def test_json_paths(kind_name, path, json_name):
    assert field_at(by_name(kind_name).DESCRIPTOR, path).json_name == json_name


@pytest.mark.parametrize(
    ("kind_name", "path"),
    [
        ("Deployment", "spec.replicas"),
        ("Deployment", "spec.revisionHistoryLimit"),
        ("Deployment", "spec.progressDeadlineSeconds"),
        ("ReplicaSet", "spec.replicas"),
        ("ReplicationController", "spec.replicas"),
        ("StatefulSet", "spec.replicas"),
        ("StatefulSet", "spec.updateStrategy.rollingUpdate.partition"),
        ("Job", "spec.parallelism"),
        ("Job", "spec.completions"),
        ("Job", "spec.backoffLimit"),
        ("Job", "spec.suspend"),
        ("Job", "spec.activeDeadlineSeconds"),
        ("Job", "spec.ttlSecondsAfterFinished"),
        ("CronJob", "spec.suspend"),
        ("CronJob", "spec.startingDeadlineSeconds"),
        ("CronJob", "spec.timeZone"),
        ("Pod", "spec.terminationGracePeriodSeconds"),
        ("Pod", "spec.activeDeadlineSeconds"),
        ("Pod", "spec.tolerations.tolerationSeconds"),
        ("Lease", "spec.holderIdentity"),
        ("Lease", "spec.leaseDurationSeconds"),
    ],
)
def test_presence(kind_name, path):
    field = field_at(by_name(kind_name).DESCRIPTOR, path)
    assert field.has_presence, f"{kind_name} {path} must be proto3 optional"


def test_not_pointers_have_no_presence():
    # Plain (non-pointer) Kubernetes fields: zero and unset are the same.
    assert not field_at(by_name("Deployment").DESCRIPTOR, "spec.minReadySeconds").has_presence
    assert not field_at(by_name("Deployment").DESCRIPTOR, "spec.paused").has_presence
    assert not field_at(by_name("Scale").DESCRIPTOR, "spec.replicas").has_presence


def test_int_or_string_fields():
    for kind_name, path in [
        ("Deployment", "spec.strategy.rollingUpdate.maxSurge"),
        ("Deployment", "spec.strategy.rollingUpdate.maxUnavailable"),
        ("DaemonSet", "spec.updateStrategy.rollingUpdate.maxSurge"),
        ("StatefulSet", "spec.updateStrategy.rollingUpdate.maxUnavailable"),
        ("Pod", "spec.containers.livenessProbe.httpGet.port"),
        ("Pod", "spec.containers.livenessProbe.tcpSocket.port"),
    ]:
        field = field_at(by_name(kind_name).DESCRIPTOR, path)
        assert field.message_type.full_name == "pinnace.api.meta.v1.IntOrString", path


def test_pod_template_is_shared():
    template = "pinnace.api.core.v1.PodTemplateSpec"
    for kind_name in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"]:
        assert field_at(by_name(kind_name).DESCRIPTOR, "spec.template").message_type.full_name == (
            template
        )
    rc = field_at(by_name("ReplicationController").DESCRIPTOR, "spec.template")
    assert rc.message_type.full_name == template
    cj = field_at(by_name("CronJob").DESCRIPTOR, "spec.jobTemplate.spec.template")
    assert cj.message_type.full_name == template


# Acronyms Kubernetes spells in capitals inside a JSON name (podIP, imageID,
# hostPID, hostIPC, podCIDR, systemUUID, setHostnameAsFQDN, downwardAPI).
MISCASED = re.compile(
    r"(?<=[a-z0-9])(Ip|Ips|Id|Ids|Pid|Ipc|Url|Uri|Cidr|Cidrs|Uuid|Uid|Api|Fqdn|Qos|Dns|"
    r"Http|Https|Tcp|Udp|Tls|Ttl|Cpu|Grpc|Pvc|Json)(?=[A-Z]|$)"
)

# Every json_name that is not protoc's default for the field name.
EXPLICIT_JSON_NAMES = {
    "continue",
    "hostIP",
    "hostIPs",
    "podIP",
    "podIPs",
    "hostPID",
    "hostIPC",
    "containerID",
    "imageID",
    "resourceID",
    "setHostnameAsFQDN",
    "downwardAPI",
    "podCIDR",
    "podCIDRs",
    "providerID",
    "externalID",
    "machineID",
    "systemUUID",
    "bootID",
    "Port",
    "clusterIP",
    "clusterIPs",
    "externalIPs",
    "loadBalancerIP",
    "clientIP",
    "nonResourceURLs",
}


def test_every_field_json_name_is_kubernetes_cased():
    messages = all_messages()
    assert len(messages) > 100
    bad = []
    for d in messages:
        for f in d.fields:
            if MISCASED.search(f.json_name):
                bad.append(f"{f.full_name} -> {f.json_name}")
            if f.json_name != default_json_name(f.name) and f.json_name not in EXPLICIT_JSON_NAMES:
                bad.append(f"{f.full_name}: unexpected json_name {f.json_name}")
    assert not bad, "\n".join(bad)


def test_no_python_keyword_field_names():
    import keyword

    bad = [f.full_name for d in all_messages() for f in d.fields if keyword.iskeyword(f.name)]
    assert not bad


def test_parse_kubernetes_manifest():
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "hostPID": False,
                    "terminationGracePeriodSeconds": 5,
                    "tolerations": [
                        {"key": "k", "operator": "Exists", "effect": "NoExecute"},
                    ],
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchFields": [
                                            {
                                                "key": "metadata.name",
                                                "operator": "In",
                                                "values": ["n1"],
                                            }
                                        ]
                                    }
                                ]
                            }
                        }
                    },
                    "containers": [
                        {
                            "name": "app",
                            "image": "python:3.11",
                            "command": ["python", "-m", "http.server"],
                            "ports": [{"containerPort": 8000, "hostIP": "127.0.0.1"}],
                            "env": [
                                {
                                    "name": "POD_IP",
                                    "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                                }
                            ],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                            "readinessProbe": {"exec": {"command": ["true"]}},
                            "lifecycle": {"preStop": {"sleep": {"seconds": 3}}},
                        }
                    ],
                    "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
                },
            },
        },
    }
    obj = json_format.ParseDict(deployment, by_name("Deployment")())
    assert obj.spec.HasField("replicas") and obj.spec.replicas == 0
    pod_spec = obj.spec.template.spec
    assert pod_spec.termination_grace_period_seconds == 5
    assert not pod_spec.tolerations[0].HasField("toleration_seconds")
    assert pod_spec.containers[0].ports[0].host_ip == "127.0.0.1"
    assert pod_spec.containers[0].resources.requests["cpu"] == "100m"
    assert pod_spec.volumes[0].empty_dir.size_limit == "1Gi"
    again = json_format.ParseDict(json_format.MessageToDict(obj), by_name("Deployment")())
    assert again == obj


def test_parse_status_and_node():
    pod = json_format.ParseDict(
        {
            "status": {
                "phase": "Running",
                "podIP": "10.0.0.5",
                "podIPs": [{"ip": "10.0.0.5"}],
                "hostIP": "192.168.1.2",
                "hostIPs": [{"ip": "192.168.1.2"}],
                "qosClass": "Burstable",
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": True,
                        "restartCount": 2,
                        "image": "python:3.11",
                        "imageID": "local://python",
                        "containerID": "pinnace://abc",
                        "lastState": {"terminated": {"exitCode": 1, "containerID": "pinnace://a"}},
                    }
                ],
            }
        },
        by_name("Pod")(),
    )
    assert pod.status.pod_ip == "10.0.0.5"
    assert pod.status.container_statuses[0].last_state.terminated.exit_code == 1
    node = json_format.ParseDict(
        {
            "spec": {"podCIDR": "10.1.0.0/24", "providerID": "pinnace://n1"},
            "status": {
                "capacity": {"cpu": "2", "pods": "110"},
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"machineID": "m", "systemUUID": "u", "bootID": "b"},
            },
        },
        by_name("Node")(),
    )
    assert node.status.daemon_endpoints.kubelet_endpoint.port == 10250
    assert node.status.node_info.system_uuid == "u"


def test_controller_revision_data_is_struct():
    cr = json_format.ParseDict(
        {"data": {"spec": {"template": {"$patch": "replace"}}}, "revision": 3},
        by_name("ControllerRevision")(),
    )
    assert cr.revision == 3
    assert cr.data["spec"]["template"]["$patch"] == "replace"

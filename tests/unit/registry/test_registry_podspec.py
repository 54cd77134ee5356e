"""PodSpec validation (shared by Pod and every template): one bad manifest per
rule, each rejected at exactly Kubernetes' field path with its wording."""

from __future__ import annotations

import pytest

from tests.unit.registry.helpers import assert_only, create_errors, ctr


def pod(**spec):
    return {"spec": spec}


def c(**more):
    return pod(containers=[ctr(**more)])


def probe(kind: str = "livenessProbe", **p):
    return c(**{kind: p})


CASES = [
    # containers
    ("no-containers", pod(containers=[]), "spec.containers", "Required value"),
    (
        "container-name-required",
        pod(containers=[{"image": "x"}]),
        "spec.containers[0].name",
        "Required value",
    ),
    ("container-name-dns-label", c(name="Web_1"), "spec.containers[0].name", "RFC 1123 label"),
    (
        "container-name-duplicate",
        pod(containers=[ctr("a"), ctr("a")]),
        "spec.containers[1].name",
        'Duplicate value: "a"',
    ),
    (
        "init-container-name-clashes",
        pod(containers=[ctr("a")], initContainers=[ctr("a")]),
        "spec.initContainers[0].name",
        'Duplicate value: "a"',
    ),
    (
        "image-required",
        pod(containers=[{"name": "a"}]),
        "spec.containers[0].image",
        "Required value",
    ),
    (
        "image-whitespace",
        c(image=" busybox"),
        "spec.containers[0].image",
        "leading or trailing whitespace",
    ),
    (
        "pull-policy",
        c(imagePullPolicy="Sometimes"),
        "spec.containers[0].imagePullPolicy",
        'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    ),
    (
        "termination-message-policy",
        c(terminationMessagePolicy="Tail"),
        "spec.containers[0].terminationMessagePolicy",
        "must be 'File' or 'FallbackToLogsOnError'",
    ),
    (
        "container-restart-policy",
        c(restartPolicy="Always"),
        "spec.containers[0].restartPolicy",
        "may not be set for non-init containers",
    ),
    (
        "init-restart-policy",
        pod(containers=[ctr()], initContainers=[ctr("init", restartPolicy="OnFailure")]),
        "spec.initContainers[0].restartPolicy",
        'Unsupported value: "OnFailure": supported values: "Always"',
    ),
    (
        "init-probe-forbidden",
        pod(
            containers=[ctr()],
            initContainers=[ctr("i", readinessProbe={"exec": {"command": ["x"]}})],
        ),
        "spec.initContainers[0].readinessProbe",
        "may not be set for init containers without restartPolicy=Always",
    ),
    (
        "init-lifecycle-forbidden",
        pod(
            containers=[ctr()],
            initContainers=[ctr("i", lifecycle={"preStop": {"exec": {"command": ["x"]}}})],
        ),
        "spec.initContainers[0].lifecycle",
        "may not be set for init containers without restartPolicy=Always",
    ),
    # ports
    (
        "port-required",
        c(ports=[{"name": "http"}]),
        "spec.containers[0].ports[0].containerPort",
        "Required value",
    ),
    (
        "port-range",
        c(ports=[{"containerPort": 70000}]),
        "spec.containers[0].ports[0].containerPort",
        "must be between 1 and 65535, inclusive",
    ),
    (
        "host-port-range",
        c(ports=[{"containerPort": 80, "hostPort": -1}]),
        "spec.containers[0].ports[0].hostPort",
        "must be between 1 and 65535, inclusive",
    ),
    (
        "port-protocol",
        c(ports=[{"containerPort": 80, "protocol": "HTTP"}]),
        "spec.containers[0].ports[0].protocol",
        'supported values: "SCTP", "TCP", "UDP"',
    ),
    (
        "port-name-iana",
        c(ports=[{"containerPort": 80, "name": "Web"}]),
        "spec.containers[0].ports[0].name",
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
    ),
    (
        "port-name-letter",
        c(ports=[{"containerPort": 80, "name": "80"}]),
        "spec.containers[0].ports[0].name",
        "must contain at least one letter (a-z)",
    ),
    (
        "port-name-long",
        c(ports=[{"containerPort": 80, "name": "a" * 16}]),
        "spec.containers[0].ports[0].name",
        "must be no more than 15 characters",
    ),
    (
        "port-name-duplicate",
        c(ports=[{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}]),
        "spec.containers[0].ports[1].name",
        'Duplicate value: "web"',
    ),
    (
        "host-network-ports",
        pod(hostNetwork=True, containers=[ctr(ports=[{"containerPort": 80, "hostPort": 81}])]),
        "spec.containers[0].ports[0].hostPort",
        "must match `containerPort` when `hostNetwork` is true",
    ),
    # env
    (
        "env-name-required",
        c(env=[{"value": "x"}]),
        "spec.containers[0].env[0].name",
        "Required value",
    ),
    (
        "env-name-invalid",
        c(env=[{"name": "1A=B"}]),
        "spec.containers[0].env[0].name",
        "a valid environment variable name",
    ),
    (
        "env-value-from-empty",
        c(env=[{"name": "A", "valueFrom": {}}]),
        "spec.containers[0].env[0].valueFrom",
        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
    ),
    (
        "env-value-and-value-from",
        c(
            env=[
                {
                    "name": "A",
                    "value": "x",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                }
            ]
        ),
        "spec.containers[0].env[0].valueFrom",
        "may not be specified when `value` is not empty",
    ),
    (
        "env-two-sources",
        c(
            env=[
                {
                    "name": "A",
                    "valueFrom": {
                        "fieldRef": {"fieldPath": "metadata.name"},
                        "secretKeyRef": {"name": "s", "key": "k"},
                    },
                }
            ]
        ),
        "spec.containers[0].env[0].valueFrom",
        "may not have more than one field specified at a time",
    ),
    (
        "env-field-path",
        c(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.hostname"}}}]),
        "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
        'Unsupported value: "spec.hostname"',
    ),
    (
        "env-field-path-api-version",
        c(
            env=[
                {
                    "name": "A",
                    "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}},
                }
            ]
        ),
        "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
        "unsupported pod version: v2",
    ),
    (
        "env-field-subscript",
        c(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name['x']"}}}]),
        "spec.containers[0].env[0].valueFrom.fieldRef",
        "does not support subscript",
    ),
    (
        "env-resource-field",
        c(env=[{"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}]),
        "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource",
        'Unsupported value: "limits.gpu"',
    ),
    (
        "env-secret-key-required",
        c(env=[{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}}]),
        "spec.containers[0].env[0].valueFrom.secretKeyRef.key",
        "Required value",
    ),
    (
        "env-config-key-invalid",
        c(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "a b"}}}]),
        "spec.containers[0].env[0].valueFrom.configMapKeyRef.key",
        "a valid config key",
    ),
    (
        "env-from-no-source",
        c(envFrom=[{"prefix": "P_"}]),
        "spec.containers[0].envFrom",
        "must specify one of: `configMapRef` or `secretRef`",
    ),
    (
        "env-from-prefix",
        c(envFrom=[{"prefix": "1=", "configMapRef": {"name": "c"}}]),
        "spec.containers[0].envFrom[0].prefix",
        "a valid environment variable name",
    ),
    # resources
    (
        "resource-quantity",
        c(resources={"requests": {"cpu": "lots"}}),
        "spec.containers[0].resources.requests[cpu]",
        "quantities must match the regular expression",
    ),
    (
        "resource-negative",
        c(resources={"requests": {"memory": "-1Mi"}}),
        "spec.containers[0].resources.requests[memory]",
        "must be greater than or equal to 0",
    ),
    (
        "resource-name",
        c(resources={"requests": {"gpu": "1"}}),
        "spec.containers[0].resources.requests[gpu]",
        "must be a standard resource for containers",
    ),
    (
        "requests-above-limits",
        c(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}),
        "spec.containers[0].resources.requests",
        "must be less than or equal to cpu limit of 1",
    ),
    (
        "hugepages-equal",
        c(resources={"requests": {"hugepages-2Mi": "2Mi"}, "limits": {"hugepages-2Mi": "4Mi"}}),
        "spec.containers[0].resources.requests",
        "must be equal to hugepages-2Mi limit of 4Mi",
    ),
    (
        "extended-integer",
        c(resources={"limits": {"example.com/gpu": "500m"}}),
        (
            "spec.containers[0].resources.limits[example.com/gpu]",
            "spec.containers[0].resources.requests[example.com/gpu]",
        ),
        "must be an integer",
    ),
    # volumes and mounts
    (
        "volume-name-required",
        pod(containers=[ctr()], volumes=[{"emptyDir": {}}]),
        "spec.volumes[0].name",
        "Required value",
    ),
    (
        "volume-name-dns-label",
        pod(containers=[ctr()], volumes=[{"name": "Data", "emptyDir": {}}]),
        "spec.volumes[0].name",
        "RFC 1123 label",
    ),
    (
        "volume-duplicate",
        pod(
            containers=[ctr()],
            volumes=[{"name": "d", "emptyDir": {}}, {"name": "d", "emptyDir": {}}],
        ),
        "spec.volumes[1].name",
        'Duplicate value: "d"',
    ),
    (
        "volume-two-sources",
        pod(
            containers=[ctr()], volumes=[{"name": "d", "emptyDir": {}, "hostPath": {"path": "/x"}}]
        ),
        "spec.volumes[0].emptyDir",
        "may not specify more than 1 volume type",
    ),
    (
        "host-path-required",
        pod(containers=[ctr()], volumes=[{"name": "d", "hostPath": {"path": ""}}]),
        "spec.volumes[0].hostPath.path",
        "Required value",
    ),
    (
        "host-path-type",
        pod(containers=[ctr()], volumes=[{"name": "d", "hostPath": {"path": "/x", "type": "Dir"}}]),
        "spec.volumes[0].hostPath.type",
        'Unsupported value: "Dir"',
    ),
    (
        "host-path-backsteps",
        pod(containers=[ctr()], volumes=[{"name": "d", "hostPath": {"path": "/x/../etc"}}]),
        "spec.volumes[0].hostPath.path",
        "must not contain '..'",
    ),
    (
        "pvc-claim-name",
        pod(containers=[ctr()], volumes=[{"name": "d", "persistentVolumeClaim": {}}]),
        "spec.volumes[0].persistentVolumeClaim.claimName",
        "Required value",
    ),
    (
        "empty-dir-size",
        pod(containers=[ctr()], volumes=[{"name": "d", "emptyDir": {"sizeLimit": "-1Gi"}}]),
        "spec.volumes[0].emptyDir.sizeLimit",
        "SizeLimit field must be a valid resource quantity",
    ),
    (
        "secret-name",
        pod(containers=[ctr()], volumes=[{"name": "d", "secret": {}}]),
        "spec.volumes[0].secret.secretName",
        "Required value",
    ),
    (
        "config-map-mode",
        pod(
            containers=[ctr()],
            volumes=[{"name": "d", "configMap": {"name": "c", "defaultMode": 1024}}],
        ),
        "spec.volumes[0].configMap.defaultMode",
        "must be a number between 0 and 0777 (octal), both inclusive",
    ),
    (
        "mount-unknown-volume",
        c(volumeMounts=[{"name": "nope", "mountPath": "/x"}]),
        "spec.containers[0].volumeMounts[0].name",
        'Not found: "nope"',
    ),
    (
        "mount-path-required",
        pod(
            containers=[ctr(volumeMounts=[{"name": "d"}])], volumes=[{"name": "d", "emptyDir": {}}]
        ),
        "spec.containers[0].volumeMounts[0].mountPath",
        "Required value",
    ),
    (
        "mount-path-unique",
        pod(
            containers=[
                ctr(
                    volumeMounts=[
                        {"name": "d", "mountPath": "/x"},
                        {"name": "d", "mountPath": "/x"},
                    ]
                )
            ],
            volumes=[{"name": "d", "emptyDir": {}}],
        ),
        "spec.containers[0].volumeMounts[1].mountPath",
        "must be unique",
    ),
    (
        "mount-sub-path-absolute",
        pod(
            containers=[ctr(volumeMounts=[{"name": "d", "mountPath": "/x", "subPath": "/abs"}])],
            volumes=[{"name": "d", "emptyDir": {}}],
        ),
        "spec.containers[0].volumeMounts[0].subPath",
        "must be a relative path",
    ),
    # probes and handlers
    (
        "probe-no-handler",
        probe(periodSeconds=5),
        "spec.containers[0].livenessProbe",
        "must specify a handler type",
    ),
    (
        "probe-two-handlers",
        probe(exec={"command": ["x"]}, tcpSocket={"port": 80}),
        "spec.containers[0].livenessProbe.tcpSocket",
        "may not specify more than 1 handler type",
    ),
    (
        "probe-exec-command",
        probe(exec={}),
        "spec.containers[0].livenessProbe.exec.command",
        "Required value",
    ),
    (
        "probe-http-port",
        probe(httpGet={"port": 0}),
        "spec.containers[0].livenessProbe.httpGet.port",
        "must be between 1 and 65535, inclusive",
    ),
    (
        "probe-http-port-name",
        probe(httpGet={"port": "Web"}),
        "spec.containers[0].livenessProbe.httpGet.port",
        "alpha-numeric",
    ),
    (
        "probe-http-scheme",
        probe(httpGet={"port": 80, "scheme": "FTP"}),
        "spec.containers[0].livenessProbe.httpGet.scheme",
        'supported values: "HTTP", "HTTPS"',
    ),
    (
        "probe-grpc-port",
        probe(grpc={"port": 0}),
        "spec.containers[0].livenessProbe.grpc.port",
        "must be between 1 and 65535, inclusive",
    ),
    (
        "liveness-success-threshold",
        probe(exec={"command": ["x"]}, successThreshold=2),
        "spec.containers[0].livenessProbe.successThreshold",
        "Invalid value: 2: must be 1",
    ),
    (
        "startup-success-threshold",
        probe("startupProbe", exec={"command": ["x"]}, successThreshold=3),
        "spec.containers[0].startupProbe.successThreshold",
        "must be 1",
    ),
    (
        "probe-negative-period",
        probe("readinessProbe", exec={"command": ["x"]}, periodSeconds=-1),
        "spec.containers[0].readinessProbe.periodSeconds",
        "must be greater than or equal to 0",
    ),
    (
        "probe-negative-failure-threshold",
        probe("readinessProbe", exec={"command": ["x"]}, failureThreshold=-2),
        "spec.containers[0].readinessProbe.failureThreshold",
        "must be greater than or equal to 0",
    ),
    (
        "probe-grace-period",
        probe(exec={"command": ["x"]}, terminationGracePeriodSeconds=0),
        "spec.containers[0].livenessProbe.terminationGracePeriodSeconds",
        "must be greater than 0",
    ),
    (
        "pre-stop-no-handler",
        c(lifecycle={"preStop": {}}),
        "spec.containers[0].lifecycle.preStop",
        "must specify a handler type",
    ),
    (
        "pre-stop-sleep-beyond-grace",
        c(lifecycle={"preStop": {"sleep": {"seconds": 60}}}),
        "spec.containers[0].lifecycle.preStop.sleep",
        "must be non-negative and less than terminationGracePeriodSeconds (30)",
    ),
    # pod-level fields
    (
        "restart-policy",
        pod(containers=[ctr()], restartPolicy="Sometimes"),
        "spec.restartPolicy",
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ),
    (
        "dns-policy",
        pod(containers=[ctr()], dnsPolicy="Google"),
        "spec.dnsPolicy",
        'Unsupported value: "Google"',
    ),
    (
        "dns-none-needs-config",
        pod(containers=[ctr()], dnsPolicy="None"),
        "spec.dnsConfig",
        "must provide `dnsConfig` when `dnsPolicy` is None",
    ),
    (
        "active-deadline",
        pod(containers=[ctr()], activeDeadlineSeconds=0),
        "spec.activeDeadlineSeconds",
        "must be between 1 and 2147483647, inclusive",
    ),
    (
        "grace-period-negative",
        pod(containers=[ctr()], terminationGracePeriodSeconds=-5),
        "spec.terminationGracePeriodSeconds",
        "must be greater than or equal to 0",
    ),
    (
        "node-selector",
        pod(containers=[ctr()], nodeSelector={"disk": "ssd!"}),
        "spec.nodeSelector[disk]",
        "a valid label",
    ),
    ("hostname", pod(containers=[ctr()], hostname="Web.1"), "spec.hostname", "RFC 1123 label"),
    ("subdomain", pod(containers=[ctr()], subdomain="a_b"), "spec.subdomain", "RFC 1123 label"),
    (
        "node-name",
        pod(containers=[ctr()], nodeName="Node_A"),
        "spec.nodeName",
        "RFC 1123 subdomain",
    ),
    (
        "service-account-name",
        pod(containers=[ctr()], serviceAccountName="A B"),
        "spec.serviceAccountName",
        "RFC 1123 subdomain",
    ),
    # affinity
    (
        "affinity-no-terms",
        pod(
            containers=[ctr()],
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                }
            },
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
        "must have at least one node selector term",
    ),
    (
        "affinity-operator",
        pod(
            containers=[ctr()],
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "k", "operator": "Is", "values": ["v"]}]}
                        ]
                    }
                }
            },
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
        "not a valid selector operator",
    ),
    (
        "affinity-in-needs-values",
        pod(
            containers=[ctr()],
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "k", "operator": "In"}]}
                        ]
                    }
                }
            },
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
        "must be specified when `operator` is 'In' or 'NotIn'",
    ),
    (
        "affinity-gt-single-value",
        pod(
            containers=[ctr()],
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "k", "operator": "Gt", "values": ["1", "2"]}
                                ]
                            }
                        ]
                    }
                }
            },
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
        "must be specified single value when `operator` is 'Lt' or 'Gt'",
    ),
    (
        "affinity-match-fields-key",
        pod(
            containers=[ctr()],
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchFields": [
                                    {"key": "metadata.uid", "operator": "In", "values": ["x"]}
                                ]
                            }
                        ]
                    }
                }
            },
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key",
        "not a valid field selector key",
    ),
    (
        "affinity-weight",
        pod(
            containers=[ctr()],
            affinity={
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 0,
                            "preference": {
                                "matchExpressions": [{"key": "k", "operator": "Exists"}]
                            },
                        }
                    ]
                }
            },
        ),
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
        "must be in the range 1-100",
    ),
    (
        "pod-affinity-topology-key",
        pod(
            containers=[ctr()],
            affinity={
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]
                }
            },
        ),
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
        "can not be empty",
    ),
    # tolerations
    (
        "toleration-operator",
        pod(containers=[ctr()], tolerations=[{"key": "k", "operator": "Like"}]),
        "spec.tolerations[0].operator",
        'Unsupported value: "Like": supported values: "Equal", "Exists"',
    ),
    (
        "toleration-exists-value",
        pod(containers=[ctr()], tolerations=[{"key": "k", "operator": "Exists", "value": "v"}]),
        "spec.tolerations[0].operator",
        "value must be empty when `operator` is 'Exists'",
    ),
    (
        "toleration-empty-key",
        pod(containers=[ctr()], tolerations=[{"operator": "Equal", "value": "v"}]),
        "spec.tolerations[0].operator",
        "operator must be Exists when `key` is empty",
    ),
    (
        "toleration-effect",
        pod(
            containers=[ctr()], tolerations=[{"key": "k", "operator": "Exists", "effect": "NoRun"}]
        ),
        "spec.tolerations[0].effect",
        'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ),
    (
        "toleration-seconds-needs-no-execute",
        pod(
            containers=[ctr()],
            tolerations=[
                {"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}
            ],
        ),
        "spec.tolerations[0].effect",
        "effect must be 'NoExecute' when `tolerationSeconds` is set",
    ),
    (
        "toleration-key",
        pod(containers=[ctr()], tolerations=[{"key": "a/b/c", "operator": "Exists"}]),
        "spec.tolerations[0].key",
        "qualified name",
    ),
    (
        "topology-spread-skew",
        pod(
            containers=[ctr()],
            topologySpreadConstraints=[
                {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
            ],
        ),
        "spec.topologySpreadConstraints[0].maxSkew",
        "must be greater than zero",
    ),
    (
        "ephemeral-on-create",
        pod(containers=[ctr()], ephemeralContainers=[{"name": "dbg", "image": "x"}]),
        "spec.ephemeralContainers",
        "cannot be set on create",
    ),
]


@pytest.mark.parametrize(
    ("patch", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_pod_spec_rule(patch: dict, path: str, fragment: str) -> None:
    assert_only(create_errors("Pod", patch), path, fragment)


TEMPLATE_CASES = [
    ("Deployment", "spec.template.spec.containers[0].image"),
    ("ReplicaSet", "spec.template.spec.containers[0].image"),
    ("DaemonSet", "spec.template.spec.containers[0].image"),
    ("StatefulSet", "spec.template.spec.containers[0].image"),
    ("ReplicationController", "spec.template.spec.containers[0].image"),
    ("Job", "spec.template.spec.containers[0].image"),
    ("CronJob", "spec.jobTemplate.spec.template.spec.containers[0].image"),
]


@pytest.mark.parametrize(("kind", "path"), TEMPLATE_CASES, ids=[k for k, _ in TEMPLATE_CASES])
def test_templates_are_validated_as_pod_specs(kind: str, path: str) -> None:
    """Every template is a PodSpec: the same rule, under the template's path."""
    from tests.unit.registry.helpers import manifest

    data = manifest(kind)
    spec = data["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else data["spec"]
    containers = spec["template"]["spec"]["containers"]
    containers[0] = {k: v for k, v in containers[0].items() if k != "image"}
    from tests.unit.registry.helpers import strategy

    s = strategy(kind)
    obj = s.info.message_class()
    from pinnace.machinery.codec import from_dict

    obj = from_dict(type(obj), data)
    obj.metadata.uid = "u"
    s.prepare_for_create(obj)
    s.default(obj)
    assert_only(s.validate(obj), path, "Required value")


def test_template_metadata_labels_validated() -> None:
    errs = create_errors(
        "Deployment",
        {"spec": {"template": {"metadata": {"labels": {"app": "web", "bad key": "x"}}}}},
    )
    assert_only(errs, "spec.template.labels", "name part must consist of alphanumeric")


def test_ephemeral_containers_forbidden_in_templates() -> None:
    errs = create_errors(
        "ReplicaSet",
        {"spec": {"template": {"spec": {"ephemeralContainers": [{"name": "d", "image": "x"}]}}}},
    )
    assert_only(
        errs,
        "spec.template.spec.ephemeralContainers",
        "ephemeral containers not allowed in pod template",
    )


def test_sidecar_init_container_may_have_probes() -> None:
    sidecar = ctr("proxy", restartPolicy="Always", readinessProbe={"exec": {"command": ["x"]}})
    assert create_errors("Pod", pod(containers=[ctr()], initContainers=[sidecar])) == []


def test_every_error_is_returned() -> None:
    errs = create_errors("Pod", pod(containers=[{"name": "A"}], restartPolicy="x", hostname="_"))
    assert {e.field for e in errs} == {
        "spec.containers[0].name",
        "spec.containers[0].image",
        "spec.restartPolicy",
        "spec.hostname",
    }

"""load_manifests: manifests as the Kubernetes docs write them load into typed
messages and print back unchanged; errors name file, document and field."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pinnace.machinery import codec
from pinnace.machinery.manifests import ManifestError, load_manifests
from pinnace.machinery.timeutil import format_rfc3339

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  revisionHistoryLimit: 10
  progressDeadlineSeconds: 600
  selector:
    matchLabels:
      app: nginx
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 1
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
"""

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx
  serviceName: nginx
  replicas: 3
  minReadySeconds: 10
  podManagementPolicy: OrderedReady
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      partition: 0
  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.24
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      storageClassName: my-storage-class
      resources:
        requests:
          storage: 1Gi
"""

DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      - key: node-role.kubernetes.io/master
        operator: Exists
        effect: NoSchedule
      - key: node.kubernetes.io/not-ready
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 300
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: job-pod-failure-policy-example
spec:
  completions: 12
  parallelism: 3
  backoffLimit: 6
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: docker.io/library/bash:5
        command: ["bash"]
        args:
        - -c
        - echo "Hello world!" && sleep 5 && exit 42
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        containerName: main
        operator: In
        values: [42]
    - action: Ignore
      onPodConditions:
      - type: DisruptionTarget
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  startingDeadlineSeconds: 100
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: goproxy
  labels:
    app: goproxy
  annotations:
    example.com/note: "1"
spec:
  containers:
  - name: goproxy
    image: registry.k8s.io/goproxy:0.1
    ports:
    - containerPort: 8080
    env:
    - name: MY_NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
    - name: MY_POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: MY_CPU_LIMIT
      valueFrom:
        resourceFieldRef:
          containerName: goproxy
          resource: limits.cpu
    - name: GREETING
      value: hello
    resources:
      requests:
        cpu: 250m
        memory: 64Mi
      limits:
        cpu: 500m
        memory: 128Mi
    readinessProbe:
      tcpSocket:
        port: 8080
      initialDelaySeconds: 15
      periodSeconds: 10
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
        httpHeaders:
        - name: Custom-Header
          value: Awesome
      initialDelaySeconds: 3
      periodSeconds: 3
      failureThreshold: 1
    startupProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
      failureThreshold: 30
      periodSeconds: 10
"""

RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector:
    app: nginx
  template:
    metadata:
      name: nginx
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
"""

LEASE = """\
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: kube-controller-manager
  namespace: kube-system
spec:
  holderIdentity: node-1_7f4d6c2e
  leaseDurationSeconds: 15
  acquireTime: "2024-05-01T12:00:00.000000Z"
  renewTime: 2024-05-01T12:00:10.500000Z
  leaseTransitions: 3
"""

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: development
  labels:
    name: development
"""

PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: myclaim
spec:
  accessModes:
    - ReadWriteOnce
  volumeMode: Filesystem
  resources:
    requests:
      storage: 8Gi
  storageClassName: slow
  selector:
    matchLabels:
      release: "stable"
    matchExpressions:
      - {key: environment, operator: In, values: [dev]}
"""

PV = """\
apiVersion: v1
kind: PersistentVolume
metadata:
  name: example-pv
spec:
  capacity:
    storage: 100Gi
  volumeMode: Filesystem
  accessModes:
  - ReadWriteOnce
  persistentVolumeReclaimPolicy: Delete
  storageClassName: local-storage
  local:
    path: /mnt/disks/ssd1
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values:
          - example-node
"""

NODE = """\
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels:
    kubernetes.io/hostname: node-a
spec:
  unschedulable: true
  taints:
  - key: dedicated
    value: gpu
    effect: NoSchedule
  - key: node.kubernetes.io/unschedulable
    effect: NoSchedule
    timeAdded: 2024-05-01T12:00:00Z
"""

CORPUS = {
    "Deployment": DEPLOYMENT,
    "StatefulSet": STATEFULSET,
    "DaemonSet": DAEMONSET,
    "Job": JOB,
    "CronJob": CRONJOB,
    "Pod": POD,
    "ReplicationController": RC,
    "Lease": LEASE,
    "Namespace": NAMESPACE,
    "PersistentVolumeClaim": PVC,
    "PersistentVolume": PV,
    "Node": NODE,
}


def _as_printed(value: Any) -> Any:
    """The YAML-loaded input as the codec prints it: timestamps as RFC 3339 text."""
    if isinstance(value, datetime):
        return format_rfc3339(value, micro=bool(value.microsecond))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _as_printed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_printed(v) for v in value]
    return value


def _contains(printed: Any, written: Any) -> bool:
    """Whether ``printed`` holds everything ``written`` says. It may add the
    empty fields Kubernetes always prints (``status: {}``, a container's
    ``resources: {}``): the codec writes what kube-apiserver writes."""
    if isinstance(written, dict):
        return isinstance(printed, dict) and all(
            k in printed and _contains(printed[k], v) for k, v in written.items()
        )
    if isinstance(written, list):
        return (
            isinstance(printed, list)
            and len(printed) == len(written)
            and all(map(_contains, printed, written))
        )
    return printed == written


@pytest.mark.parametrize("kind", list(CORPUS), ids=list(CORPUS))
def test_corpus_loads_typed_and_round_trips(kind: str) -> None:
    """Each docs-style manifest loads as its kind, prints back everything it
    said, and the printed form reads back as the same object."""
    text = CORPUS[kind]
    [obj] = load_manifests(text)
    assert obj.DESCRIPTOR.name == kind
    printed = codec.to_dict(obj)
    assert _contains(printed, _as_printed(yaml.safe_load(text)))
    assert codec.from_dict(type(obj), printed) == obj


def test_typed_values_survive() -> None:
    """Int-or-string, quantities and map selectors land in the right fields."""
    deploy, sts, rc, lease = load_manifests("---\n".join([DEPLOYMENT, STATEFULSET, RC, LEASE]))
    ru = deploy.spec.strategy.rolling_update
    assert ru.max_surge.str_val == "25%"
    assert ru.max_unavailable.int_val == 1
    assert sts.spec.volume_claim_templates[0].spec.resources.requests["storage"] == "1Gi"
    assert dict(rc.spec.selector) == {"app": "nginx"}
    assert lease.spec.renew_time == "2024-05-01T12:00:10.500000Z"


def test_multi_document_skips_empty_documents() -> None:
    text = "---\n" + DEPLOYMENT + "---\n---\n# only a comment\n---\n" + NAMESPACE + "...\n"
    objs = load_manifests(text)
    assert [o.DESCRIPTOR.name for o in objs] == ["Deployment", "Namespace"]


def test_kind_list_items_in_order() -> None:
    items = [yaml.safe_load(NAMESPACE), yaml.safe_load(RC), yaml.safe_load(POD)]
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    objs = load_manifests(text)
    assert [o.DESCRIPTOR.name for o in objs] == ["Namespace", "ReplicationController", "Pod"]


def test_json_document_and_json_stream() -> None:
    ns = json.dumps(yaml.safe_load(NAMESPACE))
    rc = json.dumps(yaml.safe_load(RC), indent=2)
    assert [o.DESCRIPTOR.name for o in load_manifests(ns)] == ["Namespace"]
    objs = load_manifests(ns + "\n" + rc + "\n")
    assert [o.DESCRIPTOR.name for o in objs] == ["Namespace", "ReplicationController"]


def test_directory_sorted_not_recursive(tmp_path: Path) -> None:
    (tmp_path / "b-rc.yml").write_text(RC)
    (tmp_path / "a-ns.json").write_text(json.dumps(yaml.safe_load(NAMESPACE)))
    (tmp_path / "c-pods.yaml").write_text(POD + "---\n" + DEPLOYMENT)
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.yaml").write_text(NODE)
    objs = load_manifests(tmp_path)
    names = [o.DESCRIPTOR.name for o in objs]
    assert names == ["Namespace", "ReplicationController", "Pod", "Deployment"]
    assert [o.DESCRIPTOR.name for o in load_manifests(str(tmp_path / "b-rc.yml"))] == [
        "ReplicationController"
    ]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(NAMESPACE))
    assert [o.metadata.name for o in load_manifests("-")] == ["development"]


def test_unknown_field_names_file_document_and_path(tmp_path: Path) -> None:
    bad = DEPLOYMENT.replace("        image: nginx:1.14.2", "        imagee: nginx:1.14.2")
    f = tmp_path / "app.yaml"
    f.write_text(NAMESPACE + "---\n" + bad)
    with pytest.raises(ManifestError) as info:
        load_manifests(f)
    [problem] = info.value.problems
    assert problem.source == str(f)
    assert problem.document == 2
    assert problem.line == 8  # the "---" is line 7
    assert problem.path == "spec.template.spec.containers[0].imagee"
    assert "unknown field" in problem.message
    assert str(problem).startswith(f"{f}: document 2 (line 8): spec.template.spec.containers[0]")


def test_unknown_field_in_list_item_path() -> None:
    doc = yaml.safe_load(NAMESPACE)
    doc["metadata"]["Labels"] = doc["metadata"].pop("labels")
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(RC), doc]})
    with pytest.raises(ManifestError) as info:
        load_manifests(text)
    assert [p.path for p in info.value.problems] == ["items[1].metadata.Labels"]
    assert 'did you mean "labels"' in info.value.problems[0].message


def test_not_strict_drops_unknown_fields_only() -> None:
    bad = DEPLOYMENT.replace("  replicas: 3", "  replicas: 3\n  surprise: true")
    [deploy] = load_manifests(bad, strict=False)
    assert deploy.spec.replicas == 3
    with pytest.raises(ManifestError, match=r"spec\.replicas: expected an integer"):
        load_manifests(bad.replace("replicas: 3", "replicas: three"), strict=False)


def test_every_problem_is_reported() -> None:
    text = (
        NAMESPACE.replace("name: development\n  labels", "nme: x\n  labels")
        + "---\n"
        + (RC.replace("replicas: 3", "replicas: 1.5"))
    )
    with pytest.raises(ManifestError) as info:
        load_manifests(text)
    assert [(p.document, p.path) for p in info.value.problems] == [
        (1, "metadata.nme"),
        (2, "spec.replicas"),
    ]


@pytest.mark.parametrize(
    ("text", "path", "needle"),
    [
        pytest.param(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "kind",
            'no kind "Widget" is registered for version "example.com/v1"',
            id="unknown-kind",
        ),
        pytest.param(
            "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: w}\n",
            "kind",
            "known kinds: v1/Pod",
            id="unknown-version",
        ),
        pytest.param(
            "apiVersion: v1\nmetadata: {name: w}\n", "", 'missing "kind"', id="missing-kind"
        ),
        pytest.param(
            "kind: Pod\nmetadata: {name: w}\n", "", 'missing "apiVersion"', id="missing-apiversion"
        ),
        pytest.param("- a\n- b\n", "", "expected an object", id="not-an-object"),
    ],
)
def test_document_level_errors(text: str, path: str, needle: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifests(text)
    [problem] = info.value.problems
    assert problem.document == 1 and problem.path == path
    assert needle in problem.message


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="invalid YAML"):
        load_manifests("a: [1, 2\nb: c\n")
    with pytest.raises(ManifestError, match="no such file"):
        load_manifests(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a" * 300, id="name-too-long"),
        pytest.param("x\x00y", id="nul-in-the-name"),
    ],
)
def test_a_name_no_file_can_have_is_the_loaders_own_error(name: str) -> None:
    """A one-line string names a file; one the system cannot even look up is
    refused as unreadable (found by tests/unit/test_fuzz_decoding.py)."""
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifests(name)

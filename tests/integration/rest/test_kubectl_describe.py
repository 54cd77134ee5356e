"""`kubectl describe` of each kind against Pinnace (kubectl's own describers
read the objects and their events through the HTTP API)."""

from __future__ import annotations

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.integration.rest.test_kubectl_basics import DEPLOYMENT, STS_AND_DS, Kubectl

WORKLOADS = (
    STS_AND_DS
    + """
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: sts}
  ports: [{name: http, port: 80}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [echo, hi]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox, command: [echo, hi]}]
"""
)


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    k = Kubectl(cluster, cluster_namespace)
    k("apply", "-f", "-", input=DEPLOYMENT + "\n---\n" + WORKLOADS)
    k("rollout", "status", "deployment/web", "--timeout=60s")
    k("wait", "--for=condition=Complete", "job/job", "--timeout=60s")
    return k


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        (("deployment", "web"), ["Name:                   web", "Replicas:               2 desired",
                                 "NewReplicaSet:", "Events:"]),
        (("replicaset",), ["Controlled By:  Deployment/web", "Pods Status:    2 Running"]),
        (("pods",), ["Status:           Running", "Controlled By:    ReplicaSet/",
                                     "Containers:", "Events:"]),
        (("service", "web"), ["Name:                     web", "Type:                     ClusterIP"]),
        (("statefulset", "sts"), ["Name:               sts", "Replicas:           2 desired"]),
        (("daemonset", "ds"), ["Name:           ds", "Desired Number of Nodes Scheduled: 3"]),
        (("job", "job"), ["Name:             job", "Completions:      1", "Pods Statuses:"]),
        (("cronjob", "cj"), ["Name:                          cj", "Schedule:                      */5 * * * *"]),
        (("node", "node-1"), ["Name:               node-1", "Conditions:", "Non-terminated Pods:"]),
    ],
    ids=["deployment", "replicaset", "pod", "service", "statefulset", "daemonset", "job",
         "cronjob", "node"],
)  # fmt: skip
def test_describe(kubectl: Kubectl, what: tuple[str, ...], expected: list[str]) -> None:
    if what[0] == "pods":  # one pod by name: kubectl shows events for named objects
        what = ("pod", kubectl("get", "pods", "-l", "app=web", "-o", "name").stdout.split()[0][4:])
    out = kubectl("describe", *what).stdout
    words = " ".join(out.split())  # describers align values with spaces: compare words
    for text in expected:
        assert " ".join(text.split()) in words, f"{text!r} not in:\n{out}"

"""The Kubernetes docs' example manifests for the workload kinds
(tests/data/k8s-docs-examples, kept byte for byte as kubernetes/website
has them) applied unchanged with the real kubectl against the session
cluster's HTTPS API.

* Each applies, and the objects read back as written (`kubectl get -o json`).
* Containers with only an image (nginx, the guestbook frontend, fluentd)
  cannot run here: Pinnace runs commands as local processes and pulls no
  image. What the user sees says so: the pods' STATUS is
  CreateContainerConfigError and the container's waiting message, and
  `kubectl describe pod`'s event, name the missing command.
* The Job and CronJob examples run commands that exist here (bash, sh,
  python3, perl), so they behave as the docs say: the podFailurePolicy
  example fails the Job on exit code 42, the backoffLimitPerIndex example
  fails the even indexes and runs all the others, the successPolicy
  example succeeds once index 2 has (or, as on a real cluster, races its
  nine failures against the backoffLimit: see that test), the pi Job prints
  pi (where this machine's perl can), and a Job made from the CronJob
  prints its greeting.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.kubectl import run_kubectl
from tests.waiting import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "k8s-docs-examples"

NO_COMMAND = "has no command: Pinnace runs commands, not images"


class Kubectl:
    """kubectl in one namespace; fails the test on a non-zero exit."""

    def __init__(self, cluster: LocalCluster, namespace: str) -> None:
        self.kubeconfig = cluster.kubeconfig
        self.namespace = namespace

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = run_kubectl(self.kubeconfig, "-n", self.namespace, *args)
        if ok:
            assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self("get", *args, "-o", "json").stdout)

    def apply(self, example: str) -> str:
        return self("apply", "-f", str(EXAMPLES / example)).stdout


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    return Kubectl(cluster, cluster_namespace)


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in obj.get("status", {}).get("conditions", []):
        if cond["type"] == kind and cond["status"] == "True":
            return dict(cond)
    return None


def _finished(kubectl: Kubectl, ref: str, *kinds: str, timeout: float = 60) -> dict[str, Any]:
    """The Job once one of the conditions `kinds` holds."""

    def finished() -> dict[str, Any]:
        job: dict[str, Any] = kubectl.json(ref)
        return job if any(_condition(job, kind) for kind in kinds) else {}

    return wait_for(finished, timeout, f"{ref}: {' or '.join(kinds)}")


def _waiting(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod.get("status", {}).get("containerStatuses", [])
    return dict(statuses[0]["state"].get("waiting", {})) if statuses else {}


# ---- image-only containers ---------------------------------------------------------


IMAGE_ONLY = [
    pytest.param(
        "nginx-deployment.yaml",
        "deployment/nginx-deployment",
        "app.kubernetes.io/name=nginx",
        3,
        ("nginx", "nginx:1.14.2"),
        id="nginx-deployment",
    ),
    pytest.param(
        "frontend.yaml",
        "replicaset/frontend",
        "tier=frontend",
        3,
        ("php-redis", "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5"),
        id="frontend-replicaset",
    ),
    pytest.param(
        "replication.yaml",
        "replicationcontroller/nginx",
        "app=nginx",
        3,
        ("nginx", "nginx"),
        id="replicationcontroller",
    ),
]


@pytest.mark.parametrize(("example", "ref", "selector", "replicas", "container"), IMAGE_ONLY)
def test_image_only_workload_applies_and_says_the_command_is_missing(
    kubectl: Kubectl,
    example: str,
    ref: str,
    selector: str,
    replicas: int,
    container: tuple[str, str],
) -> None:
    group = "" if ref.startswith("replicationcontroller/") else ".apps"
    shown = ref.replace("/", f"{group}/", 1)
    assert kubectl.apply(example).strip() == f"{shown} created"
    assert kubectl.apply(example).strip() == f"{shown} unchanged"  # the three-way merge
    obj = kubectl.json(ref)
    assert obj["spec"]["replicas"] == replicas
    [ctr] = obj["spec"]["template"]["spec"]["containers"]
    assert (ctr["name"], ctr["image"]) == container and "command" not in ctr
    _user_sees_no_command(kubectl, selector, replicas, container)


def test_daemonset_example_runs_on_every_node_and_says_the_command_is_missing(
    cluster: LocalCluster,
) -> None:
    """The manifest names its namespace, kube-system (kubectl refuses another
    -n), so it goes there as in the docs, and is deleted afterwards."""
    kubectl = Kubectl(cluster, "kube-system")
    try:
        kubectl.apply("daemonset.yaml")
        ds = kubectl.json("daemonset/fluentd-elasticsearch")
        assert ds["metadata"]["labels"] == {"k8s-app": "fluentd-logging"}
        spec = ds["spec"]["template"]["spec"]
        assert spec["tolerations"] == [
            {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}
        ]
        assert spec["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "200Mi"}
        assert spec["volumes"][1]["hostPath"]["path"] == "/var/lib/docker/containers"
        pods = _user_sees_no_command(
            kubectl,
            "name=fluentd-elasticsearch",
            3,
            ("fluentd-elasticsearch", "k8s.gcr.io/fluentd-elasticsearch:1.20"),
        )
        assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-1", "node-2", "node-3"]
    finally:
        kubectl("delete", "-f", str(EXAMPLES / "daemonset.yaml"), "--wait=false", ok=False)


def _user_sees_no_command(
    kubectl: Kubectl, selector: str, replicas: int, container: tuple[str, str]
) -> list[dict[str, Any]]:
    """The workload's pods wait in CreateContainerConfigError, and `get pods`,
    the pod's JSON and `describe pod` say that the container has no command."""
    name, image = container

    def waiting_pods() -> list[dict[str, Any]]:
        pods = kubectl.json("pods", "-l", selector)["items"]
        done = [p for p in pods if _waiting(p).get("reason") == "CreateContainerConfigError"]
        return pods if len(pods) == replicas and len(done) == replicas else []

    pods = wait_for(waiting_pods, 60, f"{replicas} pods of {selector} waiting on their config")
    for pod in pods:
        message = _waiting(pod)["message"]
        assert f'container "{name}" {NO_COMMAND}' in message
        assert f'image "{image}" is recorded but not pulled' in message
    table = kubectl("get", "pods", "-l", selector, "--no-headers").stdout.splitlines()
    assert len(table) == replicas
    assert all(row.split()[1:3] == ["0/1", "CreateContainerConfigError"] for row in table), table
    # describe shows the waiting reason, and the message in the kubelet's
    # Warning event (recorded asynchronously, hence the wait).
    pod = pods[0]["metadata"]["name"]
    event = f'Error: container "{name}" {NO_COMMAND}'

    def described_with_event() -> str:
        out = kubectl("describe", "pod", pod).stdout
        return out if event in out else ""

    described = wait_for(described_with_event, 30, f"describe pod {pod} shows the event")
    assert "Reason:       CreateContainerConfigError" in described
    return pods


# ---- Jobs and the CronJob -----------------------------------------------------------


def _perl_computes_pi() -> str | None:
    """None if this machine's perl runs the docs' command, else why not."""
    try:
        run = subprocess.run(
            ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except FileNotFoundError:
        return "perl is not installed"
    except subprocess.TimeoutExpired:
        return "perl took over 30 s for bpi(2000)"
    if run.returncode != 0 or not run.stdout.startswith("3.14159"):
        # perl 5.36's Math::BigInt fails on it here; the docs pin the image perl:5.34.0.
        return f"this machine's perl cannot run bpi(2000): {run.stderr.strip()[:200]}"
    return None


def test_pi_job(kubectl: Kubectl) -> None:
    why_not = _perl_computes_pi()  # before the Job's own perl competes for the CPU
    kubectl.apply("job.yaml")
    job = kubectl.json("job/pi")
    assert job["spec"]["backoffLimit"] == 4
    [ctr] = job["spec"]["template"]["spec"]["containers"]
    assert ctr["command"] == ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]
    assert ctr["image"] == "perl:5.34.0"
    if why_not is not None:
        pytest.skip(f"the pi Job applied; its run is not checked: {why_not}")
    job = _finished(kubectl, "job/pi", "Complete", "Failed")
    assert _condition(job, "Complete") is not None, job["status"]
    digits = kubectl("logs", "job/pi").stdout.strip()
    assert digits.startswith("3.14159265358979323846") and len(digits) == 2001


def test_pod_failure_policy_example_fails_the_job_on_exit_code_42(kubectl: Kubectl) -> None:
    kubectl.apply("job-pod-failure-policy-example.yaml")
    name = "job/job-pod-failure-policy-example"
    rules = kubectl.json(name)["spec"]["podFailurePolicy"]["rules"]
    assert rules[0]["onExitCodes"] == {"containerName": "main", "operator": "In", "values": [42]}
    assert rules[1]["onPodConditions"] == [{"type": "DisruptionTarget", "status": "True"}]
    job = _finished(kubectl, name, "Failed", "Complete")
    failed = _condition(job, "Failed")
    assert failed is not None and failed["reason"] == "PodFailurePolicy", job["status"]
    assert "exit code 42" in failed["message"] and "FailJob rule at index 0" in failed["message"]
    assert job["status"].get("succeeded", 0) == 0


def test_backoff_limit_per_index_example_fails_the_even_indexes(kubectl: Kubectl) -> None:
    kubectl.apply("job-backoff-limit-per-index-example.yaml")
    name = "job/job-backoff-limit-per-index-example"
    spec = kubectl.json(name)["spec"]
    assert (spec["backoffLimitPerIndex"], spec["maxFailedIndexes"]) == (1, 5)
    job = _finished(kubectl, name, "Failed", "Complete", timeout=80)
    failed = _condition(job, "Failed")
    assert failed is not None and failed["reason"] == "FailedIndexes", job["status"]
    status = job["status"]
    assert status["failedIndexes"] == "0,2,4,6,8"
    assert status["completedIndexes"] == "1,3,5,7,9"
    assert (status["succeeded"], status["failed"]) == (5, 10)


def test_success_policy_example_succeeds_once_index_2_has(kubectl: Kubectl) -> None:
    """Index 2 succeeds and every other index fails. The Job completes by
    its success policy, unless the nine failures (more than the default
    backoffLimit of 6) are seen in the same sync as index 2's success:
    Kubernetes' job controller, and Pinnace's after it, weighs the
    backoffLimit before the success policy, so the docs' example can fail
    the Job with BackoffLimitExceeded on a real cluster too (index 2's pod
    then may or may not have been counted)."""
    kubectl.apply("job-success-policy.yaml")
    name = "job/job-success"
    rules = kubectl.json(name)["spec"]["successPolicy"]["rules"]
    assert rules == [{"succeededIndexes": "0,2-3", "succeededCount": 1}]
    job = _finished(kubectl, name, "Failed", "Complete")
    status = job["status"]
    if (failed := _condition(job, "Failed")) is not None:
        assert failed["reason"] == "BackoffLimitExceeded" and status["failed"] > 6
        assert status.get("completedIndexes", "") in ("", "2")
        assert _condition(job, "SuccessCriteriaMet") is None
    else:
        assert (status["completedIndexes"], status["succeeded"]) == ("2", 1)
        met = _condition(job, "SuccessCriteriaMet")
        assert met is not None and met["reason"] == "SuccessPolicy"


def test_cronjob_example_makes_jobs_that_greet(kubectl: Kubectl) -> None:
    assert kubectl.apply("cronjob.yaml").strip() == "cronjob.batch/hello created"
    assert kubectl.apply("cronjob.yaml").strip() == "cronjob.batch/hello unchanged"
    cronjob = kubectl.json("cronjob/hello")
    assert cronjob["spec"]["schedule"] == "* * * * *"
    kubectl("create", "job", "hello-now", "--from=cronjob/hello")
    wait_for(lambda: _condition(kubectl.json("job/hello-now"), "Complete"), 60, "the Job completes")
    assert "Hello from the Kubernetes cluster" in kubectl("logs", "job/hello-now").stdout

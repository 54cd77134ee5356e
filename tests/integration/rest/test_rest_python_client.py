"""The official `kubernetes` Python client against Pinnace's HTTP API (plain
HTTP here; TLS with `pinnace up`'s kubeconfig: test_kubectl*): CRUD of
each kind, patch, scale, and a list-then-watch from the list's
resourceVersion that goes on after the apiserver restarts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from tests.waiting import wait_for


@pytest.fixture(scope="module")
def rest_apiserver(start_apiserver: Callable[..., Any]) -> Any:
    return start_apiserver(rest=True)


@pytest.fixture
def api(rest_apiserver: Any) -> Iterator[k8s.ApiClient]:
    """Kubernetes' Python client, configured from the admin kubeconfig (HTTPS,
    the admin's client certificate)."""
    with k8s_config.new_client_from_config(config_file=str(rest_apiserver.kubeconfig)) as c:
        yield c


@pytest.fixture
def ns(api: k8s.ApiClient) -> Iterator[str]:
    name = f"py-{uuid.uuid4().hex[:8]}"
    core = k8s.CoreV1Api(api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def container(name: str = "c") -> k8s.V1Container:
    return k8s.V1Container(name=name, image="busybox", command=["sleep", "60"])


def template(app: str) -> k8s.V1PodTemplateSpec:
    return k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(labels={"app": app}),
        spec=k8s.V1PodSpec(containers=[container()]),
    )


def selector(app: str) -> k8s.V1LabelSelector:
    return k8s.V1LabelSelector(match_labels={"app": app})


def meta(name: str) -> k8s.V1ObjectMeta:
    return k8s.V1ObjectMeta(name=name, labels={"app": name})


# kind → (create, read, list, delete, the object), for the CRUD table.
def kinds_table(api: k8s.ApiClient, ns: str) -> dict[str, tuple[Any, Any, Any, Any, Any]]:
    core, apps, batch = k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.BatchV1Api(api)
    coord, disc = k8s.CoordinationV1Api(api), k8s.DiscoveryV1Api(api)
    return {
        "ReplicaSet": (
            apps.create_namespaced_replica_set, apps.read_namespaced_replica_set,
            apps.list_namespaced_replica_set, apps.delete_namespaced_replica_set,
            k8s.V1ReplicaSet(metadata=meta("rs"), spec=k8s.V1ReplicaSetSpec(
                replicas=0, selector=selector("rs"), template=template("rs"))),
        ),
        "ReplicationController": (
            core.create_namespaced_replication_controller,
            core.read_namespaced_replication_controller,
            core.list_namespaced_replication_controller,
            core.delete_namespaced_replication_controller,
            k8s.V1ReplicationController(metadata=meta("rc"), spec=k8s.V1ReplicationControllerSpec(
                replicas=0, selector={"app": "rc"}, template=template("rc"))),
        ),
        "PersistentVolumeClaim": (
            core.create_namespaced_persistent_volume_claim,
            core.read_namespaced_persistent_volume_claim,
            core.list_namespaced_persistent_volume_claim,
            core.delete_namespaced_persistent_volume_claim,
            k8s.V1PersistentVolumeClaim(metadata=meta("pvc"), spec=k8s.V1PersistentVolumeClaimSpec(
                access_modes=["ReadWriteOnce"],
                resources=k8s.V1VolumeResourceRequirements(requests={"storage": "1Gi"}))),
        ),
        "Lease": (
            coord.create_namespaced_lease, coord.read_namespaced_lease,
            coord.list_namespaced_lease, coord.delete_namespaced_lease,
            k8s.V1Lease(metadata=meta("l"), spec=k8s.V1LeaseSpec(holder_identity="me")),
        ),
        "EndpointSlice": (
            disc.create_namespaced_endpoint_slice, disc.read_namespaced_endpoint_slice,
            disc.list_namespaced_endpoint_slice, disc.delete_namespaced_endpoint_slice,
            k8s.V1EndpointSlice(metadata=meta("es"), address_type="IPv4",
                                endpoints=[k8s.V1Endpoint(addresses=["10.1.2.3"])]),
        ),
        "Pod": (
            core.create_namespaced_pod, core.read_namespaced_pod,
            core.list_namespaced_pod, core.delete_namespaced_pod,
            k8s.V1Pod(metadata=meta("p"), spec=k8s.V1PodSpec(containers=[container()])),
        ),
        "Service": (
            core.create_namespaced_service, core.read_namespaced_service,
            core.list_namespaced_service, core.delete_namespaced_service,
            k8s.V1Service(metadata=meta("s"), spec=k8s.V1ServiceSpec(
                selector={"app": "x"}, ports=[k8s.V1ServicePort(port=80, target_port=8080)])),
        ),
        "Deployment": (
            apps.create_namespaced_deployment, apps.read_namespaced_deployment,
            apps.list_namespaced_deployment, apps.delete_namespaced_deployment,
            k8s.V1Deployment(metadata=meta("d"), spec=k8s.V1DeploymentSpec(
                replicas=1, selector=selector("d"), template=template("d"))),
        ),
        "StatefulSet": (
            apps.create_namespaced_stateful_set, apps.read_namespaced_stateful_set,
            apps.list_namespaced_stateful_set, apps.delete_namespaced_stateful_set,
            k8s.V1StatefulSet(metadata=meta("st"), spec=k8s.V1StatefulSetSpec(
                service_name="st", selector=selector("st"), template=template("st"))),
        ),
        "DaemonSet": (
            apps.create_namespaced_daemon_set, apps.read_namespaced_daemon_set,
            apps.list_namespaced_daemon_set, apps.delete_namespaced_daemon_set,
            k8s.V1DaemonSet(metadata=meta("ds"), spec=k8s.V1DaemonSetSpec(
                selector=selector("ds"), template=template("ds"))),
        ),
        "Job": (
            batch.create_namespaced_job, batch.read_namespaced_job,
            batch.list_namespaced_job, batch.delete_namespaced_job,
            k8s.V1Job(metadata=meta("j"), spec=k8s.V1JobSpec(template=k8s.V1PodTemplateSpec(
                spec=k8s.V1PodSpec(containers=[container()], restart_policy="Never")))),
        ),
        "CronJob": (
            batch.create_namespaced_cron_job, batch.read_namespaced_cron_job,
            batch.list_namespaced_cron_job, batch.delete_namespaced_cron_job,
            k8s.V1CronJob(metadata=meta("cj"), spec=k8s.V1CronJobSpec(
                schedule="*/5 * * * *", job_template=k8s.V1JobTemplateSpec(spec=k8s.V1JobSpec(
                    template=k8s.V1PodTemplateSpec(spec=k8s.V1PodSpec(
                        containers=[container()], restart_policy="OnFailure")))))),
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    "kind",
    [
        "Pod", "Service", "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet",
        "DaemonSet", "Job", "CronJob", "PersistentVolumeClaim", "Lease", "EndpointSlice",
    ],
)  # fmt: skip
def test_crud_of_each_kind(api: k8s.ApiClient, ns: str, kind: str) -> None:
    create, read, list_, delete, obj = kinds_table(api, ns)[kind]
    name = obj.metadata.name
    created = create(ns, obj)
    assert created.metadata.name == name and created.metadata.uid
    assert read(name, ns).metadata.uid == created.metadata.uid
    assert [o.metadata.name for o in list_(ns).items] == [name]
    with pytest.raises(ApiException) as exists:
        create(ns, obj)
    assert exists.value.status == 409
    delete(name, ns, propagation_policy="Background", grace_period_seconds=0)
    wait_for(lambda: not list_(ns).items, 10, f"{kind} deleted")


def test_patch_scale_and_errors(api: k8s.ApiClient, ns: str) -> None:
    apps = k8s.AppsV1Api(api)
    _, _, _, _, deploy = kinds_table(api, ns)["Deployment"]
    apps.create_namespaced_deployment(ns, deploy)
    patched = apps.patch_namespaced_deployment("d", ns, {"metadata": {"labels": {"tier": "web"}}})
    assert patched.metadata.labels == {"app": "d", "tier": "web"}
    scale = apps.read_namespaced_deployment_scale("d", ns)
    assert scale.spec.replicas == 1
    scale.spec.replicas = 4
    assert apps.replace_namespaced_deployment_scale("d", ns, scale).spec.replicas == 4
    assert apps.read_namespaced_deployment("d", ns).spec.replicas == 4
    stale = apps.read_namespaced_deployment("d", ns)
    apps.patch_namespaced_deployment("d", ns, {"spec": {"replicas": 2}})
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment("d", ns, stale)
    assert conflict.value.status == 409 and '"reason":"Conflict"' in conflict.value.body
    bad = k8s.V1Deployment(metadata=meta("bad"), spec=k8s.V1DeploymentSpec(
        replicas=-1, selector=selector("bad"), template=template("bad")))  # fmt: skip
    with pytest.raises(ApiException) as invalid:
        apps.create_namespaced_deployment(ns, bad)
    assert invalid.value.status == 422 and '"reason":"Invalid"' in invalid.value.body


def test_list_then_watch_resumes_after_an_apiserver_restart(
    api: k8s.ApiClient, ns: str, rest_apiserver: Any
) -> None:
    core = k8s.CoreV1Api(api)
    listed = core.list_namespaced_service(ns)
    rv = listed.metadata.resource_version
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    known = {o.metadata.name for o in listed.items}

    def follow(since: str) -> str:
        """Watch from ``since`` until the stream ends; the resourceVersion to
        go on from. As client-go's reflector: a 410 Gone (the restarted
        apiserver's cache starts after ``since``) means list again, and what
        the list shows that the watch had not is an ADDED."""
        last = since
        w = k8s_watch.Watch()
        try:
            for ev in w.stream(
                core.list_namespaced_service, ns, resource_version=since, timeout_seconds=3
            ):
                seen.append((ev["type"], ev["object"].metadata.name))
                known.add(ev["object"].metadata.name)
                last = ev["object"].metadata.resource_version
        except ApiException as e:
            if e.status != 410:
                raise
            relisted = core.list_namespaced_service(ns)
            for item in relisted.items:
                if item.metadata.name not in known:
                    known.add(item.metadata.name)
                    seen.append(("ADDED", item.metadata.name))
            return str(relisted.metadata.resource_version)
        except Exception:  # the apiserver is away: retry shortly, from `last`
            done.wait(0.1)
        return last

    def watcher() -> None:
        last = rv
        while not done.is_set():
            last = follow(last)

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    svc = k8s.V1Service(metadata=meta("a"), spec=k8s.V1ServiceSpec(
        ports=[k8s.V1ServicePort(port=80)]))  # fmt: skip
    core.create_namespaced_service(ns, svc)
    wait_for(lambda: ("ADDED", "a") in seen, 10, "ADDED a")
    server = rest_apiserver
    server.component.stop()
    svc.metadata.name = "b"
    server.restart()
    core.create_namespaced_service(ns, svc)
    wait_for(lambda: ("ADDED", "b") in seen, 20, "ADDED b after the restart")
    done.set()
    t.join(timeout=10)
    assert seen.count(("ADDED", "a")) == 1 and seen.count(("ADDED", "b")) == 1


def test_pod_log_over_https_with_the_kubeconfig(cluster: Any, cluster_namespace: str) -> None:
    """The official client, configured from `pinnace up`'s kubeconfig (HTTPS,
    the cluster CA), runs a pod on a real kubelet and reads its log."""
    api = k8s_config.new_client_from_config(config_file=str(cluster.kubeconfig))
    with api:
        core = k8s.CoreV1Api(api)
        pod = k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name="hello"),
            spec=k8s.V1PodSpec(
                restart_policy="Never",
                containers=[
                    k8s.V1Container(
                        name="c", image="busybox", command=["sh", "-c", "echo hi; echo there"]
                    )
                ],
            ),
        )
        core.create_namespaced_pod(cluster_namespace, pod)
        wait_for(
            lambda: (
                core.read_namespaced_pod("hello", cluster_namespace).status.phase == "Succeeded"
            ),
            60,
            "the pod ran",
        )
        assert core.read_namespaced_pod_log("hello", cluster_namespace) == "hi\nthere\n"
        assert core.read_namespaced_pod_log("hello", cluster_namespace, tail_lines=1) == "there\n"

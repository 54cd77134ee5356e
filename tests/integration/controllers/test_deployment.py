"""Deployments against a real apiserver and a real controller-manager
process running the deployment and replicaset controllers. No kubelet
runs: a ``Kubelet`` thread plays its part by marking pods Running and Ready
(except pods of a template whose VERSION is "bad", which never become
ready, like a bad image)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2
from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.machinery import codec, errors
from tests.integration.conftest import RunningApiServer
from tests.integration.controllers.conftest import (
    is_active,
    pod_events_since,
    stays,
    wait_for,
)

CONTROLLERS = ("deployment", "replicaset")
REVISION = "deployment.kubernetes.io/revision"
HASH = "pod-template-hash"


def deployment(
    name: str,
    replicas: int,
    *,
    version: str = "v1",
    strategy: str = "RollingUpdate",
    surge: int | str = "25%",
    unavailable: int | str = "25%",
    history: int | None = None,
    deadline: int | None = None,
) -> deployment_pb2.Deployment:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "command": ["sleep", "3600"],
                        "env": [{"name": "VERSION", "value": version}],
                    }
                ]
            },
        },
        "strategy": {"type": strategy},
    }
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    if history is not None:
        spec["revisionHistoryLimit"] = history
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return codec.from_dict(
        deployment_pb2.Deployment,
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec},
    )


def version_of(obj: Any) -> str:
    """The VERSION env of a pod, ReplicaSet or Deployment."""
    spec = obj.spec if not hasattr(obj.spec, "template") else obj.spec.template.spec
    return next(e.value for e in spec.containers[0].env if e.name == "VERSION")


def is_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


class Kubelet:
    """Marks pods Running and Ready unless their VERSION is "bad"."""

    def __init__(self, config: ClientConfig, namespace: str) -> None:
        self.config = config
        self.namespace = namespace
        self.paused = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from pinnace.machinery.timeutil import now_rfc3339

        with Client(config=self.config, timeout=10) as client:
            pods = client.pods(self.namespace)
            while not self._stop.is_set():
                try:
                    for pod in pods.list().items if not self.paused else []:
                        if is_ready(pod) or not is_active(pod) or version_of(pod) == "bad":
                            continue
                        pod.status.phase = "Running"
                        del pod.status.conditions[:]
                        pod.status.conditions.add(
                            type="Ready", status="True", last_transition_time=now_rfc3339()
                        )
                        try:
                            pods.update_status(pod)
                        except (errors.Conflict, errors.NotFound):
                            pass
                except errors.ApiError:
                    pass
                self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def kubelet(apiserver: RunningApiServer, namespace: str) -> Iterator[Kubelet]:
    k = Kubelet(apiserver.config, namespace)
    yield k
    k.stop()


@pytest.fixture
def manager(controller_manager: Any) -> Any:
    return controller_manager(*CONTROLLERS)


def cli(apiserver: RunningApiServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *apiserver.cli_args, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def owned_rss(client: Client, ns: str, d: Any) -> list[replicaset_pb2.ReplicaSet]:
    return sorted(
        (
            rs
            for rs in client.replica_sets(ns).list().items
            if any(r.controller and r.uid == d.metadata.uid for r in rs.metadata.owner_references)
        ),
        key=lambda rs: int(rs.metadata.annotations.get(REVISION, "0")),
    )


def rs_by_version(client: Client, ns: str, d: Any) -> dict[str, replicaset_pb2.ReplicaSet]:
    return {version_of(rs): rs for rs in owned_rss(client, ns, d)}


def complete(client: Client, ns: str, name: str) -> Any:
    """The Deployment if its rollout is complete (kubectl's test), else None."""
    d = client.deployments(ns).get(name)
    st = d.status
    ok = (
        st.observed_generation >= d.metadata.generation
        and st.updated_replicas == d.spec.replicas
        and st.replicas == d.spec.replicas
        and st.available_replicas == d.spec.replicas
    )
    return d if ok else None


def wait_complete(
    client: Client, ns: str, name: str, timeout: float = 20, *, version: str = ""
) -> Any:
    """Wait for a complete rollout (of ``version``, if given); the Deployment."""

    def check() -> Any:
        d = complete(client, ns, name)
        return d if d is not None and (not version or version_of(d) == version) else None

    return wait_for(check, timeout, what=f"rollout of {name} {version}")


def set_version(client: Client, ns: str, name: str, version: str) -> Any:
    for _ in range(10):
        d = client.deployments(ns).get(name)
        d.spec.template.spec.containers[0].env[0].value = version
        try:
            return client.deployments(ns).update(d)
        except errors.Conflict:
            continue
    raise AssertionError("could not update the deployment")


def scale_to(client: Client, ns: str, name: str, replicas: int) -> None:
    client.deployments(ns).scale(name, replicas)


# ---- tests ------------------------------------------------------------------------------


def test_create_makes_hashed_rs_at_revision_1(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet, apiserver: RunningApiServer
) -> None:
    d = client.deployments(namespace).create(deployment("web", 3))
    done = wait_complete(client, namespace, "web")
    (rs,) = owned_rss(client, namespace, d)
    pod_hash = rs.metadata.labels[HASH]
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.spec.selector.match_labels[HASH] == pod_hash
    assert rs.spec.template.metadata.labels[HASH] == pod_hash
    assert rs.metadata.annotations[REVISION] == "1"
    assert done.metadata.annotations[REVISION] == "1"
    conds = {c.type: c.reason for c in done.status.conditions}
    assert conds == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }
    pods = client.pods(namespace).list().items
    assert len(pods) == 3 and all(p.metadata.labels[HASH] == pod_hash for p in pods)
    out = cli(apiserver, "rollout", "status", "deploy/web", "-n", namespace, "--timeout", "10s")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == 'deployment "web" successfully rolled out'


def test_rolling_update_stays_within_surge_and_unavailable(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet
) -> None:
    replicas, surge, unavailable = 8, 2, 1
    client.deployments(namespace).create(
        deployment("roll", replicas, surge=surge, unavailable=unavailable)
    )
    wait_complete(client, namespace, "roll")
    start = client.pods(namespace).list()
    state = {p.metadata.uid: p for p in start.items}
    set_version(client, namespace, "roll", "v2")
    d = wait_complete(client, namespace, "roll", timeout=30)
    assert version_of(d) == "v2"
    worst_total, worst_ready = 0, replicas
    for ev in pod_events_since(client, namespace, start.resource_version):
        if ev.type == "DELETED":
            state.pop(ev.object.metadata.uid, None)
        else:
            state[ev.object.metadata.uid] = ev.object
        live = [p for p in state.values() if is_active(p)]
        worst_total = max(worst_total, len(live))
        worst_ready = min(worst_ready, sum(1 for p in live if is_ready(p)))
    assert worst_total <= replicas + surge
    assert worst_ready >= replicas - unavailable
    pods = [p for p in client.pods(namespace).list().items if is_active(p)]
    assert len(pods) == replicas and {version_of(p) for p in pods} == {"v2"}
    assert len(owned_rss(client, namespace, d)) == 2


def test_recreate_never_overlaps(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet
) -> None:
    client.deployments(namespace).create(deployment("re", 3, strategy="Recreate"))
    wait_complete(client, namespace, "re")
    start = client.pods(namespace).list()
    d_start = client.deployments(namespace).list()
    set_version(client, namespace, "re", "v2")
    d = wait_complete(client, namespace, "re")
    assert version_of(d) == "v2"
    state = {p.metadata.uid: p for p in start.items}
    for ev in pod_events_since(client, namespace, start.resource_version):
        if ev.type == "DELETED":
            state.pop(ev.object.metadata.uid, None)
        else:
            state[ev.object.metadata.uid] = ev.object
        versions = {version_of(p) for p in state.values()}
        assert len(versions) <= 1, f"old and new pods at once: {versions}"
    # the status the e2e test watches: updated > 0 means all are updated
    seen = 0
    for ev in client.deployments(namespace).watch(
        resource_version=d_start.resource_version, timeout=3
    ):
        if ev.type != "BOOKMARK":
            seen += 1
            st = ev.object.status
            assert not (st.updated_replicas > 0 and st.replicas != st.updated_replicas)
        if int(ev.resource_version or 0) >= int(d.metadata.resource_version):
            break
    assert seen > 0


def test_proportional_scaling_conformance_numbers(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet
) -> None:
    d = client.deployments(namespace).create(deployment("prop", 10, surge=3, unavailable=2))
    wait_complete(client, namespace, "prop")
    set_version(client, namespace, "prop", "bad")

    def sizes(old: int, new: int) -> bool:
        rss = rs_by_version(client, namespace, d)
        return (
            "bad" in rss
            and rss["v1"].spec.replicas == old
            and rss["bad"].spec.replicas == new
            and rss["bad"].status.replicas == new
        )

    wait_for(lambda: sizes(8, 5), 15, what="old 8 / new 5")
    stays(lambda: sizes(8, 5), 1.0, what="a stuck rollout stays at 8 / 5")
    scale_to(client, namespace, "prop", 30)
    wait_for(lambda: sizes(20, 13), 15, what="old 20 / new 13")
    stays(lambda: sizes(20, 13), 1.0, what="stays at 20 / 13")


def test_rollout_undo_reuses_the_old_replica_set(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet, apiserver: RunningApiServer
) -> None:
    dep = deployment("undo", 2)
    dep.metadata.annotations["kubernetes.io/change-cause"] = "first"
    d = client.deployments(namespace).create(dep)
    wait_complete(client, namespace, "undo")
    for _ in range(10):
        cur = client.deployments(namespace).get("undo")
        cur.metadata.annotations["kubernetes.io/change-cause"] = "second"
        cur.spec.template.spec.containers[0].env[0].value = "v2"
        try:
            client.deployments(namespace).update(cur)
            break
        except errors.Conflict:
            continue
    wait_complete(client, namespace, "undo", version="v2")
    out = cli(apiserver, "rollout", "undo", "deploy/undo", "-n", namespace)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "deployment.apps/undo rolled back"
    wait_complete(client, namespace, "undo", version="v1")
    rss = rs_by_version(client, namespace, d)
    assert set(rss) == {"v1", "v2"}  # reused, no third RS
    v1 = rss["v1"]
    assert v1.metadata.annotations[REVISION] == "3"
    assert v1.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    wait_for(
        lambda: client.deployments(namespace).get("undo").metadata.annotations.get(REVISION) == "3",
        10,
        "deployment at revision 3",
    )
    out = cli(apiserver, "rollout", "history", "deploy/undo", "-n", namespace)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[:2] == ["deployment.apps/undo", "REVISION  CHANGE-CAUSE"]
    assert [line.split() for line in lines[2:]] == [["2", "second"], ["3", "first"]]
    out = cli(apiserver, "rollout", "history", "deploy/undo", "-n", namespace, "--revision", "2")
    assert out.returncode == 0 and "VERSION:\tv2" in out.stdout, out.stdout + out.stderr


def test_revision_history_limit_cleans_up(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet
) -> None:
    d = client.deployments(namespace).create(deployment("hist", 1, history=1))
    for version in ("v2", "v3"):
        wait_complete(client, namespace, "hist")
        set_version(client, namespace, "hist", version)
    wait_for(
        lambda: set(rs_by_version(client, namespace, d)) == {"v2", "v3"},
        20,
        "only v2 (history 1) and v3 left",
    )
    assert version_of(wait_complete(client, namespace, "hist")) == "v3"


def test_paused_holds_template_and_applies_scale(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet, apiserver: RunningApiServer
) -> None:
    d = client.deployments(namespace).create(deployment("pz", 2))
    wait_complete(client, namespace, "pz")
    out = cli(apiserver, "rollout", "pause", "deploy/pz", "-n", namespace)
    assert out.returncode == 0 and out.stdout.strip() == "deployment.apps/pz paused", out.stderr
    set_version(client, namespace, "pz", "v2")
    out = cli(apiserver, "scale", "deploy/pz", "--replicas", "4", "-n", namespace)
    assert out.returncode == 0 and out.stdout.strip() == "deployment.apps/pz scaled", out.stderr
    wait_for(lambda: rs_by_version(client, namespace, d)["v1"].spec.replicas == 4, 10, "scaled")
    stays(
        lambda: set(rs_by_version(client, namespace, d)) == {"v1"}, 1.0, "no rollout while paused"
    )
    cond = {c.type: c.reason for c in client.deployments(namespace).get("pz").status.conditions}
    assert cond["Progressing"] == "DeploymentPaused"
    out = cli(apiserver, "rollout", "resume", "deploy/pz", "-n", namespace)
    assert out.returncode == 0, out.stderr
    wait_complete(client, namespace, "pz", 20, version="v2")


def test_progress_deadline_exceeded_and_rollout_status_fails(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet, apiserver: RunningApiServer
) -> None:
    client.deployments(namespace).create(deployment("slow", 2, deadline=2, version="bad"))

    def timed_out() -> bool:
        d = client.deployments(namespace).get("slow")
        return any(
            c.type == "Progressing"
            and c.status == "False"
            and c.reason == "ProgressDeadlineExceeded"
            for c in d.status.conditions
        )

    wait_for(timed_out, 15, "ProgressDeadlineExceeded")
    out = cli(apiserver, "rollout", "status", "deploy/slow", "-n", namespace, "--timeout", "10s")
    assert out.returncode == 1
    assert out.stderr.strip() == 'error: deployment "slow" exceeded its progress deadline'


def test_controller_manager_killed_mid_rollout_completes_without_extras(
    client: Client, namespace: str, controller_manager: Any, kubelet: Kubelet
) -> None:
    cm = controller_manager(*CONTROLLERS)
    d = client.deployments(namespace).create(deployment("crash", 6, surge=1, unavailable=1))
    wait_complete(client, namespace, "crash")
    kubelet.paused = True  # new pods stay unready: the rollout is held mid-way
    set_version(client, namespace, "crash", "v2")

    def held_mid_way() -> bool:
        rss = rs_by_version(client, namespace, d)
        return "v2" in rss and rss["v2"].spec.replicas >= 1 and rss["v1"].spec.replicas < 6

    wait_for(held_mid_way, 10, "the rollout held mid-way (v2 scaled up, v1 down)")
    cm.kill()
    kubelet.paused = False

    def new_pods_ready() -> bool:
        pods = client.pods(namespace).list().items
        new = [p for p in pods if is_active(p) and version_of(p) == "v2"]
        return bool(new) and all(is_ready(p) for p in new)

    wait_for(new_pods_ready, 10, "the v2 pods ready while the controller-manager is down")
    cm.start()
    cm.wait_serving(cm.health_endpoint, timeout=20)
    done = wait_complete(client, namespace, "crash", 30, version="v2")
    assert set(rs_by_version(client, namespace, done)) == {"v1", "v2"}
    pods = client.pods(namespace).list().items
    assert len(pods) == 6 and {version_of(p) for p in pods} == {"v2"}


def test_adopts_existing_replica_set_without_new_pods(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet
) -> None:
    dep = deployment("adopt", 2)
    rs = replicaset_pb2.ReplicaSet(api_version="apps/v1", kind="ReplicaSet")
    rs.metadata.name = "adopt-existing"
    rs.metadata.labels["app"] = "adopt"  # adoption matches the RS's own labels
    rs.spec.replicas = 2
    rs.spec.selector.CopyFrom(dep.spec.selector)
    rs.spec.template.CopyFrom(dep.spec.template)
    rs = client.replica_sets(namespace).create(rs)
    wait_for(
        lambda: client.replica_sets(namespace).get("adopt-existing").status.available_replicas == 2,
        10,
        "rs pods",
    )
    before = {p.metadata.uid for p in client.pods(namespace).list().items}
    d = client.deployments(namespace).create(dep)
    done = wait_complete(client, namespace, "adopt")
    (only,) = owned_rss(client, namespace, d)
    assert only.metadata.uid == rs.metadata.uid
    assert only.metadata.annotations[REVISION] == "1"
    assert done.metadata.annotations[REVISION] == "1"
    stays(
        lambda: {p.metadata.uid for p in client.pods(namespace).list().items} == before,
        0.5,
        "no pod created or deleted",
    )


def test_set_env_and_restart_roll_out_new_revisions(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet, apiserver: RunningApiServer
) -> None:
    d = client.deployments(namespace).create(deployment("envy", 2))
    wait_complete(client, namespace, "envy")
    out = cli(apiserver, "set", "env", "deploy/envy", "FOO=bar", "-n", namespace)
    assert out.returncode == 0 and out.stdout.strip() == "deployment.apps/envy env updated", (
        out.stderr
    )
    out = cli(apiserver, "rollout", "restart", "deploy/envy", "-n", namespace)
    assert out.returncode == 0 and out.stdout.strip() == "deployment.apps/envy restarted", (
        out.stderr
    )
    done = wait_complete(client, namespace, "envy")
    assert "kubectl.kubernetes.io/restartedAt" in done.spec.template.metadata.annotations
    rss = owned_rss(client, namespace, d)
    wait_for(
        lambda: (
            [r.metadata.annotations.get(REVISION) for r in owned_rss(client, namespace, d)][-1]
            == str(len(rss))
        ),
        10,
        "latest revision",
    )
    pods = client.pods(namespace).list().items
    assert len(pods) == 2
    assert all(
        {e.name: e.value for e in p.spec.containers[0].env}.get("FOO") == "bar" for p in pods
    )


def test_rollover_scales_down_the_stuck_middle_replica_set(
    client: Client, namespace: str, manager: Any, kubelet: Kubelet
) -> None:
    d = client.deployments(namespace).create(deployment("over", 2, surge=1, unavailable=0))
    wait_complete(client, namespace, "over")
    set_version(client, namespace, "over", "bad")
    wait_for(
        lambda: (
            (rss := rs_by_version(client, namespace, d)).get("bad") is not None
            and rss["bad"].status.replicas == 1
        ),
        10,
        "the stuck rollout (1 bad pod)",
    )
    set_version(client, namespace, "over", "v3")
    wait_complete(client, namespace, "over", version="v3")

    def old_ones_empty() -> bool:
        rss = rs_by_version(client, namespace, d)
        return set(rss) == {"v1", "bad", "v3"} and all(
            rss[v].spec.replicas == 0 and rss[v].status.replicas == 0 for v in ("v1", "bad")
        )

    wait_for(old_ones_empty, 10, "both old ReplicaSets at 0")

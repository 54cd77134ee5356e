"""StatefulSets on the whole `cluster` (scheduler, controller-manager with
every controller, 3 real kubelets): stable identity, ordering, node-local
persistent volumes, updates, retention. Pods write their hostname to their
volume; readiness is an exec probe on a file the process writes."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pinnace.api.apps.v1 import statefulset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client
from pinnace.machinery import codec, errors
from tests import waiting
from tests.waiting import stays

TIMEOUT = 30.0

# The process: remember its pid and hostname on the volume, then get ready.
SCRIPT = (
    "echo $$$$ > data/pid; echo $HOSTNAME > data/hostname; echo $HOSTNAME >> data/log; "
    "sleep 0.2; touch ready; exec sleep 3600"
)


def wait_for(fn: Callable[[], Any], *, timeout: float = TIMEOUT, what: str = "condition") -> Any:
    """tests.waiting.wait_for with this module's longer default deadline; a
    pod or claim that is being replaced (NotFound) is "not yet"."""
    return waiting.wait_for(fn, timeout, what, not_yet=(errors.NotFound,))


def sts(
    name: str,
    replicas: int = 3,
    *,
    volumes: bool = True,
    script: str = SCRIPT,
    env: str = "v1",
    **spec: Any,
) -> statefulset_pb2.StatefulSet:
    container: dict[str, Any] = {
        "name": "app",
        "image": "busybox",
        "command": ["sh", "-c", script],
        "env": [{"name": "VERSION", "value": env}],
        "readinessProbe": {
            "exec": {"command": ["sh", "-c", "test -f ready && test ! -f data/unhealthy"]},
            "periodSeconds": 1,
        },
    }
    body: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": name,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
        },
        **spec,
    }
    if volumes:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
        body["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Mi"}},
                },
            }
        ]
    else:
        body["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return codec.from_dict(statefulset_pb2.StatefulSet, {"metadata": {"name": name}, "spec": body})


def running_ready(p: pod_pb2.Pod) -> bool:
    return (
        p.status.phase == "Running"
        and not p.metadata.deletion_timestamp
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
    )


def pod_names(client: Client, ns: str, app: str) -> list[str]:
    pods = client.pods(ns).list(label_selector=f"app={app}").items
    return sorted((p.metadata.name for p in pods), key=lambda n: int(n.rsplit("-", 1)[1]))


def ready_names(client: Client, ns: str, app: str) -> list[str]:
    pods = client.pods(ns).list(label_selector=f"app={app}").items
    return sorted(p.metadata.name for p in pods if running_ready(p))


def wait_ready(client: Client, ns: str, app: str, names: list[str]) -> None:
    wait_for(
        lambda: (
            pod_names(client, ns, app) == names and ready_names(client, ns, app) == sorted(names)
        ),
        what=f"exactly {names} running and ready",
    )


def wait_settled(client: Client, ns: str, name: str) -> statefulset_pb2.StatefulSet:
    def settled() -> Any:
        s = client.stateful_sets(ns).get(name)
        st = s.status
        return (
            s
            if st.observed_generation >= s.metadata.generation
            and st.ready_replicas == s.spec.replicas
            and st.replicas == s.spec.replicas
            and st.current_revision == st.update_revision
            and st.updated_replicas == s.spec.replicas
            else None
        )

    return wait_for(settled, what=f"statefulset {name} settled")


class Watcher:
    """Pod events of one app from a watch, in order."""

    def __init__(self, client: Client, ns: str, app: str) -> None:
        # A client of its own: a watch streams on its own channel.
        self._client = Client(config=client.config)
        pods = self._client.pods(ns)
        rv = pods.list().resource_version
        self.events: list[tuple[str, str, bool]] = []
        self._stop = False

        def run() -> None:
            try:
                for ev in pods.watch(
                    resource_version=rv,
                    label_selector=f"app={app}",
                    allow_bookmarks=False,
                    timeout=120,
                ):
                    if self._stop:
                        return
                    if ev.object is None:
                        continue
                    self.events.append((ev.type, ev.object.metadata.name, running_ready(ev.object)))
            except Exception as e:  # shown by a failing assertion's event list
                self.events.append(("ERROR", repr(e), False))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def saw(self, kind: str, names: list[str]) -> list[str]:
        """Wait until the watch delivered ``kind`` events of all ``names``."""
        wait_for(
            lambda: set(names) <= set(self.names(kind)),
            what=f"{kind} of {names} in {self.events}",
        )
        return self.names(kind)

    def names(self, kind: str) -> list[str]:
        out: list[str] = []
        for t, name, _ in self.events:
            if t == kind and name not in out:
                out.append(name)
        return out

    def stop(self) -> None:
        self._stop = True
        self._client.close()


def pv_dir(client: Client, ns: str, claim: str) -> Path:
    pvc = client.persistent_volume_claims(ns).get(claim)
    pv = client.persistent_volumes().get(pvc.spec.volume_name)
    return Path(pv.spec.local.path)


# ---- tests -------------------------------------------------------------------------------


def test_ordered_creation_identity_data_and_ordered_scaling(
    cluster_client: Client, cluster_namespace: str
) -> None:
    client, ns = cluster_client, cluster_namespace
    watch = Watcher(client, ns, "web")
    client.stateful_sets(ns).create(sts("web"))
    wait_ready(client, ns, "web", ["web-0", "web-1", "web-2"])
    # ADDED in order, each after its predecessor was Running and Ready.
    assert watch.saw("ADDED", ["web-0", "web-1", "web-2"]) == ["web-0", "web-1", "web-2"]
    for i in (1, 2):
        added = next(k for k, e in enumerate(watch.events) if e[:2] == ("ADDED", f"web-{i}"))
        became_ready = next(
            k for k, e in enumerate(watch.events) if e[1] == f"web-{i - 1}" and e[2]
        )
        assert became_ready < added, watch.events
    # identity
    nodes = {}
    for i in range(3):
        p = client.pods(ns).get(f"web-{i}")
        assert p.metadata.labels["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
        assert p.metadata.labels["apps.kubernetes.io/pod-index"] == str(i)
        assert p.metadata.labels["controller-revision-hash"].startswith("web-")
        assert (p.spec.hostname, p.spec.subdomain) == (f"web-{i}", "web")
        nodes[i] = p.spec.node_name
        claim = client.persistent_volume_claims(ns).get(f"data-web-{i}")
        assert claim.status.phase == "Bound"
        assert claim.metadata.annotations["volume.kubernetes.io/selected-node"] == p.spec.node_name
        pv = client.persistent_volumes().get(claim.spec.volume_name)
        assert pv.status.phase == "Bound"
        assert pv.spec.claim_ref.uid == claim.metadata.uid
        term = pv.spec.node_affinity.required.node_selector_terms[0]
        assert list(term.match_expressions[0].values) == [p.spec.node_name]
        assert (Path(pv.spec.local.path) / "hostname").read_text().strip() == f"web-{i}"
    status = wait_settled(client, ns, "web").status
    assert (status.replicas, status.ready_replicas, status.available_replicas) == (3, 3, 3)

    # kill -9 the process of web-1 and delete the pod: web-1 comes back on
    # the same node with the same volume and data.
    data = pv_dir(client, ns, "data-web-1")
    old = client.pods(ns).get("web-1")
    os.kill(int((data / "pid").read_text()), signal.SIGKILL)
    client.pods(ns).delete("web-1")
    back = wait_for(
        lambda: (
            (p := client.pods(ns).get("web-1")).metadata.uid != old.metadata.uid
            and running_ready(p)
            and p
        ),
        what="web-1 back",
    )
    assert back.spec.node_name == nodes[1]
    # The old pod may have restarted the killed container before the delete:
    # two or three starts, all web-1, all on the same volume.
    log = (data / "log").read_text().split()
    assert len(log) >= 2 and set(log) == {"web-1"}

    # scale 3 -> 5 -> 2, in order
    watch.stop()
    watch = Watcher(client, ns, "web")
    client.stateful_sets(ns).scale("web", 5)
    wait_ready(client, ns, "web", [f"web-{i}" for i in range(5)])
    assert watch.saw("ADDED", ["web-3", "web-4"])[-2:] == ["web-3", "web-4"]
    client.stateful_sets(ns).scale("web", 2)
    wait_ready(client, ns, "web", ["web-0", "web-1"])
    assert watch.saw("DELETED", ["web-2", "web-3", "web-4"]) == ["web-4", "web-3", "web-2"]
    watch.stop()
    # whenScaled=Retain: the claims stay
    claims = {c.metadata.name for c in client.persistent_volume_claims(ns).list().items}
    assert claims == {f"data-web-{i}" for i in range(5)}


def test_retention_when_scaled_delete_and_deletion(
    cluster_client: Client, cluster_namespace: str
) -> None:
    client, ns = cluster_client, cluster_namespace
    policy = {"whenScaled": "Delete", "whenDeleted": "Delete"}
    client.stateful_sets(ns).create(
        sts("ret", persistentVolumeClaimRetentionPolicy=policy, podManagementPolicy="Parallel")
    )
    wait_ready(client, ns, "ret", ["ret-0", "ret-1", "ret-2"])
    dirs = {i: pv_dir(client, ns, f"data-ret-{i}") for i in range(3)}
    client.stateful_sets(ns).scale("ret", 1)
    wait_for(
        lambda: (
            {c.metadata.name for c in client.persistent_volume_claims(ns).list().items}
            == {"data-ret-0"}
        ),
        what="only claim 0 left",
    )
    # the released volumes are deleted and their directories removed
    wait_for(lambda: not dirs[1].exists() and not dirs[2].exists(), timeout=30, what="dirs gone")
    assert dirs[0].exists()
    # whenDeleted=Delete: deleting the set deletes its pods and claims
    client.stateful_sets(ns).delete("ret")
    wait_for(
        lambda: (
            not client.pods(ns).list().items
            and not client.persistent_volume_claims(ns).list().items
        ),
        what="pods and claims gone",
    )


def test_halts_while_a_pod_is_unhealthy(cluster_client: Client, cluster_namespace: str) -> None:
    client, ns = cluster_client, cluster_namespace
    client.stateful_sets(ns).create(sts("halt", 1))
    wait_ready(client, ns, "halt", ["halt-0"])
    (pv_dir(client, ns, "data-halt-0") / "unhealthy").touch()
    wait_for(lambda: not ready_names(client, ns, "halt"), what="halt-0 unready")
    client.stateful_sets(ns).scale("halt", 3)
    stays(lambda: pod_names(client, ns, "halt") == ["halt-0"], 3, "only halt-0")
    (pv_dir(client, ns, "data-halt-0") / "unhealthy").unlink()
    wait_ready(client, ns, "halt", ["halt-0", "halt-1", "halt-2"])


def test_parallel_burst(cluster_client: Client, cluster_namespace: str) -> None:
    client, ns = cluster_client, cluster_namespace
    never_ready = "exec sleep 3600"
    client.stateful_sets(ns).create(
        sts("burst", 3, volumes=False, script=never_ready, podManagementPolicy="Parallel")
    )
    wait_for(
        lambda: pod_names(client, ns, "burst") == ["burst-0", "burst-1", "burst-2"],
        what="all three created without waiting for readiness",
    )
    assert ready_names(client, ns, "burst") == []


def _set_env(client: Client, ns: str, name: str, value: str, **strategy: Any) -> None:
    for _ in range(5):
        s = client.stateful_sets(ns).get(name)
        s.spec.template.spec.containers[0].env[0].value = value
        if strategy:
            s.spec.update_strategy.CopyFrom(
                codec.from_dict(statefulset_pb2.StatefulSetUpdateStrategy, strategy)
            )
        try:
            client.stateful_sets(ns).update(s)
            return
        except errors.Conflict:
            continue
    raise AssertionError("could not update")


def _versions(client: Client, ns: str, app: str) -> dict[str, str]:
    return {
        p.metadata.name: p.spec.containers[0].env[0].value
        for p in client.pods(ns).list(label_selector=f"app={app}").items
        if not p.metadata.deletion_timestamp
    }


def test_rolling_update_partition_and_rollback(
    cluster_client: Client, cluster_namespace: str
) -> None:
    client, ns = cluster_client, cluster_namespace
    client.stateful_sets(ns).create(sts("ru", 3, volumes=False))
    first = wait_settled(client, ns, "ru").status.current_revision
    # canary: partition 2 updates only ru-2
    _set_env(client, ns, "ru", "v2", type="RollingUpdate", rollingUpdate={"partition": 2})
    wait_for(
        lambda: (
            _versions(client, ns, "ru") == {"ru-0": "v1", "ru-1": "v1", "ru-2": "v2"}
            and len(ready_names(client, ns, "ru")) == 3
        ),
        what="canary",
    )
    s = client.stateful_sets(ns).get("ru")
    assert s.status.current_revision == first != s.status.update_revision
    second = s.status.update_revision
    # phased rollout: partition 0, in reverse ordinal order
    watch = Watcher(client, ns, "ru")
    # A patch, as kubectl would: the controller may write status meanwhile.
    client.stateful_sets(ns).patch(
        "ru", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}
    )
    wait_for(
        lambda: (
            set(_versions(client, ns, "ru").values()) == {"v2"}
            and len(ready_names(client, ns, "ru")) == 3
        ),
        what="all v2",
    )
    watch.stop()
    assert watch.saw("DELETED", ["ru-1", "ru-0"]) == ["ru-1", "ru-0"]
    assert wait_settled(client, ns, "ru").status.current_revision == second
    # rollback: the first template again reuses the first revision
    _set_env(client, ns, "ru", "v1")
    wait_for(
        lambda: (
            set(_versions(client, ns, "ru").values()) == {"v1"}
            and len(ready_names(client, ns, "ru")) == 3
        ),
        what="all back to v1",
    )
    s = wait_settled(client, ns, "ru")
    assert s.status.update_revision == first
    revs = client.controller_revisions(ns).list().items
    assert {r.metadata.name: r.revision for r in revs} == {first: 3, second: 2}


def test_on_delete(cluster_client: Client, cluster_namespace: str) -> None:
    client, ns = cluster_client, cluster_namespace
    client.stateful_sets(ns).create(
        sts("od", 2, volumes=False, updateStrategy={"type": "OnDelete"})
    )
    wait_ready(client, ns, "od", ["od-0", "od-1"])
    _set_env(client, ns, "od", "v2")
    wait_for(
        lambda: (
            (s := client.stateful_sets(ns).get("od")).status.update_revision
            != s.status.current_revision
        ),
        what="new update revision",
    )
    stays(lambda: set(_versions(client, ns, "od").values()) == {"v1"}, 2, "pods untouched")
    client.pods(ns).delete("od-1")
    wait_for(
        lambda: (
            _versions(client, ns, "od") == {"od-0": "v1", "od-1": "v2"}
            and len(ready_names(client, ns, "od")) == 2
        ),
        what="od-1 updated on delete",
    )


def test_adoption_and_release(cluster_client: Client, cluster_namespace: str) -> None:
    client, ns = cluster_client, cluster_namespace
    orphan = codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "ad-0", "labels": {"app": "ad"}},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "app", "image": "x", "command": ["sleep", "3600"]}],
            },
        },
    )
    client.pods(ns).create(orphan)
    # OnDelete: an adopted pod lacks the revision label, and RollingUpdate
    # would replace it (as Kubernetes does) while this test looks at it.
    made = client.stateful_sets(ns).create(
        sts("ad", 1, volumes=False, updateStrategy={"type": "OnDelete"})
    )
    wait_for(
        lambda: any(
            r.uid == made.metadata.uid and r.controller
            for r in client.pods(ns).get("ad-0").metadata.owner_references
        ),
        what="ad-0 adopted",
    )
    p = client.pods(ns).get("ad-0")
    client.pods(ns).patch("ad-0", {"metadata": {"labels": {"app": "other"}}})
    wait_for(
        lambda: not client.pods(ns).get("ad-0").metadata.owner_references, what="ad-0 released"
    )
    assert client.pods(ns).get("ad-0").metadata.uid == p.metadata.uid


def test_recreated_after_an_orphaning_delete_adopts_pods_and_history(
    cluster_client: Client, cluster_namespace: str
) -> None:
    """`delete statefulset --cascade=orphan`, then create it again: the new
    set adopts the pods and the ControllerRevisions (their numbers kept) and
    restarts no pod, as they are at its update revision."""
    client, ns = cluster_client, cluster_namespace
    sets, revs = client.stateful_sets(ns), client.controller_revisions(ns)
    sets.create(sts("oa", 2, volumes=False, updateStrategy={"type": "OnDelete"}))
    wait_ready(client, ns, "oa", ["oa-0", "oa-1"])
    # Revisions 1 (v1), 2 (v2), then v1 again: renumbered 3; the pods stay at v1.
    for env, top in (("v2", 2), ("v1", 3)):
        _set_env(client, ns, "oa", env)
        wait_for(
            lambda t=top: max((r.revision for r in revs.list().items), default=0) == t,
            what=f"revision {top}",
        )
    first = wait_settled(client, ns, "oa")
    pods = {p.metadata.name: p.metadata.uid for p in client.pods(ns).list().items}
    history = {r.metadata.name: (r.metadata.uid, r.revision) for r in revs.list().items}
    assert sorted(n for _, n in history.values()) == [2, 3]
    sets.delete("oa", propagation_policy="Orphan")
    wait_for(
        lambda: (
            not sets.list().items
            and not any(r.metadata.owner_references for r in revs.list().items)
        ),
        what="the set gone, its revisions orphaned",
    )
    again = sets.create(sts("oa", 2, volumes=False))  # RollingUpdate
    settled = wait_settled(client, ns, "oa")
    assert settled.status.update_revision == first.status.update_revision
    wait_for(
        lambda: all(
            [r.uid for r in rev.metadata.owner_references] == [again.metadata.uid]
            for rev in revs.list().items
        ),
        what="revisions adopted",
    )
    assert {p.metadata.name: p.metadata.uid for p in client.pods(ns).list().items} == pods
    assert {r.metadata.name: (r.metadata.uid, r.revision) for r in revs.list().items} == history

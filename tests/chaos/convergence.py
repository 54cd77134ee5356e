"""Whether every workload of the run has converged to its spec, as a list of
what still differs (empty: converged). The engine waits on it after the
last fault; the ``converged`` invariant reports what is left after that
wait. Pure: it reads listed objects only.

Converged means, with every node Ready and untainted:

* a Deployment: its status observed the latest generation and counts
  exactly ``spec.replicas`` replicas, updated, ready and available; one
  ReplicaSet of it runs pods (the others are at 0), and its pods are
  exactly ``spec.replicas`` active pods of that ReplicaSet, Running and
  Ready;
* a StatefulSet: ``spec.replicas`` ready, current and updated replicas,
  currentRevision == updateRevision, and its pods are exactly
  ``<name>-0`` … ``<name>-(replicas-1)``, Running and Ready;
* a DaemonSet: one Running, Ready, updated pod on every node and the
  status saying so;
* a Job: Complete or Failed, nothing active or uncounted;
* and no pod of the namespace is being deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controllers.controllerref import controller_ref
from pinnace.machinery.conditions import is_true
from pinnace.machinery.podutil import is_pod_active, is_pod_ready
from pinnace.machinery.wellknown import JOB_COMPLETE, JOB_FAILED, NODE_READY

__all__ = ["WORKLOAD_RESOURCES", "problems"]

WORKLOAD_RESOURCES = ("pods", "replicasets", "deployments", "statefulsets", "daemonsets", "jobs")


def owned(objects: Iterable[Any], owner: Any) -> list[Any]:
    """The objects whose controller is ``owner`` (by uid)."""
    uid = owner.metadata.uid
    out = []
    for obj in objects:
        ref = controller_ref(obj)
        if ref is not None and ref.uid == uid:
            out.append(obj)
    return out


def running_and_ready(pod: Any) -> bool:
    return is_pod_active(pod) and pod.status.phase == "Running" and is_pod_ready(pod)


def node_problems(nodes: Iterable[Any]) -> list[str]:
    out = []
    for node in nodes:
        name = node.metadata.name
        if not is_true(node.status.conditions, NODE_READY):
            out.append(f"node {name} not Ready")
        if len(node.spec.taints):
            out.append(f"node {name} tainted {[t.key for t in node.spec.taints]}")
    return out


def deployment_problems(d: Any, replica_sets: list[Any], pods: list[Any]) -> list[str]:
    name, want, st = f"deployment {d.metadata.name}", d.spec.replicas, d.status
    if st.observed_generation < d.metadata.generation:
        return [f"{name}: generation {d.metadata.generation} not observed"]
    counts = (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas)
    out = []
    if counts != (want,) * 4:
        out.append(f"{name}: replicas/updated/ready/available {counts}, want {want}")
    mine = owned(replica_sets, d)
    running = [rs for rs in mine if rs.spec.replicas > 0]
    if want and len(running) != 1:
        out.append(f"{name}: {len(running)} ReplicaSets with replicas")
    live = {rs.metadata.uid for rs in running}
    active = [p for rs in mine for p in owned(pods, rs) if is_pod_active(p)]
    if len(active) != want:
        out.append(f"{name}: {len(active)} active pods, want {want}")
    for p in active:
        if not running_and_ready(p) or controller_ref(p).uid not in live:  # type: ignore[union-attr]  # owned: has one
            out.append(
                f"{name}: pod {p.metadata.name} {p.status.phase} not of the new ReplicaSet or not ready"
            )
    return out


def statefulset_problems(sts: Any, pods: list[Any]) -> list[str]:
    name, want, st = f"statefulset {sts.metadata.name}", sts.spec.replicas, sts.status
    if st.observed_generation < sts.metadata.generation:
        return [f"{name}: generation {sts.metadata.generation} not observed"]
    out = []
    counts = (st.replicas, st.ready_replicas, st.current_replicas, st.updated_replicas)
    if counts != (want,) * 4:
        out.append(f"{name}: replicas/ready/current/updated {counts}, want {want}")
    if st.current_revision != st.update_revision:
        out.append(f"{name}: currentRevision {st.current_revision} != {st.update_revision}")
    active = [p for p in owned(pods, sts) if is_pod_active(p)]
    names = sorted(p.metadata.name for p in active)
    if names != sorted(f"{sts.metadata.name}-{i}" for i in range(want)):
        out.append(f"{name}: pods {names}")
    out += [f"{name}: pod {p.metadata.name} not ready" for p in active if not running_and_ready(p)]
    return out


def daemonset_problems(ds: Any, pods: list[Any], nodes: list[str]) -> list[str]:
    name, st, n = f"daemonset {ds.metadata.name}", ds.status, len(nodes)
    if st.observed_generation < ds.metadata.generation:
        return [f"{name}: generation {ds.metadata.generation} not observed"]
    out = []
    counts = (
        st.desired_number_scheduled,
        st.current_number_scheduled,
        st.updated_number_scheduled,
        st.number_ready,
        st.number_available,
    )
    if counts != (n,) * 5 or st.number_misscheduled:
        out.append(f"{name}: desired/current/updated/ready/available {counts}, want {n}")
    active = [p for p in owned(pods, ds) if is_pod_active(p)]
    on = sorted(p.spec.node_name for p in active)
    if on != sorted(nodes):
        out.append(f"{name}: pods on {on}, want one on each of {sorted(nodes)}")
    out += [f"{name}: pod {p.metadata.name} not ready" for p in active if not running_and_ready(p)]
    return out


def job_problems(job: Any, pods: list[Any]) -> list[str]:
    name, st = f"job {job.metadata.name}", job.status
    finished = is_true(st.conditions, JOB_COMPLETE) or is_true(st.conditions, JOB_FAILED)
    out = [] if finished else [f"{name}: not finished"]
    uncounted = st.uncounted_terminated_pods
    if st.active or len(uncounted.succeeded) or len(uncounted.failed):
        out.append(
            f"{name}: active {st.active}, uncounted {list(uncounted.succeeded)} {list(uncounted.failed)}"
        )
    active = [p.metadata.name for p in owned(pods, job) if is_pod_active(p)]
    if finished and active:
        out.append(f"{name}: finished with active pods {active}")
    return out


def problems(objects: Mapping[str, list[Any]], nodes: list[Any]) -> list[str]:
    """What differs from converged (see the module docstring), for the
    namespace's ``objects`` (resource → list) and the cluster's nodes."""
    pods = objects.get("pods", [])
    out = node_problems(nodes)
    names = [n.metadata.name for n in nodes]
    for d in objects.get("deployments", []):
        out += deployment_problems(d, objects.get("replicasets", []), pods)
    for sts in objects.get("statefulsets", []):
        out += statefulset_problems(sts, pods)
    for ds in objects.get("daemonsets", []):
        out += daemonset_problems(ds, pods, names)
    for job in objects.get("jobs", []):
        out += job_problems(job, pods)
    out += [f"pod {p.metadata.name} being deleted" for p in pods if p.metadata.deletion_timestamp]
    return out

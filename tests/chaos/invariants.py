"""The invariants of a chaos run: pure functions of what was recorded
(history.py) and what was read after convergence (state.py), each
returning a ``Verdict`` (how many individual checks it made, and every
violation in words). ``INVARIANTS`` is the table the engine runs.

**deployment-bounds** (Kubernetes' RollingUpdate promise, as
deployment.md puts it: at most ``replicas + maxSurge`` pods, at least
``replicas - maxUnavailable`` available). Counted as Kubernetes' own
controller counts them: the surge on the ReplicaSets' ``spec.replicas``
summed (``NewRSNewReplicas`` scales the new ReplicaSet up only while
``GetReplicaCountForReplicaSets`` stays within the bound), availability
on the pods (active, i.e. neither terminal nor being deleted, and Ready;
the run's Deployments have minReadySeconds 0). Pods themselves may
outnumber that sum for the moment between a ReplicaSet being scaled down
and its controller marking a pod for deletion (seen: a new ReplicaSet
scaled up in those 40 ms, six pods for a bound of five), which
Kubernetes allows too; a ReplicaSet that makes pods beyond its spec is
the replicaset-creations invariant's. The promise is about what the
controllers *do* against the spec *of the moment*, so the check replays
the history in resourceVersion order
(timeline.py) and, for each Deployment, checks every state inside a
window:

* a window ends when the bounds change (spec.replicas, maxSurge,
  maxUnavailable: a scale or a strategy change) and at a RELIST of a
  resource the check reads (the states in the gap are unknown);
* the lower bound is also disarmed while any node is down: a down
  node's pods are made unready or evicted by the node controller, an
  involuntary disruption no bound covers (whether a node went down only
  when it should have is the node-verdicts invariant's business). The
  upper bound stays: a down node's pods count until they are evicted,
  and Kubernetes replaces them only then. A node is down while it is not
  Ready, and after that while any pod on it still carries the node
  controller's verdict (Ready False with ContainersReady True: the
  kubelet writes the two together, the node controller's
  MarkPodsNotReady only the first, and its writes may land after the
  node is Ready again);
* a bound is armed once it holds inside the window while the controllers
  have caught up with the spec (the Deployment's and each of its
  ReplicaSets' status.observedGeneration at their generation), and from
  then on it must keep holding until the window ends. Until they have
  caught up, what lands may have been decided under the previous spec (a
  scale from 2 to 1 and straight back to 2: the ReplicaSet controller's
  delete for 1 lands after the Deployment asks for 2 again).

So a template change (a rollout) never ends a window — the rollout is
what the bounds are for — while after a scale from 2 to 4 the lower bound
is armed only once 3 pods are available (Kubernetes does not promise
that new replicas are available at once), and after a scale from 4 to 2
the upper bound only once the surplus is deleted. Proportional scaling
in the middle of a rollout is covered the same way: new bounds, new
window. The alternative, checking every state against the spec of the
moment, would flag every scale-down in the instant before the
controllers react; checking only whole windows of an unchanged spec
would skip rollouts started by the same operation.

**replicaset-creations**: a ReplicaSet's controller never creates a pod
while the ReplicaSet already has ``spec.replicas`` active pods (a second
leader acting on a stale cache would), unless its ``spec.replicas`` was
lowered less than ``SCALE_DOWN_RACE`` seconds before (a create decided
just before the scale-down, which Kubernetes allows and then undoes), or
an apiserver or etcd fault was on (or had ended less than
``SCALE_DOWN_RACE`` seconds before): a create whose answer was lost
(its apiserver died mid-call, etcd timed out after committing) is, as in
Kubernetes' ReplicaSet controller, counted as not made and made again,
and the surplus deleted once seen (the chaos suite saw exactly that on
an apiserver kill).

**statefulset-identity**: no sample of the node's processes (taken every
``SAMPLE_INTERVAL`` by the recorder) shows processes of two different pod
uids for one StatefulSet pod name. A partitioned node's pod is not
replaced until its kubelet confirms it gone, so this must hold even then.

**job-counting**: every finished Job counted each of its pods once: its
``succeeded`` and ``failed`` equal the numbers of its pods that reached
Succeeded or Failed while carrying the ``batch.kubernetes.io/job-tracking``
finalizer (a pod the controller stops on purpose loses the finalizer
first and is no failure), and the counters never went down.

**node-verdicts**: a node is not Ready only while (or ``VERDICT_MARGIN``
seconds after) a fault that keeps its kubelet from the control plane:
its own kubelet killed or paused, its partition, or an apiserver or etcd
fault (the kubelet's renewals wait for them). A controller-manager or
scheduler fault, or nothing, never makes a node NotReady or Unknown.
Node events are placed by their arrival time (``at``, the clock of the
fault records): the recorder's watch delivers within milliseconds unless
an apiserver fault holds it back, and that fault excuses the verdict
anyway.

**watch-order**: per resource, in the order they arrived, watch events
have strictly increasing resourceVersions (a resumed watch repeats and
skips nothing it can see), and a relist is never behind what was seen.

**history-matches-final**: the history replayed to each final list's
resourceVersion gives exactly that list (no event was lost).

**converged**, **no-orphan-processes**, **running-has-process**,
**caches-equal-etcd**: on the final state, see each function.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from controllers.controllerref import controller_ref
from controllers.deployment.util import max_surge, max_unavailable
from pinnace.machinery.conditions import find_condition, is_true
from pinnace.machinery.podutil import is_pod_active, is_pod_ready, is_pod_terminal
from pinnace.machinery.wellknown import (
    FINALIZER_JOB_TRACKING,
    JOB_COMPLETE,
    JOB_FAILED,
    NODE_READY,
    POD_CONTAINERS_READY,
    POD_READY,
)
from tests.chaos import convergence
from tests.chaos.history import RELIST, WATCH_TYPES, FaultRecord, History, Recorded
from tests.chaos.state import FinalState, Wrapper
from tests.chaos.timeline import World, ordered, replay

__all__ = ["INVARIANTS", "Verdict", "check_all"]


@dataclass(frozen=True)
class Verdict:
    invariant: str
    checks: int
    violations: tuple[str, ...] = ()
    inconclusive: int = 0  # checks that could not be decided (a gap in the history)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class _Tally:
    checks: int = 0
    inconclusive: int = 0
    violations: list[str] = field(default_factory=list)

    def verdict(self, name: str) -> Verdict:
        return Verdict(name, self.checks, tuple(self.violations), self.inconclusive)


def _when(ev: Recorded) -> str:
    return f"rv {ev.rv}, t={ev.at:.1f}s"


# ---- deployment-bounds ---------------------------------------------------------------

BOUNDS_READS = ("pods", "replicasets", "deployments", "nodes")


@dataclass
class _Window:
    bounds: tuple[int, int, int] = (-1, -1, -1)  # replicas, maxSurge, maxUnavailable
    upper: bool = False  # armed: the upper bound held in this window
    lower: bool = False
    over: bool = False  # inside a reported excursion (reported once)
    under: bool = False


def marked_by_node_controller(pod: Any) -> bool:
    """The node controller's verdict on a pod: Ready False, ContainersReady True."""
    conds = pod.status.conditions
    ready = find_condition(conds, POD_READY)
    return ready is not None and ready.status == "False" and is_true(conds, POD_CONTAINERS_READY)


def _all_nodes_up(world: World) -> bool:
    nodes = world.of("nodes").values()
    if not nodes or not all(is_true(n.status.conditions, NODE_READY) for n in nodes):
        return False
    return not any(
        marked_by_node_controller(p) for p in world.of("pods").values() if not is_pod_terminal(p)
    )


def _owned_by(obj: Any, kind: str) -> str | None:
    ref = controller_ref(obj)
    return ref.uid if ref is not None and ref.kind == kind else None


@dataclass
class _Counts:
    """One Deployment at one moment, as the bounds check reads it."""

    asked: int = 0  # its ReplicaSets' spec.replicas summed
    active: int = 0  # its active pods
    available: int = 0  # its active, Ready pods
    caught_up: bool = True  # it and its ReplicaSets observed their generation


def _caught_up(obj: Any) -> bool:
    return bool(obj.status.observed_generation >= obj.metadata.generation)


def _deployment_counts(world: World) -> dict[str, _Counts]:
    """Deployment uid → what the bounds check reads of it."""
    counts = {uid: _Counts(caught_up=_caught_up(d)) for uid, d in world.of("deployments").items()}
    rs_owner = {}
    for uid, rs in world.of("replicasets").items():
        owner = _owned_by(rs, "Deployment")
        if owner in counts:
            rs_owner[uid] = counts[owner]
            counts[owner].asked += rs.spec.replicas
            counts[owner].caught_up &= _caught_up(rs)
    for pod in world.of("pods").values():
        rs = _owned_by(pod, "ReplicaSet")
        c = rs_owner.get(rs) if rs is not None else None
        if c is not None and is_pod_active(pod):
            c.active += 1
            c.available += is_pod_ready(pod)
    return counts


def deployment_bounds(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    windows: dict[str, _Window] = {}
    for ev, world in replay(history):
        if ev.resource not in BOUNDS_READS or not all(world.known(r) for r in BOUNDS_READS):
            continue
        gap, down = ev.type == RELIST, not _all_nodes_up(world)
        counts = _deployment_counts(world)
        for uid, d in world.of("deployments").items():
            bounds = (d.spec.replicas, max_surge(d), max_unavailable(d))
            w = windows.get(uid)
            if w is None or gap or bounds != w.bounds or d.metadata.deletion_timestamp:
                w = windows[uid] = _Window(bounds)
            if gap or d.metadata.deletion_timestamp:
                continue
            if down:  # availability is the node controller's business now
                w.lower = w.under = False
            c = counts[uid]
            total, active, available = c.asked, c.active, c.available
            high, low = bounds[0] + bounds[1], bounds[0] - bounds[2]
            tally.checks += 1
            name = d.metadata.name
            if w.upper and total > high and not w.over:
                tally.violations.append(
                    f"deployment {name}: its ReplicaSets ask for {total} pods ({active} active) "
                    f"> replicas {bounds[0]} + maxSurge {bounds[1]} ({_when(ev)})"
                )
            if w.lower and available < low and not w.under:
                tally.violations.append(
                    f"deployment {name}: {available} available < replicas {bounds[0]} - "
                    f"maxUnavailable {bounds[2]} ({_when(ev)})"
                )
            w.over, w.under = w.upper and total > high, w.lower and available < low
            w.upper = w.upper or (c.caught_up and total <= high)
            w.lower = not down and (w.lower or (c.caught_up and available >= low))
    return tally.verdict("deployment-bounds")


# ---- replicaset-creations ----------------------------------------------------------------

SCALE_DOWN_RACE = 2.0  # seconds: a create decided before a scale-down may land after it


def replicaset_creations(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    lowered: dict[str, float] = {}  # ReplicaSet uid → when its spec.replicas last went down
    specs: dict[str, int] = {}
    for ev, world in replay(history):
        for rs in (ev.objects if ev.is_list else (ev.obj,)) if ev.resource == "replicasets" else ():
            uid, replicas = rs.metadata.uid, rs.spec.replicas
            if replicas < specs.get(uid, replicas):
                lowered[uid] = ev.at
            specs[uid] = replicas
        if ev.resource != "pods" or ev.type != "ADDED" or not world.known("replicasets"):
            continue
        rs_uid = _owned_by(ev.obj, "ReplicaSet")
        rs = world.of("replicasets").get(rs_uid) if rs_uid is not None else None
        if rs is None:
            continue
        tally.checks += 1
        active = sum(
            _owned_by(p, "ReplicaSet") == rs_uid and is_pod_active(p)
            for p in world.of("pods").values()
        )
        if (
            active > rs.spec.replicas
            and ev.at - lowered.get(rs_uid, -1e9) >= SCALE_DOWN_RACE
            and not _fault_near(ev.at, history.faults, CONTROL_PLANE_FAULTS, SCALE_DOWN_RACE)
        ):
            tally.violations.append(
                f"replicaset {rs.metadata.name}: pod {ev.obj.metadata.name} made {active} "
                f"active pods for spec.replicas {rs.spec.replicas} ({_when(ev)})"
            )
    return tally.verdict("replicaset-creations")


# ---- statefulset-identity ------------------------------------------------------------


def _controllers(history: History) -> dict[str, tuple[str, str]]:
    """Pod uid → (kind, name) of its controller, from every pod recorded."""
    out = {}
    for ev in history.events:
        if ev.resource != "pods":
            continue
        for pod in ev.objects if ev.is_list else (ev.obj,):
            ref = controller_ref(pod)
            if ref is not None:
                out[pod.metadata.uid] = (ref.kind, ref.name)
    return out


def statefulset_identity(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    owners = _controllers(history)
    reported: set[tuple[str, str, frozenset[str]]] = set()
    for sample in history.samples:
        uids: dict[tuple[str, str], set[str]] = defaultdict(set)
        for proc in sample.processes:
            if owners.get(proc.uid, ("", ""))[0] == "StatefulSet":
                uids[(proc.namespace, proc.name)].add(proc.uid)
        tally.checks += len(uids)
        for (ns, name), seen in uids.items():
            key = (ns, name, frozenset(seen))
            if len(seen) > 1 and key not in reported:
                reported.add(key)
                nodes = sorted({p.node for p in sample.processes if p.uid in seen})
                tally.violations.append(
                    f"statefulset pod {ns}/{name}: processes of {len(seen)} pods "
                    f"({sorted(seen)}) at once on {nodes} (t={sample.at:.1f}s)"
                )
    return tally.verdict("statefulset-identity")


# ---- job-counting --------------------------------------------------------------------


@dataclass
class _JobSeen:
    last: Any = None  # the Job as last seen (DELETED: as deleted)
    counters: list[tuple[int, int, str]] = field(default_factory=list)  # succeeded, failed, rv


def _finished(job: Any) -> bool:
    return is_true(job.status.conditions, JOB_COMPLETE) or is_true(
        job.status.conditions, JOB_FAILED
    )


def job_counting(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    jobs: dict[str, _JobSeen] = defaultdict(_JobSeen)
    pod_job: dict[str, str] = {}
    # pod uid → (phase, carried the finalizer, first seen terminal in a (re)list)
    first_terminal: dict[str, tuple[str, bool, bool]] = {}
    for ev in ordered(history):
        for obj in ev.objects if ev.is_list else (ev.obj,):
            uid = obj.metadata.uid
            if ev.resource == "jobs":
                seen = jobs[uid]
                seen.last = obj
                seen.counters.append((obj.status.succeeded, obj.status.failed, str(ev.rv)))
            elif ev.resource == "pods":
                ref = controller_ref(obj)
                if ref is not None and ref.kind == "Job":
                    pod_job[uid] = ref.uid
                if is_pod_terminal(obj) and uid not in first_terminal:
                    tracked = FINALIZER_JOB_TRACKING in obj.metadata.finalizers
                    first_terminal[uid] = (obj.status.phase, tracked, ev.is_list)
    pods_of: dict[str, list[str]] = defaultdict(list)
    for pod, job in pod_job.items():
        pods_of[job].append(pod)
    for uid, seen in jobs.items():
        job = seen.last
        name = job.metadata.name
        for (s0, f0, _), (s1, f1, rv) in zip(seen.counters, seen.counters[1:], strict=False):
            if s1 < s0 or f1 < f0:
                tally.violations.append(
                    f"job {name}: counters went down ({s0},{f0}) → ({s1},{f1}) at rv {rv}"
                )
        uncounted = job.status.uncounted_terminated_pods
        if not _finished(job) or len(uncounted.succeeded) or len(uncounted.failed):
            tally.inconclusive += 1  # not finished: the converged invariant says so
            continue
        ends = [first_terminal[p] for p in pods_of[uid] if p in first_terminal]
        if any(listed and not tracked for _, tracked, listed in ends):
            tally.inconclusive += 1  # first seen finished in a relist, finalizer gone: unknown
            continue
        want = (
            sum(phase == "Succeeded" and tracked for phase, tracked, _ in ends),
            sum(phase == "Failed" and tracked for phase, tracked, _ in ends),
        )
        tally.checks += 1
        got = (job.status.succeeded, job.status.failed)
        if got != want:
            tally.violations.append(
                f"job {name}: succeeded/failed {got}, but {want} of its {len(pods_of[uid])} "
                "pods finished carrying the tracking finalizer"
            )
    return tally.verdict("job-counting")


# ---- node-verdicts -----------------------------------------------------------------------

VERDICT_MARGIN = 5.0  # seconds after a fault in which its node verdicts may still land
# Faults that keep a kubelet from the control plane: on its own node, or on any.
NODE_FAULTS = ("kill kubelet", "pause kubelet", "partition node")
CONTROL_PLANE_FAULTS = ("kill apiserver", "pause apiserver", "kill etcd", "pause etcd")


def _fault_near(
    at: float, faults: Iterable[FaultRecord], kinds: Iterable[str], margin: float, *targets: str
) -> bool:
    """Whether a fault of one of ``kinds`` (on one of ``targets``, if given)
    was on at ``at``, or had ended less than ``margin`` seconds before."""
    return any(
        f.kind in kinds and f.start <= at <= f.end + margin and (not targets or f.target in targets)
        for f in faults
    )


def _excused(node: str, at: float, faults: Iterable[FaultRecord]) -> bool:
    return _fault_near(at, faults, CONTROL_PLANE_FAULTS, VERDICT_MARGIN) or _fault_near(
        at, faults, NODE_FAULTS, VERDICT_MARGIN, node, f"kubelet-{node}"
    )


def node_verdicts(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    reported: set[str] = set()
    for ev in history.events:
        if ev.resource != "nodes" or ev.type not in WATCH_TYPES:
            continue
        node, ready = ev.obj.metadata.name, find_condition(ev.obj.status.conditions, NODE_READY)
        tally.checks += 1
        if ready is None or ready.status == "True" or ev.type == "DELETED":
            reported.discard(node)
            continue
        if not _excused(node, ev.at, history.faults) and node not in reported:
            reported.add(node)  # once per spell of NotReady
            tally.violations.append(
                f"node {node}: Ready {ready.status} ({ready.reason}) at t={ev.at:.1f}s with no "
                "fault that keeps its kubelet from the control plane"
            )
    return tally.verdict("node-verdicts")


# ---- watch-order and history-matches-final -------------------------------------------------


def watch_order(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    last: dict[str, int] = {}
    for ev in history.events:
        tally.checks += 1
        before = last.get(ev.resource, 0)
        if ev.type in WATCH_TYPES and ev.rv <= before:
            tally.violations.append(
                f"{ev.resource}: {ev.type} at rv {ev.rv} after rv {before} was seen (seq {ev.seq})"
            )
        elif ev.is_list and ev.rv < before:
            tally.violations.append(f"{ev.resource}: {ev.type} at rv {ev.rv} behind rv {before}")
        last[ev.resource] = max(before, ev.rv)
    return tally.verdict("watch-order")


def _pairs(objects: Iterable[Any]) -> set[tuple[str, str]]:
    return {(o.metadata.uid, o.metadata.resource_version) for o in objects}


def history_matches_final(history: History, final: FinalState) -> Verdict:
    tally = _Tally()
    for resource, listed in final.listed.items():
        world = World()
        for ev in ordered(history):
            if ev.resource == resource and ev.rv <= listed.rv:
                world.apply(ev)
        tally.checks += 1
        replayed, want = _pairs(world.of(resource).values()), _pairs(listed.objects)
        if replayed != want:
            tally.violations.append(
                f"{resource}: the history replayed to rv {listed.rv} has {sorted(replayed - want)} "
                f"instead of {sorted(want - replayed)}"
            )
    return tally.verdict("history-matches-final")


# ---- on the final state ---------------------------------------------------------------


def converged(history: History, final: FinalState) -> Verdict:
    """Every workload at its spec (convergence.py) once the run's deadline for it passed."""
    objects = {r: final.objects(r) for r in convergence.WORKLOAD_RESOURCES}
    workloads = sum(len(objects[r]) for r in ("deployments", "statefulsets", "daemonsets", "jobs"))
    left = convergence.problems(objects, final.nodes)
    return Verdict("converged", workloads + len(final.nodes), tuple(left))


def no_orphan_processes(history: History, final: FinalState) -> Verdict:
    """Every process carrying a pod's directory belongs to a pod object bound to its node."""
    nodes = {p.metadata.uid: p.spec.node_name for p in final.all_pods}
    bad = [
        f"pid {proc.pid} of pod {proc.namespace}/{proc.name} ({proc.uid}) on {proc.node}: "
        + ("no such pod" if proc.uid not in nodes else f"the pod is on {nodes[proc.uid]!r}")
        for proc in final.processes
        if nodes.get(proc.uid) != proc.node
    ]
    return Verdict("no-orphan-processes", len(final.processes), tuple(bad))


def running_has_process(history: History, final: FinalState) -> Verdict:
    """Every container a pod reports running has its live wrapper (pid) on the pod's node."""
    alive = set(final.wrappers)
    checks, bad = 0, []
    for pod in final.all_pods:
        if pod.status.phase != "Running":
            continue
        for cs in pod.status.container_statuses:
            if not cs.state.HasField("running"):
                continue
            checks += 1
            want = Wrapper(pod.spec.node_name, pod.metadata.uid, cs.name, cs.restart_count)
            if want not in alive:
                bad.append(
                    f"pod {pod.metadata.namespace}/{pod.metadata.name} reports {cs.name} "
                    f"running (attempt {cs.restart_count}) on {pod.spec.node_name}, no process"
                )
    return Verdict("running-has-process", checks, tuple(bad))


def caches_equal_etcd(history: History, final: FinalState) -> Verdict:
    """Every informer cache and apiserver watch cache equals etcd at its resourceVersion."""
    bad = []
    for c in final.caches:
        where = f"{c.component} {c.cache} at rv {c.rv}"
        if c.error:
            bad.append(f"{where}: {c.error}")
        elif c.digest != c.etcd_digest:
            bad.append(
                f"{where}: {c.count} objects, etcd {c.etcd_count}; differ: {list(c.difference)}"
            )
    return Verdict("caches-equal-etcd", len(final.caches), tuple(bad))


Check = Callable[[History, FinalState], Verdict]
INVARIANTS: tuple[Check, ...] = (
    converged,
    deployment_bounds,
    replicaset_creations,
    node_verdicts,
    statefulset_identity,
    job_counting,
    no_orphan_processes,
    running_has_process,
    caches_equal_etcd,
    watch_order,
    history_matches_final,
)


def check_all(history: History, final: FinalState) -> list[Verdict]:
    return [check(history, final) for check in INVARIANTS]

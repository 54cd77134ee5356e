"""What a chaos run recorded: every watch event the test process received,
samples of the pod processes on the nodes, and the faults and operations
of the schedule, each with a time on one clock (seconds since the run
began, ``time.monotonic``).

A ``Recorded`` event is one of

* ``ADDED`` / ``MODIFIED`` / ``DELETED``: a watch event, with its object
  (for DELETED, the object as it was deleted) and resourceVersion;
* ``LIST``: the first list of a resource, with every object (``objects``)
  and the list's resourceVersion; the watch starts there;
* ``RELIST``: a list after the watch was refused with 410 Expired (the
  history from the last event to this list's resourceVersion is lost for
  that resource): recorded as such, so the checks know the gap.

resourceVersions are etcd revisions, one for the whole keyspace, so events
of different resources order by them into one sequence of states
(timeline.py); ``seq`` is the order of arrival, ``at`` the time of arrival
(a watch paused by a hung apiserver delivers late, so ``at`` is never used
to order events).

Nothing here talks to a cluster: the invariants (invariants.py) are pure
functions of a ``History`` and a ``FinalState`` (final.py), and the unit
tests build histories by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RECORDED_RESOURCES",
    "WATCH_TYPES",
    "FaultRecord",
    "History",
    "OpRecord",
    "PodProcess",
    "ProcessSample",
    "Recorded",
]

# What the recorder watches: the workload kinds in the run's namespace and
# the nodes of the cluster.
RECORDED_RESOURCES = (
    "nodes",
    "pods",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
)
WATCH_TYPES = ("ADDED", "MODIFIED", "DELETED")
LIST = "LIST"
RELIST = "RELIST"


@dataclass(frozen=True)
class Recorded:
    """One event of one resource's watch, or one (re)list of it."""

    seq: int
    at: float
    resource: str
    type: str
    rv: int
    obj: Any = None  # the object of a watch event
    objects: tuple[Any, ...] = ()  # every object of a LIST or RELIST

    @property
    def is_list(self) -> bool:
        return self.type in (LIST, RELIST)


@dataclass(frozen=True)
class PodProcess:
    """A live container process on a node: the pod it belongs to (read from
    the kubelet's ``pod.json`` in the pod's directory) and its pid."""

    node: str
    namespace: str
    name: str
    uid: str
    pid: int


@dataclass(frozen=True)
class ProcessSample:
    """The container wrappers alive at one moment (``at``)."""

    at: float
    processes: tuple[PodProcess, ...]


@dataclass(frozen=True)
class FaultRecord:
    """One fault: ``kind`` (a row of faults.FAULTS) on ``target``, from
    ``start`` until it was undone at ``end``."""

    kind: str
    target: str
    start: float
    end: float


@dataclass(frozen=True)
class OpRecord:
    """One workload operation (plan.Op) at ``at``, done in ``seconds``
    (retries included); ``error`` says why it was skipped or given up."""

    kind: str
    target: str
    at: float
    error: str = ""
    seconds: float = 0.0


@dataclass
class History:
    started: float = 0.0  # the wall clock (time.time) at t=0, to find a moment in the logs
    events: list[Recorded] = field(default_factory=list)
    samples: list[ProcessSample] = field(default_factory=list)
    faults: list[FaultRecord] = field(default_factory=list)
    ops: list[OpRecord] = field(default_factory=list)

    def of(self, resource: str) -> list[Recorded]:
        """One resource's events, in order of arrival."""
        return [e for e in self.events if e.resource == resource]

    @property
    def relists(self) -> int:
        return sum(e.type == RELIST for e in self.events)

    @property
    def watch_events(self) -> int:
        return sum(e.type in WATCH_TYPES for e in self.events)

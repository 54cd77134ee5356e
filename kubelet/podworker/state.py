"""The pod worker's state, typed: what it knows about the pod and each container.

``PodState`` is what the pod worker's modules share for one pod;
``ContainerState`` is one container of it; ``Watch`` holds the tasks that
follow one running container instance. Nothing here does I/O.

Invariants:

* ``PodState.pod`` is the newest API object, None once the pod left the
  API; ``last_pod`` is the newest object ever seen and never None. Neither
  goes back to an older resourceVersion (``update``).
* ``ContainerState.instance`` is the newest instance started or re-adopted
  (None before the first start), ``previous`` the one before it (what
  ``logs --previous`` reads, and the status' lastState).
* ``ContainerState.watch`` follows ``instance`` while it runs: its exit
  watcher, postStart hook and probe tasks. A new instance replaces it, and
  its tasks are cancelled when it exits; ``exited`` is set once the
  instance's exit has been observed.
* At most one kill task runs per container (``killing``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kubelet import env as envmod
from kubelet.admission import Rejection
from kubelet.context import DEFAULT_SYNC_FREQUENCY, Context
from kubelet.paths import PodPaths
from kubelet.runtime import Instance
from kubelet.status import TERMINAL, PodOutcome, Waiting
from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery.backoff import Backoff

__all__ = [
    "IDLE_RESYNC",
    "ContainerState",
    "PodState",
    "ProbeKind",
    "Watch",
    "resource_version",
]

log = logging.getLogger(__name__)

# The longest a worker sleeps without a reason to wake (a level-triggered
# resync) by default; --sync-frequency sets it (PodState.resync).
IDLE_RESYNC = DEFAULT_SYNC_FREQUENCY


class ProbeKind(enum.StrEnum):
    STARTUP = "startup"
    LIVENESS = "liveness"
    READINESS = "readiness"


@dataclass
class Watch:
    """The tasks that follow one running instance (see the module docstring)."""

    instance: Instance
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    exit_watcher: asyncio.Task[None] | None = None
    post_start: asyncio.Task[None] | None = None
    probes: dict[ProbeKind, asyncio.Task[None]] = field(default_factory=dict)

    def tasks(self) -> list[asyncio.Task[None]]:
        found = [self.exit_watcher, self.post_start, *self.probes.values()]
        return [t for t in found if t is not None]

    def cancel(self) -> None:
        """Cancel every task but the one running this call."""
        me = asyncio.current_task()
        for t in self.tasks():
            if t is not me:
                t.cancel()

    def cancel_probe(self, kind: ProbeKind) -> None:
        task = self.probes.pop(kind, None)
        if task is not None:
            task.cancel()


@dataclass
class ContainerState:
    """The kubelet's view of one container of the pod."""

    spec: container_pb2.Container
    init: bool
    instance: Instance | None = None
    previous: Instance | None = None
    waiting: Waiting | None = None  # why it is not running (config error, back-off)
    started: bool = False  # startup probe passed (or none)
    ready: bool = False
    post_start_done: bool = True
    exited_at: float = 0.0  # monotonic time the current instance was seen exiting
    restart_counted: Instance | None = None  # the exited instance whose restart was counted
    environment: envmod.Environment | None = None  # what ``instance`` was started with
    watch: Watch | None = None
    killing: asyncio.Task[None] | None = None
    kill_reason: str = ""  # "stop", "liveness", "startup" while a kill is under way

    @property
    def name(self) -> str:
        return str(self.spec.name)

    @property
    def running(self) -> bool:
        return self.instance is not None and self.instance.exit is None

    @property
    def succeeded(self) -> bool:
        inst = self.instance
        return inst is not None and inst.exit is not None and inst.exit.exit_code == 0

    @property
    def restart_count(self) -> int:
        return self.instance.attempt if self.instance is not None else 0

    def cancel_tasks(self) -> None:
        if self.watch is not None:
            self.watch.cancel()
        if self.killing is not None:
            self.killing.cancel()


@dataclass
class PodState:
    """One pod as its worker knows it (see the module docstring)."""

    ctx: Context
    pod: pod_pb2.Pod | None
    last_pod: pod_pb2.Pod
    paths: PodPaths
    crash_backoff: Backoff  # CrashLoopBackOff, keyed by container name
    wake: Callable[[], None]  # the worker runs a sync soon
    rejection: Rejection | None = None
    containers: dict[str, ContainerState] = field(default_factory=dict)
    prepared: bool = False  # the pod directory and volumes are set up
    loaded: bool = False  # the instances of an earlier kubelet were looked for
    outcome: PodOutcome | None = None  # DeadlineExceeded once decided
    deleted_sent: bool = False  # the final delete (grace 0) went through
    start_time: str = ""
    done: bool = False  # the pod is gone and cleaned up: the worker ends
    # The pod's IP: its own once its network namespace is set up (empty
    # before), the node's for hostNetwork pods and without pod networking.
    pod_ip: str = ""
    # The pod's network namespace ("": the host's).
    netns: str = ""
    sandboxed: bool = False  # the network sandbox is set up (sandbox.py)
    sandbox_removed: bool = False  # ... and was removed again

    @classmethod
    def new(
        cls,
        ctx: Context,
        pod: pod_pb2.Pod,
        *,
        rejection: Rejection | None,
        wake: Callable[[], None],
    ) -> PodState:
        state = cls(
            ctx=ctx,
            pod=pod,
            last_pod=pod,
            paths=ctx.paths.pod(pod.metadata.uid),
            crash_backoff=Backoff(
                ctx.config.backoff_base, ctx.config.backoff_max, clock=ctx.clock.monotonic
            ),
            wake=wake,
            rejection=rejection,
            start_time=pod.status.start_time,
        )
        for c in pod.spec.init_containers:
            state.containers[c.name] = ContainerState(c, True)
        for c in pod.spec.containers:
            state.containers[c.name] = ContainerState(c, False)
        return state

    @property
    def uid(self) -> str:
        return str(self.last_pod.metadata.uid)

    @property
    def resync(self) -> float:
        """The longest the worker sleeps without a reason to wake (--sync-frequency)."""
        return self.ctx.config.sync_frequency

    @property
    def key(self) -> str:
        return f"{self.last_pod.metadata.namespace}/{self.last_pod.metadata.name}"

    @property
    def ip(self) -> str:
        """The IP to report: the sandbox's, else the one reported before."""
        return self.pod_ip or self.last_pod.status.pod_ip

    @property
    def terminal(self) -> bool:
        return self.last_pod.status.phase in TERMINAL

    @property
    def inits(self) -> list[ContainerState]:
        return [cs for cs in self.containers.values() if cs.init]

    @property
    def apps(self) -> list[ContainerState]:
        return [cs for cs in self.containers.values() if not cs.init]

    def update(self, pod: pod_pb2.Pod | None) -> None:
        """The newest API object (None: the pod was deleted from the API)."""
        if pod is not None:
            if self.pod is not None and resource_version(pod) < resource_version(self.pod):
                return
            self.last_pod = pod
        self.pod = pod
        self.wake()

    def event(self, type_: str, reason: str, message: str) -> None:
        try:
            self.ctx.recorder.event(self.last_pod, type_, reason, message)
        except Exception:
            log.exception("pod %s: recording event %s failed", self.key, reason)

    def build_environment(self, cs: ContainerState) -> envmod.Environment:
        """The container's environment from the pod as it is now and the
        Services the kubelet knows of now (ConfigError; also while the
        Services have not been listed once, as Kubernetes, so that a pod
        started right after a kubelet restart still gets KUBERNETES_SERVICE_HOST)."""
        informer = self.ctx.services
        if informer is not None and not informer.has_synced():
            raise envmod.ConfigError(
                "services have not yet been read at least once, cannot construct envvars"
            )
        return envmod.container_environment(
            self.last_pod,
            cs.spec,
            host_ip=self.ctx.host_ip,
            pod_ip=self.ip,
            pod_dir=self.paths.dir,
            allocatable=self.ctx.allocatable,
            services=informer.store.list() if informer is not None else (),
            netns=self.netns,
        )

    def environment(self, cs: ContainerState) -> envmod.Environment:
        """What the container's probes, hooks and exec sessions run with:
        the environment its instance was started with."""
        if cs.environment is None:
            try:
                cs.environment = self.build_environment(cs)
            except envmod.ConfigError:
                return envmod.fallback_environment(
                    self.paths.dir, self.netns, pod=self.last_pod, container=cs.spec
                )
        return cs.environment


def resource_version(pod: pod_pb2.Pod) -> int:
    try:
        return int(pod.metadata.resource_version or 0)
    except ValueError:
        return 0

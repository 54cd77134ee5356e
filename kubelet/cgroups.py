"""Memory and CPU limits: one cgroup per container, or rlimits where there are none.

``Cgroups.detect`` finds, once at kubelet start, where the kubelet may
make cgroups, under its *own* cgroup (``/proc/self/cgroup``), in a parent
named for the node, ``pinnace-<hash of node name and root dir>``:

* cgroup v2 (one hierarchy, ``memory.max``, ``cpu.max``,
  ``memory.events``), when its memory and cpu controllers can be enabled
  for the parent (the kubelet's cgroup must allow it: v2 forbids enabling
  controllers below a cgroup that holds processes, so the kubelet's
  cgroup must be delegated to it, e.g. ``systemd-run -p Delegate=yes``);
* else cgroup v1, the ``memory`` and ``cpu`` hierarchies each where it is
  mounted and writable (``memory.limit_in_bytes``, ``cpu.cfs_quota_us`` /
  ``cpu.cfs_period_us``, ``memory.oom_control``);
* else none: limits fall back to rlimits (``rlimit_prefix``).

A container with a memory or cpu limit gets the cgroup
``<parent>/<pod uid>/<container>-<attempt>`` (in each hierarchy): a new
one for every attempt, so the OOM count read at its end is its own. The
runtime creates it and writes the limits before the spawn, opens its
``cgroup.procs`` files and hands them to the wrapper as fds 3 and 4; the
wrapper (still root, before it runs the command) writes its own pid
there, so the command and everything it starts are inside from their
first instruction, without a race, and also in a pod network namespace
(``ip netns exec`` remounts /sys, so paths would not do). The cgroup
directories are recorded in the attempt's ``state.json``: a restarted
kubelet re-adopts a running container with its cgroup untouched.

When the container has ended, ``finish`` reads whether the kernel's OOM
killer killed a process in it (v2 ``memory.events`` ``oom_kill``, v1
``memory.oom_control`` ``oom_kill``; not ``memory.failcnt``, which also
counts reclaims that succeeded), kills anything left in it and removes
it (and the pod's cgroup once empty). The container is then reported
terminated with reason ``OOMKilled`` (exit code 137: SIGKILL), as
Kubernetes reports it. ``sweep`` (kubelet start, housekeeping) removes
what a crash left: the cgroups of pods whose directory is gone.
``<root dir>/cgroups.json`` lists the parents, for ``pinnace down``; a
kubelet that stops removes its parent when nothing is left in it
(``release``).

Limits: memory in bytes; cpu as a CFS quota per 100 ms period, at least
1 ms (Kubernetes' MinQuotaPeriod): ``500m`` is 50000 us per 100000 us.
On v1 ``memory.memsw.limit_in_bytes`` is set too where it exists, so the
container cannot swap past its limit.

The rlimit fallback (no writable cgroup): a memory limit becomes
``RLIMIT_DATA`` (heap and private mappings, via ``prlimit --data``) of
the command: an allocation beyond it fails (the program sees ENOMEM,
Python a MemoryError) instead of an OOM kill, so the container is not
reported OOMKilled. CPU cannot be throttled with rlimits (RLIMIT_CPU
kills a process after a total of CPU seconds; it does not limit a rate),
so a cpu limit is not enforced there.

Processes the kubelet starts *beside* a running container (exec sessions,
exec probes, lifecycle hooks) join its cgroups too, as with Kubernetes'
runtimes: they run behind a small shell (runtime.py ``JOIN``) that writes
its pid to the cgroups' ``cgroup.procs`` (as root, in the host's mount
namespace, before ``ip netns exec``), then execs them; they count against
the container's limits and die with it.

All of this is blocking file-system work: the runtime runs it in threads.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import shutil
import signal
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinnace.api.core.v1 import container_pb2
from pinnace.machinery.quantity import QuantityError, parse_quantity

__all__ = [
    "CGROUPS_FILE",
    "Cgroups",
    "Hierarchy",
    "Limits",
    "limits_of",
    "rlimit_prefix",
]

log = logging.getLogger(__name__)

CGROUPS_FILE = "cgroups.json"
CFS_PERIOD_US = 100_000
MIN_QUOTA_US = 1_000
PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"
_REMOVE_TRIES = 50
_REMOVE_PAUSE = 0.02


@dataclass(frozen=True)
class Limits:
    """A container's limits: memory in bytes, cpu in millicores (None: unlimited)."""

    memory: int | None = None
    cpu_millis: int | None = None

    def __bool__(self) -> bool:
        return self.memory is not None or self.cpu_millis is not None


def limits_of(container: container_pb2.Container) -> Limits:
    """``resources.limits.memory`` and ``cpu`` of the container."""
    limits = container.resources.limits
    try:
        memory = math.ceil(parse_quantity(limits["memory"])) if "memory" in limits else None
        cpu = math.ceil(parse_quantity(limits["cpu"]) * 1000) if "cpu" in limits else None
    except QuantityError:
        return Limits()  # validation rejects these; never crash a sync on one
    return Limits(memory or None, cpu or None)


def cpu_quota_us(millis: int) -> int:
    """The CFS quota per ``CFS_PERIOD_US`` of ``millis`` millicores (250m → 25000)."""
    return max(millis * CFS_PERIOD_US // 1000, MIN_QUOTA_US)


def rlimit_prefix(limits: Limits) -> list[str]:
    """The command prefix of the rlimit fallback (memory only, see the module docstring)."""
    if limits.memory is None:
        return []
    return [PRLIMIT, f"--data={limits.memory}:{limits.memory}", "--"]


@dataclass(frozen=True)
class Hierarchy:
    """A place where the kubelet makes cgroups: ``parent`` in a v1
    hierarchy of ``controllers``, or in the v2 hierarchy."""

    version: int
    parent: Path
    controllers: frozenset[str]


@dataclass
class Cgroups:
    """The kubelet's cgroups (see the module docstring)."""

    hierarchies: list[Hierarchy] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.hierarchies[0].version if self.hierarchies else 0

    def describe(self) -> str:
        if not self.hierarchies:
            return "no writable cgroup: memory limits as RLIMIT_DATA, cpu limits not enforced"
        parts = [f"{'+'.join(sorted(h.controllers))} in {h.parent}" for h in self.hierarchies]
        return f"cgroup v{self.version}: " + ", ".join(parts)

    def enforces(self, controller: str) -> bool:
        return any(controller in h.controllers for h in self.hierarchies)

    # ---- detection ---------------------------------------------------------------------

    @classmethod
    def detect(cls, *, node_name: str, root_dir: Path) -> Cgroups:
        """Where this kubelet can make cgroups (blocking; an empty Cgroups if nowhere)."""
        name = "pinnace-" + hashlib.sha256(f"{node_name}\0{root_dir}".encode()).hexdigest()[:12]
        mounts = _cgroup_mounts()
        own = _own_cgroups()
        v2 = _detect_v2(mounts, own, name)
        found = [v2] if v2 is not None else _detect_v1(mounts, own, name)
        cg = cls(found)
        if found:
            _record(root_dir, [h.parent for h in found])
        return cg

    # ---- one container -----------------------------------------------------------------

    def create(self, pod_uid: str, container: str, attempt: int, limits: Limits) -> list[Path]:
        """Make the container's cgroups with its limits; their directories
        (OSError if the kernel refuses; what was made is removed again)."""
        made: list[Path] = []
        try:
            for h in self.hierarchies:
                pod = h.parent / pod_uid
                if h.version == 2 and not pod.exists():
                    pod.mkdir(exist_ok=True)
                    _enable_v2(pod, h.controllers)
                d = pod / f"{container}-{attempt}"
                d.mkdir(parents=True, exist_ok=True)
                made.append(d)
                _write_limits(h, d, limits)
        except OSError:
            self.remove(made)
            raise
        return made

    def oom_killed(self, dirs: Iterable[Path]) -> bool:
        """Whether the OOM killer killed a process in these cgroups."""
        for d in dirs:
            for name in ("memory.events", "memory.oom_control"):
                count = _keyed(d / name).get("oom_kill")
                if count:
                    return True
        return False

    def remove(self, dirs: Sequence[Path]) -> bool:
        """Kill what is left in ``dirs`` and remove them (and their pod's
        cgroup once empty); whether all are gone."""
        gone = True
        for d in dirs:
            gone = _remove_cgroup(d) and gone
            with contextlib.suppress(OSError):
                d.parent.rmdir()  # the pod's: fails while another container has one
        return gone

    def release(self) -> None:
        """Remove the parents if nothing is left in them (kubelet stop; a
        container left running keeps its pod's cgroup, hence the parent)."""
        for h in self.hierarchies:
            for pod in _subdirs(h.parent):
                with contextlib.suppress(OSError):
                    pod.rmdir()
            with contextlib.suppress(OSError):
                h.parent.rmdir()

    # ---- after a crash -----------------------------------------------------------------

    def sweep(self, keep: set[str]) -> list[Path]:
        """Remove the cgroups of pods not in ``keep`` (uids whose pod dir
        exists: their containers' cgroups are the runtime's to remove once
        it has read them); what was removed."""
        removed: list[Path] = []
        for h in self.hierarchies:
            for pod in _subdirs(h.parent):
                if pod.name in keep:
                    continue
                ctrs = _subdirs(pod)
                if self.remove(ctrs) or not ctrs:
                    with contextlib.suppress(OSError):
                        pod.rmdir()
                    removed.append(pod)
        return removed


# ---- helpers ---------------------------------------------------------------------------


def _cgroup_mounts() -> list[tuple[str, Path, frozenset[str]]]:
    """(fstype, mount point, v1 controllers) of every cgroup mount."""
    out = []
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) < 5 or len(rest) < 3 or rest[0] not in ("cgroup", "cgroup2"):
            continue
        opts = frozenset(rest[2].split(","))
        out.append((rest[0], Path(fields[4]), opts))
    return out


def _own_cgroups() -> dict[str, str]:
    """The kubelet's cgroup path by controller ("" for v2's unified one)."""
    out: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for ctrl in parts[1].split(",") if parts[1] else [""]:
            out[ctrl] = parts[2]
    return out


def _detect_v2(
    mounts: list[tuple[str, Path, frozenset[str]]], own: dict[str, str], name: str
) -> Hierarchy | None:
    want = frozenset({"memory", "cpu"})
    for fstype, point, _ in mounts:
        if fstype != "cgroup2" or "" not in own:
            continue
        base = point / own[""].lstrip("/")
        try:
            available = set((base / "cgroup.controllers").read_text().split())
        except OSError:
            continue
        if not want <= available:
            continue
        parent = base / name
        try:
            _enable_v2(base, want)
            parent.mkdir(exist_ok=True)
            _enable_v2(parent, want)
        except OSError as e:
            log.info("cgroup v2 at %s is not usable for limits: %s", base, e)
            with contextlib.suppress(OSError):
                parent.rmdir()
            continue
        return Hierarchy(2, parent, want)
    return None


def _enable_v2(cgroup: Path, controllers: Iterable[str]) -> None:
    enabled = set((cgroup / "cgroup.subtree_control").read_text().split())
    missing = [c for c in controllers if c not in enabled]
    if missing:
        (cgroup / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))


def _detect_v1(
    mounts: list[tuple[str, Path, frozenset[str]]], own: dict[str, str], name: str
) -> list[Hierarchy]:
    out: list[Hierarchy] = []
    for ctrl, probe in (("memory", "memory.limit_in_bytes"), ("cpu", "cpu.cfs_quota_us")):
        for fstype, point, opts in mounts:
            if fstype != "cgroup" or ctrl not in opts or ctrl not in own:
                continue
            parent = point / own[ctrl].lstrip("/") / name
            try:
                parent.mkdir(exist_ok=True)
                if not os.access(parent / probe, os.W_OK):
                    raise PermissionError(errno.EACCES, f"{probe} is not writable")
            except OSError as e:
                log.info("cgroup v1 %s at %s is not usable for limits: %s", ctrl, parent, e)
                continue
            if not any(h.parent == parent for h in out):
                out.append(Hierarchy(1, parent, frozenset(opts & {"memory", "cpu"})))
            break
    return out


def _write_limits(h: Hierarchy, d: Path, limits: Limits) -> None:
    if h.version == 2:
        if limits.memory is not None:
            (d / "memory.max").write_text(str(limits.memory))
            _try_write(d / "memory.swap.max", "0")
        if limits.cpu_millis is not None:
            (d / "cpu.max").write_text(f"{cpu_quota_us(limits.cpu_millis)} {CFS_PERIOD_US}")
        return
    if "memory" in h.controllers and limits.memory is not None:
        (d / "memory.limit_in_bytes").write_text(str(limits.memory))
        _try_write(d / "memory.memsw.limit_in_bytes", str(limits.memory))
    if "cpu" in h.controllers and limits.cpu_millis is not None:
        (d / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        (d / "cpu.cfs_quota_us").write_text(str(cpu_quota_us(limits.cpu_millis)))


def _try_write(path: Path, value: str) -> None:
    with contextlib.suppress(OSError):
        path.write_text(value)


def _keyed(path: Path) -> dict[str, int]:
    """A flat-keyed cgroup file ("oom_kill 1" lines)."""
    out: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


def _procs(d: Path) -> list[int]:
    try:
        return [int(p) for p in (d / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _remove_cgroup(d: Path) -> bool:
    """SIGKILL every process in ``d``, then rmdir it (retried for a moment:
    killed processes leave the cgroup only once they have exited)."""
    for _ in range(_REMOVE_TRIES):
        for pid in _procs(d):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as e:
            if e.errno != errno.EBUSY:
                log.warning("removing cgroup %s failed: %s", d, e)
                return False
        time.sleep(_REMOVE_PAUSE)  # in a thread (module docstring)
    log.warning("cgroup %s still busy; left for the next sweep", d)
    return False


def _subdirs(d: Path) -> list[Path]:
    try:
        return [p for p in d.iterdir() if p.is_dir()]
    except OSError:
        return []


def _record(root_dir: Path, parents: list[Path]) -> None:
    """``<root dir>/cgroups.json``: the parents, for ``pinnace down`` after a crash."""
    path = root_dir / CGROUPS_FILE
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = []
    merged = sorted({*known, *(str(p) for p in parents)})
    with contextlib.suppress(OSError):
        path.write_text(json.dumps(merged))

"""The process runtime: each container is a local process, and survives the kubelet.

Disk layout under ``--root-dir`` (``paths.py`` names every path)::

    pods/<pod uid>/                          the pod directory: every container's
                                             default working directory
    pods/<uid>/<workingDir without "/">      a container's workingDir ("/app" → <pod dir>/app)
    pods/<uid>/<mountPath without "/">       a volume mount: a symlink to the volume
    pods/<uid>/.pinnace/pod.json             namespace, name and uid of the pod
    pods/<uid>/.pinnace/containers/<container>/<attempt>/
        state.json                           written by the kubelet at start
        pid                                  the wrapper's pid, written by the wrapper
        exit                                 the exit code, written by the wrapper
    pods/<uid>/.pinnace/logs/<container>/<attempt>.log   stdout + stderr (logs.py)
    pods/<uid>/.pinnace/volumes/<volume>/    emptyDir volumes

``attempt`` counts the container's starts from 0 and equals its
restartCount while it runs.

The wrapper convention: a container runs as

    /bin/sh -c WRAPPER pinnace-container <attempt dir> <working dir> [prefix] <command> <args...>

(prefixed with ``ip netns exec <pod namespace>`` when the pod has its own
network: ``ip`` execs the shell, so the pid stays the wrapper's; the
optional ``prefix`` before the command is ``prlimit`` for the rlimit
fallback of a memory limit and ``setpriv`` for the container's user,
cgroups.py and security.py: each execs the next, so the command keeps
the pid the wrapper started; the wrapper itself stays root)

started with ``posix_spawn`` in a new session, so the wrapper's pid W is
also the process group of the container: the kubelet signals the group
(SIGTERM, then SIGKILL) and reaches the command and everything it started.
The wrapper first joins the container's cgroups (the kubelet opened their
``cgroup.procs`` as fds 3 and 4 for it, cgroups.py), writes its pid, installs *handlers* (not "ignore", which the
command would inherit) for HUP INT QUIT TERM USR1 USR2 ALRM, runs the
command in the foreground (the kubelet passes its absolute path, so it is
never a shell builtin) and, when it ends, writes its exit status (128+N
after signal N) to ``exit``. A signal to the group therefore reaches the
command with its default disposition, while the wrapper, whose handler
only runs after the foreground command ended (POSIX), outlives it and
records the code, whether or not the kubelet is alive. SIGKILL of the
group also kills the wrapper; the kubelet, which sent it, records 137.

Exits are observed without a thread or a polling loop per container: a
pidfd of W becomes readable when W exits, for children and re-adopted
processes alike (polling /proc every 0.2 s where pidfds are missing).
``start``, ``load`` and the end of ``wait`` do file-system work (state
files, the spawn, a scan of /proc for the group's leftovers): callers on
the event loop run ``start`` and ``load`` in a thread, and ``wait`` does its
own in one. ``signal`` reads at most /proc/<pid> (memory, not disk) and
stays on the loop.

Re-adoption after a kubelet restart (``load``): if W is alive, and is the
same process (its /proc cmdline names the attempt dir), the container is
running and is adopted, never started again. Else its ``exit`` file gives
the code, and the file's mtime the finish time. No ``exit`` file and no W
means the container vanished while nobody watched: reported as terminated
with exit code 137, reason ContainerStatusUnknown. After W exits, the
kubelet SIGKILLs its process group once, so nothing a container left
behind outlives it (Kubernetes kills the container's cgroup); a
container with limits has a cgroup of its own, which is read (was there
an OOM kill? then the reason is OOMKilled), emptied and removed then.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from kubelet.cgroups import Cgroups, Limits, rlimit_prefix
from kubelet.network import netns_argv
from pinnace.machinery.timeutil import format_rfc3339

__all__ = [
    "WRAPPER",
    "Exit",
    "Instance",
    "LaunchSpec",
    "ProcessRuntime",
    "Runtime",
    "StartError",
    "command_in_cgroups",
    "command_in_netns",
    "exit_from_status",
]

log = logging.getLogger(__name__)

WRAPPER = (
    "{ echo $$ >&3; echo $$ >&4; } 2>/dev/null; exec 3>&- 4>&-\n"
    'echo $$ > "$1/pid"\n'
    "trap : HUP INT QUIT TERM USR1 USR2 ALRM\n"
    'd=$1\ncd "$2" || exit 126\nshift 2\n"$@"\nrc=$?\n'
    'echo "$rc" > "$d/exit"\nexit "$rc"\n'
)
WRAPPER_NAME = "pinnace-container"
# Puts itself into the cgroups whose cgroup.procs files it is given, then
# execs the rest: a process started beside a running container (an exec
# session, an exec probe, a hook) joins the container's cgroups.
JOIN = (
    'n=$1; shift\nwhile [ "$n" -gt 0 ]; do { echo $$ > "$1"; } 2>/dev/null; shift; n=$((n-1)); done\n'
    'exec "$@"\n'
)
JOIN_NAME = "pinnace-join"
POLL_INTERVAL = 0.2
LOST_EXIT_CODE = 137
START_ERROR_EXIT_CODE = 128
# Signals Python ignores that a container must get with their default action.
_RESET_SIGNALS = {signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class StartError(Exception):
    """The command could not be started (exit code 128, reason StartError)."""


@dataclass(frozen=True)
class LaunchSpec:
    """Everything needed to start one container instance."""

    pod_uid: str
    container: str
    attempt: int
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    log_path: Path
    state_dir: Path
    netns: str = ""  # the pod's network namespace ("" = the host's)
    user: Sequence[str] = ()  # the command's prefix that switches user (security.py)
    limits: Limits = field(default_factory=Limits)  # resources.limits (cgroups.py)
    # The pod's annotations (the hollow runtime's exit instructions, hollow.py).
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exit:
    exit_code: int
    finished_at: str
    reason: str = ""  # "" (Completed/Error by code), StartError, ContainerStatusUnknown
    message: str = ""


@dataclass
class Instance:
    """One started container instance (running, or already exited)."""

    state_dir: Path
    attempt: int
    started_at: str
    container_id: str
    pid: int = 0
    log_path: Path | None = None
    exit: Exit | None = None
    child: bool = False  # started by this kubelet process (so it can be reaped)
    cgroups: tuple[Path, ...] = ()  # its cgroup in each hierarchy (cgroups.py)


class Runtime(Protocol):
    """What the pod workers need from a runtime."""

    name: str
    # Whether a container needs a command (False: the hollow runtime runs
    # nothing, so a container that names only an image runs too).
    needs_command: bool

    def start(self, spec: LaunchSpec) -> Instance: ...

    async def wait(self, inst: Instance) -> Exit: ...

    def signal(self, inst: Instance, sig: int) -> bool: ...

    def load(self, state_dir: Path) -> Instance | None: ...


def container_id(uid: str, container: str, attempt: int, started_at: str) -> str:
    digest = hashlib.sha256(f"{uid}/{container}/{attempt}/{started_at}".encode()).hexdigest()
    return f"pinnace://{digest}"


def now_rfc3339() -> str:
    return format_rfc3339(datetime.now(UTC))


def _mtime_rfc3339(path: Path) -> str:
    return format_rfc3339(datetime.fromtimestamp(path.stat().st_mtime, UTC))


def exit_from_status(status: int) -> int:
    """A waitpid status as a shell reports it (128+N after signal N)."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0")]


def _alive(pid: int) -> bool:
    """Whether pid exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat[stat.rfind(")") + 2 :].startswith("Z")


def _pod_dir_of(state_dir: Path) -> Path:
    """pods/<uid>/.pinnace/containers/<container>/<attempt> → pods/<uid>."""
    return state_dir.parents[3]


def _group_members(pgid: int) -> list[int]:
    """Pids of the live processes in process group pgid (read from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _is_wrapper(pid: int, state_dir: Path) -> bool:
    """Whether pid is alive (not a zombie) and is the wrapper of state_dir.
    Only for processes started long enough ago: right after posix_spawn
    returns, the child may still be inside execve with an empty cmdline
    (vfork semantics resume the parent early); for our own children the
    pid cannot be reused before we reap it, so ``_alive`` is the check."""
    if not _alive(pid):
        return False
    args = _cmdline(pid)
    return WRAPPER_NAME in args and str(state_dir) in args


def resolve_command(argv0: str, *, path: str, workdir: Path) -> str:
    """The absolute path of the executable, as execvp would find it."""
    if "/" in argv0:
        full = argv0 if argv0.startswith("/") else str(workdir / argv0)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return full
        raise StartError(f'exec: "{argv0}": no such file or directory')
    found = shutil.which(argv0, path=path)
    if found is None:
        raise StartError(f'exec: "{argv0}": executable file not found in $PATH')
    return found


def command_in_netns(
    command: list[str],
    *,
    netns: str,
    path: str,
    workdir: Path,
    prefix: Sequence[str] = (),
    resolve: bool = False,
) -> list[str]:
    """``command`` as run inside the network namespace ``netns`` ("" = as
    is), behind ``prefix`` (the setpriv that switches user, security.py).
    Its executable is resolved first (also with ``resolve``: for a command
    that another program will exec), so a missing one fails here with
    FileNotFoundError, as an exec would, rather than as ``ip``'s exit code."""
    if not netns and not prefix and not resolve:
        return list(command)
    try:
        exe = resolve_command(command[0], path=path, workdir=workdir)
    except StartError as e:
        raise FileNotFoundError(str(e)) from None
    return netns_argv(netns, [*prefix, exe, *command[1:]])


def command_in_cgroups(argv: list[str], cgroups: Sequence[Path]) -> list[str]:
    """``argv`` run inside ``cgroups`` (a container's, cgroups.py): behind a
    shell that joins them, as root and in the host's mount namespace (before
    ``ip netns exec``, which remounts /sys), then execs it."""
    if not cgroups:
        return list(argv)
    procs = [str(Path(d) / "cgroup.procs") for d in cgroups]
    return ["/bin/sh", "-c", JOIN, JOIN_NAME, str(len(procs)), *procs, *argv]


async def wait_pid_gone(pid: int, is_same: Callable[[int], bool]) -> None:
    """Return when ``pid`` exits (``is_same(pid)`` guards against pid reuse)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):
        while is_same(pid):  # noqa: ASYNC110 - no pidfds: polling /proc is the fallback
            await asyncio.sleep(POLL_INTERVAL)
        return
    try:
        if not is_same(pid):
            return
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def readable() -> None:
            if not done.done():
                done.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await done
        finally:
            loop.remove_reader(fd)
    finally:
        os.close(fd)


class ProcessRuntime:
    """Containers as local processes (see the module docstring); limits
    through ``cgroups`` (an empty Cgroups: the rlimit fallback)."""

    name = "process"
    needs_command = True

    def __init__(self, cgroups: Cgroups | None = None) -> None:
        self.cgroups = cgroups or Cgroups()

    def _limit(self, spec: LaunchSpec) -> tuple[list[str], tuple[Path, ...]]:
        """The command's prefix (rlimits, user) and its new cgroups."""
        prefix = list(spec.user)
        if not spec.limits:
            return prefix, ()
        if not self.cgroups.enforces("memory"):
            prefix = rlimit_prefix(spec.limits) + prefix
        if not self.cgroups.hierarchies:
            return prefix, ()
        dirs = self.cgroups.create(spec.pod_uid, spec.container, spec.attempt, spec.limits)
        return prefix, tuple(dirs)

    def start(self, spec: LaunchSpec) -> Instance:
        state = spec.state_dir
        state.mkdir(parents=True, exist_ok=True)
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        started_at = now_rfc3339()
        inst = Instance(
            state_dir=state,
            attempt=spec.attempt,
            started_at=started_at,
            container_id=container_id(spec.pod_uid, spec.container, spec.attempt, started_at),
            log_path=spec.log_path,
        )
        try:
            exe = resolve_command(spec.argv[0], path=spec.env.get("PATH", ""), workdir=spec.workdir)
        except StartError as e:
            self._write_state(inst, start_error=str(e))
            (state / "exit").write_text(f"{START_ERROR_EXIT_CODE}\n")
            inst.exit = Exit(START_ERROR_EXIT_CODE, started_at, "StartError", str(e))
            return inst
        prefix, inst.cgroups = self._limit(spec)
        wrapped = [WRAPPER_NAME, str(state), str(spec.workdir), *prefix, exe, *spec.argv[1:]]
        argv = netns_argv(spec.netns, ["/bin/sh", "-c", WRAPPER, *wrapped])
        self._write_state(inst)  # before the spawn: a kubelet killed now still finds the dir
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        # The wrapper joins its cgroups through fds 3 and 4 (cgroups.py).
        joins = [
            (os.POSIX_SPAWN_OPEN, 3 + i, str(d / "cgroup.procs"), os.O_WRONLY, 0)
            for i, d in enumerate(inst.cgroups[:2])
        ]
        try:
            inst.pid = os.posix_spawn(
                argv[0],
                argv,
                spec.env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, str(spec.log_path), flags, 0o644),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                    *joins,
                ],
                setsid=True,
                setsigmask=(),
                setsigdef=_RESET_SIGNALS,
            )
        except OSError:
            self.cgroups.remove(inst.cgroups)
            raise
        inst.child = True
        self._write_state(inst)
        return inst

    def _write_state(self, inst: Instance, **extra: str) -> None:
        data = {
            "pid": inst.pid,
            "attempt": inst.attempt,
            "startedAt": inst.started_at,
            "containerID": inst.container_id,
            "log": str(inst.log_path or ""),
            "cgroups": [str(d) for d in inst.cgroups],
            **extra,
        }
        tmp = inst.state_dir / "state.json.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(inst.state_dir / "state.json")

    def load(self, state_dir: Path) -> Instance | None:
        """The instance recorded in ``state_dir`` (None if nothing was started there)."""
        try:
            data = json.loads((state_dir / "state.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        pid = int(data.get("pid") or 0) or (_read_int(state_dir / "pid") or 0)
        inst = Instance(
            state_dir=state_dir,
            attempt=int(data["attempt"]),
            started_at=data["startedAt"],
            container_id=data["containerID"],
            pid=pid,
            log_path=Path(data["log"]) if data.get("log") else None,
            cgroups=tuple(Path(d) for d in data.get("cgroups") or ()),
        )
        if data.get("start_error"):
            inst.exit = Exit(
                START_ERROR_EXIT_CODE, inst.started_at, "StartError", data["start_error"]
            )
        elif not _is_wrapper(pid, state_dir):
            inst.exit = self._finish(inst, None)
        return inst

    def _recorded_exit(self, inst: Instance, wait_status: int | None) -> Exit:
        path = inst.state_dir / "exit"
        code = _read_int(path)
        if code is not None:
            return Exit(code, _mtime_rfc3339(path))
        if wait_status is not None:
            return Exit(exit_from_status(wait_status), now_rfc3339())
        return Exit(
            LOST_EXIT_CODE,
            now_rfc3339(),
            "ContainerStatusUnknown",
            "The container could not be located when the pod was terminated",
        )

    async def wait(self, inst: Instance) -> Exit:
        """Wait for the instance to end; its Exit (also stored on it)."""
        if inst.exit is not None:
            return inst.exit
        same = _alive if inst.child else (lambda pid: _is_wrapper(pid, inst.state_dir))
        await wait_pid_gone(inst.pid, same)
        status = None
        if inst.child:
            with contextlib.suppress(ChildProcessError):
                # The pidfd said it exited: a zombie now, so this does not block.
                pid, status = os.waitpid(inst.pid, os.WNOHANG)  # noqa: ASYNC222
                status = status if pid else None
        inst.exit = await asyncio.to_thread(self._finish, inst, status)
        return inst.exit

    def _finish(self, inst: Instance, wait_status: int | None) -> Exit:
        """The recorded exit (OOMKilled if the OOM killer struck in its
        cgroup), and no process nor cgroup of the container left (blocking)."""
        exit_ = self._recorded_exit(inst, wait_status)
        self._kill_group(inst.pid, inst.state_dir)
        if inst.cgroups:
            if not exit_.reason and self.cgroups.oom_killed(inst.cgroups):
                exit_ = Exit(exit_.exit_code, exit_.finished_at, "OOMKilled")
            self.cgroups.remove(inst.cgroups)
        return exit_

    def _kill_group(self, pid: int, state_dir: Path) -> None:
        """SIGKILL what is left of a finished container's process group.

        The wrapper (the group leader, pid) is gone, so its pid may already
        belong to an unrelated process that leads a group of the same id: only
        members that carry this pod's ``PINNACE_POD_DIR`` in their environment
        (every process of the container inherits it) are killed."""
        if pid <= 0:
            return
        marker = b"PINNACE_POD_DIR=" + str(_pod_dir_of(state_dir)).encode() + b"\0"
        for member in _group_members(pid):
            try:
                environ = Path(f"/proc/{member}/environ").read_bytes() + b"\0"
            except OSError:
                continue
            if marker in environ:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(member, signal.SIGKILL)

    def signal(self, inst: Instance, sig: int) -> bool:
        """Send ``sig`` to the container's process group; False if it is gone."""
        if inst.exit is not None or inst.pid <= 0:
            return False
        if not (inst.child or _is_wrapper(inst.pid, inst.state_dir)):
            return False  # not ours any more: never signal a recycled pid
        try:
            os.killpg(inst.pid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def alive(self, inst: Instance) -> bool:
        if inst.exit is not None:
            return False
        return _alive(inst.pid) if inst.child else _is_wrapper(inst.pid, inst.state_dir)

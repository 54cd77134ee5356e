"""The pod processes of a local cluster's nodes, read from /proc with the
kubelet's own conventions (kubelet/runtime.py's docstring):

* every container runs under a wrapper whose command line is
  ``/bin/sh -c WRAPPER pinnace-container <attempt dir> …``, the attempt
  dir being ``<data dir>/nodes/<node>/pods/<uid>/.pinnace/containers/<container>/<attempt>``;
  it lives exactly as long as the container's command;
* every process of a container (the command and whatever it started)
  inherits ``PINNACE_POD_DIR=<data dir>/nodes/<node>/pods/<uid>``;
* the pod directory's ``.pinnace/pod.json`` names the pod (namespace,
  name, uid).

``wrappers`` is cheap (command lines only) and is what the recorder
samples; ``pod_processes`` reads every process's environment, for the
final check that nothing runs without its pod.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kubelet.paths import PodPaths
from kubelet.runtime import WRAPPER_NAME
from tests.chaos.history import PodProcess
from tests.chaos.state import Wrapper

__all__ = ["PodDirs", "pod_processes", "wrappers"]

POD_DIR_VAR = b"PINNACE_POD_DIR="


class PodDirs:
    """Pod directories under one cluster's data dir, and who they belong to
    (``pod.json``, read once per directory)."""

    def __init__(self, data_dir: Path) -> None:
        self.nodes = data_dir.resolve() / "nodes"
        self._names: dict[Path, tuple[str, str]] = {}

    def place(self, pod_dir: Path) -> tuple[str, str] | None:
        """(node, uid) of ``<nodes>/<node>/pods/<uid>``; None if not one of ours."""
        try:
            node, pods, uid = pod_dir.relative_to(self.nodes).parts
        except ValueError:
            return None
        return (node, uid) if pods == "pods" else None

    def process(self, pod_dir: Path, pid: int) -> PodProcess | None:
        place = self.place(pod_dir)
        if place is None:
            return None
        if pod_dir not in self._names:
            info = PodPaths(pod_dir).read_info()
            if info is None:
                return PodProcess(place[0], "", "", place[1], pid)  # its directory is gone
            self._names[pod_dir] = (info.get("namespace", ""), info.get("name", ""))
        namespace, name = self._names[pod_dir]
        return PodProcess(place[0], namespace, name, place[1], pid)


def _pids() -> Iterator[Path]:
    yield from Path("/proc").glob("[0-9]*")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _wrapper_dir(cmdline: bytes) -> Path | None:
    args = cmdline.split(b"\0")
    if WRAPPER_NAME.encode() not in args:
        return None
    at = args.index(WRAPPER_NAME.encode())
    return Path(args[at + 1].decode(errors="replace")) if at + 1 < len(args) else None


def wrappers(dirs: PodDirs) -> tuple[list[PodProcess], list[Wrapper]]:
    """The live container wrappers of the cluster: as pod processes (for
    the samples) and as (node, uid, container, attempt)."""
    procs, found = [], []
    for proc in _pids():
        attempt_dir = _wrapper_dir(_read(proc / "cmdline"))
        if attempt_dir is None or len(attempt_dir.parents) < 4:
            continue
        pod_dir = attempt_dir.parents[3]
        pod = dirs.process(pod_dir, int(proc.name))
        if pod is None or not attempt_dir.name.isdigit():
            continue
        procs.append(pod)
        found.append(Wrapper(pod.node, pod.uid, attempt_dir.parent.name, int(attempt_dir.name)))
    return procs, found


def pod_processes(dirs: PodDirs) -> list[PodProcess]:
    """Every live process that carries one of the cluster's pod directories
    in its environment."""
    out = []
    for proc in _pids():
        for var in _read(proc / "environ").split(b"\0"):
            if var.startswith(POD_DIR_VAR):
                pod = dirs.process(
                    Path(var[len(POD_DIR_VAR) :].decode(errors="replace")), int(proc.name)
                )
                if pod is not None:
                    out.append(pod)
                break
    return out

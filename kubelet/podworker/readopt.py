"""Re-adoption: the containers an earlier kubelet process started.

A kubelet restart must neither kill nor duplicate what runs. On its first
sync a worker reads, for each container, the newest two attempts recorded
in the pod directory (runtime.py's disk layout) and takes them as
``instance`` and ``previous``:

* an instance whose process still runs (and is the same process, runtime
  ``load``) is followed again (supervise.py), without its postStart hook,
  which ran when it started;
* an instance that exited while nobody watched counts as exited now, so a
  restart it is due waits its back-off from this moment;
* a container with no attempt has never started.

Reading the state files (and the exited instances' termination messages)
is blocking file I/O: it runs in one thread call.
"""

from __future__ import annotations

import asyncio
import logging

from kubelet.podworker.report import add_termination_message
from kubelet.podworker.state import PodState
from kubelet.podworker.supervise import watch
from kubelet.runtime import Instance

__all__ = ["readopt"]

log = logging.getLogger(__name__)

Found = dict[str, tuple[Instance | None, Instance | None]]  # container → (instance, previous)


async def readopt(ps: PodState) -> None:
    """Pick up the instances a previous kubelet started (see the module docstring)."""
    found = await asyncio.to_thread(_load, ps)
    ps.loaded = True
    for name, (instance, previous) in found.items():
        cs = ps.containers[name]
        cs.instance, cs.previous = instance, previous
        if instance is None:
            continue
        if instance.exit is None:
            log.info("pod %s: re-adopted container %s (pid %d)", ps.key, name, instance.pid)
            watch(ps, cs, instance, fresh=False)
        else:
            cs.exited_at = ps.ctx.clock.monotonic()


def _load(ps: PodState) -> Found:
    """The newest two recorded instances of every container that has any."""
    rt = ps.ctx.runtime
    found: Found = {}
    for cs in ps.containers.values():
        attempts = ps.paths.attempts(cs.name)
        if not attempts:
            continue
        instance = rt.load(ps.paths.attempt_state(cs.name, attempts[-1]))
        previous = None
        if len(attempts) > 1:
            previous = rt.load(ps.paths.attempt_state(cs.name, attempts[-2]))
        for inst in (instance, previous):
            add_termination_message(cs.spec, inst)
        found[cs.name] = (instance, previous)
    return found

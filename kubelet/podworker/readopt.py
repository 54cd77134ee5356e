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
"""

from __future__ import annotations

import logging
import time

from kubelet.podworker.state import PodState
from kubelet.podworker.supervise import watch

__all__ = ["readopt"]

log = logging.getLogger(__name__)


def readopt(ps: PodState) -> None:
    """Pick up the instances a previous kubelet started (see the module docstring)."""
    ps.loaded = True
    rt = ps.ctx.runtime
    for cs in ps.containers.values():
        attempts = ps.paths.attempts(cs.name)
        if not attempts:
            continue
        cs.instance = rt.load(ps.paths.attempt_state(cs.name, attempts[-1]))
        if len(attempts) > 1:
            cs.previous = rt.load(ps.paths.attempt_state(cs.name, attempts[-2]))
        if cs.instance is None:
            continue
        if cs.instance.exit is None:
            log.info("pod %s: re-adopted container %s (pid %d)", ps.key, cs.name, cs.instance.pid)
            watch(ps, cs, cs.instance, fresh=False)
        else:
            cs.exited_at = time.monotonic()

"""One pod worker per pod bound to this node: one asyncio task that drives the
pod's whole life on the node.

Each sync is level triggered: it looks at the pod and at every container's
instance and decides what to do now, from scratch:

1. The pod is gone from the API: stop whatever runs, remove the pod
   directory, end (stopping.py).
2. Rejected at admission: write phase Failed once, run nothing.
3. Set up the pod directory and volumes (prepare.py); a failure is
   retried with a per-pod back-off, as is every failing sync (worker.py).
4. Stopping (deletionTimestamp set, activeDeadlineSeconds exceeded): run
   preStop, the stop signal, SIGKILL after the grace period, for every
   running container; once all have stopped, write the terminal phase
   and, for a deletion, delete the pod with grace 0 (stopping.py).
5. Otherwise init containers one by one (each must exit 0), then every
   container; exited containers restart as restartPolicy says, after the
   CrashLoopBackOff delay (containers.py); a liveness or startup probe
   failure kills the container, which then restarts (or not) by the same
   rule (supervise.py).
6. Compute the status (status.py) and write it if it changed (report.py).

The modules, one concern each, to read in this order:

* ``state``: what the worker knows (typed: the pod, each container, the
  tasks that follow a running instance);
* ``worker``: ``PodWorker``, its task and the sync above;
* ``prepare``: the pod directory and volumes;
* ``readopt``: picking up the containers an earlier kubelet started;
* ``containers``: starting, restarts and CrashLoopBackOff;
* ``supervise``: a running container's exit, postStart hook and probes;
* ``stopping``: preStop, signals, grace periods, the final delete;
* ``report``: container views and the status write.

Nothing here blocks the event loop: processes are watched through pidfds,
and file-system work that may be slow runs in a thread.
"""

from __future__ import annotations

from kubelet.podworker.worker import PodWorker

__all__ = ["PodWorker"]

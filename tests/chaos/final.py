"""Reading the final state of a converged chaos run (state.FinalState):
the recorded resources listed once more, every pod of the cluster, the
nodes' container processes and every cache compared with etcd.

The history must reach each final list before the recorder stops (the
history-matches-final invariant replays it to the list's
resourceVersion), so ``gather`` waits for the recorder to have seen each
list's resourceVersion (a watch event or a bookmark at or past it).
"""

from __future__ import annotations

import time

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from tests.chaos.caches import cache_checks
from tests.chaos.history import RECORDED_RESOURCES
from tests.chaos.processes import PodDirs, pod_processes, wrappers
from tests.chaos.recorder import Recorder
from tests.chaos.state import FinalState, Listed

__all__ = ["gather", "list_namespace"]


def list_namespace(client: Client, namespace: str) -> dict[str, Listed]:
    """Each recorded resource, listed (nodes: the cluster's)."""
    out = {}
    for resource in RECORDED_RESOURCES:
        page = client.resource(resource, namespace).list()
        out[resource] = Listed(int(page.resource_version), tuple(page.items))
    return out


def gather(
    cluster: LocalCluster, client: Client, recorder: Recorder, *, timeout: float = 30.0
) -> FinalState:
    """The final state; stops the recorder once it has caught up with it."""
    listed = list_namespace(client, recorder.namespace)
    deadline = time.monotonic() + timeout
    while any(recorder.seen.get(r, 0) < listed[r].rv for r in listed):
        if time.monotonic() > deadline:
            behind = {r: (recorder.seen.get(r), listed[r].rv) for r in listed}
            raise TimeoutError(f"the recorder did not reach the final lists: {behind}")
        time.sleep(0.05)
    recorder.stop()
    dirs = PodDirs(cluster.data_dir)
    _, live = wrappers(dirs)
    return FinalState(
        listed=listed,
        nodes=list(listed["nodes"].objects),
        all_pods=list(client.pods("").list().items),
        processes=pod_processes(dirs),
        wrappers=live,
        caches=cache_checks(cluster),
    )

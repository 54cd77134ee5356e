"""Every controller the manager can run, by the name --controllers takes."""

from __future__ import annotations

from controllers.base import ControllerFactory

# Filled as controllers land: name -> factory. Kubernetes' names
# (deployment, replicaset, replicationcontroller, statefulset, daemonset,
# job, cronjob, ttl-after-finished, garbagecollector, nodelifecycle, ...).
CONTROLLERS: dict[str, ControllerFactory] = {}


def enabled(spec: str) -> list[str]:
    """Resolve --controllers: "*" for all, "-name" to drop one, "name" to add
    one ("*,-job" runs all but the job controller)."""
    names: set[str] = set()
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part == "*":
            names |= set(CONTROLLERS)
        elif part.startswith("-"):
            names.discard(part[1:])
        elif part in CONTROLLERS:
            names.add(part)
        else:
            raise ValueError(
                f'unknown controller "{part}"; known: {", ".join(sorted(CONTROLLERS))}'
            )
    return sorted(names)


from controllers.replicaset import ReplicaSetController, ReplicationManager  # noqa: E402

CONTROLLERS["replicaset"] = ReplicaSetController
CONTROLLERS["replicationcontroller"] = ReplicationManager

from controllers.garbagecollector import GarbageCollector  # noqa: E402

CONTROLLERS["garbagecollector"] = GarbageCollector

from controllers.deployment import DeploymentController  # noqa: E402

CONTROLLERS["deployment"] = DeploymentController

from controllers.job import JobController  # noqa: E402

CONTROLLERS["job"] = JobController

from controllers.statefulset import StatefulSetController  # noqa: E402

CONTROLLERS["statefulset"] = StatefulSetController

from controllers.daemonset import DaemonSetController  # noqa: E402

CONTROLLERS["daemonset"] = DaemonSetController

from controllers.cronjob import CronJobController  # noqa: E402

CONTROLLERS["cronjob"] = CronJobController

from controllers.ttlafterfinished import TTLAfterFinishedController  # noqa: E402

CONTROLLERS["ttl-after-finished"] = TTLAfterFinishedController

from controllers.nodelifecycle import NodeLifecycleController, TaintEvictionController  # noqa: E402
from controllers.podgc import PodGCController  # noqa: E402

CONTROLLERS["nodelifecycle"] = NodeLifecycleController
CONTROLLERS["taint-eviction-controller"] = TaintEvictionController
CONTROLLERS["podgc"] = PodGCController

from controllers.volumes import PersistentVolumeBinder  # noqa: E402

CONTROLLERS["persistentvolume-binder"] = PersistentVolumeBinder

"""Every controller the manager can run, by the name --controllers takes
(Kubernetes' names)."""

from __future__ import annotations

from controllers.base import ControllerFactory
from controllers.clusterroleaggregation import ClusterRoleAggregationController
from controllers.cronjob import CronJobController
from controllers.daemonset import DaemonSetController
from controllers.deployment import DeploymentController
from controllers.endpointslice import EndpointSliceController
from controllers.garbagecollector import GarbageCollector
from controllers.job import JobController
from controllers.nodeipam import NodeIPAMController
from controllers.nodelifecycle import NodeLifecycleController, TaintEvictionController
from controllers.podgc import PodGCController
from controllers.replicaset import ReplicaSetController, ReplicationManager
from controllers.statefulset import StatefulSetController
from controllers.ttlafterfinished import TTLAfterFinishedController
from controllers.volumes import PersistentVolumeBinder

CONTROLLERS: dict[str, ControllerFactory] = {
    "deployment": DeploymentController,
    "replicaset": ReplicaSetController,
    "replicationcontroller": ReplicationManager,
    "statefulset": StatefulSetController,
    "daemonset": DaemonSetController,
    "job": JobController,
    "cronjob": CronJobController,
    "ttl-after-finished": TTLAfterFinishedController,
    "garbagecollector": GarbageCollector,
    "nodelifecycle": NodeLifecycleController,
    "nodeipam": NodeIPAMController,
    "taint-eviction-controller": TaintEvictionController,
    "podgc": PodGCController,
    "endpointslice": EndpointSliceController,
    "persistentvolume-binder": PersistentVolumeBinder,
    "clusterrole-aggregation": ClusterRoleAggregationController,
}


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

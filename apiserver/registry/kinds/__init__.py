"""One Strategy class per served kind."""

from __future__ import annotations

from apiserver.registry.kinds import apps, batch, coordination, core
from apiserver.registry.strategy import Strategy

STRATEGIES: dict[str, type[Strategy]] = {
    "Pod": core.PodStrategy,
    "Node": core.NodeStrategy,
    "Namespace": core.NamespaceStrategy,
    "Event": core.EventStrategy,
    "ReplicationController": core.ReplicationControllerStrategy,
    "PersistentVolumeClaim": core.PersistentVolumeClaimStrategy,
    "PersistentVolume": core.PersistentVolumeStrategy,
    "Deployment": apps.DeploymentStrategy,
    "ReplicaSet": apps.ReplicaSetStrategy,
    "StatefulSet": apps.StatefulSetStrategy,
    "DaemonSet": apps.DaemonSetStrategy,
    "ControllerRevision": apps.ControllerRevisionStrategy,
    "Job": batch.JobStrategy,
    "CronJob": batch.CronJobStrategy,
    "Lease": coordination.LeaseStrategy,
}

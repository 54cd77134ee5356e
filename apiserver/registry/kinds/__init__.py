"""One Strategy class per served kind, one module per kind (or small family).

Modules import only downwards: ``common`` (shared field rules) and
``claims`` (a PVC spec) under ``podspec/`` (pod-spec defaults and
validation), under ``replicas`` (rules shared by replicated workloads) and
``jobspec`` (a JobSpec's rules, shared by Job and CronJob's job template),
under the kind modules; no kind module imports another kind module.
"""

from __future__ import annotations

from typing import Any

from apiserver.registry.kinds import (
    controllerrevisions,
    cronjobs,
    daemonsets,
    deployments,
    endpointslices,
    events,
    jobs,
    leases,
    namespaces,
    nodes,
    persistentvolumes,
    pods,
    rbac,
    replicasets,
    services,
    statefulsets,
)
from apiserver.registry.strategy import Strategy

STRATEGIES: dict[str, type[Strategy[Any]]] = {
    "Pod": pods.PodStrategy,
    "Node": nodes.NodeStrategy,
    "Namespace": namespaces.NamespaceStrategy,
    "Event": events.EventStrategy,
    "ReplicationController": replicasets.ReplicationControllerStrategy,
    "PersistentVolumeClaim": persistentvolumes.PersistentVolumeClaimStrategy,
    "PersistentVolume": persistentvolumes.PersistentVolumeStrategy,
    "Deployment": deployments.DeploymentStrategy,
    "ReplicaSet": replicasets.ReplicaSetStrategy,
    "StatefulSet": statefulsets.StatefulSetStrategy,
    "DaemonSet": daemonsets.DaemonSetStrategy,
    "ControllerRevision": controllerrevisions.ControllerRevisionStrategy,
    "Job": jobs.JobStrategy,
    "CronJob": cronjobs.CronJobStrategy,
    "Lease": leases.LeaseStrategy,
    "Service": services.ServiceStrategy,
    "EndpointSlice": endpointslices.EndpointSliceStrategy,
    "Role": rbac.RoleStrategy,
    "ClusterRole": rbac.ClusterRoleStrategy,
    "RoleBinding": rbac.RoleBindingStrategy,
    "ClusterRoleBinding": rbac.ClusterRoleBindingStrategy,
}

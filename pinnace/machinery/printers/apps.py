"""Printers of the apps kinds and of autoscaling/v1 Scale (Kubernetes'
printDeployment, printReplicaSet, printStatefulSet, printDaemonSet,
printControllerRevision, printScale)."""

from __future__ import annotations

from datetime import datetime

from pinnace.api.apps.v1 import (
    controllerrevision_pb2,
    daemonset_pb2,
    deployment_pb2,
    replicaset_pb2,
    statefulset_pb2,
)
from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.machinery.labels import SelectorError, selector_from_label_selector
from pinnace.machinery.printers.columns import (
    AGE,
    CONTAINERS,
    IMAGES,
    NAME,
    Cell,
    Printer,
    age,
    column,
    containers_and_images,
    format_label_selector,
    format_labels,
)

__all__ = [
    "CONTROLLER_REVISION",
    "DAEMON_SET",
    "DEPLOYMENT",
    "REPLICA_SET",
    "SCALE",
    "STATEFUL_SET",
]

_READY = "Number of the pod with ready state"


def _deployment_selector(deploy: deployment_pb2.Deployment) -> str:
    """The selector's text as printDeployment prints it: "" for an empty
    one, "<invalid>" for a malformed one."""
    selector = deploy.spec.selector if deploy.spec.HasField("selector") else None
    try:
        return str(selector_from_label_selector(selector))
    except SelectorError:
        return "<invalid>"


def _deployment_cells(deploy: deployment_pb2.Deployment, now: datetime) -> list[Cell]:
    spec, status = deploy.spec, deploy.status
    names, images = containers_and_images(spec.template.spec.containers)
    return [
        deploy.metadata.name,
        f"{status.ready_replicas}/{spec.replicas}",
        status.updated_replicas,
        status.available_replicas,
        age(deploy, now),
        names,
        images,
        _deployment_selector(deploy),
    ]


DEPLOYMENT = Printer(
    columns=(
        NAME,
        column("Ready", doc=_READY),
        column("Up-to-date", doc="DeploymentStatus.updatedReplicas"),
        column("Available", doc="DeploymentStatus.availableReplicas"),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", doc="DeploymentSpec.selector", priority=1),
    ),
    cells=_deployment_cells,
)


def _replica_set_cells(rs: replicaset_pb2.ReplicaSet, now: datetime) -> list[Cell]:
    names, images = containers_and_images(rs.spec.template.spec.containers)
    selector = rs.spec.selector if rs.spec.HasField("selector") else None
    return [
        rs.metadata.name,
        rs.spec.replicas,
        rs.status.replicas,
        rs.status.ready_replicas,
        age(rs, now),
        names,
        images,
        format_label_selector(selector),
    ]


REPLICA_SET = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "ReplicaSetSpec.replicas"),
        column("Current", "integer", "ReplicaSetStatus.replicas"),
        column("Ready", "integer", "ReplicaSetStatus.readyReplicas"),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", doc="ReplicaSetSpec.selector", priority=1),
    ),
    cells=_replica_set_cells,
)


def _stateful_set_cells(sts: statefulset_pb2.StatefulSet, now: datetime) -> list[Cell]:
    names, images = containers_and_images(sts.spec.template.spec.containers)
    return [
        sts.metadata.name,
        f"{sts.status.ready_replicas}/{sts.spec.replicas}",
        age(sts, now),
        names,
        images,
    ]


STATEFUL_SET = Printer(
    columns=(NAME, column("Ready", doc=_READY), AGE, CONTAINERS, IMAGES),
    cells=_stateful_set_cells,
)


def _daemon_set_cells(ds: daemonset_pb2.DaemonSet, now: datetime) -> list[Cell]:
    status = ds.status
    names, images = containers_and_images(ds.spec.template.spec.containers)
    selector = ds.spec.selector if ds.spec.HasField("selector") else None
    return [
        ds.metadata.name,
        status.desired_number_scheduled,
        status.current_number_scheduled,
        status.number_ready,
        status.updated_number_scheduled,
        status.number_available,
        format_labels(ds.spec.template.spec.node_selector),
        age(ds, now),
        names,
        images,
        format_label_selector(selector),
    ]


DAEMON_SET = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "DaemonSetStatus.desiredNumberScheduled"),
        column("Current", "integer", "DaemonSetStatus.currentNumberScheduled"),
        column("Ready", "integer", "DaemonSetStatus.numberReady"),
        column("Up-to-date", "integer", "DaemonSetStatus.updatedNumberScheduled"),
        column("Available", "integer", "DaemonSetStatus.numberAvailable"),
        column("Node Selector", doc="PodSpec.nodeSelector"),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", doc="DaemonSetSpec.selector", priority=1),
    ),
    cells=_daemon_set_cells,
)


def _controller(revision: controllerrevision_pb2.ControllerRevision) -> str:
    """The controlling owner as ``kind.group/name`` ("statefulset.apps/web",
    "pod/x" for the core group), "<none>" without one."""
    for ref in revision.metadata.owner_references:
        if ref.controller:
            group = ref.api_version.rpartition("/")[0]
            kind = f"{ref.kind}.{group}" if group else ref.kind
            return f"{kind.lower()}/{ref.name}" if kind else ref.name
    return "<none>"


def _controller_revision_cells(
    revision: controllerrevision_pb2.ControllerRevision, now: datetime
) -> list[Cell]:
    return [revision.metadata.name, _controller(revision), revision.revision, age(revision, now)]


CONTROLLER_REVISION = Printer(
    columns=(
        NAME,
        column("Controller", doc="Controller of the object"),
        column("Revision", doc="ControllerRevision.revision"),
        AGE,
    ),
    cells=_controller_revision_cells,
)


def _scale_cells(scale: scale_pb2.Scale, now: datetime) -> list[Cell]:
    return [scale.metadata.name, scale.spec.replicas, scale.status.replicas, age(scale, now)]


SCALE = Printer(
    columns=(
        column("Name", doc="ObjectMeta.name"),  # no "name" format, as in Kubernetes
        column("Desired", "integer", "ScaleSpec.replicas"),
        column("Available", "integer", "ScaleStatus.replicas"),
        AGE,
    ),
    cells=_scale_cells,
)

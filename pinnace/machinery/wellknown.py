"""Kubernetes' well-known names, defined once.

Every taint key, label, annotation, finalizer and condition type that more
than one place of Pinnace reads or writes is spelled here and imported
everywhere else, so two copies can never drift apart. The values are
Kubernetes' own (k8s.io/api/core/v1 well_known_labels.go and
well_known_taints.go, k8s.io/api/apps/v1 and batch/v1 types.go, the
controllers' own constants), so objects move between Pinnace and Kubernetes
unchanged.

A name that only one module uses may stay in that module; once a second
module needs it, it moves here.
"""

from __future__ import annotations

# ---- node taints (well_known_taints.go) -------------------------------------------
TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
TAINT_NODE_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
# Taint effects (core/v1 TaintEffect).
TAINT_EFFECT_NO_SCHEDULE = "NoSchedule"
TAINT_EFFECT_PREFER_NO_SCHEDULE = "PreferNoSchedule"
TAINT_EFFECT_NO_EXECUTE = "NoExecute"

# ---- node labels (well_known_labels.go) -------------------------------------------
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_OS = "kubernetes.io/os"
LABEL_ARCH = "kubernetes.io/arch"
LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"
LABEL_TOPOLOGY_REGION = "topology.kubernetes.io/region"

# ---- workload labels ---------------------------------------------------------------
# Deployment → ReplicaSet → pod template hash (apps/v1 DefaultDeploymentUniqueLabelKey).
LABEL_POD_TEMPLATE_HASH = "pod-template-hash"
# StatefulSet and DaemonSet revision of a pod (apps/v1 ControllerRevisionHashLabelKey).
LABEL_CONTROLLER_REVISION_HASH = "controller-revision-hash"
LABEL_STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"
LABEL_POD_INDEX = "apps.kubernetes.io/pod-index"
LABEL_JOB_CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
LABEL_JOB_NAME = "batch.kubernetes.io/job-name"
LABEL_LEGACY_JOB_CONTROLLER_UID = "controller-uid"
LABEL_LEGACY_JOB_NAME = "job-name"

# ---- Deployment annotations (deployment/util/deployment_util.go) ------------------
ANNOTATION_DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"
ANNOTATION_DEPLOYMENT_REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
ANNOTATION_DEPLOYMENT_MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# The legacy rollback request (apps/v1 DeprecatedRollbackTo).
ANNOTATION_DEPLOYMENT_ROLLBACK_TO = "deprecated.deployment.rollback.to"
# Annotations a Deployment does not copy to its ReplicaSets, nor a rollback back.
DEPLOYMENT_ANNOTATIONS_NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        ANNOTATION_DEPLOYMENT_REVISION,
        ANNOTATION_DEPLOYMENT_REVISION_HISTORY,
        ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
        ANNOTATION_DEPLOYMENT_MAX_REPLICAS,
        ANNOTATION_DEPLOYMENT_ROLLBACK_TO,
    }
)

# ---- finalizers (meta/v1 FinalizerOrphanDependents, FinalizerDeleteDependents;
# core/v1 FinalizerKubernetes, the namespace spec finalizer) -----------------------
FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND_DELETION = "foregroundDeletion"
FINALIZER_KUBERNETES = "kubernetes"

# ---- kubectl and general annotations -----------------------------------------------
ANNOTATION_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATION_CHANGE_CAUSE = "kubernetes.io/change-cause"
ANNOTATION_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANNOTATION_DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
ANNOTATION_MIRROR_POD = "kubernetes.io/config.mirror"
ANNOTATION_POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"

# ---- Job and CronJob ------------------------------------------------------------------
FINALIZER_JOB_TRACKING = "batch.kubernetes.io/job-tracking"
ANNOTATION_JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
ANNOTATION_JOB_INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
ANNOTATION_CRONJOB_SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# Set by `create job --from=cronjob/X` (kubectl's instantiate annotation).
ANNOTATION_CRONJOB_INSTANTIATE = "cronjob.kubernetes.io/instantiate"

# ---- volumes ------------------------------------------------------------------------
ANNOTATION_SELECTED_NODE = "volume.kubernetes.io/selected-node"
# Pinnace's own: where a node's local PersistentVolumes live (the kubelet
# publishes it on its Node, the local volume provisioner reads it).
ANNOTATION_LOCAL_VOLUME_DIR = "pinnace.io/local-volume-dir"
ANNOTATION_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANNOTATION_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANNOTATION_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANNOTATION_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"

# ---- condition types ------------------------------------------------------------------
# Pod (core/v1 PodConditionType).
POD_SCHEDULED = "PodScheduled"
POD_READY_TO_START_CONTAINERS = "PodReadyToStartContainers"
POD_INITIALIZED = "Initialized"
POD_CONTAINERS_READY = "ContainersReady"
POD_READY = "Ready"
POD_DISRUPTION_TARGET = "DisruptionTarget"
# The PodScheduled condition's reason when no node fits (core/v1 PodReasonUnschedulable).
REASON_UNSCHEDULABLE = "Unschedulable"
# Node (core/v1 NodeConditionType).
NODE_READY = "Ready"
NODE_MEMORY_PRESSURE = "MemoryPressure"
NODE_DISK_PRESSURE = "DiskPressure"
NODE_PID_PRESSURE = "PIDPressure"
NODE_NETWORK_UNAVAILABLE = "NetworkUnavailable"
# Deployment (apps/v1 DeploymentConditionType).
DEPLOYMENT_AVAILABLE = "Available"
DEPLOYMENT_PROGRESSING = "Progressing"
DEPLOYMENT_REPLICA_FAILURE = "ReplicaFailure"
# ReplicaSet and ReplicationController (apps/v1 ReplicaSetConditionType).
REPLICASET_REPLICA_FAILURE = "ReplicaFailure"
# The Progressing condition's reason once progressDeadlineSeconds passed.
REASON_PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
# Job (batch/v1 JobConditionType).
JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"
JOB_SUSPENDED = "Suspended"
JOB_FAILURE_TARGET = "FailureTarget"
JOB_SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"

# ---- DisruptionTarget reasons (core/v1 types.go) -------------------------------------
REASON_DELETION_BY_TAINT_MANAGER = "DeletionByTaintManager"
REASON_DELETION_BY_POD_GC = "DeletionByPodGC"
REASON_TERMINATION_BY_KUBELET = "TerminationByKubelet"

# ---- event reasons (nodeipam: nodeutil.RecordNodeStatusChange's "CIDRNotAvailable") --
# No podCIDR could be given to a node: the cluster CIDR is full, or the one the
# Node carries is outside the cluster CIDR or another node's.
REASON_CIDR_NOT_AVAILABLE = "CIDRNotAvailable"

# ---- EndpointSlices (discovery/v1 well_known_labels.go, core/v1 well_known_labels.go) --
# The Service an EndpointSlice belongs to.
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
# Who manages an EndpointSlice, and the EndpointSlice controller's value of it.
LABEL_ENDPOINTSLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
ENDPOINTSLICE_CONTROLLER_NAME = "endpointslice-controller.k8s.io"
# Set on the slices of a headless Service (clusterIP: None).
LABEL_HEADLESS_SERVICE = "service.kubernetes.io/headless"
ADDRESS_TYPE_IPV4 = "IPv4"
# A Service of this type is a DNS alias: no selector, no endpoints.
SERVICE_TYPE_EXTERNAL_NAME = "ExternalName"

# ---- pod network (Pinnace's own) ------------------------------------------------------
# Set by the kubelet on its Node: how its pods are networked. "bridge": each
# pod has its own network namespace and IP; "host": the kubelet could not
# make namespaces (not root), pods share the node's network, and the
# scheduler treats every declared containerPort as a host port on the node.
ANNOTATION_POD_NETWORK = "pinnace.io/pod-network"
POD_NETWORK_BRIDGE = "bridge"
POD_NETWORK_HOST = "host"

# ---- hollow nodes (Pinnace's own; kubelet/hollow.py) --------------------------------
# On a pod run by a hollow kubelet: each of its containers exits with this
# code (0-255) once it has run for ANNOTATION_HOLLOW_EXIT_AFTER seconds
# (default 0), so Jobs complete on hollow nodes. Without either, a hollow
# container runs until it is stopped.
ANNOTATION_HOLLOW_EXIT_CODE = "pinnace.io/hollow-exit-code"
ANNOTATION_HOLLOW_EXIT_AFTER = "pinnace.io/hollow-exit-after"

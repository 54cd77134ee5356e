"""Values Kubernetes allows or defaults in a PodSpec (pkg/apis/core/v1 defaults and
core/validation), shared by the podspec modules."""

from __future__ import annotations

DEFAULT_TERMINATION_GRACE_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_VOLUME_MODE = 0o644  # 420

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
RESOURCE_FIELD_REFS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")

VOLUME_SOURCES = (
    "host_path",
    "empty_dir",
    "secret",
    "nfs",
    "persistent_volume_claim",
    "downward_api",
    "config_map",
    "projected",
    "csi",
    "ephemeral",
    "image",
)
VOLUME_SOURCE_JSON = {
    "host_path": "hostPath",
    "empty_dir": "emptyDir",
    "secret": "secret",
    "nfs": "nfs",
    "persistent_volume_claim": "persistentVolumeClaim",
    "downward_api": "downwardAPI",
    "config_map": "configMap",
    "projected": "projected",
    "csi": "csi",
    "ephemeral": "ephemeral",
    "image": "image",
}

"""PodSpec and PodTemplateSpec: Kubernetes' defaults and validation.

Used by Pod and by the template of every workload kind (RC, ReplicaSet,
Deployment, StatefulSet, DaemonSet, Job, CronJob's job template). One module
per concern, each importing only the ones below it:

* ``constants``: the values Kubernetes allows or defaults.
* ``defaults``: `pkg/apis/core/v1/defaults.go` (SetDefaults_PodSpec and all
  inside it; ``default_pod`` adds what applies to a Pod only).
* ``paths``, ``fieldrefs``: path rules and references to the pod's own
  fields and to ConfigMap / Secret keys, shared by the two below.
* ``volumes``, ``resources``, ``probes``, ``containers``, ``scheduling``:
  the rules of each part of a spec (`pkg/apis/core/validation/validation.go`).
* ``spec``: ValidatePodSpec and ValidatePodTemplateSpec over all of them.

Same rules, same field paths, same wording as Kubernetes; every validation
function returns all errors, never raises.
"""

from __future__ import annotations

from .constants import DEFAULT_SCHEDULER_NAME, DEFAULT_TERMINATION_GRACE_SECONDS, TAINT_EFFECTS
from .defaults import default_pod, default_pod_spec, default_pod_template, image_tag
from .fieldrefs import is_config_map_key
from .probes import validate_probe
from .resources import validate_resource_requirements
from .scheduling import validate_node_selector, validate_tolerations
from .spec import validate_pod_spec, validate_pod_template
from .volumes import validate_host_path, validate_nfs

__all__ = [
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_TERMINATION_GRACE_SECONDS",
    "TAINT_EFFECTS",
    "default_pod",
    "default_pod_spec",
    "default_pod_template",
    "image_tag",
    "is_config_map_key",
    "validate_host_path",
    "validate_nfs",
    "validate_node_selector",
    "validate_pod_spec",
    "validate_pod_template",
    "validate_probe",
    "validate_resource_requirements",
    "validate_tolerations",
]

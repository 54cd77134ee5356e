"""Pure helpers of the StatefulSet controller (Kubernetes'
pkg/controller/statefulset/stateful_set_utils.go): identity, storage,
pod predicates, retention-policy owner references.

A StatefulSet's pods have a stable identity: the pod for ordinal ``i`` is
named ``<set>-<i>``, carries the labels ``statefulset.kubernetes.io/pod-name``
and ``apps.kubernetes.io/pod-index``, has ``hostname`` = its name and
``subdomain`` = ``spec.serviceName``, and mounts one PersistentVolumeClaim
per ``volumeClaimTemplates`` entry, named ``<claim>-<set>-<i>``. Its revision
is the ``controller-revision-hash`` label: the name of the
ControllerRevision whose template it was made from.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from controllers.controllerref import owner_reference
from pinnace.api.apps.v1 import statefulset_pb2
from pinnace.api.core.v1 import pod_pb2, volume_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import kinds
from pinnace.machinery.intstr import IntOrStringError, scaled_value
from pinnace.machinery.podutil import is_pod_available, is_pod_ready
from pinnace.machinery.wellknown import (
    LABEL_CONTROLLER_REVISION_HASH,
    LABEL_POD_INDEX,
    LABEL_STATEFULSET_POD_NAME,
)

StatefulSet = statefulset_pb2.StatefulSet
Pod = pod_pb2.Pod
Claim = volume_pb2.PersistentVolumeClaim


ORDERED_READY = "OrderedReady"
PARALLEL = "Parallel"
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"
RETAIN = "Retain"
DELETE = "Delete"

_NAME = re.compile(r"^(.*)-([0-9]+)$")


# ---- identity -------------------------------------------------------------------------


def parent_and_ordinal(name: str) -> tuple[str, int]:
    """("web", 3) for "web-3"; ("", -1) for a name that is no StatefulSet pod's."""
    m = _NAME.match(name)
    if m is None:
        return "", -1
    return m[1], int(m[2])


def ordinal_of(pod: Any) -> int:
    return parent_and_ordinal(pod.metadata.name)[1]


def pod_name(set_: StatefulSet, ordinal: int) -> str:
    return f"{set_.metadata.name}-{ordinal}"


def replicas(set_: StatefulSet) -> int:
    return set_.spec.replicas if set_.spec.HasField("replicas") else 1


def start_ordinal(set_: StatefulSet) -> int:
    return set_.spec.ordinals.start if set_.spec.HasField("ordinals") else 0


def end_ordinal(set_: StatefulSet) -> int:
    """The last ordinal in range (start + replicas - 1; start - 1 when empty)."""
    return start_ordinal(set_) + replicas(set_) - 1


def in_ordinal_range(pod: Any, set_: StatefulSet) -> bool:
    ordinal = ordinal_of(pod)
    return start_ordinal(set_) <= ordinal <= end_ordinal(set_)


def is_member_of(set_: StatefulSet, pod: Any) -> bool:
    """The pod's name is ``<set name>-<ordinal>``."""
    return parent_and_ordinal(pod.metadata.name)[0] == set_.metadata.name


def identity_matches(set_: StatefulSet, pod: Pod) -> bool:
    """Name, namespace, identity labels, hostname and subdomain are the set's."""
    parent, ordinal = parent_and_ordinal(pod.metadata.name)
    labels = pod.metadata.labels
    return (
        ordinal >= 0
        and parent == set_.metadata.name
        and pod.metadata.namespace == set_.metadata.namespace
        and labels.get(LABEL_STATEFULSET_POD_NAME) == pod.metadata.name
        and labels.get(LABEL_POD_INDEX) == str(ordinal)
    )


def update_identity(set_: StatefulSet, pod: Pod) -> None:
    """Give pod the set's identity for its ordinal (in place)."""
    ordinal = ordinal_of(pod)
    pod.metadata.namespace = set_.metadata.namespace
    pod.metadata.labels[LABEL_STATEFULSET_POD_NAME] = pod.metadata.name
    pod.metadata.labels[LABEL_POD_INDEX] = str(ordinal)


def set_hostname(set_: StatefulSet, pod: Pod) -> None:
    """hostname = pod name and subdomain = serviceName (only at creation:
    a pod's spec is immutable)."""
    pod.spec.hostname = pod.metadata.name
    if set_.spec.service_name:
        pod.spec.subdomain = set_.spec.service_name


# ---- storage --------------------------------------------------------------------------


def claim_name(set_: StatefulSet, template: Claim, ordinal: int) -> str:
    return f"{template.metadata.name}-{set_.metadata.name}-{ordinal}"


def pod_claims(set_: StatefulSet, ordinal: int) -> dict[str, Claim]:
    """The claims the pod of ordinal should mount, by template (volume) name:
    each template's metadata and spec, named for the ordinal, labelled with
    the template's labels and the set's selector's matchLabels."""
    out: dict[str, Claim] = {}
    for template in set_.spec.volume_claim_templates:
        claim = Claim(api_version="v1", kind="PersistentVolumeClaim")
        claim.metadata.name = claim_name(set_, template, ordinal)
        claim.metadata.namespace = set_.metadata.namespace
        claim.metadata.labels.update(template.metadata.labels)
        claim.metadata.labels.update(set_.spec.selector.match_labels)
        claim.metadata.annotations.update(template.metadata.annotations)
        claim.spec.CopyFrom(template.spec)
        out[template.metadata.name] = claim
    return out


def storage_matches(set_: StatefulSet, pod: Pod) -> bool:
    """Every claim template is mounted from the ordinal's claim."""
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.name: v for v in pod.spec.volumes}
    for template in set_.spec.volume_claim_templates:
        vol = volumes.get(template.metadata.name)
        if (
            vol is None
            or not vol.HasField("persistent_volume_claim")
            or vol.persistent_volume_claim.claim_name != claim_name(set_, template, ordinal)
        ):
            return False
    return True


def update_storage(set_: StatefulSet, pod: Pod) -> None:
    """Mount the ordinal's claims, replacing template volumes of the same names."""
    claims = pod_claims(set_, ordinal_of(pod))
    kept = [v for v in pod.spec.volumes if v.name not in claims]
    del pod.spec.volumes[:]
    for name, claim in claims.items():
        vol = pod.spec.volumes.add(name=name)
        vol.persistent_volume_claim.claim_name = claim.metadata.name
    pod.spec.volumes.extend(kept)


# ---- pods -----------------------------------------------------------------------------


def new_pod(set_: StatefulSet, template_set: StatefulSet, ordinal: int, revision: str) -> Pod:
    """The pod for ordinal, from ``template_set``'s template (the set at the
    revision the pod should have), owned by ``set_``."""
    pod = Pod(api_version="v1", kind="Pod")
    tmeta = template_set.spec.template.metadata
    pod.metadata.name = pod_name(set_, ordinal)
    pod.metadata.namespace = set_.metadata.namespace
    pod.metadata.labels.update(tmeta.labels)
    pod.metadata.annotations.update(tmeta.annotations)
    pod.metadata.finalizers.extend(tmeta.finalizers)
    pod.metadata.owner_references.append(owner_reference(set_))
    pod.spec.CopyFrom(template_set.spec.template.spec)
    update_identity(set_, pod)
    set_hostname(set_, pod)
    update_storage(set_, pod)
    pod.metadata.labels[LABEL_CONTROLLER_REVISION_HASH] = revision
    return pod


def revision_of(pod: Any) -> str:
    return pod.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH, "")


def is_created(pod: Any) -> bool:
    """The pod exists in the API (the controller's planned pods have no uid)."""
    return bool(pod.metadata.uid)


def is_terminating(pod: Any) -> bool:
    return bool(pod.metadata.deletion_timestamp)


def is_failed(pod: Any) -> bool:
    return pod.status.phase == "Failed"


def is_succeeded(pod: Any) -> bool:
    return pod.status.phase == "Succeeded"


def is_running_and_ready(pod: Any) -> bool:
    return pod.status.phase == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: Any, min_ready_seconds: int, now: datetime) -> bool:
    return pod.status.phase == "Running" and is_pod_available(pod, min_ready_seconds, now)


def is_healthy(pod: Any, min_ready_seconds: int, now: datetime) -> bool:
    """Running, ready for minReadySeconds, and not being deleted."""
    return (
        is_created(pod)
        and is_running_and_available(pod, min_ready_seconds, now)
        and not is_terminating(pod)
    )


def allows_burst(set_: StatefulSet) -> bool:
    return set_.spec.pod_management_policy == PARALLEL


def max_unavailable(set_: StatefulSet) -> int:
    """rollingUpdate.maxUnavailable against replicas, rounded up, at least 1."""
    ru = set_.spec.update_strategy.rolling_update
    if not ru.HasField("max_unavailable"):
        return 1
    try:
        value = scaled_value(ru.max_unavailable, replicas(set_), round_up=True)
    except IntOrStringError:
        return 1
    return max(value, 1)


def partition(set_: StatefulSet) -> int:
    ru = set_.spec.update_strategy.rolling_update
    return ru.partition if ru.HasField("partition") else 0


# ---- retention policy -----------------------------------------------------------------


def _policy(set_: StatefulSet) -> tuple[str, str]:
    p = set_.spec.persistent_volume_claim_retention_policy
    return p.when_deleted or RETAIN, p.when_scaled or RETAIN


def has_unexpected_controller(claim: Claim, set_: StatefulSet, pod: Any) -> bool:
    """The claim has a controller that is neither the set nor the pod: the
    retention policy leaves it alone."""
    for ref in claim.metadata.owner_references:
        if ref.controller and ref.uid not in (set_.metadata.uid, pod.metadata.uid):
            return True
    return False


def wanted_claim_owners(set_: StatefulSet, pod: Any) -> tuple[bool, bool]:
    """Whether the claim should be owned by (the set, the pod), Kubernetes'
    updateClaimOwnerRefForSetAndPod:

    * whenDeleted=Delete: owned by the set (collected with it), unless the
      pod is scaled down and whenScaled=Delete too;
    * whenScaled=Delete: owned by the pod once the pod is out of range
      (condemned), so the claim is collected when the pod is gone.
    """
    when_deleted, when_scaled = _policy(set_)
    scaled_down = not in_ordinal_range(pod, set_)
    by_pod = when_scaled == DELETE and scaled_down
    by_set = when_deleted == DELETE and not by_pod
    return by_set, by_pod


def claim_owners_match(set_: StatefulSet, pod: Any, claim: Claim) -> bool:
    if has_unexpected_controller(claim, set_, pod):
        return True
    by_set, by_pod = wanted_claim_owners(set_, pod)
    uids = {r.uid for r in claim.metadata.owner_references}
    return (set_.metadata.uid in uids) == by_set and (pod.metadata.uid in uids) == by_pod


def claim_owner_refs(set_: StatefulSet, pod: Any, claim: Claim) -> list[meta_pb2.OwnerReference]:
    """The claim's ownerReferences as the retention policy wants them (plain,
    non-controller references, as Kubernetes sets them)."""
    by_set, by_pod = wanted_claim_owners(set_, pod)
    drop = {set_.metadata.uid, pod.metadata.uid}
    refs = [r for r in claim.metadata.owner_references if r.uid not in drop]
    if by_set:
        refs.append(_plain_ref(set_))
    if by_pod and pod.metadata.uid:
        refs.append(_plain_ref(pod))
    return refs


def _plain_ref(owner: Any) -> meta_pb2.OwnerReference:
    info = kinds.by_message(owner)
    return meta_pb2.OwnerReference(
        api_version=info.api_version,
        kind=info.kind,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
    )

"""Who a container's processes run as: ``securityContext`` on a process runtime.

``run_as(pod, container, identity)`` resolves the effective user, group
and supplementary groups of a container, as Kubernetes' kubelet does
(``DetermineEffectiveSecurityContext``): the container's
``securityContext.runAsUser`` / ``runAsGroup`` / ``runAsNonRoot`` override
the pod's ``spec.securityContext``; the pod's ``supplementalGroups`` and
``fsGroup`` become supplementary groups.

There is no image here, hence no image user: a container without
``runAsUser`` runs as the kubelet's own user (root, when the kubelet runs
as root, as today). So:

* ``runAsNonRoot: true`` without ``runAsUser`` under a root kubelet is
  refused with Kubernetes' message for an image that runs as root,
  ``container has runAsNonRoot and image will run as root (pod:
  "<name>_<namespace>(<uid>)", container: <name>)``; with ``runAsUser: 0``,
  with its other message, ``container's runAsUser breaks non-root
  policy (...)``. Both are CreateContainerConfigError (the container
  waits; the start is retried at the next sync).
* Without ``runAsGroup`` the primary group is the uid's number (a
  runtime takes it from the image's /etc/passwd, or 0; never 0 here, so a
  non-root container does not get root's group by default).
* A pod that runs anything as non-root has a *pod group* (``pod_group``):
  its ``fsGroup``, else its pod-level ``runAsGroup``, else its pod-level
  ``runAsUser``, else the group of its first non-root container. The pod
  directory and its emptyDir volumes belong to that group (volumes.py,
  podfiles.py), and every non-root container of the pod gets it as a
  supplementary group, so all containers of a pod share its files while
  containers of other pods (other users, other groups) cannot read them.
* A kubelet that is not root cannot change user: a container asking for a
  user, group or supplementary group the kubelet does not already hold is
  refused (CreateContainerConfigError, saying why); one asking for the
  kubelet's own ids runs as is.

The switch itself is ``setpriv`` (util-linux), put in front of the
command: ``setpriv --reuid U --regid G --groups A,B -- <command>``; it
execs the command, so the pid is unchanged. Leaving root drops every
capability (the kernel does so on setuid); ``allowPrivilegeEscalation:
false`` adds ``--no-new-privs``, so the host's setuid programs cannot
raise the container's privileges again. (Without it they can, as in
Kubernetes, where allowPrivilegeEscalation defaults to true; but here
they are the host's programs.) ``capabilities``, ``privileged``,
``readOnlyRootFilesystem``, seccomp and AppArmor profiles are not
applied. The container's wrapper (runtime.py) stays root, so the
container's processes can neither forge its exit file nor signal it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from pinnace.api.core.v1 import container_pb2, pod_pb2

__all__ = [
    "SETPRIV",
    "Identity",
    "RunAs",
    "SecurityError",
    "kubelet_identity",
    "pod_description",
    "pod_group",
    "run_as",
    "verify_run_as_non_root",
]

SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


class SecurityError(ValueError):
    """The container cannot run as its securityContext says (CreateContainerConfigError)."""


@dataclass(frozen=True)
class Identity:
    """The user the kubelet runs as."""

    uid: int
    gid: int
    groups: frozenset[int]

    @property
    def root(self) -> bool:
        return self.uid == 0


def kubelet_identity() -> Identity:
    return Identity(os.geteuid(), os.getegid(), frozenset(os.getgroups()))


@dataclass(frozen=True)
class RunAs:
    """A user to switch to before running a container's command."""

    uid: int
    gid: int
    groups: tuple[int, ...] = ()
    no_new_privs: bool = False  # allowPrivilegeEscalation: false

    def argv(self) -> list[str]:
        """The setpriv prefix that runs a command as this user."""
        groups = ",".join(str(g) for g in self.groups)
        return [
            SETPRIV,
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            f"--groups={groups}" if groups else "--clear-groups",
            *(["--no-new-privs"] if self.no_new_privs else []),
            "--",
        ]


def pod_description(pod: pod_pb2.Pod) -> str:
    """A pod as Kubernetes' kubelet names it in messages (format.Pod)."""
    meta = pod.metadata
    return f"{meta.name}_{meta.namespace}({meta.uid})"


def _user(pod: pod_pb2.Pod, ctr: container_pb2.Container) -> int | None:
    sc, psc = ctr.security_context, pod.spec.security_context
    if sc.HasField("run_as_user"):
        return sc.run_as_user
    return psc.run_as_user if psc.HasField("run_as_user") else None


def _group(pod: pod_pb2.Pod, ctr: container_pb2.Container) -> int | None:
    sc, psc = ctr.security_context, pod.spec.security_context
    if sc.HasField("run_as_group"):
        return sc.run_as_group
    return psc.run_as_group if psc.HasField("run_as_group") else None


def _non_root(pod: pod_pb2.Pod, ctr: container_pb2.Container) -> bool:
    sc, psc = ctr.security_context, pod.spec.security_context
    if sc.HasField("run_as_non_root"):
        return sc.run_as_non_root
    return psc.HasField("run_as_non_root") and psc.run_as_non_root


def verify_run_as_non_root(
    pod: pod_pb2.Pod, ctr: container_pb2.Container, *, default_uid: int
) -> None:
    """SecurityError if runAsNonRoot forbids how the container would run;
    ``default_uid``: the user it runs as without runAsUser (the kubelet's)."""
    if not _non_root(pod, ctr):
        return
    who = f'(pod: "{pod_description(pod)}", container: {ctr.name})'
    user = _user(pod, ctr)
    if user is not None:
        if user == 0:
            raise SecurityError(f"container's runAsUser breaks non-root policy {who}")
        return
    if default_uid == 0:
        raise SecurityError(f"container has runAsNonRoot and image will run as root {who}")


def _all_containers(pod: pod_pb2.Pod) -> list[container_pb2.Container]:
    return [*pod.spec.init_containers, *pod.spec.containers]


def pod_group(pod: pod_pb2.Pod) -> int | None:
    """The group that shares the pod's files (module docstring); None when
    every container runs as root."""
    psc = pod.spec.security_context
    if psc.HasField("fs_group"):
        return psc.fs_group
    for ctr in _all_containers(pod):
        user = _user(pod, ctr)
        if user is None or user == 0:
            continue
        if psc.HasField("run_as_group"):
            return psc.run_as_group
        if psc.HasField("run_as_user"):
            return psc.run_as_user
        group = _group(pod, ctr)
        return group if group is not None else user
    return None


def run_as(pod: pod_pb2.Pod, ctr: container_pb2.Container, kubelet: Identity) -> RunAs | None:
    """Who ``ctr`` runs as; None: as the kubelet itself. SecurityError if
    that is forbidden (runAsNonRoot) or impossible (a non-root kubelet)."""
    verify_run_as_non_root(pod, ctr, default_uid=kubelet.uid)
    psc = pod.spec.security_context
    user, group = _user(pod, ctr), _group(pod, ctr)
    extra = [*psc.supplemental_groups]
    if psc.HasField("fs_group"):
        extra.append(psc.fs_group)
    if not kubelet.root:
        uid = kubelet.uid if user is None else user
        gid = kubelet.gid if group is None else group
        _check_unprivileged(ctr, uid, gid, extra, kubelet)
        return None
    shared = pod_group(pod)
    if user is not None and user != 0 and shared is not None:
        extra.append(shared)
    sc = ctr.security_context
    nnp = sc.HasField("allow_privilege_escalation") and not sc.allow_privilege_escalation
    if user is None and group is None and not extra and not nnp:
        return None
    uid = 0 if user is None else user
    gid = group if group is not None else uid
    return RunAs(uid, gid, tuple(sorted({g for g in extra if g != gid})), nnp)


def _check_unprivileged(
    ctr: container_pb2.Container, uid: int, gid: int, groups: list[int], kubelet: Identity
) -> None:
    why = f"the kubelet runs as uid {kubelet.uid}, not as root, and cannot change user"
    if uid != kubelet.uid:
        raise SecurityError(f'container "{ctr.name}": cannot run as runAsUser {uid}: {why}')
    if gid != kubelet.gid:
        raise SecurityError(f'container "{ctr.name}": cannot run as runAsGroup {gid}: {why}')
    missing = [g for g in groups if g not in kubelet.groups and g != kubelet.gid]
    if missing:
        raise SecurityError(
            f'container "{ctr.name}": cannot add supplementary groups '
            f"{', '.join(map(str, missing))} (supplementalGroups, fsGroup): {why}"
        )

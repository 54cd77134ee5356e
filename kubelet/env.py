"""A container's environment and command line, as the kubelet makes them.

* ``expand("$(A)-$(B)", env)`` is Kubernetes' ``$(VAR)`` expansion: a
  reference to a defined variable is replaced by its value, one to an
  undefined variable is left as written, ``$$`` is a literal ``$`` (so
  ``$$(A)`` gives ``$(A)``), and an unclosed ``$(`` stays as it is.
* ``container_env`` builds the variables in spec order: each value may use
  the variables defined before it; ``valueFrom.fieldRef`` gives the
  downward API (metadata.name, metadata.namespace, metadata.uid,
  metadata.labels['k'], metadata.annotations['k'], spec.nodeName,
  spec.serviceAccountName, status.podIP, status.hostIP and their plural
  forms), ``valueFrom.resourceFieldRef`` the container's requests and
  limits (a missing limit is the node's allocatable). ConfigMaps and
  Secrets are not served by Pinnace, so a reference to one is a
  ``ConfigError`` unless marked optional.
* Every container also gets ``PATH`` (``DEFAULT_PATH``, the default
  Kubernetes' runtimes give; never the kubelet's: nothing of the kubelet's
  own environment reaches a container), ``HOSTNAME`` (the
  pod's spec.hostname, else its name), ``HOME`` and ``PINNACE_POD_DIR``
  (the pod directory, see runtime.py) and the Service variables
  (``MY_SVC_SERVICE_HOST`` ..., envvars.py) before the spec's variables,
  which may override them and refer to them with ``$(VAR)`` (Kubernetes
  adds the Service variables the container does not define itself, and
  expands against both: the same result).
* ``container_environment`` is the one place a container's ``Environment``
  (variables and working directory) is made: the kubelet builds it when it
  starts the container, and its probes, lifecycle hooks and exec sessions
  run with that same environment (``fallback_environment`` only when it
  cannot be built, for a container re-adopted from an earlier kubelet).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from kubelet.envvars import links_enabled, service_env
from kubelet.paths import PathError, inside
from kubelet.runtime import command_in_cgroups, command_in_netns
from kubelet.security import Identity, RunAs, SecurityError, kubelet_identity, run_as
from pinnace.api.core.v1 import container_pb2, pod_pb2, reference_pb2, service_pb2
from pinnace.machinery.quantity import parse_quantity

__all__ = [
    "DEFAULT_PATH",
    "ConfigError",
    "Environment",
    "command_line",
    "container_env",
    "container_environment",
    "container_user",
    "expand",
    "fallback_environment",
    "field_value",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOBODY = 65534


class ConfigError(ValueError):
    """The container cannot be started as specified (CreateContainerConfigError)."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of ``text`` against ``env``."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end < 0:
                out.append(text[i:])
                break
            name = text[i + 2 : end]
            out.append(env[name] if name and name in env else text[i : end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_value(pod: pod_pb2.Pod, path: str, *, host_ip: str, pod_ip: str) -> str:
    """The downward-API value of ``path`` for ``pod`` (ConfigError if unsupported)."""
    meta, spec = pod.metadata, pod.spec
    simple = {
        "metadata.name": meta.name,
        "metadata.namespace": meta.namespace,
        "metadata.uid": meta.uid,
        "spec.nodeName": spec.node_name,
        "spec.serviceAccountName": spec.service_account_name,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return simple[path]
    m = _SUBSCRIPT.match(path)
    if m:
        source = meta.labels if m.group(1) == "labels" else meta.annotations
        return source.get(m.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        source = meta.labels if path == "metadata.labels" else meta.annotations
        return "\n".join(f'{k}="{v}"' for k, v in sorted(source.items()))
    raise ConfigError(f'unsupported fieldRef fieldPath "{path}"')


def _resource_value(
    container: container_pb2.Container,
    ref: reference_pb2.ResourceFieldSelector,
    allocatable: Mapping[str, str],
) -> str:
    resource = ref.resource  # e.g. limits.cpu, requests.memory
    kind, _, name = resource.partition(".")
    res = container.resources
    source = res.limits if kind == "limits" else res.requests if kind == "requests" else None
    if source is None or not name:
        raise ConfigError(f'unsupported resourceFieldRef resource "{resource}"')
    text = source.get(name) or (allocatable.get(name) if kind == "limits" else None) or "0"
    divisor = parse_quantity(ref.divisor) if ref.divisor else Decimal(1)
    if divisor <= 0:
        raise ConfigError(f'resourceFieldRef divisor "{ref.divisor}" must be positive')
    # Kubernetes rounds up (e.g. 250m cpu with divisor 1 is "1").
    return str(math.ceil(parse_quantity(text) / divisor))


def container_env(
    pod: pod_pb2.Pod,
    container: container_pb2.Container,
    *,
    host_ip: str,
    pod_ip: str,
    pod_dir: str,
    allocatable: Mapping[str, str] | None = None,
    service_vars: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of ``container`` (see the module docstring);
    ``service_vars`` are the Service variables (envvars.service_env)."""
    env: dict[str, str] = {
        "PATH": DEFAULT_PATH,
        "HOSTNAME": pod.spec.hostname or pod.metadata.name,
        "HOME": pod_dir,
        "PINNACE_POD_DIR": pod_dir,
        **(service_vars or {}),
    }
    for src in container.env_from:
        which = "configMap" if src.HasField("config_map_ref") else "secret"
        ref = src.config_map_ref if which == "configMap" else src.secret_ref
        if not ref.optional:
            raise ConfigError(f'{which} "{ref.name}" not found (Pinnace does not serve {which}s)')
    for var in container.env:
        if not var.HasField("value_from"):
            env[var.name] = expand(var.value, env)
            continue
        source = var.value_from
        if source.HasField("field_ref"):
            env[var.name] = field_value(
                pod, source.field_ref.field_path, host_ip=host_ip, pod_ip=pod_ip
            )
        elif source.HasField("resource_field_ref"):
            env[var.name] = _resource_value(container, source.resource_field_ref, allocatable or {})
        else:
            for name in ("config_map_key_ref", "secret_key_ref", "file_key_ref"):
                if source.HasField(name):
                    ref = getattr(source, name)
                    if not ref.optional:
                        raise ConfigError(
                            f'env {var.name}: {name.replace("_", " ")} "{getattr(ref, "name", "")}" '
                            "not found (Pinnace does not serve ConfigMaps or Secrets)"
                        )
    return env


def command_line(container: container_pb2.Container, env: Mapping[str, str]) -> list[str]:
    """command + args with $(VAR) expanded; ConfigError without a command
    (there is no image to supply an entrypoint)."""
    if not container.command:
        raise ConfigError(
            f'container "{container.name}" has no command: Pinnace runs commands, not images '
            f'(image "{container.image}" is recorded but not pulled); set "command"'
        )
    return [expand(a, env) for a in (*container.command, *container.args)]


@dataclass(frozen=True)
class Environment:
    """What a container's processes run with: its variables, working
    directory and network namespace ("" = the host's)."""

    env: dict[str, str]
    workdir: Path
    netns: str = ""
    user: RunAs | None = None  # None: as the kubelet's own user (security.py)

    @property
    def user_prefix(self) -> list[str]:
        """The setpriv prefix that runs a command as the container's user."""
        return self.user.argv() if self.user is not None else []

    def argv(self, command: list[str], cgroups: Sequence[Path] = ()) -> list[str]:
        """``command`` as run in the container's network namespace, as its
        user, in its ``cgroups`` (its current instance's; FileNotFoundError
        if the executable does not exist)."""
        argv = command_in_netns(
            command,
            netns=self.netns,
            path=self.env.get("PATH", ""),
            workdir=self.workdir,
            prefix=self.user_prefix,
            resolve=bool(cgroups),
        )
        return command_in_cgroups(argv, cgroups)


def container_environment(
    pod: pod_pb2.Pod,
    container: container_pb2.Container,
    *,
    host_ip: str,
    pod_ip: str,
    pod_dir: Path,
    allocatable: Mapping[str, str] | None = None,
    services: Iterable[service_pb2.Service] = (),
    netns: str = "",
    identity: Identity | None = None,
) -> Environment:
    """The environment of ``container``: ``container_env`` with the
    variables of ``services`` (all the kubelet knows of; the pod's are
    picked by envvars.service_env) and its workingDir inside the pod
    directory, run as its securityContext's user (security.py; ``identity``:
    the kubelet's, by default the process's). ConfigError if any is invalid."""
    user = container_user(pod, container, identity)
    service_vars = service_env(
        services, namespace=pod.metadata.namespace, enable_links=links_enabled(pod)
    )
    env = container_env(
        pod,
        container,
        host_ip=host_ip,
        pod_ip=pod_ip,
        pod_dir=str(pod_dir),
        allocatable=allocatable,
        service_vars=service_vars,
    )
    try:
        workdir = inside(pod_dir, container.working_dir) if container.working_dir else pod_dir
    except PathError as e:
        raise ConfigError(str(e)) from None
    return Environment(env, workdir, netns, user)


def container_user(
    pod: pod_pb2.Pod, container: container_pb2.Container, identity: Identity | None = None
) -> RunAs | None:
    """Who the container runs as (security.run_as); ConfigError if it may not run."""
    try:
        return run_as(pod, container, identity or kubelet_identity())
    except SecurityError as e:
        raise ConfigError(str(e)) from None


def fallback_environment(
    pod_dir: Path,
    netns: str = "",
    *,
    pod: pod_pb2.Pod | None = None,
    container: container_pb2.Container | None = None,
) -> Environment:
    """The environment when ``container_environment`` fails: PATH, in the
    pod directory, as the container's user (``nobody`` if even that cannot
    be resolved: never root by accident)."""
    user: RunAs | None = None
    if pod is not None and container is not None:
        try:
            user = container_user(pod, container)
        except ConfigError:
            user = RunAs(NOBODY, NOBODY)
    return Environment({"PATH": DEFAULT_PATH}, pod_dir, netns, user)

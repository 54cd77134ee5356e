"""The Service environment variables the kubelet gives every container
(Kubernetes' pkg/kubelet/envvars ``FromServices`` and the kubelet's
``getServiceEnvVarMap``).

For each Service that has a cluster IP (not ``None``, not empty) and at least
one port, with NAME its name upper-cased and ``-`` turned into ``_``:

* ``NAME_SERVICE_HOST`` (the clusterIP), ``NAME_SERVICE_PORT`` (the first
  port) and ``NAME_SERVICE_PORT_<PORTNAME>`` for every named port;
* the Docker-link variables: ``NAME_PORT`` for the first port and, for every
  port, ``NAME_PORT_<port>_<PROTO>``, with ``_PROTO``, ``_PORT`` and
  ``_ADDR``. A Service ``redis-primary`` at 10.96.0.11 with port 6379/TCP
  gives ``REDIS_PRIMARY_SERVICE_HOST=10.96.0.11``,
  ``REDIS_PRIMARY_SERVICE_PORT=6379``,
  ``REDIS_PRIMARY_PORT=tcp://10.96.0.11:6379``,
  ``REDIS_PRIMARY_PORT_6379_TCP=tcp://10.96.0.11:6379``,
  ``REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp``,
  ``REDIS_PRIMARY_PORT_6379_TCP_PORT=6379`` and
  ``REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.96.0.11``.

Which Services (``service_env``): those of the pod's namespace when the
pod's ``spec.enableServiceLinks`` is true or unset (Kubernetes defaults it
to true), and always the master service ``kubernetes`` of namespace
``default``. A Service named ``kubernetes`` in the pod's own namespace takes
the place of the master one, as in Kubernetes. The caller lets the
container's own variables win (env.py seeds these first).
"""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.core.v1 import pod_pb2, service_pb2

__all__ = [
    "MASTER_SERVICES",
    "env_name",
    "from_services",
    "has_cluster_ip",
    "links_enabled",
    "service_env",
]

# Services of namespace "default" whose variables every pod gets.
MASTER_SERVICES = frozenset({"kubernetes"})


def env_name(name: str) -> str:
    """A Service or port name as a variable name part: ``my-svc`` -> ``MY_SVC``."""
    return name.replace("-", "_").upper()


def has_cluster_ip(service: service_pb2.Service) -> bool:
    ip = service.spec.cluster_ip
    return ip not in ("", "None")


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _link_variables(service: service_pb2.Service) -> list[tuple[str, str]]:
    prefix = env_name(service.metadata.name)
    ip = service.spec.cluster_ip
    out: list[tuple[str, str]] = []
    for i, sp in enumerate(service.spec.ports):
        proto = sp.protocol or "TCP"
        url = f"{proto.lower()}://{_host_port(ip, sp.port)}"
        if i == 0:
            out.append((f"{prefix}_PORT", url))
        port_prefix = f"{prefix}_PORT_{sp.port}_{proto.upper()}"
        out += [
            (port_prefix, url),
            (f"{port_prefix}_PROTO", proto.lower()),
            (f"{port_prefix}_PORT", str(sp.port)),
            (f"{port_prefix}_ADDR", ip),
        ]
    return out


def from_services(services: Iterable[service_pb2.Service]) -> list[tuple[str, str]]:
    """The variables of ``services`` (those without a cluster IP or ports are skipped)."""
    out: list[tuple[str, str]] = []
    for service in services:
        if not has_cluster_ip(service) or not service.spec.ports:
            continue
        prefix = env_name(service.metadata.name)
        port_var = f"{prefix}_SERVICE_PORT"
        out.append((f"{prefix}_SERVICE_HOST", service.spec.cluster_ip))
        out.append((port_var, str(service.spec.ports[0].port)))
        out += [
            (f"{port_var}_{env_name(sp.name)}", str(sp.port))
            for sp in service.spec.ports
            if sp.name
        ]
        out += _link_variables(service)
    return out


def links_enabled(pod: pod_pb2.Pod) -> bool:
    """spec.enableServiceLinks, true when unset."""
    spec = pod.spec
    return spec.enable_service_links if spec.HasField("enable_service_links") else True


def service_env(
    services: Iterable[service_pb2.Service], *, namespace: str, enable_links: bool
) -> dict[str, str]:
    """The variables of the Services a pod in ``namespace`` sees (module docstring)."""
    chosen: dict[str, service_pb2.Service] = {}
    for service in services:
        if not has_cluster_ip(service):
            continue
        name, ns = service.metadata.name, service.metadata.namespace
        if ns == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif ns == namespace and enable_links:
            chosen[name] = service
    return dict(from_services(chosen[k] for k in sorted(chosen)))

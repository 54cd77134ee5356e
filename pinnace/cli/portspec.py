"""What ``pinnace port-forward`` is asked to forward, worked out as kubectl
does (pure; no I/O).

Ports are ``[LOCAL:]REMOTE``:

* ``8080:80`` listens on local 8080 and forwards to 80 in the pod;
* ``:80`` listens on a random free local port (kubectl's local 0);
* ``80`` forwards local 80 to 80.

REMOTE may name a port. For a pod (also one chosen by a workload's
selector) it is one of the pod's container port names, looked up as
kubectl's ``convertPodNamedPortToNumber``: ``http`` with a container port
``http: 8080`` becomes ``8080`` (local 8080 too). For a Service the remote
is the Service's port, by number or name, translated to the chosen pod's
container port (kubectl's ``translateServicePortToTargetPort``): with
``port: 80 (name web), targetPort: http`` and the pod's ``http: 8080``,
``80`` and ``web`` both become ``80:8080`` (local 80) and ``:web``
becomes ``:8080``. A headless Service (``clusterIP: None``) forwards to
the port itself. Ports only UDP serves are refused, as kubectl does.

Addresses (``--address``, default ``localhost``): ``localhost`` listens on
127.0.0.1 and ::1 and fails only when neither works; an IP listens there
and fails if it cannot; sorted as kubectl sorts them (127.0.0.1 first).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.machinery.intstr import intstr_value

__all__ = [
    "FAIL_ALL",
    "FAIL_ANY",
    "ForwardedPort",
    "ListenAddress",
    "check_udp_ports",
    "convert_pod_named_ports",
    "parse_addresses",
    "parse_ports",
    "precheck_ports",
    "split_port",
    "translate_service_ports",
]

MAX_PORT = 65535
# A listener failure fails the port only when every "all" address failed
# (localhost's two), or when any "any" address (an explicit IP) failed.
FAIL_ALL = "all"
FAIL_ANY = "any"


@dataclass(frozen=True)
class ForwardedPort:
    """Local port (0: a random free one) -> the pod's port."""

    local: int
    remote: int


@dataclass(frozen=True)
class ListenAddress:
    address: str
    family: socket.AddressFamily
    failure_mode: str  # FAIL_ALL or FAIL_ANY


def split_port(spec: str) -> tuple[str, str]:
    """(local, remote) text of ``[LOCAL:]REMOTE``; ``REMOTE`` alone is both."""
    parts = spec.split(":")
    if len(parts) > 2 or not parts[-1]:
        raise ValueError(
            f"invalid port format '{spec}': use [LOCAL_PORT:]REMOTE_PORT, e.g. 8080:80, :80 or 80"
        )
    if len(parts) == 2:
        return parts[0], parts[1]
    return parts[0], parts[0]


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _join(local: str, remote: str, number: int) -> str:
    """kubectl's rule: keep LOCAL:REMOTE unless the local text was the remote's."""
    return f"{local}:{number}" if local != remote else str(number)


def convert_pod_named_ports(specs: Iterable[str], pod: pod_pb2.Pod) -> list[str]:
    """Each spec with a named remote port turned into the container port's number."""
    out = []
    for spec in specs:
        local, remote = split_port(spec)
        if _is_number(remote):
            out.append(spec)
            continue
        out.append(_join(local, remote, container_port_by_name(pod, remote)))
    return out


def translate_service_ports(
    specs: Iterable[str], svc: service_pb2.Service, pod: pod_pb2.Pod
) -> list[str]:
    """Each spec's remote Service port (number or name) turned into the pod's
    container port its targetPort names; a named remote's local port is the
    Service's port number (see the module docstring)."""
    out = []
    for spec in specs:
        local, remote = split_port(spec)
        if _is_number(remote):
            number = int(remote)
        else:
            number = service_port_by_name(svc, remote)
            if local == remote:
                local = str(number)
        target = container_port_for_service_port(svc, pod, number)
        out.append(f"{local}:{target}" if local != str(target) else str(target))
    return out


def container_port_by_name(pod: pod_pb2.Pod, name: str) -> int:
    for ctr in pod.spec.containers:
        for p in ctr.ports:
            if p.name == name:
                return int(p.container_port)
    known = sorted({p.name for c in pod.spec.containers for p in c.ports if p.name})
    hint = f" (its named ports: {', '.join(known)})" if known else " (it names no ports)"
    raise ValueError(f"Pod '{pod.metadata.name}' does not have a named port '{name}'{hint}")


def service_port_by_name(svc: service_pb2.Service, name: str) -> int:
    for sp in svc.spec.ports:
        if sp.name == name:
            return int(sp.port)
    known = sorted(sp.name for sp in svc.spec.ports if sp.name)
    hint = f" (its named ports: {', '.join(known)})" if known else " (it names no ports)"
    raise ValueError(f"Service '{svc.metadata.name}' does not have a named port '{name}'{hint}")


def container_port_for_service_port(svc: service_pb2.Service, pod: pod_pb2.Pod, port: int) -> int:
    """kubectl's LookupContainerPortNumberByServicePort."""
    for sp in svc.spec.ports:
        if sp.port != port:
            continue
        if svc.spec.cluster_ip == "None":
            return port
        target = intstr_value(sp.target_port) if sp.HasField("target_port") else None
        if target is None or target == 0:
            return int(sp.port)
        if isinstance(target, int):
            return target
        return container_port_by_name(pod, target)
    known = ", ".join(str(sp.port) for sp in svc.spec.ports) or "none"
    raise ValueError(
        f"Service {svc.metadata.name} does not have a service port {port} (its ports: {known})"
    )


def check_udp_ports(
    specs: Iterable[str], protocols: Sequence[tuple[int, str]], lookup_name: Callable[[str], int]
) -> None:
    """Refuse remote ports served only over UDP (kubectl's checkUDPPorts).
    ``protocols``: (port, protocol) of the Service's ports or the pod's
    container ports; ``lookup_name`` turns a named remote into its number."""
    udp = {n for n, proto in protocols if proto == "UDP"}
    tcp = {n for n, proto in protocols if (proto or "TCP") == "TCP"}
    for spec in specs:
        _, remote = split_port(spec)
        number = int(remote) if _is_number(remote) else lookup_name(remote)
        if number in udp - tcp:
            raise ValueError(f"UDP protocol is not supported for {remote}")


def parse_ports(specs: Iterable[str]) -> list[ForwardedPort]:
    """Numeric ``[LOCAL:]REMOTE`` specs (named ports already resolved)."""
    out = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) > 2:
            raise ValueError(f"invalid port format '{spec}'")
        local_text = (parts[0] or "0") if len(parts) == 2 else parts[0]
        remote_text = parts[-1]
        local = _port_number(local_text, "local", lowest=0)
        remote = _port_number(remote_text, "remote", lowest=1)
        out.append(ForwardedPort(local, remote))
    if not out:
        raise ValueError("at least 1 PORT is required for port-forward")
    return out


def _port_number(text: str, which: str, *, lowest: int) -> int:
    allowed = f"a number from {lowest} to {MAX_PORT}" + (
        " (0: a random free port)" if lowest == 0 else ""
    )
    if not _is_number(text):
        raise ValueError(f"error parsing {which} port '{text}': not {allowed}")
    number = int(text)
    if which == "remote" and number == 0:
        raise ValueError("remote port must be > 0")
    if number > MAX_PORT:
        raise ValueError(f"error parsing {which} port '{text}': out of range, use {allowed}")
    return number


def parse_addresses(items: Iterable[str]) -> list[ListenAddress]:
    """``--address`` values (each may be a comma list) as kubectl's parseAddresses."""
    parsed: dict[str, ListenAddress] = {}
    for item in items:
        for address in (a.strip() for a in item.split(",")):
            if address == "localhost":
                parsed.setdefault("127.0.0.1", ListenAddress("127.0.0.1", socket.AF_INET, FAIL_ALL))
                parsed.setdefault("::1", ListenAddress("::1", socket.AF_INET6, FAIL_ALL))
                continue
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(
                    f"{address} is not a valid IP: --address takes localhost or IP addresses"
                ) from None
            family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
            parsed[address] = ListenAddress(str(ip), family, FAIL_ANY)
    return [parsed[k] for k in sorted(parsed)]


def precheck_ports(specs: Sequence[str]) -> None:
    """Syntax and range errors before anything is looked up (named remote
    ports are checked once the pod or Service is known)."""
    if not specs:
        raise ValueError("TYPE/NAME and list of ports are required for port-forward")
    for spec in specs:
        local, remote = split_port(spec)
        if _is_number(remote):
            _port_number(remote, "remote", lowest=1)
        if local and local != remote:
            _port_number(local, "local", lowest=0)

"""Strategy of core/v1 Service: Kubernetes' defaults and validation.

Defaults are SetDefaults_Service (pkg/apis/core/v1/defaults.go) plus the
registry's initIPFamilyFields for a single-stack cluster: type ClusterIP,
sessionAffinity None, per port protocol TCP and targetPort = port,
externalTrafficPolicy Cluster for externally reachable types,
internalTrafficPolicy Cluster, allocateLoadBalancerNodePorts true for a
LoadBalancer, ipFamilyPolicy SingleStack (RequireDualStack for a headless
Service without selector, as Kubernetes) and ipFamilies [IPv4]. The
clusterIP and node ports themselves are assigned by
``apiserver.registry.allocation`` when the object is written.

Validation follows ValidateService / validateServicePort /
ValidateServiceClusterIPsRelatedFields, with Kubernetes' messages; the
range checks of requested IPs and ports use the apiserver's configured
ranges (RegistryConfig).
"""

from __future__ import annotations

import ipaddress

from apiserver.registry.allocation import IP_PREFIX, PORT_PREFIX, Claimed, IPRange, PortRange, pick
from apiserver.registry.config import DEFAULT_CONFIG, RegistryConfig
from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import service_pb2
from pinnace.machinery import errors
from pinnace.machinery.intstr import intstr_value
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    not_supported,
    required,
)

from .common import Shown, opt, validate_port_num_or_name

SPEC = FieldPath.root("spec")
TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
FAMILIES = ("IPv4", "IPv6")
NONE = "None"
DEFAULT_AFFINITY_TIMEOUT = 10800  # 3 hours, Kubernetes' DefaultClientIPServiceAffinitySeconds
MAX_AFFINITY_TIMEOUT = 86400


def is_headless(spec: service_pb2.ServiceSpec) -> bool:
    return spec.cluster_ip == NONE


def external(spec: service_pb2.ServiceSpec) -> bool:
    """ExternallyAccessible: NodePort, LoadBalancer or externalIPs set."""
    return spec.type in ("NodePort", "LoadBalancer") or (
        spec.type == "ClusterIP" and bool(spec.external_ips)
    )


def uses_node_ports(spec: service_pb2.ServiceSpec) -> bool:
    """Whether node ports are allocated for the Service (alloc.go shouldAllocateNodePorts)."""
    if spec.type == "NodePort":
        return True
    if spec.type == "LoadBalancer":
        return opt(spec, "allocate_load_balancer_node_ports") is not False
    return False


def default_service(obj: service_pb2.Service) -> None:
    """SetDefaults_Service and initIPFamilyFields (single-stack IPv4 cluster)."""
    spec = obj.spec
    if not spec.type:
        spec.type = "ClusterIP"
    if not spec.session_affinity:
        spec.session_affinity = "None"
    if spec.session_affinity == "None":
        spec.ClearField("session_affinity_config")
    elif spec.session_affinity == "ClientIP":
        client_ip = spec.session_affinity_config.client_ip
        if not client_ip.HasField("timeout_seconds"):
            client_ip.timeout_seconds = DEFAULT_AFFINITY_TIMEOUT
    for port in spec.ports:
        if not port.protocol:
            port.protocol = "TCP"
        target = intstr_value(port.target_port if port.HasField("target_port") else None)
        if target in (None, 0, ""):
            port.target_port.int_val = port.port
    if external(spec) and not spec.external_traffic_policy:
        spec.external_traffic_policy = "Cluster"
    if spec.type != "ExternalName" and not spec.HasField("internal_traffic_policy"):
        spec.internal_traffic_policy = "Cluster"
    if spec.type == "LoadBalancer" and not spec.HasField("allocate_load_balancer_node_ports"):
        spec.allocate_load_balancer_node_ports = True
    if spec.type == "ExternalName":
        return
    if spec.cluster_ip and not spec.cluster_ips:
        spec.cluster_ips.append(spec.cluster_ip)
    if not spec.HasField("ip_family_policy"):
        headless_no_selector = is_headless(spec) and not spec.selector
        spec.ip_family_policy = "RequireDualStack" if headless_no_selector else "SingleStack"
    if not spec.ip_families:
        spec.ip_families.append("IPv4")


class ServiceStrategy(Strategy[service_pb2.Service]):
    def __init__(self, info: KindInfo, config: RegistryConfig = DEFAULT_CONFIG) -> None:
        super().__init__(info, config)
        self.ip_range = IPRange.parse(config.service_cluster_ip_range)
        self.port_range = PortRange.parse(config.service_node_port_range)

    def validate_name(self, name: str) -> list[str]:
        """A Service name is a DNS-1035 label (it becomes a DNS name and env vars)."""
        return is_dns1035_label(name)

    def default(self, obj: service_pb2.Service) -> None:
        default_service(obj)

    def validate(self, obj: service_pb2.Service) -> list[FieldError]:
        return validate_service_spec(obj.spec, ip_range=self.ip_range, port_range=self.port_range)

    def validate_status_update(
        self, new: service_pb2.Service, old: service_pb2.Service
    ) -> list[FieldError]:
        """ValidateLoadBalancerStatus: each ingress has a valid IP (ipMode
        VIP or Proxy, only with an IP) or a DNS hostname that is not an IP."""
        return _validate_load_balancer_status(new.status.load_balancer)

    def prepare_for_update(self, new: service_pb2.Service, old: service_pb2.Service) -> None:
        """Keep the stored status; keep allocated values an update left out
        (patchAllocatedValues) and drop the ones the new type no longer uses
        when the client did not change them (dropTypeDependentFields)."""
        super().prepare_for_update(new, old)
        ns, os_ = new.spec, old.spec
        if ns.type == "ExternalName":
            if ns.cluster_ip == os_.cluster_ip:
                ns.cluster_ip = ""
                del ns.cluster_ips[:]
            if list(ns.ip_families) == list(os_.ip_families):
                del ns.ip_families[:]
            if opt(ns, "ip_family_policy") == opt(os_, "ip_family_policy"):
                ns.ClearField("ip_family_policy")
        elif os_.type != "ExternalName" and not ns.cluster_ip:
            ns.cluster_ip = os_.cluster_ip
            ns.cluster_ips[:] = os_.cluster_ips
        if (
            external(os_)
            and not external(ns)
            and ns.external_traffic_policy == os_.external_traffic_policy
        ):
            ns.external_traffic_policy = ""
        if os_.type == "LoadBalancer" and ns.type != "LoadBalancer":
            for name in ("allocate_load_balancer_node_ports", "load_balancer_class"):
                if opt(ns, name) == opt(os_, name):
                    ns.ClearField(name)
            if ns.health_check_node_port == os_.health_check_node_port:
                ns.health_check_node_port = 0
        old_node_ports = {(p.port, p.protocol): p.node_port for p in os_.ports if p.node_port}
        keep = uses_node_ports(ns) and uses_node_ports(os_)
        for port in ns.ports:
            old_node_port = old_node_ports.get((port.port, port.protocol), 0)
            if keep and not port.node_port:
                port.node_port = old_node_port
            elif not uses_node_ports(ns) and port.node_port == old_node_port:
                port.node_port = 0

    async def allocate(
        self, obj: service_pb2.Service, old: service_pb2.Service | None, claimed: Claimed
    ) -> None:
        """A clusterIP for a Service that has none (not headless, not
        ExternalName) and node ports for a NodePort or LoadBalancer."""
        spec = obj.spec
        if spec.type == "ExternalName":
            return
        if not spec.cluster_ip:
            ip = pick(self.ip_range, await claimed(IP_PREFIX))
            if ip is None:
                raise errors.InternalError(
                    "Internal error occurred: failed to allocate a serviceIP: range is full"
                )
            spec.cluster_ip = ip
            spec.cluster_ips[:] = [ip]
        if not uses_node_ports(spec) or all(p.node_port for p in spec.ports):
            return
        taken = await claimed(PORT_PREFIX) | {str(p.node_port) for p in spec.ports if p.node_port}
        for port in spec.ports:
            if port.node_port:
                continue
            # Ports with the same number (TCP and UDP 53) share one node port.
            shared = next(
                (p.node_port for p in spec.ports if p.port == port.port and p.node_port), 0
            )
            if shared:
                port.node_port = shared
                continue
            value = pick(self.port_range, taken)
            if value is None:
                raise errors.InternalError(
                    "Internal error occurred: failed to allocate a nodePort: range is full"
                )
            port.node_port = int(value)
            taken.add(value)

    def claims(self, obj: service_pb2.Service) -> dict[str, bytes]:
        """One key per cluster IP and per node port the Service holds."""
        spec = obj.spec
        holder = f"{obj.metadata.namespace}/{obj.metadata.name}".encode()
        keys: dict[str, bytes] = {}
        if spec.type != "ExternalName" and not is_headless(spec):
            keys.update((IP_PREFIX + ip, holder) for ip in spec.cluster_ips if ip)
        if spec.type != "ExternalName" and spec.type != "ClusterIP":
            keys.update((PORT_PREFIX + str(p.node_port), holder) for p in spec.ports if p.node_port)
            if spec.health_check_node_port:
                keys[PORT_PREFIX + str(spec.health_check_node_port)] = holder
        return keys

    def claim_errors(self, obj: service_pb2.Service, keys: list[str]) -> list[FieldError]:
        """Kubernetes' allocator errors for values another Service holds."""
        errs: list[FieldError] = []
        spec = obj.spec
        for key in keys:
            if key.startswith(IP_PREFIX):
                ip = key.removeprefix(IP_PREFIX)
                errs.append(
                    invalid(
                        SPEC.child("clusterIPs"),
                        Shown(list(spec.cluster_ips)),
                        f"failed to allocate IP {ip}: provided IP is already allocated",
                    )
                )
                continue
            port = int(key.removeprefix(PORT_PREFIX))
            index = next((i for i, p in enumerate(spec.ports) if p.node_port == port), None)
            path = (
                SPEC.child("healthCheckNodePort")
                if index is None
                else SPEC.child("ports").index(index).child("nodePort")
            )
            errs.append(invalid(path, port, "provided port is already allocated"))
        return errs

    def validate_update(
        self, new: service_pb2.Service, old: service_pb2.Service
    ) -> list[FieldError]:
        """validate plus validateServiceClusterIPsUpgrade: the primary
        clusterIP may not change once set, except to or from ExternalName."""
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec
        if "ExternalName" in (ns.type, os_.type):
            return errs
        if os_.cluster_ips and ns.cluster_ips and ns.cluster_ips[0] != os_.cluster_ips[0]:
            errs.append(
                invalid(
                    SPEC.child("clusterIPs").index(0),
                    ns.cluster_ips[0],
                    "may not change once set",
                )
            )
        elif os_.cluster_ips and not ns.cluster_ips:
            errs.append(
                invalid(
                    SPEC.child("clusterIPs").index(0),
                    Shown([]),
                    "primary clusterIP can not be unset",
                )
            )
        return errs


def validate_service_spec(
    spec: service_pb2.ServiceSpec, *, ip_range: IPRange, port_range: PortRange
) -> list[FieldError]:
    errs: list[FieldError] = []
    if spec.type not in TYPES:
        errs.append(not_supported(SPEC.child("type"), spec.type, TYPES))
    errs += _validate_ports(spec, port_range)
    errs += _validate_cluster_ips(spec, ip_range)
    if spec.type == "ExternalName":
        errs += _validate_external_name(spec)
    errs += _validate_affinity(spec)
    errs += _validate_traffic_policies(spec)
    errs += _validate_load_balancer_fields(spec)
    errs += _validate_external_ips(spec)
    return errs


def _validate_ports(spec: service_pb2.ServiceSpec, port_range: PortRange) -> list[FieldError]:
    errs: list[FieldError] = []
    ports_path = SPEC.child("ports")
    if not spec.ports and spec.type != "ExternalName" and not is_headless(spec):
        errs.append(required(ports_path))
    names: set[str] = set()
    seen: set[tuple[str, int]] = set()
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(spec.ports):
        path = ports_path.index(i)
        errs += _validate_port(port, path, needs_name=len(spec.ports) > 1)
        if port.name:
            if port.name in names:
                errs.append(duplicate(path.child("name"), port.name))
            names.add(port.name)
        key = (port.protocol, port.port)
        if key in seen:
            errs.append(duplicate(path, Shown({"port": port.port, "protocol": port.protocol})))
        seen.add(key)
        if port.node_port:
            errs += _validate_node_port(spec, port, path.child("nodePort"), port_range)
            node_key = (port.protocol, port.node_port)
            if node_key in node_ports:
                errs.append(duplicate(path.child("nodePort"), port.node_port))
            node_ports.add(node_key)
    return errs


def _validate_port(
    port: service_pb2.ServicePort, path: FieldPath, *, needs_name: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if needs_name and not port.name:
        errs.append(required(path.child("name")))
    elif port.name:
        errs += [invalid(path.child("name"), port.name, m) for m in is_dns1123_label(port.name)]
    if not 1 <= port.port <= 65535:
        errs.append(
            invalid(path.child("port"), port.port, "must be between 1 and 65535, inclusive")
        )
    if port.protocol not in PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), port.protocol, PROTOCOLS))
    target = port.target_port if port.HasField("target_port") else None
    errs += validate_port_num_or_name(target, path.child("targetPort"))
    if port.HasField("app_protocol") and not port.app_protocol:
        errs.append(invalid(path.child("appProtocol"), port.app_protocol, "must not be empty"))
    return errs


def _validate_node_port(
    spec: service_pb2.ServiceSpec,
    port: service_pb2.ServicePort,
    path: FieldPath,
    port_range: PortRange,
) -> list[FieldError]:
    if spec.type == "ClusterIP":
        return [forbidden(path, "may not be used when `type` is 'ClusterIP'")]
    if spec.type == "ExternalName":
        return [forbidden(path, "may not be used when `type` is 'ExternalName'")]
    if not 1 <= port.node_port <= 65535:
        return [invalid(path, port.node_port, "must be between 1 and 65535, inclusive")]
    if port.node_port not in port_range:
        return [invalid(path, port.node_port, port_range.out_of_range_message())]
    return []


def _validate_cluster_ips(spec: service_pb2.ServiceSpec, ip_range: IPRange) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields, and the allocator's range check."""
    ips_path = SPEC.child("clusterIPs")
    if spec.type == "ExternalName":
        errs: list[FieldError] = []
        if spec.cluster_ip or spec.cluster_ips:
            errs.append(forbidden(ips_path, "may not be set for ExternalName services"))
        if spec.ip_families:
            errs.append(
                forbidden(SPEC.child("ipFamilies"), "may not be set for ExternalName services")
            )
        if spec.HasField("ip_family_policy"):
            errs.append(
                forbidden(SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services")
            )
        return errs
    errs = []
    policy = opt(spec, "ip_family_policy")
    if policy is not None and policy not in FAMILY_POLICIES:
        errs.append(not_supported(SPEC.child("ipFamilyPolicy"), policy, FAMILY_POLICIES))
    errs += _validate_families(spec)
    if spec.cluster_ip and not spec.cluster_ips:
        return [*errs, required(ips_path)]
    if not spec.cluster_ip and spec.cluster_ips:
        return [
            *errs,
            invalid(
                ips_path,
                Shown(list(spec.cluster_ips)),
                "must be empty when `clusterIP` is not specified",
            ),
        ]
    if not spec.cluster_ips:
        return errs
    if spec.cluster_ips[0] != spec.cluster_ip:
        errs.append(
            invalid(ips_path, Shown(list(spec.cluster_ips)), "first value must match `clusterIP`")
        )
    if is_headless(spec):
        if len(spec.cluster_ips) > 1:
            errs.append(
                invalid(
                    ips_path,
                    Shown(list(spec.cluster_ips)),
                    "'None' must be the first and only value",
                )
            )
        if spec.type in ("NodePort", "LoadBalancer"):
            errs.append(
                invalid(
                    ips_path.index(0), NONE, f"may not be set to 'None' for {spec.type} services"
                )
            )
        return errs
    if len(spec.cluster_ips) > 2:
        errs.append(
            invalid(ips_path, Shown(list(spec.cluster_ips)), "may only hold up to 2 values")
        )
    for i, ip in enumerate(spec.cluster_ips):
        path = ips_path.index(i)
        addr = _ip_address(path, ip, errs)
        if addr is None:
            continue
        if addr.version != 4:
            errs.append(
                invalid(SPEC.child("ipFamilies").index(0), "IPv6", "not configured on this cluster")
            )
        elif i == 0 and addr not in ip_range:
            errs.append(
                invalid(
                    ips_path,
                    Shown(list(spec.cluster_ips)),
                    f"failed to allocate IP {ip}: {ip_range.out_of_range_message()}",
                )
            )
    if len(spec.cluster_ips) == 2 and opt(spec, "ip_family_policy") in ("SingleStack", None):
        errs.append(
            invalid(
                SPEC.child("ipFamilyPolicy"),
                opt(spec, "ip_family_policy") or "",
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
            )
        )
    return errs


def _validate_families(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, family in enumerate(spec.ip_families):
        path = SPEC.child("ipFamilies").index(i)
        if family not in FAMILIES:
            errs.append(not_supported(path, family, FAMILIES))
        elif family in seen:
            errs.append(duplicate(path, family))
        elif family == "IPv6":
            errs.append(invalid(path, family, "not configured on this cluster"))
        seen.add(family)
    if opt(spec, "ip_family_policy") == "RequireDualStack" and not is_headless(spec):
        errs.append(
            invalid(
                SPEC.child("ipFamilyPolicy"),
                "RequireDualStack",
                "this cluster is not configured for dual-stack services",
            )
        )
    return errs


def _validate_external_name(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    path = SPEC.child("externalName")
    if not spec.external_name:
        return [required(path)]
    name = spec.external_name.removesuffix(".")
    return [invalid(path, spec.external_name, m) for m in is_dns1123_subdomain(name)]


def _validate_affinity(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    path = SPEC.child("sessionAffinity")
    if not spec.session_affinity:
        return [required(path)]
    if spec.session_affinity not in AFFINITIES:
        return [not_supported(path, spec.session_affinity, AFFINITIES)]
    config_path = SPEC.child("sessionAffinityConfig")
    if spec.session_affinity == "None":
        if spec.HasField("session_affinity_config"):
            return [
                invalid(
                    config_path,
                    Shown(spec.session_affinity_config),
                    "must not be set when session affinity is None",
                )
            ]
        return []
    timeout = opt(spec.session_affinity_config.client_ip, "timeout_seconds")
    if timeout is not None and not 0 < timeout <= MAX_AFFINITY_TIMEOUT:
        return [
            invalid(
                config_path.child("clientIP", "timeoutSeconds"),
                timeout,
                f"must be greater than 0 and less than {MAX_AFFINITY_TIMEOUT}",
            )
        ]
    return []


def _validate_traffic_policies(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    etp_path = SPEC.child("externalTrafficPolicy")
    if spec.external_traffic_policy:
        if not external(spec):
            errs.append(
                invalid(
                    etp_path,
                    spec.external_traffic_policy,
                    "may only be set for externally-accessible services",
                )
            )
        elif spec.external_traffic_policy not in TRAFFIC_POLICIES:
            errs.append(not_supported(etp_path, spec.external_traffic_policy, TRAFFIC_POLICIES))
    elif external(spec):
        errs.append(required(etp_path))
    itp = opt(spec, "internal_traffic_policy")
    itp_path = SPEC.child("internalTrafficPolicy")
    if spec.type != "ExternalName":
        if itp is None:
            errs.append(required(itp_path))
        elif itp not in TRAFFIC_POLICIES:
            errs.append(not_supported(itp_path, itp, TRAFFIC_POLICIES))
    if spec.health_check_node_port and not (
        spec.type == "LoadBalancer" and spec.external_traffic_policy == "Local"
    ):
        errs.append(
            invalid(
                SPEC.child("healthCheckNodePort"),
                spec.health_check_node_port,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            )
        )
    return errs


def _validate_load_balancer_fields(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    if spec.type == "LoadBalancer":
        return []
    errs: list[FieldError] = []
    message = "may only be used when `type` is 'LoadBalancer'"
    if spec.load_balancer_source_ranges:
        errs.append(forbidden(SPEC.child("loadBalancerSourceRanges"), message))
    if spec.HasField("allocate_load_balancer_node_ports"):
        errs.append(forbidden(SPEC.child("allocateLoadBalancerNodePorts"), message))
    if spec.HasField("load_balancer_class"):
        errs.append(forbidden(SPEC.child("loadBalancerClass"), message))
    return errs


def _ip_address(
    path: FieldPath, text: str, errs: list[FieldError]
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``text`` holds, or None after adding Kubernetes' error."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        errs.append(
            invalid(path, text, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        )
        return None


def _validate_external_ips(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, ip in enumerate(spec.external_ips):
        path = SPEC.child("externalIPs").index(i)
        addr = _ip_address(path, ip, errs)
        if addr is None:
            continue
        if addr.is_unspecified:
            errs.append(invalid(path, ip, "may not be unspecified (0.0.0.0, ::)"))
        elif addr.is_loopback:
            errs.append(
                invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
            )
        elif addr.is_link_local:
            errs.append(
                invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
            )
    return errs


IP_MODES = ("Proxy", "VIP")


def _validate_load_balancer_status(status: service_pb2.LoadBalancerStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, ingress in enumerate(status.ingress):
        path = FieldPath.root("status", "loadBalancer", "ingress").index(i)
        if ingress.ip:
            _ip_address(path.child("ip"), ingress.ip, errs)
        mode = opt(ingress, "ip_mode")
        if mode is not None:
            if not ingress.ip:
                errs.append(forbidden(path.child("ipMode"), "may only be set when `ip` is set"))
            elif mode not in IP_MODES:
                errs.append(not_supported(path.child("ipMode"), mode, IP_MODES))
        if ingress.hostname:
            host_path = path.child("hostname")
            errs += [
                invalid(host_path, ingress.hostname, m)
                for m in is_dns1123_subdomain(ingress.hostname)
            ]
            try:
                ipaddress.ip_address(ingress.hostname)
            except ValueError:
                pass
            else:
                errs.append(
                    invalid(host_path, ingress.hostname, "must be a DNS name, not an IP address")
                )
    return errs


__all__ = [
    "ServiceStrategy",
    "default_service",
    "external",
    "is_headless",
    "uses_node_ports",
    "validate_service_spec",
]

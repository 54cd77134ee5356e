"""Service defaults and validation (Kubernetes' SetDefaults_Service and
ValidateService wording), one bad object per rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.registry.helpers import (
    assert_only,
    create_errors,
    created,
    status_errors,
    update_errors,
    updated,
)

PORTS2 = [{"name": "http", "port": 80}, {"name": "https", "port": 443}]


def test_defaults() -> None:
    svc, errs = created("Service")
    assert errs == []
    spec = svc.spec
    assert spec.type == "ClusterIP"
    assert spec.session_affinity == "None"
    assert spec.ports[0].protocol == "TCP"
    assert spec.ports[0].target_port.int_val == 80
    assert spec.internal_traffic_policy == "Cluster"
    assert not spec.external_traffic_policy
    assert spec.ip_family_policy == "SingleStack"
    assert list(spec.ip_families) == ["IPv4"]
    assert not spec.HasField("allocate_load_balancer_node_ports")


def test_defaults_of_external_types() -> None:
    svc, errs = created(
        "Service",
        {"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP"}},
    )
    assert errs == []
    assert svc.spec.external_traffic_policy == "Cluster"
    assert svc.spec.allocate_load_balancer_node_ports is True
    assert svc.spec.session_affinity_config.client_ip.timeout_seconds == 10800


def test_headless_without_selector_requires_dual_stack_policy() -> None:
    svc, errs = created("Service", {"spec": {"clusterIP": "None", "selector": None}})
    assert errs == []
    assert svc.spec.ip_family_policy == "RequireDualStack"
    assert list(svc.spec.cluster_ips) == ["None"]


def test_cluster_ip_is_copied_into_cluster_ips() -> None:
    svc, errs = created("Service", {"spec": {"clusterIP": "10.96.0.10"}})
    assert errs == []
    assert list(svc.spec.cluster_ips) == ["10.96.0.10"]


def p(**spec: Any) -> dict[str, Any]:
    return {"spec": spec}


CASES = [
    ("no-ports", p(ports=None), "spec.ports", "Required value"),
    (
        "unnamed-of-several",
        p(ports=[{"port": 80}, {"name": "b", "port": 81}]),
        "spec.ports[0].name",
        "Required value",
    ),
    (
        "bad-port-name",
        p(ports=[{"name": "Web", "port": 80}]),
        "spec.ports[0].name",
        "RFC 1123 label",
    ),
    (
        "duplicate-port-name",
        p(ports=[{"name": "web", "port": 80}, {"name": "web", "port": 81}]),
        "spec.ports[1].name",
        'Duplicate value: "web"',
    ),
    (
        "port-zero",
        p(ports=[{"port": 0, "targetPort": 80}]),
        "spec.ports[0].port",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "port-too-big",
        p(ports=[{"port": 70000}]),
        ("spec.ports[0].port", "spec.ports[0].targetPort"),
        "must be between 1 and 65535, inclusive",
    ),
    (
        "protocol",
        p(ports=[{"port": 80, "protocol": "ICMP"}]),
        "spec.ports[0].protocol",
        'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ),
    (
        "target-port-name-long",
        p(ports=[{"port": 80, "targetPort": "a-very-long-port-name"}]),
        "spec.ports[0].targetPort",
        "must be no more than 15 characters",
    ),
    (
        "target-port-name-no-letter",
        p(ports=[{"port": 80, "targetPort": "80-80"}]),
        "spec.ports[0].targetPort",
        "must contain at least one letter (a-z)",
    ),
    (
        "target-port-name-hyphens",
        p(ports=[{"port": 80, "targetPort": "a--b"}]),
        "spec.ports[0].targetPort",
        "must not contain consecutive hyphens",
    ),
    (
        "target-port-number",
        p(ports=[{"port": 80, "targetPort": 70000}]),
        "spec.ports[0].targetPort",
        "must be between 1 and 65535, inclusive",
    ),
    (
        "duplicate-port",
        p(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}]),
        "spec.ports[1]",
        "Duplicate value",
    ),
    (
        "duplicate-node-port",
        p(
            type="NodePort",
            ports=[
                {"name": "a", "port": 80, "nodePort": 30080},
                {"name": "b", "port": 81, "nodePort": 30080},
            ],
        ),
        "spec.ports[1].nodePort",
        "Duplicate value: 30080",
    ),
    (
        "node-port-on-cluster-ip",
        p(ports=[{"port": 80, "nodePort": 30080}]),
        "spec.ports[0].nodePort",
        "Forbidden: may not be used when `type` is 'ClusterIP'",
    ),
    (
        "node-port-out-of-range",
        p(type="NodePort", ports=[{"port": 80, "nodePort": 8102}]),
        "spec.ports[0].nodePort",
        "Invalid value: 8102: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767",
    ),
    (
        "headless-node-port",
        p(type="NodePort", clusterIP="None"),
        "spec.clusterIPs[0]",
        "Invalid value: \"None\": may not be set to 'None' for NodePort services",
    ),
    (
        "headless-load-balancer",
        p(type="LoadBalancer", clusterIP="None"),
        "spec.clusterIPs[0]",
        "may not be set to 'None' for LoadBalancer services",
    ),
    (
        "external-name-required",
        p(type="ExternalName", ports=None),
        "spec.externalName",
        "Required value",
    ),
    (
        "external-name-bad",
        p(type="ExternalName", externalName="Not_A_Name"),
        "spec.externalName",
        "RFC 1123 subdomain",
    ),
    (
        "external-name-cluster-ip",
        p(type="ExternalName", externalName="db.example.com", clusterIP="10.96.0.10"),
        "spec.clusterIPs",
        "Forbidden: may not be set for ExternalName services",
    ),
    (
        "external-name-families",
        p(type="ExternalName", externalName="db.example.com", ipFamilies=["IPv4"]),
        "spec.ipFamilies",
        "Forbidden: may not be set for ExternalName services",
    ),
    (
        "external-name-policy",
        p(type="ExternalName", externalName="db.example.com", ipFamilyPolicy="SingleStack"),
        "spec.ipFamilyPolicy",
        "Forbidden: may not be set for ExternalName services",
    ),
    (
        "cluster-ips-without-cluster-ip",
        p(clusterIPs=["10.96.0.10"]),
        "spec.clusterIPs",
        "must be empty when `clusterIP` is not specified",
    ),
    (
        "cluster-ips-first-mismatch",
        p(clusterIP="10.96.0.10", clusterIPs=["10.96.0.11"]),
        "spec.clusterIPs",
        "first value must match `clusterIP`",
    ),
    (
        "none-not-only",
        p(clusterIP="None", clusterIPs=["None", "10.96.0.10"]),
        "spec.clusterIPs",
        "'None' must be the first and only value",
    ),
    (
        "too-many-cluster-ips",
        p(
            clusterIP="10.96.0.10",
            clusterIPs=["10.96.0.10", "10.96.0.11", "10.96.0.12"],
            ipFamilyPolicy="PreferDualStack",
        ),
        "spec.clusterIPs",
        "may only hold up to 2 values",
    ),
    (
        "bad-cluster-ip",
        p(clusterIP="10.96.0.300"),
        "spec.clusterIPs[0]",
        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
    ),
    (
        "cluster-ip-out-of-range",
        p(clusterIP="10.0.0.10"),
        "spec.clusterIPs",
        "failed to allocate IP 10.0.0.10: provided IP is not in the valid range. "
        "The range of valid IPs is 10.96.0.0/12",
    ),
    (
        "cluster-ip-network-address",
        p(clusterIP="10.96.0.0"),
        "spec.clusterIPs",
        "provided IP is not in the valid range",
    ),
    (
        "two-ips-single-stack",
        p(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10", "10.96.0.11"]),
        "spec.ipFamilyPolicy",
        "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
    ),
    (
        "family-unsupported",
        p(ipFamilies=["IPv5"]),
        "spec.ipFamilies[0]",
        'Unsupported value: "IPv5"',
    ),
    (
        "family-ipv6-not-configured",
        p(ipFamilies=["IPv6"]),
        "spec.ipFamilies[0]",
        'Invalid value: "IPv6": not configured on this cluster',
    ),
    (
        "family-duplicate",
        p(ipFamilies=["IPv4", "IPv4"]),
        "spec.ipFamilies[1]",
        'Duplicate value: "IPv4"',
    ),
    (
        "require-dual-stack",
        p(ipFamilyPolicy="RequireDualStack"),
        "spec.ipFamilyPolicy",
        "this cluster is not configured for dual-stack services",
    ),
    (
        "family-policy-unsupported",
        p(ipFamilyPolicy="AnyStack"),
        "spec.ipFamilyPolicy",
        'Unsupported value: "AnyStack"',
    ),
    (
        "session-affinity",
        p(sessionAffinity="Cookie"),
        "spec.sessionAffinity",
        'Unsupported value: "Cookie": supported values: "ClientIP", "None"',
    ),
    (
        "affinity-timeout",
        p(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 0}}),
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
        "must be greater than 0 and less than 86400",
    ),
    (
        "type",
        p(type="Internal"),
        "spec.type",
        'Unsupported value: "Internal": supported values: '
        '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ),
    (
        "external-ip-loopback",
        p(externalIPs=["127.0.0.1"]),
        "spec.externalIPs[0]",
        "may not be in the loopback range (127.0.0.0/8, ::1/128)",
    ),
    (
        "external-ip-link-local",
        p(externalIPs=["169.254.1.1"]),
        "spec.externalIPs[0]",
        "may not be in the link-local range",
    ),
    (
        "external-ip-unspecified",
        p(externalIPs=["0.0.0.0"]),
        "spec.externalIPs[0]",
        "may not be unspecified",
    ),
    (
        "external-ip-bad",
        p(externalIPs=["not-an-ip"]),
        "spec.externalIPs[0]",
        "must be a valid IP address",
    ),
    (
        "external-traffic-policy-internal",
        p(externalTrafficPolicy="Local"),
        "spec.externalTrafficPolicy",
        "may only be set for externally-accessible services",
    ),
    (
        "external-traffic-policy-unsupported",
        p(type="NodePort", externalTrafficPolicy="Nearest"),
        "spec.externalTrafficPolicy",
        'Unsupported value: "Nearest"',
    ),
    (
        "internal-traffic-policy",
        p(internalTrafficPolicy="Nearest"),
        "spec.internalTrafficPolicy",
        'Unsupported value: "Nearest"',
    ),
    (
        "health-check-node-port",
        p(type="NodePort", healthCheckNodePort=30100),
        "spec.healthCheckNodePort",
        "may only be set when `type` is 'LoadBalancer'",
    ),
    (
        "source-ranges",
        p(loadBalancerSourceRanges=["10.0.0.0/8"]),
        "spec.loadBalancerSourceRanges",
        "Forbidden: may only be used when `type` is 'LoadBalancer'",
    ),
    (
        "allocate-node-ports",
        p(allocateLoadBalancerNodePorts=False),
        "spec.allocateLoadBalancerNodePorts",
        "may only be used when `type` is 'LoadBalancer'",
    ),
    (
        "load-balancer-class",
        p(loadBalancerClass="example.com/lb"),
        "spec.loadBalancerClass",
        "may only be used when `type` is 'LoadBalancer'",
    ),
    (
        "app-protocol-empty",
        p(ports=[{"port": 80, "appProtocol": ""}]),
        "spec.ports[0].appProtocol",
        "must not be empty",
    ),
]


@pytest.mark.parametrize(
    ("patch", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(patch: dict[str, Any], path: str | tuple[str, ...], fragment: str) -> None:
    assert_only(create_errors("Service", patch), path, fragment)


def test_name_is_a_dns1035_label() -> None:
    from apiserver.registry import meta as metavalidation
    from tests.unit.registry.helpers import strategy

    svc, _ = created("Service", name="1web")
    errs = metavalidation.validate_object_meta(svc.metadata, strategy("Service"), create=True)
    assert_only(errs, "metadata.name", "a DNS-1035 label must consist of")


GOOD_VARIANTS = [
    ("headless", p(clusterIP="None", ports=None)),
    ("external-name", p(type="ExternalName", externalName="db.example.com.", ports=None)),
    ("node-port", p(type="NodePort", ports=[{"port": 80, "nodePort": 30080}])),
    (
        "tcp-and-udp-53",
        p(ports=[{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}]),
    ),
    ("several-named", p(ports=PORTS2)),
    ("named-target", p(ports=[{"port": 80, "targetPort": "http"}])),
    ("local-lb", p(type="LoadBalancer", externalTrafficPolicy="Local", healthCheckNodePort=30100)),
]


@pytest.mark.parametrize("patch", [v[1] for v in GOOD_VARIANTS], ids=[v[0] for v in GOOD_VARIANTS])
def test_good_variant(patch: dict[str, Any]) -> None:
    assert create_errors("Service", patch) == []


ALLOCATED = {"spec": {"clusterIP": "10.96.0.10"}}


def test_cluster_ip_is_immutable() -> None:
    errs = update_errors(
        "Service", {"spec": {"clusterIP": "10.96.0.11", "clusterIPs": None}}, base=ALLOCATED
    )
    assert_only(errs, "spec.clusterIPs[0]", "may not change once set")


def test_an_update_without_cluster_ip_keeps_it() -> None:
    old, _ = created("Service", ALLOCATED)
    new, errs = updated(old, {"spec": {"clusterIP": None, "clusterIPs": None}})
    assert errs == []
    assert new.spec.cluster_ip == "10.96.0.10"
    assert list(new.spec.cluster_ips) == ["10.96.0.10"]


def test_changing_to_external_name_drops_the_cluster_ip() -> None:
    old, _ = created("Service", ALLOCATED)
    new, errs = updated(
        old, {"spec": {"type": "ExternalName", "externalName": "db.example.com", "ports": None}}
    )
    assert errs == []
    assert not new.spec.cluster_ip
    assert not new.spec.cluster_ips


def test_changing_to_cluster_ip_drops_node_ports() -> None:
    base = {"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}
    old, _ = created("Service", base)
    new, errs = updated(old, {"spec": {"type": "ClusterIP"}})
    assert errs == []
    assert new.spec.ports[0].node_port == 0


def test_an_update_without_node_port_keeps_it() -> None:
    base = {"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}
    old, _ = created("Service", base)
    new, errs = updated(old, {"spec": {"ports": [{"port": 80}]}})
    assert errs == []
    assert new.spec.ports[0].node_port == 30080


def test_changing_from_load_balancer_drops_its_fields() -> None:
    base = {"spec": {"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}}
    old, _ = created("Service", base)
    new, errs = updated(old, {"spec": {"type": "ClusterIP"}})
    assert errs == []
    assert not new.spec.HasField("allocate_load_balancer_node_ports")
    assert not new.spec.HasField("load_balancer_class")
    assert not new.spec.external_traffic_policy


STATUS_CASES = [
    ("ip", {"ip": "1.2.3.400"}, "status.loadBalancer.ingress[0].ip", "must be a valid IP address"),
    (
        "ip-mode",
        {"ip": "203.0.113.7", "ipMode": "Direct"},
        "status.loadBalancer.ingress[0].ipMode",
        'Unsupported value: "Direct": supported values: "Proxy", "VIP"',
    ),
    (
        "ip-mode-without-ip",
        {"hostname": "lb.example.com", "ipMode": "VIP"},
        "status.loadBalancer.ingress[0].ipMode",
        "may only be set when `ip` is set",
    ),
    (
        "hostname",
        {"hostname": "LB_1"},
        "status.loadBalancer.ingress[0].hostname",
        "RFC 1123 subdomain",
    ),
    (
        "hostname-ip",
        {"hostname": "203.0.113.7"},
        "status.loadBalancer.ingress[0].hostname",
        "must be a DNS name, not an IP address",
    ),
]


@pytest.mark.parametrize(
    ("ingress", "path", "fragment"),
    [c[1:] for c in STATUS_CASES],
    ids=[c[0] for c in STATUS_CASES],
)
def test_status_rule(ingress: dict[str, Any], path: str, fragment: str) -> None:
    errs = status_errors("Service", {"loadBalancer": {"ingress": [ingress]}})
    assert_only(errs, path, fragment)


def test_good_status() -> None:
    ingress = [{"ip": "203.0.113.7", "ipMode": "VIP"}, {"hostname": "lb.example.com"}]
    assert status_errors("Service", {"loadBalancer": {"ingress": ingress}}) == []

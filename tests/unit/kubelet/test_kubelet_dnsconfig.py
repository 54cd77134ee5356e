"""A pod's resolv.conf and hosts per dnsPolicy and dnsConfig (kubelet/network/dnsconfig.py)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelet.network.dnsconfig import HostResolv, hosts_file, parse_resolv_conf, resolv_conf
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec

HOST = HostResolv(
    nameservers=["192.0.2.53"], searches=["corp.example"], options=["edns0", "ndots:1"]
)


def pod(**spec: Any) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "web-0", "namespace": "shop"},
            "spec": {"containers": [{"name": "c", "image": "x"}], **spec},
        },
    )


CLUSTER = [
    "nameserver 10.244.1.1",
    "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example",
    "options ndots:5",
]
DEFAULT = ["nameserver 192.0.2.53", "search corp.example", "options edns0 ndots:1"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, CLUSTER),
        ({"dnsPolicy": "ClusterFirst"}, CLUSTER),
        ({"dnsPolicy": "ClusterFirst", "hostNetwork": True}, DEFAULT),
        ({"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True}, CLUSTER),
        ({"dnsPolicy": "Default"}, DEFAULT),
        (
            {
                "dnsPolicy": "None",
                "dnsConfig": {
                    "nameservers": ["1.2.3.4"],
                    "searches": ["a.example"],
                    "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
                },
            },
            ["nameserver 1.2.3.4", "search a.example", "options ndots:2 edns0"],
        ),
        (
            {
                "dnsConfig": {
                    "nameservers": ["10.244.1.1", "1.1.1.1", "2.2.2.2", "3.3.3.3"],
                    "searches": ["svc.cluster.local", "extra.example"],
                    "options": [{"name": "ndots", "value": "3"}],
                }
            },
            [
                "nameserver 10.244.1.1",
                "nameserver 1.1.1.1",
                "nameserver 2.2.2.2",
                "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example "
                "extra.example",
                "options ndots:3",
            ],
        ),
    ],
    ids=[
        "default-is-cluster-first",
        "cluster-first",
        "host-network-behaves-as-default",
        "cluster-first-with-host-net",
        "default-copies-the-host",
        "none-uses-only-dns-config",
        "dns-config-merges-deduped-capped",
    ],
)
def test_resolv_conf(spec: dict, expected: list[str]) -> None:
    text = resolv_conf(pod(**spec), cluster_dns=["10.244.1.1"], domain="cluster.local", host=HOST)
    assert text.splitlines() == expected


def test_cluster_first_without_cluster_dns_falls_back_to_the_host() -> None:
    text = resolv_conf(pod(), cluster_dns=[], domain="cluster.local", host=HOST)
    assert text.splitlines() == DEFAULT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nameserver 1.1.1.1\nnameserver 8.8.8.8\n", HostResolv(["1.1.1.1", "8.8.8.8"], [], [])),
        (
            "# comment\nsearch a.example b.example\noptions ndots:2 rotate\nnameserver 9.9.9.9 ; x\n",
            HostResolv(["9.9.9.9"], ["a.example", "b.example"], ["ndots:2", "rotate"]),
        ),
        ("domain corp.example\n", HostResolv([], ["corp.example"], [])),
        ("", HostResolv()),
    ],
    ids=["nameservers", "search-options-comments", "domain", "empty"],
)
def test_parse_resolv_conf(text: str, expected: HostResolv) -> None:
    assert parse_resolv_conf(text) == expected


def test_hosts_file_names_the_pod_and_its_subdomain_fqdn() -> None:
    p = pod(
        hostname="web-0",
        subdomain="nginx",
        hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}],
    )
    lines = hosts_file(p, pod_ip="10.244.1.7", domain="cluster.local").splitlines()
    assert lines[0] == "# Kubernetes-managed hosts file."
    assert "127.0.0.1\tlocalhost" in lines
    assert "10.244.1.7\tweb-0.nginx.shop.svc.cluster.local\tweb-0" in lines
    assert lines[-1] == "10.1.2.3\tfoo.local\tbar.local"


def test_hosts_file_without_subdomain_uses_the_pod_name() -> None:
    lines = hosts_file(pod(), pod_ip="10.244.1.8", domain="cluster.local").splitlines()
    assert lines[-1] == "10.244.1.8\tweb-0"

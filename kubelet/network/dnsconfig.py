"""A pod's /etc/resolv.conf and /etc/hosts (Kubernetes' kubelet dns.go and
kubelet_pods.go makeHostsFile), as text.

dnsPolicy (default ClusterFirst):

* ``ClusterFirst``: ``nameserver <cluster DNS>``, ``search <ns>.svc.<domain>
  svc.<domain> <domain>`` followed by the host's search domains, ``options
  ndots:5``. On a hostNetwork pod it behaves as Default;
  ``ClusterFirstWithHostNet`` keeps the cluster DNS there too. Without a
  cluster DNS address it falls back to Default.
* ``Default``: the node's resolv.conf (kubelet ``--resolv-conf``).
* ``None``: only the pod's ``dnsConfig``.

``dnsConfig`` merges into every policy: its nameservers and searches are
appended without duplicates (at most 3 nameservers and 32 search domains
are kept), its options override those of the same name.

The files are put where ``ip netns exec`` bind-mounts them over the
container's view of /etc (``/etc/netns/<pod namespace>/``, network.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pinnace.api.core.v1 import pod_pb2

__all__ = ["HostResolv", "hosts_file", "parse_resolv_conf", "resolv_conf"]

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
CLUSTER_NDOTS = "ndots:5"


@dataclass
class HostResolv:
    """The parts of a resolv.conf that Kubernetes carries over."""

    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def parse_resolv_conf(text: str) -> HostResolv:
    out = HostResolv()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        key, values = words[0], words[1:]
        if key == "nameserver" and values:
            out.nameservers.append(values[0])
        elif key in ("search", "domain"):
            out.searches = list(values)
        elif key == "options":
            out.options.extend(values)
    return out


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _merge_options(base: list[str], extra: list[tuple[str, str]]) -> list[str]:
    merged: dict[str, str] = {}
    for opt in base:
        name, _, value = opt.partition(":")
        merged[name] = value
    for name, value in extra:
        merged[name] = value
    return [f"{n}:{v}" if v else n for n, v in merged.items()]


def uses_cluster_dns(pod: pod_pb2.Pod) -> bool:
    policy = pod.spec.dns_policy or "ClusterFirst"
    if policy == "ClusterFirstWithHostNet":
        return True
    return policy == "ClusterFirst" and not pod.spec.host_network


def resolv_conf(pod: pod_pb2.Pod, *, cluster_dns: list[str], domain: str, host: HostResolv) -> str:
    """The pod's resolv.conf (see the module docstring)."""
    policy = pod.spec.dns_policy or "ClusterFirst"
    if policy == "None":
        chosen = HostResolv()
    elif uses_cluster_dns(pod) and cluster_dns:
        ns = pod.metadata.namespace
        chosen = HostResolv(
            nameservers=list(cluster_dns),
            searches=[f"{ns}.svc.{domain}", f"svc.{domain}", domain, *host.searches],
            options=[CLUSTER_NDOTS],
        )
    else:
        chosen = HostResolv(list(host.nameservers), list(host.searches), list(host.options))
    cfg = pod.spec.dns_config
    nameservers = _dedupe([*chosen.nameservers, *cfg.nameservers])[:MAX_NAMESERVERS]
    searches = _dedupe([*chosen.searches, *cfg.searches])[:MAX_SEARCHES]
    options = _merge_options(chosen.options, [(o.name, o.value) for o in cfg.options])
    lines = [f"nameserver {n}" for n in nameservers]
    if searches:
        lines.append("search " + " ".join(searches))
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + "\n"


def hosts_file(pod: pod_pb2.Pod, *, pod_ip: str, domain: str) -> str:
    """The pod's /etc/hosts: localhost, the pod's own name, then hostAliases."""
    spec = pod.spec
    hostname = spec.hostname or pod.metadata.name
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
    ]
    if spec.subdomain:
        fqdn = f"{hostname}.{spec.subdomain}.{pod.metadata.namespace}.svc.{domain}"
        lines.append(f"{pod_ip}\t{fqdn}\t{hostname}")
    else:
        lines.append(f"{pod_ip}\t{hostname}")
    for alias in spec.host_aliases:
        lines.append("\t".join([alias.ip, *alias.hostnames]))
    return "\n".join(lines) + "\n"

"""The cluster zone: answers for names under the cluster domain, computed from
the Service and EndpointSlice stores at query time (Kubernetes' DNS-based
service discovery specification 1.1.0, as CoreDNS's kubernetes plugin
answers it, with ``pods insecure``).

Names, for the domain ``cluster.local`` (every name in lower case; queries
match case-insensitively and the answer's owner is the name as asked):

==========================================  ===================================================
``<svc>.<ns>.svc.cluster.local``            A/AAAA: the ClusterIPs; headless: the addresses of
                                            the ready endpoints (NXDOMAIN when there are none);
                                            ExternalName: a CNAME to ``spec.externalName``
``<ep>.<svc>.<ns>.svc.cluster.local``       A/AAAA of the ready endpoint named ``<ep>``: its
                                            ``hostname``, else its address with dashes
                                            (``10-244-1-5``), as CoreDNS names endpoints
``_<port>._<proto>.<svc>.<ns>.svc...``      SRV per named port of that protocol. ClusterIP:
                                            one, port = the Service port, target the Service
                                            name. Headless: one per ready endpoint and slice
                                            port of that name, port = the endpoint's port,
                                            target the endpoint's name. Targets' addresses
                                            go in the additional section.
``<a-b-c-d>.<ns>.pod.cluster.local``        A a.b.c.d, for any namespace (``pods insecure``)
``dns-version.cluster.local``               TXT "1.1.0"
``cluster.local``                           SOA
==========================================  ===================================================

An existing name without a record of the asked type is NODATA (NOERROR, no
answer); a name that does not exist is NXDOMAIN. Both carry the zone's SOA
in the authority section, with the TTL as its negative-caching time
(RFC 2308). ``svc``, ``<ns>.svc`` (while the namespace has a Service),
``_<proto>.<svc>.<ns>.svc`` (while the Service has a named port of that
protocol), ``pod`` and ``<ns>.pod`` exist (empty non-terminals).

Ready: an endpoint whose ``conditions.ready`` is true or unset counts (as
CoreDNS's object/endpoint.go); with ``publishNotReadyAddresses`` every
endpoint counts. Endpoints of FQDN slices are not addresses and are skipped;
an address in two slices (during a controller's move) is answered once.

TTL: 5 s for every record, CoreDNS's kubernetes plugin default (kubeadm's
Corefile sets 30). A short TTL bounds how long a client holds a pod address
after the pod is gone; the answers cost nothing to compute again.

Cost per query: the Service by its store key (a dict look-up) and its slices
through the ``SLICE_SERVICE_INDEX`` index of the slice store (the slices of
that Service only), so a store of 1,000 Services is not scanned. The
namespace check uses the store's namespace index.

Reverse names (as CoreDNS serving ``in-addr.arpa ip6.arpa`` with
fallthrough): a PTR question for the address of a Service (its ClusterIP) or
of a ready endpoint is answered with ``<svc>.<ns>.svc.<domain>`` or
``<ep>.<svc>.<ns>.svc.<domain>``; ``reverse`` returns None for any other
address, which the server forwards. Both are found through indexes
(``SERVICE_IP_INDEX``, ``SLICE_ADDRESS_INDEX``).

ExternalName chains: a target inside the cluster domain is answered here
(at most ``MAX_CHAIN`` CNAMEs); one outside is returned as ``Answer.chase``
for the server to ask upstream about and append.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.client.informer import NAMESPACE_INDEX, Store
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME

from .wire import Address, Name, Question, Rcode, Record, Soa, Srv, Txt, Type

__all__ = [
    "DNS_SCHEMA_VERSION",
    "MAX_CHAIN",
    "SERVICE_IP_INDEX",
    "SLICE_ADDRESS_INDEX",
    "SLICE_SERVICE_INDEX",
    "TTL",
    "Answer",
    "ClusterRecords",
    "service_ip_index",
    "slice_address_index",
    "slice_service_index",
]

TTL = 5
MAX_CHAIN = 8
DNS_SCHEMA_VERSION = b"1.1.0"
SLICE_SERVICE_INDEX = "pinnace.dns/service"
SLICE_ADDRESS_INDEX = "pinnace.dns/address"
SERVICE_IP_INDEX = "pinnace.dns/ip"
HEADLESS = "None"
EXTERNAL_NAME = "ExternalName"
# SOA timers (CoreDNS's: refresh 2 h, retry 30 min, expire 1 day); minimum = TTL.
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE = 7200, 1800, 86400


def slice_service_index(obj: Any) -> list[str]:
    """Index of EndpointSlices by the Service they belong to: ``ns/name``
    from the ``kubernetes.io/service-name`` label."""
    name = obj.metadata.labels.get(LABEL_SERVICE_NAME, "")
    return [f"{obj.metadata.namespace}/{name}"] if name else []


def slice_address_index(obj: Any) -> list[str]:
    """Index of EndpointSlices by their endpoints' addresses (in the
    canonical text form, as a reverse name gives them)."""
    if obj.address_type == "FQDN":
        return []
    return [_canonical(a) for ep in obj.endpoints for a in ep.addresses if _address_type(a)]


def service_ip_index(obj: Any) -> list[str]:
    """Index of Services by their ClusterIPs."""
    return [_canonical(ip) for ip in _cluster_ips(obj.spec) if _address_type(ip)]


@dataclass(frozen=True)
class Answer:
    """What the zone says about one question; ``chase`` is a CNAME target
    outside the zone whose records the server should add from upstream."""

    rcode: int
    answers: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()
    chase: str | None = None


@dataclass(frozen=True)
class _Endpoint:
    name: str  # hostname, else the dashed address
    address: str
    rtype: int  # A or AAAA


class ClusterRecords:
    """Answers questions about names under ``domain`` from the stores. The
    slice store must have ``SLICE_SERVICE_INDEX`` (``__init__`` adds it)."""

    def __init__(self, services: Store, slices: Store, *, domain: str, ttl: int = TTL) -> None:
        self.domain = domain.strip(".").lower()
        if not self.domain or "\\" in self.domain:
            raise ValueError(
                f'domain "{domain}": must be a non-empty DNS name (e.g. cluster.local)'
            )
        self.ttl = ttl
        self._services = services
        self._slices = slices
        slices.add_indexers(
            {SLICE_SERVICE_INDEX: slice_service_index, SLICE_ADDRESS_INDEX: slice_address_index}
        )
        services.add_indexers({SERVICE_IP_INDEX: service_ip_index})
        self._soa = Record(
            self.domain,
            Type.SOA,
            ttl,
            Soa(
                f"ns.dns.{self.domain}",
                f"hostmaster.{self.domain}",
                1,
                SOA_REFRESH,
                SOA_RETRY,
                SOA_EXPIRE,
                ttl,
            ),
        )

    def in_zone(self, name: str) -> bool:
        lower = name.lower().rstrip(".")
        return lower == self.domain or lower.endswith("." + self.domain)

    def answer(self, q: Question) -> Answer:
        """The answer to ``q``, whose name ``in_zone``."""
        return self._answer(q, MAX_CHAIN)

    def reverse(self, q: Question) -> Answer | None:
        """The answer for a reverse name (``5.1.244.10.in-addr.arpa``) of a
        Service's or a ready endpoint's address; None for any other name."""
        ip = _reverse_address(q.name)
        if ip is None:
            return None
        names = [
            f"{svc.metadata.name}.{svc.metadata.namespace}.svc.{self.domain}"
            for svc in self._services.by_index(SERVICE_IP_INDEX, ip)
        ]
        for sl in self._slices.by_index(SLICE_ADDRESS_INDEX, ip):
            svc = self._services.get_by_name(
                sl.metadata.namespace, sl.metadata.labels.get(LABEL_SERVICE_NAME, "")
            )
            if svc is None:
                continue
            base = f"{svc.metadata.name}.{svc.metadata.namespace}.svc.{self.domain}"
            for e in _slice_endpoints(sl, svc.spec.publish_not_ready_addresses):
                if _canonical(e.address) == ip:
                    names.append(f"{e.name}.{base}")
        if not names:
            return None
        unique = dict.fromkeys(names)
        return self._node(q, [self._record(q.name, Type.PTR, Name(n)) for n in unique])

    # ---- dispatch ------------------------------------------------------------------

    def _answer(self, q: Question, chain: int) -> Answer:
        lower = q.name.lower().rstrip(".")
        rel = lower[: -len(self.domain)].rstrip(".")
        labels = rel.split(".")[::-1] if rel else []
        if "\\" in rel:
            return self._nxdomain()
        if not labels:
            return self._node(q, [self._soa])
        if labels == ["dns-version"]:
            return self._node(q, [self._record(q.name, Type.TXT, Txt((DNS_SCHEMA_VERSION,)))])
        if labels[0] == "svc":
            return self._svc(q, labels[1:], chain)
        if labels[0] == "pod":
            return self._pod(q, labels[1:])
        return self._nxdomain()

    def _svc(self, q: Question, labels: list[str], chain: int) -> Answer:
        if not labels:
            return self._node(q, [])
        ns = labels[0]
        if len(labels) == 1:
            if self._services.index_keys(NAMESPACE_INDEX, ns):
                return self._node(q, [])
            return self._nxdomain()
        svc = self._services.get_by_name(ns, labels[1])
        if svc is None:
            return self._nxdomain()
        fqdn = f"{labels[1]}.{ns}.svc.{self.domain}"
        rest = labels[2:]
        if svc.spec.type == EXTERNAL_NAME:
            return self._external(q, svc, chain) if not rest else self._nxdomain()
        if not rest:
            return self._service(q, svc, fqdn)
        if rest[0].startswith("_"):
            return self._srv(q, svc, fqdn, rest)
        if len(rest) == 1:
            found = [e for e in self._endpoints(svc) if e.name == rest[0]]
            if found:
                return self._node(
                    q, [self._record(q.name, e.rtype, Address(e.address)) for e in found]
                )
        return self._nxdomain()

    # ---- Services ----------------------------------------------------------------

    def _service(self, q: Question, svc: service_pb2.Service, fqdn: str) -> Answer:
        if svc.spec.cluster_ip == HEADLESS:
            endpoints = self._endpoints(svc)
            if not endpoints:
                return self._nxdomain()
            addresses = list(dict.fromkeys((e.rtype, e.address) for e in endpoints))
        else:
            addresses = [(_address_type(ip), ip) for ip in _cluster_ips(svc.spec)]
        return self._node(q, [self._record(q.name, t, Address(ip)) for t, ip in addresses if t])

    def _external(self, q: Question, svc: service_pb2.Service, chain: int) -> Answer:
        target = svc.spec.external_name.rstrip(".")
        cname = self._record(q.name, Type.CNAME, Name(target))
        if q.qtype in (Type.CNAME, Type.ANY):
            return Answer(Rcode.NOERROR, (cname,))
        if not self.in_zone(target):
            return Answer(Rcode.NOERROR, (cname,), chase=target)
        if chain <= 0:
            return Answer(Rcode.SERVFAIL)
        rest = self._answer(Question(target, q.qtype, q.qclass), chain - 1)
        return Answer(rest.rcode, (cname, *rest.answers), rest.authority, rest.additional)

    def _srv(self, q: Question, svc: service_pb2.Service, fqdn: str, rest: list[str]) -> Answer:
        proto = rest[0][1:]
        named = [p for p in svc.spec.ports if p.name and (p.protocol or "TCP").lower() == proto]
        if len(rest) == 1:
            return self._node(q, []) if named else self._nxdomain()
        port_name = rest[1][1:] if rest[1].startswith("_") else ""
        if len(rest) != 2 or not any(p.name.lower() == port_name for p in named):
            return self._nxdomain()
        if svc.spec.cluster_ip == HEADLESS:
            targets = self._headless_srv_targets(svc, fqdn, port_name, proto)
            if not targets:
                return self._nxdomain()
        else:
            port = next(p.port for p in named if p.name.lower() == port_name)
            ips = [(_address_type(ip), ip) for ip in _cluster_ips(svc.spec)]
            targets = [(fqdn, port, [(t, ip) for t, ip in ips if t])]
        weight = max(1, 100 // len(targets))
        srvs = [self._record(q.name, Type.SRV, Srv(0, weight, port, t)) for t, port, _ in targets]
        extra = {
            (t, rtype, ip): self._record(t, rtype, Address(ip))
            for t, _, addrs in targets
            for rtype, ip in addrs
        }
        if q.qtype not in (Type.SRV, Type.ANY):
            return self._node(q, srvs)
        return Answer(Rcode.NOERROR, tuple(srvs), additional=tuple(extra.values()))

    def _headless_srv_targets(
        self, svc: service_pb2.Service, fqdn: str, port_name: str, proto: str
    ) -> list[tuple[str, int, list[tuple[int, str]]]]:
        by_target: dict[tuple[str, int], list[tuple[int, str]]] = {}
        for sl in self._slices_of(svc):
            ports = [
                p.port
                for p in sl.ports
                if p.name.lower() == port_name and (p.protocol or "TCP").lower() == proto
            ]
            for port in ports:
                for e in _slice_endpoints(sl, svc.spec.publish_not_ready_addresses):
                    addrs = by_target.setdefault((f"{e.name}.{fqdn}", port), [])
                    if (e.rtype, e.address) not in addrs:
                        addrs.append((e.rtype, e.address))
        return [(t, port, addrs) for (t, port), addrs in by_target.items()]

    def _slices_of(self, svc: service_pb2.Service) -> list[endpointslice_pb2.EndpointSlice]:
        key = f"{svc.metadata.namespace}/{svc.metadata.name}"
        return self._slices.by_index(SLICE_SERVICE_INDEX, key)

    def _endpoints(self, svc: service_pb2.Service) -> list[_Endpoint]:
        seen: dict[str, _Endpoint] = {}
        for sl in self._slices_of(svc):
            for e in _slice_endpoints(sl, svc.spec.publish_not_ready_addresses):
                seen.setdefault(e.address, e)
        return list(seen.values())

    # ---- pods ----------------------------------------------------------------------

    def _pod(self, q: Question, labels: list[str]) -> Answer:
        if len(labels) <= 1:
            return self._node(q, [])
        if len(labels) != 2:
            return self._nxdomain()
        dashed = labels[1]
        for text, rtype in (
            (dashed.replace("-", "."), Type.A),
            (dashed.replace("-", ":"), Type.AAAA),
        ):
            if _address_type(text) == rtype:
                return self._node(q, [self._record(q.name, rtype, Address(text))])
        return self._nxdomain()

    # ---- helpers ---------------------------------------------------------------------

    def _record(self, name: str, rtype: int, rdata: Any) -> Record:
        return Record(name, rtype, self.ttl, rdata)

    def _node(self, q: Question, records: list[Record]) -> Answer:
        """An existing name: its records of the asked type, else NODATA."""
        matching = tuple(r for r in records if q.qtype in (r.rtype, Type.ANY))
        if matching:
            return Answer(Rcode.NOERROR, matching)
        return Answer(Rcode.NOERROR, authority=(self._soa,))

    def _nxdomain(self) -> Answer:
        return Answer(Rcode.NXDOMAIN, authority=(self._soa,))


def _cluster_ips(spec: service_pb2.ServiceSpec) -> list[str]:
    ips = list(spec.cluster_ips) or [spec.cluster_ip]
    return [ip for ip in ips if ip and ip != HEADLESS]


def _canonical(text: str) -> str:
    return str(ipaddress.ip_address(text))


def _reverse_address(name: str) -> str | None:
    """The address a reverse name stands for, or None (not a reverse name,
    or not a whole address)."""
    labels = name.lower().rstrip(".").split(".")
    try:
        if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
            if not all(x.isdigit() and len(x) <= 3 for x in labels[:4]):
                return None
            return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
        if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
            if not all(len(x) == 1 for x in labels[:32]):
                return None
            nibbles = "".join(reversed(labels[:32]))
            return str(ipaddress.IPv6Address(int(nibbles, 16)))
    except ValueError:
        return None
    return None


def _address_type(text: str) -> int:
    """A for an IPv4 address, AAAA for IPv6, 0 for anything else."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return 0
    return Type.A if ip.version == 4 else Type.AAAA


def _slice_endpoints(sl: endpointslice_pb2.EndpointSlice, all_count: bool) -> list[_Endpoint]:
    if sl.address_type == "FQDN":
        return []
    out = []
    for ep in sl.endpoints:
        cond = ep.conditions
        if not all_count and cond.HasField("ready") and not cond.ready:
            continue
        for address in ep.addresses:
            rtype = _address_type(address)
            if not rtype:
                continue
            name = ep.hostname if ep.HasField("hostname") and ep.hostname else ""
            dashed = address.replace(".", "-").replace(":", "-")
            out.append(_Endpoint((name or dashed).lower(), address, rtype))
    return out

"""Cluster DNS against a real apiserver: Services and EndpointSlices written
through the API, two real Informers, ClusterDns on 127.0.0.1, asked with
dnspython over UDP and TCP, forwarding to a fake upstream on 127.0.0.1.

The server side (client, informers, ClusterDns, fake upstream) runs on its
own event loop in a thread, as it would inside the kubelet; the test is a
plain blocking DNS client and waits with ``wait_for``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from pinnace.client import AsyncClient, Client
from pinnace.client.config import ClientConfig
from pinnace.client.informer import Informer
from pinnace.dns import ClusterDns
from tests.unit.dns.dns_fakes import UPSTREAM_ADDRESS, FakeUpstream, endpoint_slice, service
from tests.waiting import wait_for

T = 5.0  # seconds one DNS exchange may take: a deadline, not a speed claim
V = TypeVar("V")


class DnsOnItsOwnLoop:
    """An AsyncClient, Informers for services and endpointslices, a fake
    upstream and ClusterDns, on an event loop in a thread."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="dns-loop", daemon=True)
        self.upstream = FakeUpstream(
            {"www.example.com": "192.0.2.80", "db.example.com": "192.0.2.5"}
        )
        self.addr: tuple[str, int] = ("", 0)
        self._tasks: list[asyncio.Task[None]] = []
        self._client: AsyncClient | None = None
        self._dns: ClusterDns | None = None

    def run(self, coro: Coroutine[Any, Any, V]) -> V:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        self._client = AsyncClient(config=self.config, timeout=10)
        services = Informer(self._client, "services")
        slices = Informer(self._client, "endpointslices")
        self._tasks = [asyncio.create_task(i.run()) for i in (services, slices)]
        for informer in (services, slices):
            assert await informer.wait_synced(30), f"{informer.name} did not sync"
        upstream = await self.upstream.start()
        self._dns = ClusterDns(services, slices, domain="cluster.local", upstream=[upstream])
        self.addr = await self._dns.serve("127.0.0.1", 0)

    def stop(self) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()

    async def _stop(self) -> None:
        if self._dns is not None:
            await self._dns.close()
        await self.upstream.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()

    def ask(self, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype)
        send = dns.query.tcp if tcp else dns.query.udp
        return send(query, self.addr[0], port=self.addr[1], timeout=T)


@pytest.fixture
def server(apiserver: Any) -> Iterator[DnsOnItsOwnLoop]:
    harness = DnsOnItsOwnLoop(apiserver.config)
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()


def create_objects(client: Client, ns: str) -> str:
    """web (ClusterIP, named ports), nginx (headless, a manual slice with
    web-0/web-1 ready and web-2 not), ext (ExternalName). Returns web's IP."""
    web = service(ns, "web", ports=(("http", "TCP", 80), ("metrics", "TCP", 9090)))
    web.spec.selector["app"] = "web"
    nginx = service(ns, "nginx", "None", ports=(("web", "TCP", 80),))
    nginx.spec.selector["app"] = "nginx"
    ext = service(ns, "ext", type_="ExternalName", external_name="db.example.com")
    created = client.services(ns).create(web)
    client.services(ns).create(nginx)
    client.services(ns).create(ext)
    client.endpoint_slices(ns).create(
        endpoint_slice(
            ns,
            "nginx-abc",
            "nginx",
            (
                ("10.244.1.5", "web-0", True),
                ("10.244.2.6", "web-1", None),
                ("10.244.3.7", "web-2", False),
            ),
            ports=(("web", "TCP", 8080),),
        )
    )
    ip: str = created.spec.cluster_ip
    assert ip and ip != "None", "the apiserver allocates a ClusterIP"
    return ip


def records(msg: dns.message.Message, section: str = "answer") -> list[str]:
    return sorted(
        f"{rrset.name.to_text(omit_final_dot=True)} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}"
        for rrset in getattr(msg, section)
        for rd in rrset
    )


def test_service_names_over_udp_and_tcp(
    server: DnsOnItsOwnLoop, client: Client, namespace: str
) -> None:
    ns = namespace
    web_ip = create_objects(client, ns)
    svc = "svc.cluster.local"
    wait_for(
        lambda: (
            server.ask(f"web-1.nginx.{ns}.{svc}").answer
            and server.ask(f"ext.{ns}.{svc}", "CNAME").answer
        ),
        10,
        "the informers have the objects",
    )
    nginx = f"nginx.{ns}.{svc}"
    rows: list[tuple[str, str, int, list[str], list[str]]] = [
        (f"web.{ns}.{svc}", "A", dns.rcode.NOERROR, [f"web.{ns}.{svc} A {web_ip}"], []),
        (f"web.{ns}.{svc}", "AAAA", dns.rcode.NOERROR, [], []),
        (
            f"_http._tcp.web.{ns}.{svc}",
            "SRV",
            dns.rcode.NOERROR,
            [f"_http._tcp.web.{ns}.{svc} SRV 0 100 80 web.{ns}.{svc}."],
            [f"web.{ns}.{svc} A {web_ip}"],
        ),
        (
            f"_metrics._tcp.web.{ns}.{svc}",
            "SRV",
            dns.rcode.NOERROR,
            [f"_metrics._tcp.web.{ns}.{svc} SRV 0 100 9090 web.{ns}.{svc}."],
            [f"web.{ns}.{svc} A {web_ip}"],
        ),
        (f"_http._udp.web.{ns}.{svc}", "SRV", dns.rcode.NXDOMAIN, [], []),
        (nginx, "A", dns.rcode.NOERROR, [f"{nginx} A 10.244.1.5", f"{nginx} A 10.244.2.6"], []),
        (f"web-0.{nginx}", "A", dns.rcode.NOERROR, [f"web-0.{nginx} A 10.244.1.5"], []),
        (f"web-2.{nginx}", "A", dns.rcode.NXDOMAIN, [], []),
        (
            f"_web._tcp.{nginx}",
            "SRV",
            dns.rcode.NOERROR,
            [
                f"_web._tcp.{nginx} SRV 0 50 8080 web-0.{nginx}.",
                f"_web._tcp.{nginx} SRV 0 50 8080 web-1.{nginx}.",
            ],
            [f"web-0.{nginx} A 10.244.1.5", f"web-1.{nginx} A 10.244.2.6"],
        ),
        (
            f"ext.{ns}.{svc}",
            "CNAME",
            dns.rcode.NOERROR,
            [f"ext.{ns}.{svc} CNAME db.example.com."],
            [],
        ),
        (
            f"ext.{ns}.{svc}",
            "A",
            dns.rcode.NOERROR,
            [f"ext.{ns}.{svc} CNAME db.example.com.", "db.example.com A 192.0.2.5"],
            [],
        ),
        (
            f"10-244-9-9.{ns}.pod.cluster.local",
            "A",
            dns.rcode.NOERROR,
            [f"10-244-9-9.{ns}.pod.cluster.local A 10.244.9.9"],
            [],
        ),
        (f"missing.{ns}.{svc}", "A", dns.rcode.NXDOMAIN, [], []),
        (f"{ns}.{svc}", "A", dns.rcode.NOERROR, [], []),
    ]
    for tcp in (False, True):
        for name, rdtype, rcode, answer, additional in rows:
            got = server.ask(name, rdtype, tcp=tcp)
            where = f"{rdtype} {name} over {'TCP' if tcp else 'UDP'}"
            assert got.rcode() == rcode, where
            assert got.flags & dns.flags.AA, where
            assert records(got) == sorted(answer), where
            assert records(got, "additional") == sorted(additional), where
            if not answer:
                assert [r.rdtype for r in got.authority] == [dns.rdatatype.SOA], where
            assert all(
                rrset.ttl == 5 for rrset in got.answer if rrset.name.to_text().endswith(f"{svc}.")
            ), where


def reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def test_reverse_names_of_cluster_addresses(
    server: DnsOnItsOwnLoop, client: Client, namespace: str
) -> None:
    """PTR for a ClusterIP and for a ready endpoint's address; another
    test's objects (the informers see every namespace) may add names to the
    endpoint's, never remove ours."""
    ns = namespace
    web_ip = create_objects(client, ns)
    web0 = f"web-0.nginx.{ns}.svc.cluster.local."
    wait_for(
        lambda: any(
            r.endswith(f"PTR {web0}")
            for r in records(server.ask(reverse_name("10.244.1.5"), "PTR"))
        ),
        10,
        "web-0's address has its PTR record",
    )
    got = server.ask(reverse_name(web_ip), "PTR", tcp=True)
    assert got.flags & dns.flags.AA
    assert records(got) == [f"{reverse_name(web_ip)} PTR web.{ns}.svc.cluster.local."]
    assert f"{reverse_name('10.244.1.5')} PTR {web0}" in records(
        server.ask(reverse_name("10.244.1.5"), "PTR")
    )


def test_endpoint_slice_change_is_answered(
    server: DnsOnItsOwnLoop, client: Client, namespace: str
) -> None:
    """web-0 recreated with a new IP (its slice updated), then a slice with
    no ready endpoint: the answers follow within the deadline."""
    ns = namespace
    create_objects(client, ns)
    web0 = f"web-0.nginx.{ns}.svc.cluster.local"
    wait_for(lambda: records(server.ask(web0)) == [f"{web0} A 10.244.1.5"], 10, "web-0 resolves")
    sl = client.endpoint_slices(ns).get("nginx-abc")
    sl.endpoints[0].addresses[:] = ["10.244.1.50"]
    client.endpoint_slices(ns).update(sl)
    wait_for(
        lambda: records(server.ask(web0, tcp=True)) == [f"{web0} A 10.244.1.50"],
        10,
        "web-0 resolves to its new IP",
    )
    sl = client.endpoint_slices(ns).get("nginx-abc")
    for ep in sl.endpoints:
        ep.conditions.ready = False
    client.endpoint_slices(ns).update(sl)
    nginx = f"nginx.{ns}.svc.cluster.local"
    wait_for(
        lambda: server.ask(nginx).rcode() == dns.rcode.NXDOMAIN,
        10,
        "a headless Service without ready endpoints is NXDOMAIN",
    )
    client.services(ns).delete("web")
    wait_for(
        lambda: server.ask(f"web.{ns}.svc.cluster.local").rcode() == dns.rcode.NXDOMAIN,
        10,
        "a deleted Service is NXDOMAIN",
    )


def test_other_names_are_forwarded_to_the_upstream(server: DnsOnItsOwnLoop) -> None:
    for tcp in (False, True):
        got = server.ask("www.example.com", tcp=tcp)
        assert got.rcode() == dns.rcode.NOERROR and not got.flags & dns.flags.AA
        assert records(got) == ["www.example.com A 192.0.2.80"]
        assert records(server.ask("other.example.org", tcp=tcp)) == [
            f"other.example.org A {UPSTREAM_ADDRESS}"
        ]
    assert ("www.example.com", "udp") in server.upstream.asked
    assert ("www.example.com", "tcp") in server.upstream.asked

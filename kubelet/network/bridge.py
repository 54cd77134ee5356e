"""Pods in their own network namespaces on a per-node bridge (needs root).

The node's side (``configure``, once the node has a podCIDR):

* a bridge ``pinnacebr<hash of the node's identity>`` holding the podCIDR's first
  address (the pods' gateway, and where the kubelet serves cluster DNS);
* ``net.ipv4.ip_forward=1`` (pods of different nodes on one machine reach
  each other through the host's routing: every node bridge's subnet is a
  directly connected route) and ``route_localnet=1`` on the bridge (so the
  service proxy can forward NodePort connections made to 127.0.0.1);
* a blackhole route for the podCIDR with a high metric (protocol
  ``hostnet.ROUTE_PROTOCOL``): while the bridge is down or gone, a packet
  for one of its pods is dropped here rather than sent to the default
  route.

A pod's side (``setup``): a network namespace
``pinnace-<node hash>-<pod uid>`` with ``lo`` and ``eth0``, the inner end
of a veth pair whose host end ``pinnace<hash of the uid>`` is a port of
the bridge; ``eth0`` has the pod's IP (ipam.py) and a default route via
the gateway. ``/etc/netns/<namespace>/resolv.conf`` and ``hosts``
(dnsconfig.py) are what the pod's processes see as /etc/resolv.conf and
/etc/hosts (``netns_argv``). ``setup`` is idempotent: after a kubelet
restart a pod's namespace and IP are found and kept, so running
containers never notice; a namespace half made by a crash is made again.
If any step fails, what was made is removed and the IP freed.

The namespace, its veth and the IP go when the pod goes (``teardown``);
``cleanup`` removes those of pods that no longer exist (a crash, a
deletion while the kubelet was down), ``shutdown`` the node's bridge and
route too. All commands run as subprocesses (``hostnet.arun``), and file
work in a thread: nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import shutil
from pathlib import Path

from kubelet.network import NetworkNotReady, Sandbox
from kubelet.network.dnsconfig import HostResolv, hosts_file, resolv_conf
from kubelet.network.ipam import AddressesExhausted, Ipam
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import hostnet
from pinnace.machinery.wellknown import POD_NETWORK_BRIDGE

__all__ = ["BridgeNetwork"]

log = logging.getLogger(__name__)

# The metric of the podCIDR's blackhole route: above the bridge's own route.
BLACKHOLE_METRIC = 4000


def _write_sysctl(name: str, value: str) -> None:
    Path("/proc/sys", *name.split(".")).write_text(value)


class BridgeNetwork:
    """Per-pod network namespaces on a node bridge (see the module docstring)."""

    mode = POD_NETWORK_BRIDGE

    def __init__(
        self,
        identity: str,
        state_dir: Path,
        *,
        domain: str = "cluster.local",
        cluster_dns: list[str] | None = None,
        host_resolv: HostResolv | None = None,
    ) -> None:
        self.identity = identity  # hostnet.node_identity
        self.state_dir = state_dir
        self.domain = domain
        self._cluster_dns = list(cluster_dns or [])
        self.host_resolv = host_resolv or HostResolv()
        self.bridge = hostnet.bridge_name(identity)
        self.prefix = hostnet.netns_prefix(identity)
        self.cidr = ""
        self._ipam: Ipam | None = None
        self._lock = asyncio.Lock()

    # ---- the node's side ----------------------------------------------------------------

    @property
    def gateway(self) -> str:
        return str(self._ipam.gateway) if self._ipam is not None else ""

    @property
    def cluster_dns(self) -> list[str]:
        """The DNS servers ClusterFirst pods use: ``--cluster-dns``, else the gateway."""
        return self._cluster_dns or ([self.gateway] if self.gateway else [])

    def not_ready_reason(self) -> str:
        if not self.cidr:
            return (
                "the node has no podCIDR yet (the controller-manager gives one with "
                "--allocate-node-cidrs --cluster-cidr, or start the kubelet with --pod-cidr)"
            )
        return ""

    async def configure(self, pod_cidr: str) -> None:
        """Bridge, gateway address, sysctls and blackhole route for ``pod_cidr``."""
        async with self._lock:
            if pod_cidr == self.cidr:
                return
            net = ipaddress.ip_network(pod_cidr)
            ipam = Ipam(self.state_dir / "ips", pod_cidr)
            gw = f"{ipam.gateway}/{net.prefixlen}"
            br = self.bridge
            if not await asyncio.to_thread(hostnet.link_exists, br):
                await hostnet.arun("ip", "link", "add", br, "type", "bridge")
            have = await hostnet.arun("ip", "-o", "-4", "addr", "show", "dev", br)
            if f" {gw} " not in have:
                await hostnet.arun("ip", "addr", "flush", "dev", br)
                await hostnet.arun("ip", "addr", "add", gw, "dev", br)
            await hostnet.arun("ip", "link", "set", br, "up")
            await asyncio.to_thread(_write_sysctl, "net.ipv4.ip_forward", "1")
            await asyncio.to_thread(_write_sysctl, f"net.ipv4.conf.{br}.route_localnet", "1")
            await hostnet.arun(
                "ip", "route", "replace", "blackhole", str(net),
                "metric", str(BLACKHOLE_METRIC), "proto", str(hostnet.ROUTE_PROTOCOL),
            )  # fmt: skip
            self.cidr, self._ipam = pod_cidr, ipam
            log.info("pod network ready: bridge %s, podCIDR %s, gateway %s", br, net, ipam.gateway)

    # ---- a pod's side -------------------------------------------------------------------

    def netns(self, uid: str) -> str:
        return self.prefix + uid

    async def setup(self, pod: pod_pb2.Pod) -> Sandbox:
        ipam = self._ipam
        if ipam is None:
            raise NetworkNotReady(f"network is not ready: {self.not_ready_reason()}")
        uid = pod.metadata.uid
        ns = self.netns(uid)
        try:
            ip = await asyncio.to_thread(ipam.allocate, uid)
        except (AddressesExhausted, OSError) as e:
            raise NetworkNotReady(f"allocating the pod's IP failed: {e}") from None
        try:
            if not await self._intact(ns, ip):
                await self._create(ns, hostnet.veth_name(uid), ip, ipam)
                log.info("pod %s/%s: network namespace %s, IP %s", *_key(pod), ns, ip)
            await asyncio.to_thread(self._write_etc, ns, pod, ip)
        except (hostnet.HostNetError, OSError) as e:
            await self.teardown(uid)
            raise NetworkNotReady(f"setting up the pod's network failed: {e}") from None
        return Sandbox(ns, ip)

    async def _intact(self, ns: str, ip: str) -> bool:
        """Whether ``ns`` exists with ``ip`` on its eth0 (made before a restart)."""
        if not await asyncio.to_thread(hostnet.netns_exists, ns):
            return False
        out = await hostnet.arun(
            "ip", "-n", ns, "-o", "-4", "addr", "show", "dev", "eth0", check=False
        )
        return f" {ip}/" in out

    async def _create(self, ns: str, veth: str, ip: str, ipam: Ipam) -> None:
        await asyncio.to_thread(hostnet.delete_netns, ns)  # a half-made one
        if await asyncio.to_thread(hostnet.link_exists, veth):
            await hostnet.arun("ip", "link", "delete", veth, check=False)
        host_side = (
            f"netns add {ns}\n"
            f"link add {veth} type veth peer name eth0 netns {ns}\n"
            f"link set {veth} master {self.bridge} up\n"
            # A pod reaching itself through its Service: the reply leaves by
            # the port it came in on (with br_netfilter, packets stay bridged).
            f"link set dev {veth} type bridge_slave hairpin on\n"
        )
        await hostnet.arun("ip", "-batch", "-", input=host_side)
        pod_side = (
            f"addr add {ip}/{ipam.net.prefixlen} dev eth0\n"
            "link set eth0 up\n"
            "link set lo up\n"
            f"route add default via {ipam.gateway}\n"
        )
        await hostnet.arun("ip", "-n", ns, "-batch", "-", input=pod_side)

    def _write_etc(self, ns: str, pod: pod_pb2.Pod, ip: str) -> None:
        d = hostnet.NETNS_ETC_DIR / ns
        d.mkdir(parents=True, exist_ok=True)
        resolv = resolv_conf(
            pod, cluster_dns=self.cluster_dns, domain=self.domain, host=self.host_resolv
        )
        for name, text in (
            ("resolv.conf", resolv),
            ("hosts", hosts_file(pod, pod_ip=ip, domain=self.domain)),
        ):
            tmp = d / f".{name}.tmp"
            tmp.write_text(text)
            tmp.replace(d / name)

    async def teardown(self, uid: str) -> None:
        ns = self.netns(uid)
        await asyncio.to_thread(self._teardown_blocking, ns, uid)

    def _teardown_blocking(self, ns: str, uid: str) -> None:
        existed = hostnet.netns_exists(ns)
        hostnet.delete_netns(ns)
        veth = hostnet.veth_name(uid)
        if hostnet.link_exists(veth):
            hostnet.run("ip", "link", "delete", veth, check=False)
        freed = Ipam(self.state_dir / "ips", self.cidr or "0.0.0.0/32").release(uid)
        if existed or freed:
            log.info("removed network namespace %s (freed %s)", ns, ", ".join(freed) or "no IP")

    async def cleanup(self, keep: set[str]) -> list[str]:
        return await asyncio.to_thread(self._cleanup_blocking, keep)

    def _cleanup_blocking(self, keep: set[str]) -> list[str]:
        removed = []
        for ns in hostnet.pinnace_netns(self.prefix):
            if ns[len(self.prefix) :] not in keep:
                self._teardown_blocking(ns, ns[len(self.prefix) :])
                removed.append(ns)
        if hostnet.NETNS_ETC_DIR.is_dir():
            for d in hostnet.NETNS_ETC_DIR.iterdir():
                if d.name.startswith(self.prefix) and d.name[len(self.prefix) :] not in keep:
                    shutil.rmtree(d, ignore_errors=True)
        if self._ipam is not None:
            self._ipam.release_all_but(keep)
        return removed

    async def shutdown(self) -> None:
        """Every pod's namespace, the bridge and the blackhole route."""
        await self.cleanup(set())
        async with self._lock:
            if await asyncio.to_thread(hostnet.link_exists, self.bridge):
                await hostnet.arun("ip", "link", "delete", self.bridge, check=False)
            if self.cidr:
                with contextlib.suppress(hostnet.HostNetError):
                    await hostnet.arun(
                        "ip", "route", "delete", "blackhole", self.cidr,
                        "metric", str(BLACKHOLE_METRIC), "proto", str(hostnet.ROUTE_PROTOCOL),
                    )  # fmt: skip
            self.cidr, self._ipam = "", None
        log.info("removed bridge %s", self.bridge)


def _key(pod: pod_pb2.Pod) -> tuple[str, str]:
    return pod.metadata.namespace, pod.metadata.name

"""Wiring: the kubelet's parts, started and stopped in order.

Start: the pod network (kubelet/network: bridge when root, else the host's),
the HTTP server (its port goes into the Node), node registration
(retried until it works; capacity and labels are needed for admission),
the pod informer (``spec.nodeName=<node>`` only), the Service informer
(all namespaces, for the containers' Service variables), the pod manager (admits
the pods already bound, kills orphans, then follows events), and the
node-status, lease and housekeeping loops. A bridge network waits for the
node's podCIDR (the Node is NotReady until then), then is set up, and the
kubelet serves cluster DNS (pinnace/dns) on the bridge's gateway address,
port 53: the nameserver of its ClusterFirst pods.

Stop: the loops and pod workers end; containers keep running (a kubelet
restart re-adopts them, runtime.py) unless ``kill_pods_on_exit`` is set,
which also removes the pods' network namespaces and the node's bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from kubelet.cgroups import Cgroups
from kubelet.context import Config, Context
from kubelet.hollow import HollowRuntime
from kubelet.manager import PodManager
from kubelet.network import HostNetwork, NetworkUnavailable, PodNetwork
from kubelet.network.bridge import BridgeNetwork
from kubelet.network.dnsconfig import HostResolv, parse_resolv_conf
from kubelet.node import Machine, NodeManager, read_machine
from kubelet.paths import RootPaths
from kubelet.podfiles import secure_root, warn_untraversable
from kubelet.runtime import ProcessRuntime, Runtime
from kubelet.server import KubeletServer, PodFinder
from pinnace.api.core.v1 import node_pb2
from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.client.informer import Informer
from pinnace.dns import ClusterDns, host_upstreams
from pinnace.machinery import errors, hostnet

__all__ = ["Kubelet"]

log = logging.getLogger(__name__)

# How long start() waits for the Service informer's first list (seconds).
SERVICES_SYNC_WAIT = 5.0
# How often the kubelet looks for its podCIDR until it has one (seconds).
NETWORK_POLL_MIN = 0.1
NETWORK_POLL_MAX = 2.0
DNS_PORT = 53


def make_network(cfg: Config) -> PodNetwork:
    """The pod network the flags ask for (NetworkUnavailable if it cannot be had)."""
    if cfg.pod_network == "host" or cfg.runtime == "hollow":
        return HostNetwork(cfg.node_ip)
    unavailable = hostnet.pod_network_unavailable()
    if unavailable:
        if cfg.pod_network == "bridge":
            raise NetworkUnavailable(f"--pod-network bridge is not possible here: {unavailable}")
        log.warning(
            "pods share the host's network (%s): every pod has the node's IP %s, and the "
            "scheduler treats declared containerPorts as host ports on this node",
            unavailable,
            cfg.node_ip,
        )
        return HostNetwork(cfg.node_ip)
    try:
        host_resolv = parse_resolv_conf(cfg.resolv_conf.read_text())
    except OSError as e:
        log.warning("reading %s failed (%s); pods get no host DNS settings", cfg.resolv_conf, e)
        host_resolv = HostResolv()
    return BridgeNetwork(
        hostnet.node_identity(cfg.node_name, cfg.root_dir),
        cfg.root_dir.resolve() / "network",
        domain=cfg.cluster_domain,
        cluster_dns=cfg.cluster_dns,
        host_resolv=host_resolv,
    )


def make_runtime(name: str, cgroups: Cgroups | None = None) -> Runtime:
    if name == "hollow":
        return HollowRuntime()
    if name == "process":
        return ProcessRuntime(cgroups)
    raise ValueError(f'unknown runtime "{name}" (process or hollow)')


async def start_server(cfg: Config, pods: PodFinder, serves: str) -> tuple[KubeletServer, int]:
    """The kubelet's endpoint on ``--listen`` for the pods ``pods`` finds
    (``serves`` names the node or nodes in its answers); its port."""
    server = KubeletServer(
        pods, listen=cfg.listen, node_name=serves, tls=await asyncio.to_thread(cfg.server_tls)
    )
    return server, await server.start()


async def machine_of(cfg: Config) -> Machine:
    """The machine's facts, the capacity flags winning (read in a thread)."""
    return await asyncio.to_thread(
        read_machine,
        cfg.root_dir,
        cpu=cfg.capacity_cpu,
        memory=cfg.capacity_memory,
        max_pods=cfg.max_pods,
    )


def _secure_root(cfg: Config) -> None:
    """The modes that keep pods out of each other's files (podfiles.py)."""
    secure_root(RootPaths(cfg.root_dir.resolve()), cfg.local_volumes)
    warn_untraversable(cfg.root_dir)


def _detect_cgroups(cfg: Config) -> Cgroups:
    """Where container limits go (cgroups.py); none for the hollow runtime."""
    if cfg.runtime != "process" or not cfg.cgroups:
        cg = Cgroups()
    else:
        cg = Cgroups.detect(node_name=cfg.node_name, root_dir=cfg.root_dir.resolve())
    log.info("container limits: %s", cg.describe())
    return cg


class Kubelet:
    def __init__(self, config: Config, *, kill_pods_on_exit: bool = False) -> None:
        self.config = config
        self.kill_pods_on_exit = kill_pods_on_exit
        self.client: AsyncClient | None = None
        self.manager: PodManager | None = None
        self.node: NodeManager | None = None
        self.server: KubeletServer | None = None
        self.ctx: Context | None = None
        self.dns: ClusterDns | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    async def start(self) -> None:
        cfg = self.config
        await asyncio.to_thread(cfg.root_dir.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(_secure_root, cfg)
        self.client = AsyncClient(cfg.apiserver, kubeconfig=cfg.kubeconfig)
        recorder = EventRecorder(self.client, "kubelet", host=cfg.node_name)
        recorder.start()
        self._recorder = recorder
        network = await asyncio.to_thread(make_network, cfg)
        cgroups = await asyncio.to_thread(_detect_cgroups, cfg)
        ctx = Context(
            config=cfg,
            client=self.client,
            recorder=recorder,
            runtime=make_runtime(cfg.runtime, cgroups),
            cgroups=cgroups,
            paths=RootPaths(cfg.root_dir.resolve()),
            network=network,
        )
        self.ctx = ctx
        informer = Informer(
            self.client,
            "pods",
            field_selector=f"spec.nodeName={cfg.node_name}",
            name=f"pods@{cfg.node_name}",
        )
        # Services for the containers' environment variables (envvars.py):
        # an informer rather than a list per container start, so starting a
        # container costs no API call and sees every Service the watch has
        # delivered by then.
        services = Informer(self.client, "services", name=f"services@{cfg.node_name}")
        ctx.services = services
        self.manager = PodManager(ctx, informer)
        self.server, port = await start_server(cfg, self.manager, cfg.node_name)
        machine = await machine_of(cfg)
        self.node = NodeManager(ctx, kubelet_port=port, machine=machine)
        await self.node.register(prepare=self._network_from)
        self._spawn(informer.run(), "pod-informer")
        self._spawn(services.run(), "service-informer")
        self._spawn(self.node.lease_loop(), "lease")
        self._spawn(self.node.status_loop(), "node-status")
        # Pods admitted now would wait for the Services (a ConfigError,
        # retried, see podworker/state.py); let the first list land first,
        # but never hold the node back for it.
        if not await services.wait_synced(timeout=SERVICES_SYNC_WAIT):
            log.warning("services not listed after %.0fs; starting pods anyway", SERVICES_SYNC_WAIT)
        await self.manager.start()
        if network.not_ready_reason():
            self._spawn(self._network_setup(), "pod-network")
        self._spawn(self.manager.housekeeping(), "housekeeping")
        self._spawn(self.manager.sample_log_times(), "log-times")
        self.ready.set()
        log.info("kubelet %s ready (runtime %s)", cfg.node_name, cfg.runtime)

    async def _network_from(self, node: node_pb2.Node) -> None:
        """A restart (or --pod-cidr): the network is set up before the first
        status is written (so it says Ready) and before any pod is synced
        (so running pods find their sandboxes at once)."""
        assert self.ctx is not None
        network, cidr = self.ctx.network, node.spec.pod_cidr or self.config.pod_cidr
        if network.not_ready_reason() and cidr:
            await network.configure(cidr)
            await self._start_dns()

    async def _network_setup(self) -> None:
        """Wait for the node's podCIDR, set the pod network up for it, then
        report the node Ready and wake the pods that waited."""
        assert self.ctx is not None and self.node is not None and self.manager is not None
        cfg, network = self.config, self.ctx.network
        delay = NETWORK_POLL_MIN
        while True:
            try:
                node = await self.ctx.client.nodes().get(cfg.node_name)
                cidr = node.spec.pod_cidr or cfg.pod_cidr
                if cidr:
                    await network.configure(cidr)
                    break
            except errors.ApiError as e:
                log.warning("reading node %s for its podCIDR failed: %s", cfg.node_name, e)
            except hostnet.HostNetError as e:
                log.error("setting up the pod network failed: %s", e)
            await asyncio.sleep(delay)
            delay = min(delay * 2, NETWORK_POLL_MAX)
        await self._start_dns()
        await self.node.report_now()
        self.manager.wake_all()

    async def _start_dns(self) -> None:
        """Serve cluster DNS on the bridge's gateway address (port 53), the
        nameserver of this node's ClusterFirst pods; not with --cluster-dns."""
        assert self.ctx is not None and self.client is not None
        network, cfg = self.ctx.network, self.config
        if not isinstance(network, BridgeNetwork) or cfg.cluster_dns or self.dns is not None:
            return
        slices = Informer(self.client, "endpointslices", name=f"endpointslices@{cfg.node_name}")
        self._spawn(slices.run(), "endpointslice-informer")
        assert self.ctx.services is not None
        upstream = await asyncio.to_thread(host_upstreams, cfg.resolv_conf)
        dns = ClusterDns(self.ctx.services, slices, domain=cfg.cluster_domain, upstream=upstream)
        try:
            await dns.serve(network.gateway, DNS_PORT)
        except OSError as e:
            log.error("cannot serve cluster DNS on %s:%d: %s", network.gateway, DNS_PORT, e)
            return
        self.dns = dns
        log.info("serving cluster DNS (%s) on %s:%d", cfg.cluster_domain, network.gateway, DNS_PORT)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.manager is not None:
            await self.manager.stop(kill_containers=self.kill_pods_on_exit)
        if self.ctx is not None:
            await asyncio.to_thread(self.ctx.cgroups.release)
        if self.dns is not None:
            await self.dns.close()
        if self.kill_pods_on_exit and self.ctx is not None:
            await self.ctx.network.shutdown()
        if self.server is not None:
            await self.server.stop()
        with contextlib.suppress(Exception):
            await self._recorder.stop(timeout=2)
        if self.client is not None:
            await self.client.close()

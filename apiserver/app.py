"""Assembling the apiserver: resources, background loops, the gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from apiserver.auth import Authenticator, load_token_file
from apiserver.auth.admission import Admission
from apiserver.auth.authz import Authorizer, RbacIndex
from apiserver.auth.nodeauthz import NodeGraph
from apiserver.auth.tls import grpc_server_credentials
from apiserver.compaction import compact_forever
from apiserver.etcd.client import EtcdClient
from apiserver.etcdhealth import EtcdHealth
from apiserver.metrics import CACHE_OBJECTS
from apiserver.namespaces import NamespaceFinalizer, NamespacePhases, ensure_system_namespaces
from apiserver.registry.config import RegistryConfig
from apiserver.registry.kinds import STRATEGIES
from apiserver.registry.kinds.rbacbootstrap import VerbsAccess
from apiserver.registry.resource import Resource, resource_prefix
from apiserver.registry.verbs import Verbs
from apiserver.rest.app import RestServer
from apiserver.server import SERVICE, ApiService, generic_handler
from apiserver.storage.hub import CacheHub
from apiserver.storage.store import Store
from apiserver.storage.watchcache import WatchCache
from pinnace.machinery import kinds
from pinnace.machinery.rbac import GROUP as RBAC_GROUP
from pinnace.machinery.rbacbootstrap import ensure_bootstrap_rbac
from pinnace.machinery.tlsclient import client_ssl_context

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_REQUEST_BYTES = 8 * 1024 * 1024


@dataclass
class Options:
    etcd_servers: list[str]
    listen: str = "127.0.0.1:6443"
    watch_cache_size: int = 10_000
    bookmark_interval: float = 5.0
    compaction_interval: float = 300.0
    # Readiness: how often etcd is asked, and how long it has to answer.
    etcd_healthcheck_period: float = 1.0
    etcd_healthcheck_timeout: float = 2.0
    namespace_sync_period: float = 0.5
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: str = "30000-32767"
    # The Kubernetes HTTP API (rest/): host:port, "" = not served.
    rest_listen: str = ""
    # TLS of both listeners (gRPC: when set; HTTP: unless rest_plain_http).
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    rest_plain_http: bool = False
    # Authentication (auth/authn.py): client certificates signed by this CA
    # (mutual TLS on gRPC), a static token file, anonymous requests.
    client_ca_file: str = ""
    token_auth_file: str = ""
    anonymous_auth: bool = False
    # Kubelets over TLS: the CA of their serving certificates, our client pair.
    kubelet_certificate_authority: str = ""
    kubelet_client_certificate: str = ""
    kubelet_client_key: str = ""
    # etcd over TLS: the CA of its serving certificate, and our client pair.
    etcd_cafile: str = ""
    etcd_certfile: str = ""
    etcd_keyfile: str = ""
    # Authorizers in order (auth/authz.py): "Node", "RBAC", "AlwaysAllow".
    authorization_modes: tuple[str, ...] = ("Node", "RBAC")

    def etcd_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS toward etcd (None: plain gRPC)."""
        if not self.etcd_cafile:
            return None
        return grpc.ssl_channel_credentials(
            Path(self.etcd_cafile).read_bytes(),
            Path(self.etcd_keyfile).read_bytes() if self.etcd_keyfile else None,
            Path(self.etcd_certfile).read_bytes() if self.etcd_certfile else None,
        )

    def kubelet_tls(self) -> ssl.SSLContext | None:
        """TLS toward kubelets (None: plain HTTP). The chain is checked, not
        the address (a kubelet's certificate need not name its node IP)."""
        if not self.kubelet_certificate_authority:
            return None
        return client_ssl_context(
            Path(self.kubelet_certificate_authority).read_bytes(),
            Path(self.kubelet_client_certificate).read_bytes()
            if self.kubelet_client_certificate
            else None,
            Path(self.kubelet_client_key).read_bytes() if self.kubelet_client_key else None,
            check_hostname=False,
        )

    def authenticator(self) -> Authenticator:
        """The authenticator these options describe (reads the token file)."""
        tokens = load_token_file(Path(self.token_auth_file)) if self.token_auth_file else {}
        return Authenticator(tokens=tokens, anonymous=self.anonymous_auth)

    def registry_config(self) -> RegistryConfig:
        """The registry settings these options choose."""
        return RegistryConfig(
            not_ready_toleration_seconds=self.default_not_ready_toleration_seconds,
            unreachable_toleration_seconds=self.default_unreachable_toleration_seconds,
            service_cluster_ip_range=self.service_cluster_ip_range,
            service_node_port_range=self.service_node_port_range,
        )


def build_resources(
    etcd: EtcdClient, cache_size: int, config: RegistryConfig
) -> dict[str, Resource]:
    resources: dict[str, Resource] = {}
    for info in kinds.KINDS:
        strategy = STRATEGIES[info.kind](info, config)
        store = Store(etcd, info.message_class, claims=strategy.claims)
        cache = WatchCache(
            prefix=resource_prefix(info),
            decode=store.decode,
            extract=strategy.extract,
            capacity=cache_size,
            resource=info.resource,
        )
        resources[info.resource] = Resource(info=info, strategy=strategy, store=store, cache=cache)
    return resources


class ApiServer:
    """One apiserver process's moving parts; ``start`` then ``wait``/``stop``."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.etcd = EtcdClient(opts.etcd_servers, credentials=opts.etcd_credentials())
        self.resources = build_resources(self.etcd, opts.watch_cache_size, opts.registry_config())
        self.hub = CacheHub(self.etcd, [r.cache for r in self.resources.values()])
        self.finalizer: NamespaceFinalizer | None = None
        self.server: grpc.aio.Server | None = None
        self.rest: RestServer | None = None
        self.port = 0
        self.rest_port = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.hub.start()
        log.info("watch caches ready for %d resources", len(self.resources))
        phases = NamespacePhases(self.resources["namespaces"])
        r = self.resources
        authorizer = Authorizer(
            self.opts.authorization_modes,
            RbacIndex(
                r[f"roles.{RBAC_GROUP}"].cache,
                r[f"clusterroles.{RBAC_GROUP}"].cache,
                r[f"rolebindings.{RBAC_GROUP}"].cache,
                r[f"clusterrolebindings.{RBAC_GROUP}"].cache,
            ),
            NodeGraph(r["pods"].cache, r["persistentvolumeclaims"].cache),
        )
        verbs = Verbs(namespace_phase=phases.phase, admit=Admission(authorizer))
        self.finalizer = NamespaceFinalizer(
            self.resources, verbs, period=self.opts.namespace_sync_period
        )
        await ensure_system_namespaces(self.resources["namespaces"], verbs)
        await ensure_bootstrap_rbac(VerbsAccess(self.resources, verbs))

        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 5000),
            ]
        )
        # Reading the certificate, key and token files: off the event loop.
        authn = await asyncio.to_thread(self.opts.authenticator)
        kubelet_tls = await asyncio.to_thread(self.opts.kubelet_tls)
        server.add_generic_rpc_handlers(
            (generic_handler(ApiService(self.resources, verbs, authorizer), authn),)
        )
        health_servicer = (
            health.aio.HealthServicer() if hasattr(health, "aio") else health.HealthServicer()
        )
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        opts = self.opts
        if opts.tls_cert_file:
            credentials = await asyncio.to_thread(
                grpc_server_credentials,
                opts.tls_cert_file,
                opts.tls_private_key_file,
                opts.client_ca_file,
            )
            self.port = server.add_secure_port(opts.listen, credentials)
        else:
            self.port = server.add_insecure_port(opts.listen)
        if not self.port:
            raise OSError(f"cannot listen on {self.opts.listen}")
        await server.start()
        self.server = server
        if self.opts.rest_listen:
            self.rest = RestServer(
                self.resources, verbs, authn, authorizer, kubelet_tls=kubelet_tls
            )
            self.rest_port = await self.rest.start(
                self.opts.rest_listen,
                cert_file=self.opts.tls_cert_file,
                key_file=self.opts.tls_private_key_file,
                client_ca_file=self.opts.client_ca_file,
                plain_http=self.opts.rest_plain_http,
            )
        await _set_status(health_servicer, serving=True)

        async def readiness(healthy: bool) -> None:
            await _set_status(health_servicer, serving=healthy)

        self.etcd_health = EtcdHealth(
            self.etcd,
            period=opts.etcd_healthcheck_period,
            timeout=opts.etcd_healthcheck_timeout,
            on_change=readiness,
        )
        if self.rest is not None:
            self.rest.etcd_health = self.etcd_health
        self._tasks = [
            asyncio.create_task(self.finalizer.run(), name="namespace-finalizer"),
            asyncio.create_task(self._bookmarks(), name="bookmarks"),
            asyncio.create_task(self.etcd_health.run(), name="etcd-health"),
        ]
        if self.opts.compaction_interval > 0:
            self._tasks.append(
                asyncio.create_task(
                    compact_forever(self.etcd, self.opts.compaction_interval), name="compaction"
                )
            )
        host = self.opts.listen.rpartition(":")[0]
        log.info("serving the API on %s:%d", host, self.port)

    async def _bookmarks(self) -> None:
        while True:
            await asyncio.sleep(self.opts.bookmark_interval)
            for res in self.resources.values():
                res.cache.send_bookmarks()
                CACHE_OBJECTS.labels(res.info.resource).set(len(res.cache))

    async def stop(self, grace: float = 1.0) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if self.rest is not None:
            await self.rest.stop()
        if self.server is not None:
            await self.server.stop(grace)
        await self.hub.stop()
        await self.etcd.close()

    async def wait(self) -> None:
        assert self.server is not None
        await self.server.wait_for_termination()


async def _set_status(servicer: Any, *, serving: bool) -> None:
    """SERVING or NOT_SERVING, on grpc_health's sync or aio servicer."""
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for name in ("", SERVICE):
        result = servicer.set(name, status)
        if asyncio.iscoroutine(result):
            await result

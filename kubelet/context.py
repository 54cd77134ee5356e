"""What every part of the kubelet shares: configuration and the services
built from it (API client, event recorder, runtime, paths, clock).

Every timing decision of the pod workers (restart back-off, sync retries,
activeDeadlineSeconds, status timestamps) reads ``Context.clock``, so a
test can pass a ``FakeClock`` and move time by hand."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from google.protobuf.message import Message

from kubelet.cgroups import Cgroups
from kubelet.network import HostNetwork, PodNetwork
from kubelet.paths import RootPaths
from kubelet.runtime import Runtime
from pinnace.client.aio import AsyncClient
from pinnace.client.informer import Informer
from pinnace.machinery.timeutil import Clock, RealClock

__all__ = ["DEFAULT_SYNC_FREQUENCY", "Config", "Context", "Recorder"]

# Seconds between a pod worker's syncs when nothing wakes it (--sync-frequency).
DEFAULT_SYNC_FREQUENCY = 10.0


class Recorder(Protocol):
    """What the kubelet records events with (an EventRecorder, or a test's fake)."""

    def event(self, obj: Message, type: str, reason: str, message: str) -> None: ...


@dataclass
class Config:
    """The kubelet's settings (its flags, see main.py)."""

    node_name: str
    root_dir: Path
    apiserver: list[str] = field(default_factory=lambda: ["127.0.0.1:6443"])
    # The cluster CA and this kubelet's client certificate (None: plain gRPC).
    kubeconfig: Path | None = None
    lease_period: float = 10.0
    lease_duration: int = 40
    node_status_period: float = 10.0
    node_status_report_period: float = 300.0
    capacity_cpu: str = ""
    capacity_memory: str = ""
    max_pods: int = 110
    node_labels: dict[str, str] = field(default_factory=dict)
    taints: list[tuple[str, str, str]] = field(default_factory=list)
    backoff_base: float = 10.0
    backoff_max: float = 300.0
    # A failing pod sync is retried after this, doubling to the max (per pod).
    sync_retry_base: float = 0.5
    sync_retry_max: float = 10.0
    # Each pod worker syncs at least this often without a reason to
    # (Kubernetes' --sync-frequency, 1 minute there).
    sync_frequency: float = DEFAULT_SYNC_FREQUENCY
    runtime: str = "process"
    # auto (bridge when root, else host), bridge or host (kubelet/network).
    pod_network: str = "auto"
    # The podCIDR to use while the Node has none (Kubernetes' --pod-cidr).
    pod_cidr: str = ""
    cluster_domain: str = "cluster.local"
    # The DNS servers of ClusterFirst pods (empty: the kubelet's own, on its bridge).
    cluster_dns: list[str] = field(default_factory=list)
    resolv_conf: Path = Path("/etc/resolv.conf")
    listen: str = "127.0.0.1:0"
    # HTTPS on `listen` (cert, key) requiring client certificates of this CA.
    tls_cert_file: Path | None = None
    tls_private_key_file: Path | None = None
    client_ca_file: Path | None = None

    def server_tls(self) -> ssl.SSLContext | None:
        """The endpoint's TLS (None: plain HTTP, for local experiments)."""
        if self.tls_cert_file is None or self.tls_private_key_file is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls_cert_file, self.tls_private_key_file)
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=self.client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    node_ip: str = "127.0.0.1"
    log_max_size: int = 10 * 1024 * 1024
    log_max_files: int = 5
    housekeeping_period: float = 10.0
    # Seconds between samples of the running containers' log sizes (logtimes.py).
    log_times_period: float = 1.0
    # Node-local PersistentVolumes (None: <root_dir>/local-volumes).
    local_volume_dir: Path | None = None
    # Container limits in cgroups where writable (False: the rlimit fallback, cgroups.py).
    cgroups: bool = True

    @property
    def local_volumes(self) -> Path:
        return (self.local_volume_dir or self.root_dir / "local-volumes").resolve()


@dataclass
class Context:
    """Shared services; ``allocatable`` and ``node_labels`` are filled in by
    the node manager before pods are admitted."""

    config: Config
    client: AsyncClient
    recorder: Recorder
    runtime: Runtime
    paths: RootPaths
    allocatable: dict[str, str] = field(default_factory=dict)
    node_labels: dict[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=RealClock)
    # The Service informer (all namespaces): the Service environment
    # variables of a container are made from its store when the container
    # starts (None: no Service variables, as a kubelet without an apiserver).
    services: Informer | None = None
    # The pod network (kubelet/network): each pod's namespace and IP.
    network: PodNetwork = field(default_factory=lambda: HostNetwork("127.0.0.1"))
    # Where container limits are enforced (cgroups.py; empty: nowhere).
    cgroups: Cgroups = field(default_factory=Cgroups)

    @property
    def pod_network(self) -> str:
        """How pods are networked here (wellknown.POD_NETWORK_*): "bridge",
        each pod in its own network namespace, or "host", the node's network."""
        return self.network.mode

    @property
    def host_ip(self) -> str:
        return self.config.node_ip

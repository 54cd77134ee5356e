"""The Node object and its heartbeats.

* Registration: create the Node (labels kubernetes.io/hostname, os, arch
  and ``--node-labels``; taints from ``--register-with-taints``); if it
  exists already (a restart), merge our labels into it and keep the rest.
  The annotation ``pinnace.io/local-volume-dir`` publishes where this
  node's local PersistentVolumes live (volumes.py), ``pinnace.io/pod-network``
  how its pods are networked (bridge or host, kubelet/network).
  Retried until it works: no pod runs before the node is registered.
* Status: capacity and allocatable (cpu, memory, pods, ephemeral-storage;
  from the machine unless given by flags; nothing is reserved, so
  allocatable equals capacity), conditions Ready (KubeletReady; False
  with NetworkPluginNotReady while the pod network waits for a podCIDR) and
  Memory/Disk/PIDPressure False, addresses (InternalIP, Hostname),
  daemonEndpoints (the kubelet server's port) and nodeInfo. Computed every
  ``--node-status-period``; written when it changed, and at least every
  ``node_status_report_period`` (5 min, as Kubernetes'
  nodeStatusReportFrequency) to move lastHeartbeatTime. The Node is
  re-created if someone deleted it.
* Lease ``kube-node-lease/<node>``: holder the node, duration 40 s, renewed
  every ``--lease-period`` (the node controller reads it as the heartbeat).
* The machine's facts (capacity, ids, OS) are read once, at start, in a
  thread (``read_machine``): nothing here reads a file on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from kubelet.context import Context
from pinnace.api.coordination.v1 import lease_pb2
from pinnace.api.core.v1 import node_pb2
from pinnace.machinery import errors
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import (
    ANNOTATION_LOCAL_VOLUME_DIR,
    ANNOTATION_POD_NETWORK,
    LABEL_ARCH,
    LABEL_HOSTNAME,
    LABEL_OS,
    NODE_DISK_PRESSURE,
    NODE_MEMORY_PRESSURE,
    NODE_PID_PRESSURE,
    NODE_READY,
)

__all__ = ["Machine", "NodeManager", "machine_capacity", "read_machine"]

# What registration runs between adopting the Node and writing its first status.
Prepare = Callable[[node_pb2.Node], Awaitable[None]]

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"


def _pinnace_version() -> str:
    try:
        return version("pinnace")
    except PackageNotFoundError:
        return "0.0.0"


pinnace_version = _pinnace_version()
KUBELET_VERSION = f"v1.33.0-pinnace.{pinnace_version}"
_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}
_PRESSURE = (
    (NODE_MEMORY_PRESSURE, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    (NODE_DISK_PRESSURE, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    (NODE_PID_PRESSURE, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def arch() -> str:
    m = platform.machine()
    return _ARCH.get(m, m)


def machine_capacity(
    root: Path, *, cpu: str = "", memory: str = "", max_pods: int = 110
) -> dict[str, str]:
    """Capacity from the machine, flags winning."""
    if not cpu:
        try:
            cpu = str(len(os.sched_getaffinity(0)))
        except AttributeError:
            cpu = str(os.cpu_count() or 1)
    if not memory:
        memory = "0"
        for line in _read("/proc/meminfo").splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{line.split()[1]}Ki"
    root.mkdir(parents=True, exist_ok=True)
    disk = shutil.disk_usage(root).total
    return {"cpu": cpu, "memory": memory, "pods": str(max_pods), "ephemeral-storage": str(disk)}


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"


@dataclass(frozen=True)
class Machine:
    """What the kubelet reports about the machine it runs on."""

    capacity: dict[str, str]
    machine_id: str = ""
    system_uuid: str = ""
    boot_id: str = ""
    kernel_version: str = ""
    os_image: str = "Linux"


def read_machine(root: Path, *, cpu: str = "", memory: str = "", max_pods: int = 110) -> Machine:
    """The machine's facts, flags winning for capacity. Blocking: call it in a thread."""
    return Machine(
        capacity=machine_capacity(root, cpu=cpu, memory=memory, max_pods=max_pods),
        machine_id=_read("/etc/machine-id"),
        system_uuid=_read("/sys/class/dmi/id/product_uuid"),
        boot_id=_read("/proc/sys/kernel/random/boot_id"),
        kernel_version=platform.release(),
        os_image=_os_image(),
    )


def _now(micro: bool = False) -> str:
    return (
        format_rfc3339(datetime.now(UTC), micro=micro)
        if micro
        else format_rfc3339(datetime.now(UTC))
    )


class NodeManager:
    def __init__(self, ctx: Context, *, kubelet_port: int, machine: Machine) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.kubelet_port = kubelet_port
        self.machine = machine
        self.capacity = dict(machine.capacity)
        self.labels = {
            LABEL_HOSTNAME: self.cfg.node_name,
            LABEL_OS: "linux",
            LABEL_ARCH: arch(),
            **self.cfg.node_labels,
        }
        self._last_status: node_pb2.NodeStatus | None = None
        self._last_write = 0.0
        self._lease: lease_pb2.Lease | None = None
        ctx.allocatable = dict(self.capacity)
        ctx.node_labels = dict(self.labels)

    # ---- the Node -------------------------------------------------------------------

    def _node(self) -> node_pb2.Node:
        node = node_pb2.Node(api_version="v1", kind="Node")
        node.metadata.name = self.cfg.node_name
        node.metadata.labels.update(self.labels)
        node.metadata.annotations.update(self._annotations())
        for key, value, effect in self.cfg.taints:
            node.spec.taints.add(key=key, value=value, effect=effect)
        return node

    def _annotations(self) -> dict[str, str]:
        return {
            ANNOTATION_LOCAL_VOLUME_DIR: str(self.cfg.local_volumes),
            ANNOTATION_POD_NETWORK: self.ctx.pod_network,
        }

    def _ready(self) -> tuple[str, str, str]:
        """The Ready condition's status, reason and message."""
        not_ready = self.ctx.network.not_ready_reason()
        if not_ready:
            return (
                "False",
                "KubeletNotReady",
                "container runtime network not ready: NetworkReady=false "
                f"reason:NetworkPluginNotReady message:{not_ready}",
            )
        return "True", "KubeletReady", "kubelet is posting ready status"

    def desired_status(self, old: node_pb2.NodeStatus) -> node_pb2.NodeStatus:
        """The status to report (heartbeat times as in ``old`` when unchanged)."""
        st = node_pb2.NodeStatus()
        st.capacity.update(self.capacity)
        st.allocatable.update(self.capacity)
        now = _now()
        conds = [(t, "False", r, m) for t, r, m in _PRESSURE]
        conds.append((NODE_READY, *self._ready()))
        for ctype, status, reason, message in conds:
            prev = find_condition(old.conditions, ctype)
            st.conditions.add(
                type=ctype,
                status=status,
                reason=reason,
                message=message,
                last_heartbeat_time=prev.last_heartbeat_time if prev is not None else now,
                last_transition_time=(
                    prev.last_transition_time if prev is not None and prev.status == status else now
                ),
            )
        st.addresses.add(type="InternalIP", address=self.cfg.node_ip)
        st.addresses.add(type="Hostname", address=self.cfg.node_name)
        st.daemon_endpoints.kubelet_endpoint.port = self.kubelet_port
        info = st.node_info
        m = self.machine
        info.machine_id = m.machine_id
        info.system_uuid = m.system_uuid
        info.boot_id = m.boot_id
        info.kernel_version = m.kernel_version
        info.os_image = m.os_image
        info.container_runtime_version = f"pinnace-{self.ctx.runtime.name}://{pinnace_version}"
        info.kubelet_version = KUBELET_VERSION
        info.operating_system = "linux"
        info.architecture = arch()
        return st

    async def register(self, prepare: Prepare | None = None) -> node_pb2.Node:
        """Create (or adopt) the Node, run ``prepare`` with it, then write
        its status; retried until it works. The kubelet sets the pod network
        up from the Node's podCIDR in ``prepare``, so a restarted kubelet's
        first status is Ready, as its last was: a NotReady in between, even
        for a moment, makes the node controller mark every pod on the node
        not ready."""
        nodes = self.ctx.client.nodes()
        delay = 0.1
        while True:
            try:
                try:
                    node = await nodes.create(self._node())
                    log.info("registered node %s", self.cfg.node_name)
                except errors.AlreadyExists:
                    node = await nodes.get(self.cfg.node_name)
                    meta = node.metadata
                    wanted = self._annotations()
                    if any(meta.labels.get(k) != v for k, v in self.labels.items()) or any(
                        meta.annotations.get(k) != v for k, v in wanted.items()
                    ):
                        meta.labels.update(self.labels)
                        meta.annotations.update(wanted)
                        node = await nodes.update(node)
                    log.info("node %s exists; taking it over", self.cfg.node_name)
                self.ctx.node_labels = dict(node.metadata.labels)
                if prepare is not None:
                    await prepare(node)
                await self.sync_status(force=True)
                return node
            except errors.ApiError as e:
                log.warning(
                    "registering node %s failed: %s; retrying in %.1fs",
                    self.cfg.node_name,
                    e,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def sync_status(self, *, force: bool = False) -> None:
        nodes = self.ctx.client.nodes()
        try:
            node = await nodes.get(self.cfg.node_name)
        except errors.NotFound:
            log.warning("node %s was deleted; registering again", self.cfg.node_name)
            node = await nodes.create(self._node())
        self.ctx.node_labels = dict(node.metadata.labels)
        want = self.desired_status(node.status)
        due = time.monotonic() - self._last_write >= self.cfg.node_status_report_period
        if not force and not due and _same_status(want, node.status):
            return
        heartbeat = _now()
        for c in want.conditions:
            c.last_heartbeat_time = heartbeat
        keep = node_pb2.NodeStatus()
        keep.CopyFrom(node.status)
        node.status.CopyFrom(want)
        node.status.images.extend(keep.images)
        node.status.volumes_in_use.extend(keep.volumes_in_use)
        await nodes.update_status(node)
        self._last_write = time.monotonic()

    async def report_now(self) -> None:
        """Write the status now (a change such as the network becoming
        ready), retrying conflicts; the status loop catches up after errors."""
        for _ in range(5):
            try:
                await self.sync_status(force=True)
                return
            except errors.Conflict:
                continue
            except errors.ApiError as e:
                log.warning("updating node status failed: %s", e)
                return

    async def status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.node_status_period)
            try:
                await self.sync_status()
            except errors.ApiError as e:
                log.warning("updating node status failed: %s", e)

    # ---- the Lease ---------------------------------------------------------------------

    def _new_lease(self, node_uid: str) -> lease_pb2.Lease:
        lease = lease_pb2.Lease(api_version="coordination.k8s.io/v1", kind="Lease")
        lease.metadata.name = self.cfg.node_name
        lease.metadata.namespace = LEASE_NAMESPACE
        if node_uid:
            ref = lease.metadata.owner_references.add()
            ref.api_version, ref.kind, ref.name, ref.uid = (
                "v1",
                "Node",
                self.cfg.node_name,
                node_uid,
            )
        lease.spec.holder_identity = self.cfg.node_name
        lease.spec.lease_duration_seconds = self.cfg.lease_duration
        lease.spec.renew_time = _now(micro=True)
        return lease

    async def renew_lease(self) -> None:
        leases = self.ctx.client.leases(LEASE_NAMESPACE)
        lease = self._lease
        if lease is None:
            try:
                lease = await leases.get(self.cfg.node_name)
            except errors.NotFound:
                node = await self.ctx.client.nodes().get(self.cfg.node_name)
                self._lease = await leases.create(self._new_lease(node.metadata.uid))
                return
        lease.spec.holder_identity = self.cfg.node_name
        lease.spec.lease_duration_seconds = self.cfg.lease_duration
        lease.spec.renew_time = _now(micro=True)
        try:
            self._lease = await leases.update(lease)
        except (errors.Conflict, errors.NotFound):
            self._lease = None
            raise

    async def lease_loop(self) -> None:
        while True:
            try:
                await self.renew_lease()
            except errors.ApiError as e:
                log.warning("renewing lease failed: %s", e)
            await asyncio.sleep(self.cfg.lease_period)


def _same_status(a: node_pb2.NodeStatus, b: node_pb2.NodeStatus) -> bool:
    x, y = node_pb2.NodeStatus(), node_pb2.NodeStatus()
    x.CopyFrom(a)
    y.CopyFrom(b)
    for s in (x, y):
        s.ClearField("images")
        s.ClearField("volumes_in_use")
        for c in s.conditions:
            c.last_heartbeat_time = ""
    return x.SerializeToString(deterministic=True) == y.SerializeToString(deterministic=True)

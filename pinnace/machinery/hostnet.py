"""What Pinnace creates in the host's network, by name, and how it is removed.

Everything Pinnace adds to a machine's network carries a Pinnace name, so
it can be found and removed, also after a crash:

* network namespaces ``pinnace-<node hash>-<pod uid>`` (one per pod), and
  their resolv.conf and hosts under ``/etc/netns/<namespace>/`` (where
  ``ip netns exec`` finds them);
* one bridge per node, ``pinnacebr<6 hex>`` (at most 15 characters, the
  kernel's limit), holding the first address of the node's podCIDR.
  The node hash is a hash of the kubelet's *identity*, its node name and
  root dir (``node_identity``): two clusters on one machine may both have
  a "node-1", and neither may touch the other's pods;
* one veth per pod, ``pinnace<8 hex>`` (a hash of the pod uid) on the
  host side, ``eth0`` inside the pod's namespace;
* routes with the protocol number ``ROUTE_PROTOCOL``: a blackhole route for
  the whole cluster CIDR and service CIDR (so no packet for a pod or
  Service address leaves the machine; a node bridge's own, more specific
  route wins over it), removed with ``ip route flush proto``;
* the nftables table ``ip pinnace`` (the service proxy's rules; a second
  cluster's proxy on the machine has ``ip pinnace_<suffix>``), and the
  proxy's empty bridge ``pinnacesvc`` (or ``pinnacesv<6 hex>``) with a route
  for the service CIDR through it (metric 0, src 127.0.0.1), so the host's
  own connections to a ClusterIP pass the route lookup and reach the
  proxy's DNAT (a blackhole route would refuse them first).

The kubelet and the proxy remove their own parts when what they belong to
goes away, and on start what a crash left behind; ``cleanup_node`` removes
a kubelet's for it when it cannot (``pinnace down``, also of a cluster that
crashed: pinnace/localcluster ``cleanup_network``).

Commands run ``ip`` and ``nft`` from iproute2 and nftables. ``run`` is
blocking: callers on an event loop use ``arun`` (or a thread).
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

__all__ = [
    "BRIDGE_PREFIX",
    "NETNS_DIR",
    "NETNS_ETC_DIR",
    "NETNS_PREFIX",
    "NFT_TABLE",
    "ROUTE_PROTOCOL",
    "VETH_PREFIX",
    "HostNetError",
    "arun",
    "bridge_name",
    "cleanup_node",
    "connect_in_netns",
    "netns_name",
    "netns_prefix",
    "node_identity",
    "pod_network_unavailable",
    "run",
    "service_proxy_unavailable",
    "veth_name",
]

log = logging.getLogger(__name__)

NETNS_PREFIX = "pinnace-"
BRIDGE_PREFIX = "pinnacebr"
VETH_PREFIX = "pinnace"
NFT_TABLE = "pinnace"
# The rtnetlink protocol number on every route Pinnace adds (RTPROT_* values
# below 20 are the kernel's; routing daemons use a few fixed ones above).
ROUTE_PROTOCOL = 147
NETNS_DIR = Path("/run/netns")
NETNS_ETC_DIR = Path("/etc/netns")


class HostNetError(Exception):
    """A command that changes the host's network failed (its stderr)."""


def _hex(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def node_identity(node_name: str, root_dir: Path) -> str:
    """What names a kubelet's network objects: its node and its root dir."""
    return f"{node_name}@{root_dir.resolve()}"


def netns_prefix(identity: str) -> str:
    """The prefix of the network namespaces of the pods of one kubelet."""
    return f"{NETNS_PREFIX}{_hex(identity, 8)}-"


def netns_name(identity: str, pod_uid: str) -> str:
    return netns_prefix(identity) + pod_uid


def bridge_name(identity: str) -> str:
    return BRIDGE_PREFIX + _hex(identity, 6)


def veth_name(pod_uid: str) -> str:
    return VETH_PREFIX + _hex(pod_uid, 8)


def pod_network_unavailable() -> str:
    """Why pods cannot get their own network here ("" when they can)."""
    if os.geteuid() != 0:
        return "not running as root"
    for tool in ("ip",):
        if shutil.which(tool) is None:
            return f"the {tool!r} command (iproute2) is not installed"
    return ""


def service_proxy_unavailable() -> str:
    """Why the service proxy (nftables) cannot run here ("" when it can)."""
    reason = pod_network_unavailable()
    if not reason and shutil.which("nft") is None:
        reason = "the 'nft' command (nftables) is not installed"
    return reason


def run(*argv: str, input: str | None = None, check: bool = True) -> str:
    """Run one command; its stdout. Raises HostNetError with its stderr."""
    proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise HostNetError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


async def arun(*argv: str, input: str | None = None, check: bool = True) -> str:
    """``run`` without blocking the event loop."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await proc.communicate(input.encode() if input is not None else None)
    if check and proc.returncode != 0:
        raise HostNetError(f"{' '.join(argv)}: {err.decode().strip() or proc.returncode}")
    return out.decode()


def link_exists(name: str) -> bool:
    """Whether a network interface of that name exists in this namespace."""
    return Path("/sys/class/net", name).exists()


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def pinnace_netns(prefix: str = NETNS_PREFIX) -> list[str]:
    """Names of the network namespaces with the given Pinnace prefix."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))


def delete_netns(name: str) -> None:
    """Remove a pod's namespace (its veth goes with it) and its /etc/netns dir."""
    if netns_exists(name):
        run("ip", "netns", "delete", name, check=False)
    shutil.rmtree(NETNS_ETC_DIR / name, ignore_errors=True)


def cleanup_node(identity: str) -> list[str]:
    """Remove one kubelet's network objects (its pods' namespaces, its bridge
    and the bridge's blackhole route); what was removed. For a kubelet that
    cannot do it itself any more (killed, or its cluster torn down)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return []
    removed = []
    for name in pinnace_netns(netns_prefix(identity)):
        delete_netns(name)
        removed.append(f"netns {name}")
    bridge = bridge_name(identity)
    if link_exists(bridge):
        for line in run("ip", "-o", "-4", "addr", "show", "dev", bridge, check=False).splitlines():
            words = line.split()
            if "inet" in words:
                cidr = str(ipaddress.ip_interface(words[words.index("inet") + 1]).network)
                run(
                    "ip",
                    "route",
                    "delete",
                    "blackhole",
                    cidr,
                    "proto",
                    str(ROUTE_PROTOCOL),
                    check=False,
                )
                removed.append(f"route blackhole {cidr}")
        run("ip", "link", "delete", bridge, check=False)
        removed.append(f"link {bridge}")
    return removed


def connect_in_netns(netns: str, host: str, port: int, timeout: float) -> socket.socket:
    """A TCP socket connected to ``host:port`` from inside the network
    namespace ``netns`` (a name under NETNS_DIR): how port-forward reaches a
    server that listens only on a pod's own 127.0.0.1. Blocking (up to
    ``timeout`` for the connect): callers on an event loop use a thread.

    Python 3.11 has no ``os.setns``. A dedicated thread, started here and
    ended before this returns, enters the namespace with libc's setns(2),
    creates and connects the socket (a socket keeps the namespace it was
    made in) and always switches back; the calling thread never changes
    namespace, so should the switch back fail (logged as critical, raised)
    the wrong namespace ends with that thread instead of leaking into
    other work.

    Raises ValueError for a name that is not a plain file name, HostNetError
    when the namespace cannot be entered or left, and connect's OSError
    otherwise (ConnectionRefusedError; TimeoutError after ``timeout``)."""
    if netns in ("", ".", "..") or "/" in netns or "\0" in netns:
        raise ValueError(f"netns: expected the name of a namespace in {NETNS_DIR}, got {netns!r}")
    clone_newnet = 0x40000000  # setns(2) nstype: the fd must be a network namespace
    libc = ctypes.CDLL(None, use_errno=True)
    outcome: list[socket.socket | BaseException] = []

    def setns(fd: int, what: str) -> None:
        if libc.setns(fd, clone_newnet) != 0:
            raise HostNetError(f"setns {what}: {os.strerror(ctypes.get_errno())}")

    def connect_inside(own: int, target: int) -> socket.socket:
        setns(target, f"into network namespace {netns}")
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection((host, port), timeout)
            return sock
        finally:
            try:
                setns(own, f"back from network namespace {netns}")
            except HostNetError as e:
                log.critical("%s; the thread that made it ends there", e)
                if sock is not None:
                    sock.close()
                raise

    def in_thread() -> None:
        try:
            try:
                target = os.open(NETNS_DIR / netns, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as e:
                raise HostNetError(f"network namespace {netns}: {e.strerror or e}") from None
            try:
                own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    outcome.append(connect_inside(own, target))
                finally:
                    os.close(own)
            finally:
                os.close(target)
        except BaseException as e:  # handed to the calling thread
            outcome.append(e)

    thread = threading.Thread(target=in_thread, name=f"connect in netns {netns}", daemon=True)
    thread.start()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]

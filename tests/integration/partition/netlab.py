"""Machines that are really apart: network namespaces on one virtual switch.

``NetLab`` makes one network namespace per "machine" (``pinnacelab-<tag>-<name>``),
each with an ``eth0`` (a veth) whose other end is on a bridge in the host
(``pinnacelab<tag>``), and an address of its own in a private /24. The host
gets the subnet's last address on the bridge, so the test process reaches
every machine (and nothing else: the subnet lives only on this bridge).

Faults, as a network would have them:

* ``cut(m)`` / ``heal(m)``: the machine's cable pulled (its veth's host end
  down) and plugged back: it reaches nothing and nothing reaches it;
* ``block(m, ips)`` / ``unblock(m)``: a firewall in ``m`` drops every packet
  to and from ``ips`` (a partition between two groups of machines that both
  still reach the rest).

Everything carries the ``pinnacelab`` prefix and ``close()`` removes it;
``remove_stale()`` removes what a crashed run left (one lab runs per
machine at a time).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

PREFIX = "pinnacelab"
# The filter table a ``block`` adds inside a machine's namespace.
BLOCK_TABLE = "pinnacelab_block"


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``ip args`` (in ``netns``); its output."""
    argv = ["ip", *(("-n", netns) if netns else ()), *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def nft(netns: str, script: str) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-f", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nft in {netns}: {done.stderr.strip()}\n{script}")


@dataclass(frozen=True)
class Machine:
    """One machine of the lab: its namespace, address and cable (host end)."""

    name: str
    netns: str
    address: str
    cable: str


class NetLab:
    """Machines in network namespaces on one bridge; see the module docstring."""

    def __init__(self, subnet: str = "10.250.0.0/24", *, tag: str | None = None) -> None:
        self.subnet = ipaddress.ip_network(subnet)
        self.tag = tag or f"{os.getpid() % 0x10000:04x}"
        self.bridge = f"{PREFIX}{self.tag}"
        self.machines: dict[str, Machine] = {}
        self._hosts = self.subnet.hosts()
        self.gateway = str(self.subnet.broadcast_address - 1)

    def start(self) -> NetLab:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        return self

    def add(self, name: str) -> Machine:
        """A new machine ``name`` with the next free address."""
        index = len(self.machines)
        netns = f"{PREFIX}-{self.tag}-{name}"
        cable = f"{PREFIX}{self.tag}{index:x}"
        if len(cable) > 15:
            raise ValueError(f"too many machines for interface names: {cable}")
        address = str(next(self._hosts))
        ip("netns", "add", netns)
        ip("link", "add", cable, "type", "veth", "peer", "name", "eth0", "netns", netns)
        ip("link", "set", cable, "master", self.bridge, "up")
        ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0", netns=netns)
        ip("link", "set", "eth0", "up", netns=netns)
        ip("link", "set", "lo", "up", netns=netns)
        machine = Machine(name, netns, address, cable)
        self.machines[name] = machine
        return machine

    def cut(self, machine: Machine) -> None:
        """Pull the machine's cable: no packet in or out."""
        ip("link", "set", machine.cable, "down")

    def heal(self, machine: Machine) -> None:
        ip("link", "set", machine.cable, "up")

    def block(self, machine: Machine, addresses: Iterable[str]) -> None:
        """Drop every packet between ``machine`` and ``addresses``."""
        peers = ", ".join(addresses)
        nft(
            machine.netns,
            f"""table inet {BLOCK_TABLE} {{
                chain input {{ type filter hook input priority -10; ip saddr {{ {peers} }} drop; }}
                chain output {{ type filter hook output priority -10; ip daddr {{ {peers} }} drop; }}
            }}""",
        )

    def unblock(self, machine: Machine) -> None:
        nft(machine.netns, f"delete table inet {BLOCK_TABLE}")

    def route(self, machine: Machine, cidr: str, via: Machine) -> None:
        """In ``machine``, send ``cidr`` to ``via`` (the README's pod routes)."""
        ip("route", "replace", cidr, "via", via.address, "proto", "147", netns=machine.netns)

    def close(self) -> None:
        """Remove every namespace, cable and the bridge (processes in the
        namespaces must have been stopped first)."""
        for machine in self.machines.values():
            ip("link", "del", machine.cable, check=False)
            ip("netns", "del", machine.netns, check=False)
        self.machines.clear()
        ip("link", "del", self.bridge, check=False)


def remove_stale() -> list[str]:
    """Remove every lab namespace and interface left behind; what went."""
    gone = []
    for line in ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(f"{PREFIX}-"):
            ip("netns", "del", name, check=False)
            gone.append(f"netns {name}")
    for line in ip("-o", "link", "show").splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(PREFIX):
            ip("link", "del", name, check=False)
            gone.append(f"link {name}")
    return gone

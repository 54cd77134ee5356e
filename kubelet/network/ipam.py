"""Pod IPs from the node's podCIDR, one file per address (as CNI's host-local).

``<root-dir>/network/ips/<ip>`` holds the uid of the pod that has the
address. A file is created with O_EXCL, so two starts can never hand out
one address, and the files outlive the kubelet: after a restart every pod
keeps its IP. The network address, the gateway (the first address, the
node bridge's) and the broadcast address are never handed out. The
lowest free address is taken. Blocking (file work): callers on the event
loop run it in a thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path

__all__ = ["AddressesExhausted", "Ipam"]


class AddressesExhausted(Exception):
    """Every address of the podCIDR is taken."""


class Ipam:
    def __init__(self, directory: Path, cidr: str) -> None:
        self.dir = directory
        self.net = ipaddress.ip_network(cidr)
        self.gateway = next(self.net.hosts())

    def _owners(self) -> dict[str, str]:
        """ip → pod uid, for every address handed out (in any CIDR)."""
        owners: dict[str, str] = {}
        if not self.dir.is_dir():
            return owners
        for f in self.dir.iterdir():
            with contextlib.suppress(OSError):
                owners[f.name] = f.read_text().strip()
        return owners

    def lookup(self, uid: str) -> str | None:
        """The address ``uid`` has in this CIDR, if any."""
        for ip, owner in self._owners().items():
            if owner == uid and ipaddress.ip_address(ip) in self.net:
                return ip
        return None

    def allocate(self, uid: str) -> str:
        """The address of ``uid``: the one it has, else the lowest free one."""
        found = self.lookup(uid)
        if found is not None:
            return found
        self.dir.mkdir(parents=True, exist_ok=True)
        taken = set(self._owners())
        for addr in self.net.hosts():
            ip = str(addr)
            if addr == self.gateway or ip in taken:
                continue
            try:
                fd = os.open(self.dir / ip, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as f:
                f.write(uid)
            return ip
        raise AddressesExhausted(f"no free address left in the node's podCIDR {self.net}")

    def release(self, uid: str) -> list[str]:
        """Free every address of ``uid``; the addresses freed."""
        freed = []
        for ip, owner in self._owners().items():
            if owner == uid:
                with contextlib.suppress(FileNotFoundError):
                    (self.dir / ip).unlink()
                freed.append(ip)
        return freed

    def release_all_but(self, keep: set[str]) -> list[str]:
        """Free the addresses of pods not in ``keep`` and those outside the
        CIDR (a node given a new podCIDR); the addresses freed."""
        freed = []
        for ip, owner in self._owners().items():
            if owner not in keep or ipaddress.ip_address(ip) not in self.net:
                with contextlib.suppress(FileNotFoundError):
                    (self.dir / ip).unlink()
                freed.append(ip)
        return freed

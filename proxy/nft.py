"""Applying the proxy's nft script, and removing its table.

``nft -f -`` reads the whole script as one transaction (see rules.py), so
a failed apply changes nothing: the old rules stay in force and the next
sync tries again. Every command runs as a subprocess through
``hostnet.arun``, never blocking the event loop.
"""

from __future__ import annotations

import shutil

from pinnace.machinery import hostnet

__all__ = ["NFT", "apply", "check", "delete_table", "table_exists", "unavailable"]

NFT = "nft"


def unavailable() -> str:
    """Why this process cannot program nftables ("" when it can)."""
    if shutil.which(NFT) is None:
        return "the 'nft' command (nftables) is not installed"
    return ""


async def apply(script: str) -> None:
    """Run the script as one transaction; HostNetError with nft's message."""
    await hostnet.arun(NFT, "-f", "-", input=script)


async def check(script: str) -> None:
    """Let the kernel validate the script without applying it (``nft -c``)."""
    await hostnet.arun(NFT, "-c", "-f", "-", input=script)


async def table_exists(table: str = hostnet.NFT_TABLE) -> bool:
    out = await hostnet.arun(NFT, "list", "tables", "ip")
    return f"table ip {table}" in out.splitlines()


async def delete_table(table: str = hostnet.NFT_TABLE) -> bool:
    """Remove the table; whether there was one."""
    if not await table_exists(table):
        return False
    await hostnet.arun(NFT, "delete", "table", "ip", table)
    return True

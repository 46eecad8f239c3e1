"""Is an OVSDB server accepting connections? A cheap probe for /healthz."""

from __future__ import annotations

import socket


def reachable(remote: str, timeout: float = 1.0) -> bool:
    """True when any member of `remote` (`unix:PATH`, `tcp:HOST:PORT`, comma separated)
    accepts a connection."""
    return any(_probe(member.strip(), timeout) for member in remote.split(","))


def _probe(member: str, timeout: float) -> bool:
    kind, _, address = member.partition(":")
    try:
        if kind == "unix":
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
                return True
        if kind in ("tcp", "ssl"):
            host, _, port = address.rpartition(":")
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return True
    except (OSError, ValueError):
        return False
    return False

"""Which port changes Nova must hear about, as Neutron's nova notifier decides (pure rules).

Nova waits for `network-vif-plugged` before it resumes a booting or migrating server, and
reacts to `network-vif-unplugged`, `network-vif-deleted` and `network-changed`. Only ports of
servers (device_owner `compute:*` with a device_id, the server's uuid) concern it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VIF_PLUGGED = "network-vif-plugged"
VIF_UNPLUGGED = "network-vif-unplugged"
VIF_DELETED = "network-vif-deleted"
NETWORK_CHANGED = "network-changed"
EVENT_NAMES = (VIF_PLUGGED, VIF_UNPLUGGED, VIF_DELETED, NETWORK_CHANGED)

COMPUTE_PREFIX = "compute:"
ACTIVE, DOWN, BUILD, ERROR = "ACTIVE", "DOWN", "BUILD", "ERROR"
# A port comes up from these; from ERROR it is a repair Nova is not waiting for.
PLUGGABLE_FROM = (DOWN, BUILD, None)


@dataclass(frozen=True)
class PortEvent:
    """One event of POST /v2.1/os-server-external-events (`status` as Nova names it)."""

    name: str
    server_uuid: str
    tag: str  # the port id
    status: str = "completed"  # or "failed" ("in-progress" is never sent by Neutron)

    def as_body(self) -> dict[str, Any]:
        return {"name": self.name, "server_uuid": self.server_uuid, "tag": self.tag,
                "status": self.status}


@dataclass(frozen=True)
class PortFacts:
    """What the rules need to know of a port."""

    port_id: str
    device_owner: str
    device_id: str
    bound: bool = True  # binding:host_id set


def is_server_port(port: PortFacts) -> bool:
    return port.device_owner.startswith(COMPUTE_PREFIX) and bool(port.device_id)


def status_event(port: PortFacts, old: str | None, new: str) -> PortEvent | None:
    """ACTIVE->DOWN is an unplug; DOWN/BUILD->ACTIVE a plug of a bound port; ERROR a failed
    plug. Anything else (no change, ERROR->ACTIVE, an unbound port coming up) says nothing."""
    if not is_server_port(port) or old == new:
        return None
    if old == ACTIVE and new == DOWN:
        return PortEvent(VIF_UNPLUGGED, port.device_id, port.port_id)
    if old in PLUGGABLE_FROM and new == ACTIVE and port.bound:
        return PortEvent(VIF_PLUGGED, port.device_id, port.port_id)
    if new == ERROR:
        return PortEvent(VIF_PLUGGED, port.device_id, port.port_id, "failed")
    return None


def deleted_event(port: PortFacts) -> PortEvent | None:
    if not is_server_port(port):
        return None
    return PortEvent(VIF_DELETED, port.device_id, port.port_id)


def changed_event(port: PortFacts, old_ips: object, new_ips: object) -> PortEvent | None:
    """Nova refreshes its network info cache of the server when the port's addresses change."""
    if not is_server_port(port) or old_ips == new_ips:
        return None
    return PortEvent(NETWORK_CHANGED, port.device_id, port.port_id)

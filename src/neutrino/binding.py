"""Port binding, as ML2/OVN answers Nova: pure rules.

A port asks to be bound to a host (`binding:host_id`). It binds when the host is an OVN
chassis (its SB Chassis `hostname` or `name`) able to serve the port's network: a flat or
VLAN provider network needs the chassis to map its physical network in `ovn-bridge-mappings`.
The answer is what Nova plugs with: `vif_type` `ovs` (or `vhostuser` on a DPDK chassis) and
the `vif_details` ML2/OVN gives. Anything else is `binding_failed`, with no details; a port
with no host is `unbound`. Unknown chassis data (SB unreachable) fails the binding, as
ML2/OVN refuses to bind when it cannot find the chassis; the next update of the port retries.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neutrino.scheduling import Chassis

UNBOUND = "unbound"
FAILED = "binding_failed"
OVS = "ovs"
VHOSTUSER = "vhostuser"

NETDEV = "netdev"
DEFAULT_DATAPATH = "system"
DEFAULT_BRIDGE = "br-int"
DPDK_VHOSTUSER = "dpdkvhostuser"
VHOSTUSER_PREFIX = "vhu"
IFNAMSIZ_NAME = 14  # the socket name becomes the port's name: it must fit IFNAMSIZ
PROVIDER_TYPES = ("flat", "vlan")
# vnic types OVN binds itself; SR-IOV-like ones only when the NIC is a switchdev one.
# virtio-forwarder (Agilio OVS in ML2/OVN) is not offered: such a port fails to bind.
BINDABLE_VNIC_TYPES = ("normal", "direct", "direct-physical", "macvtap", "vdpa",
                       "remote-managed")
EXTERNAL_VNIC_TYPES = ("direct", "direct-physical", "macvtap")
SWITCHDEV = "switchdev"


@dataclass(frozen=True)
class Binding:
    vif_type: str
    vif_details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BindRequest:
    port_id: str
    host: str
    vnic_type: str = "normal"
    profile: Mapping[str, Any] = field(default_factory=dict)
    network_type: str = "geneve"
    physical_network: str | None = None


def bind(request: BindRequest, chassis: Sequence[Chassis] | None,
         vhost_sock_dir: str) -> Binding:
    """The binding of `request` given the chassis OVN knows (None: SB could not say)."""
    if not request.host:
        return Binding(UNBOUND)
    if chassis is None or not _vnic_bindable(request):
        return Binding(FAILED)
    host = find_chassis(chassis, request.host)
    if host is None or not serves(host, request):
        return Binding(FAILED)
    return _bound(request, host, vhost_sock_dir)


def find_chassis(chassis: Sequence[Chassis], host: str) -> Chassis | None:
    """The chassis that is `host`: by hostname first (what Nova sends), then by name."""
    by_hostname = [c for c in chassis if c.hostname == host]
    if by_hostname:
        return by_hostname[0]
    return next((c for c in chassis if c.name == host), None)


def serves(chassis: Chassis, request: BindRequest) -> bool:
    """A provider network reaches a chassis only through a bridge mapping of its physnet."""
    if request.network_type in PROVIDER_TYPES:
        return request.physical_network in chassis.physnets
    return True


def _vnic_bindable(request: BindRequest) -> bool:
    if request.vnic_type not in BINDABLE_VNIC_TYPES:
        return False
    if request.vnic_type in EXTERNAL_VNIC_TYPES:
        return SWITCHDEV in (request.profile.get("capabilities") or [])
    return True


def _bound(request: BindRequest, chassis: Chassis, vhost_sock_dir: str) -> Binding:
    datapath = chassis.datapath_type or DEFAULT_DATAPATH
    common = {"connectivity": "l2", "bridge_name": chassis.bridge or DEFAULT_BRIDGE,
              "datapath_type": datapath}
    if datapath == NETDEV and DPDK_VHOSTUSER in chassis.iface_types:
        return Binding(VHOSTUSER, {
            "port_filter": False, "vhostuser_mode": "server", "vhostuser_ovs_plug": True,
            "vhostuser_socket": vhost_socket(vhost_sock_dir, request.port_id), **common})
    return Binding(OVS, {"port_filter": True, **common})


def vhost_socket(sock_dir: str, port_id: str) -> str:
    """Where OVS-DPDK's vhost-user socket for the port is: its name is the port's name."""
    return posixpath.join(sock_dir, (VHOSTUSER_PREFIX + port_id)[:IFNAMSIZ_NAME])

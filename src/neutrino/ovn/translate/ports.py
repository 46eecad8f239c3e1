"""port → Logical_Switch_Port named by the port id, in its network's switch."""

from __future__ import annotations

from collections.abc import Mapping

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, Membership, ParentLink, RowKey
from neutrino.ovn.translate.inputs import PortFacts, TranslateConfig
from neutrino.ovn.translate.l2gw import vtep_addresses
from neutrino.ovn.translate.networks import switch_key
from neutrino.ovn.translate.port_dhcp import PortDhcp, build_port_dhcp, port_dhcp_keys
from neutrino.ovn.translate.qos import build_port_qos, qos_keys
from neutrino.ovn.translate.security_groups import (
    DROP_GROUP_KEY,
    drop_group_rows,
    port_group_key,
)

RESOURCE = "port"
# Ports that exist in Neutron but have no switch port of their own in OVN.
OWNERS_WITHOUT_LSP = ("network:floatingip",)
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
METADATA = "network:distributed"  # the network's metadata port: a localport on every chassis
RA_MODES = {"slaac": "slaac", "dhcpv6-stateful": "dhcpv6_stateful",
            "dhcpv6-stateless": "dhcpv6_stateless"}
VTEP_KEYS = ("vtep-physical-switch", "vtep-logical-switch")
DEFAULT_CONFIG = TranslateConfig()


def port_key(port_id: str) -> RowKey:
    return RowKey(n.LSP, "name", port_id)


def build_port(facts: PortFacts, config: TranslateConfig = DEFAULT_CONFIG) -> DesiredState:
    if facts.device_owner in OWNERS_WITHOUT_LSP:
        return build_port_absent(facts.id)
    dhcp = _dhcp(facts, config)
    key = port_key(facts.id)
    row = DesiredRow(
        key, _columns(facts), refs=dhcp.refs,
        parent=ParentLink(switch_key(facts.network_id), "ports"),
    )
    shared = drop_group_rows() if _filtered(facts) else ()
    router_port = (_router_port(facts),) if facts.device_owner == ROUTER_INTERFACE else ()
    # A gateway port's router port belongs to the gateway router (the router resource).
    owned = (key,) if facts.device_owner == ROUTER_GATEWAY else (key, router_port_key(facts.id))
    qos = build_port_qos(facts.id, facts.network_id, facts.qos)
    return DesiredState(RESOURCE, facts.id, (row, *router_port, *dhcp.rows, *qos, *shared),
                        owned + port_dhcp_keys(facts.id) + qos_keys(facts.id),
                        members=_memberships(facts), member_rows=(key,))


def router_port_key(port_id: str) -> RowKey:
    return RowKey(n.LRP, "name", n.router_port_name(port_id))


def _router_port(facts: PortFacts) -> DesiredRow:
    """A router interface is one Logical_Router_Port with every subnet of the port."""
    external_ids = {
        n.IS_EXT_GW: "False",
        n.NETWORK_NAME: n.switch_name(facts.network_id),
        n.ROUTER_NAME: n.router_name(facts.device_id),
        n.SUBNET_IDS: " ".join(dict.fromkeys(ip.subnet_id for ip in facts.fixed_ips)),
        n.REVISION: str(facts.revision),
    }
    columns: dict[str, object] = {
        "mac": facts.mac_address,
        "networks": [f"{ip.ip_address}/{ip.prefixlen}" for ip in facts.fixed_ips],
        "enabled": facts.admin_state_up,
        "external_ids": external_ids,
        "ipv6_ra_configs": _ra_configs(facts),
    }
    parent = ParentLink(RowKey(n.LR, "name", n.router_name(facts.device_id)), "ports")
    return DesiredRow(router_port_key(facts.id), columns, parent=parent)


def _ra_configs(facts: PortFacts) -> dict[str, str]:
    mode = next((ip.ra_mode for ip in facts.fixed_ips if ip.ra_mode), None)
    if mode is None:
        return {}
    return {"address_mode": RA_MODES[mode], "mtu": str(facts.network_mtu),
            "send_periodic": "true"}


def _filtered(facts: PortFacts) -> bool:
    """Ports with port security get the drop group and their groups' ACLs. Vtep ports and
    Neutron's own ports (`network:*` owners: DHCP, router) are trusted, as in ML2/OVN."""
    return (facts.port_security_enabled and _vtep_options(facts) is None
            and not _trusted(facts))


def _trusted(facts: PortFacts) -> bool:
    return facts.device_owner.startswith("network:")


def _memberships(facts: PortFacts) -> tuple[Membership, ...]:
    if not _filtered(facts):
        return ()
    key = port_key(facts.id)
    groups = [DROP_GROUP_KEY, *(port_group_key(sg) for sg in facts.security_group_ids)]
    return tuple(Membership(group, "ports", key) for group in groups)


def build_port_absent(port_id: str) -> DesiredState:
    """A deleted port takes its router port (an interface's, or a gateway's) and its own
    DHCP_Options rows with it."""
    owned = (port_key(port_id), router_port_key(port_id), *port_dhcp_keys(port_id),
             *qos_keys(port_id))
    return DesiredState(RESOURCE, port_id, (), owned)


def _columns(facts: PortFacts) -> dict[str, object]:
    vtep = _vtep_options(facts)
    if vtep:
        port_type, port_security, options = "vtep", [], vtep
        addresses = vtep_addresses(facts.vtep_learned)
    elif facts.device_owner in (ROUTER_INTERFACE, ROUTER_GATEWAY):
        port_type, addresses, port_security = "router", ["router"], []
        options = {"router-port": n.router_port_name(facts.id)}
        if facts.device_owner == ROUTER_GATEWAY:
            options |= {"nat-addresses": "router", "exclude-lb-vips-from-garp": "true"}
    elif facts.device_owner == METADATA:
        port_type, options, port_security = "localport", {}, []
        addresses = [" ".join([facts.mac_address, *_ordered_ips(facts)])]
    else:
        port_type, options = "", _vm_options(facts)
        addresses, port_security = _addresses(facts), _port_security(facts)
    return {
        **_trunk_columns(facts),
        "type": port_type,
        "addresses": addresses,
        "port_security": port_security,
        "options": options,
        "enabled": facts.admin_state_up,
        "external_ids": _external_ids(facts),
    }


def _trunk_columns(facts: PortFacts) -> dict[str, object]:
    """A trunk's subport is a child of the parent's switch port, told apart by its VLAN
    (ML2/OVN: `parent_name`, and `tag_request`, which ovn-northd copies to `tag`); any other
    port is no child, and keeps no tag of a trunk it has left (northd leaves `tag` set)."""
    if facts.trunk_parent is None:
        return {"parent_name": None, "tag_request": None, "tag": None}
    return {"parent_name": facts.trunk_parent, "tag_request": facts.trunk_tag,
            "tag": facts.trunk_tag}


def _ordered_ips(facts: PortFacts) -> list[str]:
    """IPv4 addresses first, then IPv6, each in the port's own order (as ML2/OVN writes them)."""
    ordered = sorted(facts.fixed_ips, key=lambda ip: ip.ip_version)
    return [ip.ip_address for ip in ordered]


def _addresses(facts: PortFacts) -> list[str]:
    addresses = [" ".join([facts.mac_address, *_ordered_ips(facts)])]
    if not facts.port_security_enabled:
        # Without port security the port may send and receive for any address.
        addresses.append("unknown")
    return addresses


def _port_security(facts: PortFacts) -> list[str]:
    if not facts.port_security_enabled or _trusted(facts):
        return []
    own = [facts.mac_address, *_ordered_ips(facts)]
    entries: dict[str, list[str]] = {}
    for pair in facts.allowed_address_pairs:
        if pair.mac_address == facts.mac_address:
            own.append(pair.ip_address)
        else:
            entries.setdefault(pair.mac_address, [pair.mac_address]).append(pair.ip_address)
    return [" ".join(own), *(" ".join(v) for v in entries.values())]


def _vm_options(facts: PortFacts) -> dict[str, str]:
    """The chassis the port may be claimed on: its host, and while Nova live-migrates it
    the destination too, claimed there only once the VM announces itself (RARP)."""
    if not facts.binding_host_id:
        return {}
    if not facts.migrating_to:
        return {"requested-chassis": facts.binding_host_id}
    return {"requested-chassis": ",".join((facts.binding_host_id, *facts.migrating_to)),
            "activation-strategy": "rarp"}


def _vtep_options(facts: PortFacts) -> dict[str, str] | None:
    named = vtep_switch_of(dict(facts.binding_profile))
    return dict(zip(VTEP_KEYS, named, strict=True)) if named else None


def vtep_switch_of(profile: Mapping[str, object]) -> tuple[str, str] | None:
    """The (physical switch, VTEP logical switch) a binding profile binds the port to."""
    if all(isinstance(profile.get(k), str) and profile.get(k) for k in VTEP_KEYS):
        return str(profile[VTEP_KEYS[0]]), str(profile[VTEP_KEYS[1]])
    return None


def _dhcp(facts: PortFacts, config: TranslateConfig) -> PortDhcp:
    if facts.device_owner in (ROUTER_INTERFACE, ROUTER_GATEWAY, METADATA):
        return PortDhcp()  # routers and the metadata port do not ask for DHCP
    return build_port_dhcp(facts, config)


def _external_ids(facts: PortFacts) -> dict[str, str]:
    fip = {n.PORT_FIP: facts.floating_ip} if facts.floating_ip else {}
    return fip | {
        n.PORT_NAME: facts.name,
        n.PORT_CIDRS: " ".join(f"{ip.ip_address}/{ip.prefixlen}" for ip in facts.fixed_ips),
        n.DEVICE_ID: facts.device_id,
        n.DEVICE_OWNER: facts.device_owner,
        n.MTU: "",
        n.NETWORK_NAME: n.switch_name(facts.network_id),
        n.PORT_CAPABILITIES: "",
        n.PROJECT_ID: facts.project_id,
        n.REVISION: str(facts.revision),
        n.SECURITY_GROUP_IDS: " ".join(facts.security_group_ids),
        n.ADDR_SCOPE4: "",
        n.ADDR_SCOPE6: "",
        n.VNIC_TYPE: facts.vnic_type,
    }

"""OVN Northbound names and `external_ids` keys, defined once (ML2/OVN's conventions)."""

from __future__ import annotations

SWITCH_PREFIX = "neutron-"
LOCALNET_PREFIX = "provnet-"

LS = "Logical_Switch"
LSP = "Logical_Switch_Port"
DHCP = "DHCP_Options"
PG = "Port_Group"
ACL = "ACL"
LR = "Logical_Router"
LRP = "Logical_Router_Port"
ROUTE = "Logical_Router_Static_Route"
NAT = "NAT"
ADDRESS_SET = "Address_Set"
DNS = "DNS"
LB = "Load_Balancer"
HA_GROUP = "HA_Chassis_Group"
HA_CHASSIS = "HA_Chassis"
NB_GLOBAL = "NB_Global"

PG_DROP = "neutron_pg_drop"
SG_ID = "neutron:security_group_id"
SG_RULE_ID = "neutron:security_group_rule_id"
AG_ID = "neutron:address_group_id"

ROUTER_NAME = "neutron:router_name"
ROUTER_ID = "neutron:router_id"
IS_EXT_GW = "neutron:is_ext_gw"
SUBNET_IDS = "neutron:subnet_ids"
IS_STATIC_ROUTE = "neutron:is_static_route"
ROUTE_SUBNET_ID = "neutron:subnet_id"
FIP_ID = "neutron:fip_id"
FIP_PORT_ID = "neutron:fip_port_id"
FIP_NETWORK_ID = "neutron:fip_network_id"
FIP_EXTERNAL_MAC = "neutron:fip_external_mac"
PORT_FIP = "neutron:port_fip"
# NB_Global: whether floating IPs are distributed, as ML2/OVN announces it ("True"/"False")
FIP_DISTRIBUTED = "neutron:fip-distributed"
# a router gateway's LRP options on the distributed router (ML2/OVN's)
RESIDE_ON_REDIRECT = "reside-on-redirect-chassis"
# a floating IP's port forwardings: one Load_Balancer per protocol, as ML2/OVN names it
PF_DEVICE_OWNER = "port_forwarding_plugin"  # its neutron:device_owner
PF_LB_PREFIX = "pf-floatingip-"
# neutrino's own keys, for rows ML2/OVN does not write or leaves unowned:
GATEWAY_ROLE = "neutron:gateway_role"  # what a gateway-router row is for
# ... and the role of a distributed gateway port and its HA_Chassis_Group, which otherwise
# carry only ML2/OVN's keys: it tells neutrino's from rows an ML2/OVN next door wrote
GATEWAY_PORT_ROLE = "gateway-port"
ROUTE_KEY = "neutron:route_key"  # "<router id> <prefix> <nexthop>": identity of a route
SNAT_KEY = "neutron:snat_key"  # "<router id> <cidr>": identity of a SNAT row
HA_KEY = "neutron:ha_chassis_key"  # "<group name> <chassis>": identity of an HA_Chassis
POLICY = "Logical_Router_Policy"
QOS = "QoS"
QOS_PORT_ID = "neutron:port_id"  # ML2/OVN's owner key of a port's QoS rows
QOS_KEY = "neutron:qos_key"  # "<port id> <from-lport|to-lport>": identity of a QoS row
# service function chaining: a reroute policy's identity
# ("<chain id> <classifier id> <direction> <hop>") and what it belongs to
SFC_POLICY_KEY = "neutron:sfc_policy_key"
SFC_CHAIN_ID = "neutron:port_chain_id"
SFC_CLASSIFIER_ID = "neutron:flow_classifier_id"
SFC_DIRECTION = "neutron:sfc_direction"
SFC_HOP = "neutron:sfc_hop"

REVISION = "neutron:revision_number"
NETWORK_NAME = "neutron:network_name"
MTU = "neutron:mtu"
AZ_HINTS = "neutron:availability_zone_hints"
PROVNET_TYPE = "neutron:provnet-network-type"
PROVNET_PHYSNET = "neutron:provnet-physical-network"

PORT_NAME = "neutron:port_name"
PORT_CIDRS = "neutron:cidrs"
DEVICE_ID = "neutron:device_id"
DEVICE_OWNER = "neutron:device_owner"
PROJECT_ID = "neutron:project_id"
SECURITY_GROUP_IDS = "neutron:security_group_ids"
VNIC_TYPE = "neutron:vnic_type"
PORT_CAPABILITIES = "neutron:port_capabilities"
ADDR_SCOPE4 = "neutron:subnet_pool_addr_scope4"
ADDR_SCOPE6 = "neutron:subnet_pool_addr_scope6"

DHCP_SUBNET_ID = "subnet_id"  # ML2/OVN writes this one without the neutron: prefix
DHCP_NETWORK_ID = "neutron:network_id"
# A port's own DHCP_Options row (extra_dhcp_opts) carries its subnet's keys plus `port_id`,
# also unprefixed, as ML2/OVN writes it; rows with a port_id are never a subnet's row.
DHCP_PORT_ID = "port_id"
# neutrino's own: "<port id> <ip version>", identity of a port's own DHCP_Options row
PORT_DHCP_KEY = "neutron:port_dhcp_key"
# A network's DNS row: ML2/OVN names its switch (unprefixed `ls_name`); neutrino's own
# `neutron:network_id` says the row is ours and is how it is found.
DNS_LS_NAME = "ls_name"
DNS_NETWORK_ID = "neutron:network_id"


def port_dhcp_key(port_id: str, ip_version: int) -> str:
    return f"{port_id} {ip_version}"


def switch_name(network_id: str) -> str:
    return f"{SWITCH_PREFIX}{network_id}"


def network_id_from_switch(name: str) -> str | None:
    return name[len(SWITCH_PREFIX):] if name.startswith(SWITCH_PREFIX) else None


def localnet_port_name(segment_id: str) -> str:
    return f"{LOCALNET_PREFIX}{segment_id}"


def port_group_name(security_group_id: str) -> str:
    """OVN names allow no '-': ML2/OVN uses pg_<id with '_'>."""
    return "pg_" + security_group_id.replace("-", "_")


def address_set_name(address_group_id: str, family: str) -> str:
    """ML2/OVN's Address_Set of an address group: ag_<id with '_'>_ip4 / _ip6."""
    return f"ag_{address_group_id.replace('-', '_')}_{family}"


def router_name(router_id: str) -> str:
    return f"{SWITCH_PREFIX}{router_id}"


def ha_group_name(router_id: str) -> str:
    """A router's gateway HA_Chassis_Group: named as its Logical_Router (ML2/OVN)."""
    return f"{SWITCH_PREFIX}{router_id}"


def ha_chassis_key(router_id: str, chassis: str) -> str:
    return f"{ha_group_name(router_id)} {chassis}"


def chassisredirect_port_name(gateway_port_id: str) -> str:
    """What ovn-northd names the SB Port_Binding of a distributed gateway port."""
    return f"cr-{router_port_name(gateway_port_id)}"


def gateway_router_name(router_id: str) -> str:
    return f"{SWITCH_PREFIX}gw-{router_id}"


def transit_switch_name(router_id: str) -> str:
    return f"{SWITCH_PREFIX}transit-{router_id}"


def router_port_name(port_id: str) -> str:
    return f"lrp-{port_id}"


def transit_router_port_name(router_id: str, side: str) -> str:
    """`side` is "dr" (the distributed router's end) or "gw" (the gateway router's end)."""
    return f"lrp-transit-{side}-{router_id}"


def transit_switch_port_name(router_id: str, side: str) -> str:
    return f"transit-{side}-{router_id}"

# L2 gateways: a connection's vtep switch ports (one per device) and the VTEP database rows
L2GW_CONNECTION_ID = "neutron:l2gw_connection_id"
L2GW_DEVICE = "neutron:l2gw_device"
# a VTEP Logical_Switch neutrino made carries this description (the hardware_vtep schema has
# no external_ids); with the `neutron-` name it tells our rows from the switch's own
VTEP_OWNER = "neutrino"


def l2gw_port_name(connection_id: str, device: str) -> str:
    return f"l2gw-{connection_id}-{device}"


def vtep_switch_name(network_id: str) -> str:
    """The VTEP Logical_Switch standing for a network (its OVN switch's name)."""
    return switch_name(network_id)


def port_forwarding_lb_name(fip_id: str, protocol: str) -> str:
    return f"{PF_LB_PREFIX}{fip_id}-{protocol}"

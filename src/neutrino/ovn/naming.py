"""OVN Northbound names and `external_ids` keys, defined once (ML2/OVN's conventions)."""

from __future__ import annotations

SWITCH_PREFIX = "neutron-"
LOCALNET_PREFIX = "provnet-"

LS = "Logical_Switch"
LSP = "Logical_Switch_Port"
DHCP = "DHCP_Options"
PG = "Port_Group"
ACL = "ACL"

PG_DROP = "neutron_pg_drop"
SG_ID = "neutron:security_group_id"
SG_RULE_ID = "neutron:security_group_rule_id"

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


def switch_name(network_id: str) -> str:
    return f"{SWITCH_PREFIX}{network_id}"


def network_id_from_switch(name: str) -> str | None:
    return name[len(SWITCH_PREFIX):] if name.startswith(SWITCH_PREFIX) else None


def localnet_port_name(segment_id: str) -> str:
    return f"{LOCALNET_PREFIX}{segment_id}"


def port_group_name(security_group_id: str) -> str:
    """OVN names allow no '-': ML2/OVN uses pg_<id with '_'>."""
    return "pg_" + security_group_id.replace("-", "_")

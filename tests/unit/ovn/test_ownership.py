"""owner_of: which NB rows are neutrino's, and of which resource, over all five tables."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.ownership import TABLES, owner_of

NET = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
PORT = "0f0f0f0f-1111-4222-8333-444444444444"
SUBNET = "44444444-0000-4000-8000-000000000004"
SG = "11111111-2222-4333-8444-555555555555"
PG = "pg_11111111_2222_4333_8444_555555555555"
RULE = "77777777-0000-4000-8000-000000000007"

LS_EXT = {"neutron:network_name": "net1", "neutron:revision_number": "1"}
LSP_EXT = {"neutron:network_name": f"neutron-{NET}", "neutron:revision_number": "2",
           "neutron:port_name": "port1"}
DHCP_EXT = {"subnet_id": SUBNET, "neutron:network_id": NET, "neutron:revision_number": "0"}


def without(mapping: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in mapping.items() if k != key}


def test_tables() -> None:
    assert TABLES == ("Logical_Switch", "Logical_Switch_Port", "DHCP_Options", "Port_Group",
                      "ACL")


@pytest.mark.parametrize(
    ("table", "row", "owner"),
    [
        # Logical_Switch: name neutron-<id> and both neutron: keys
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}", "external_ids": LS_EXT},
                     ("network", NET), id="switch"),
        pytest.param("Logical_Switch", {"name": NET, "external_ids": LS_EXT}, None,
                     id="switch-name-without-prefix"),
        pytest.param("Logical_Switch", {"name": "neutron-", "external_ids": LS_EXT}, None,
                     id="switch-prefix-only"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}",
                                        "external_ids": without(LS_EXT, "neutron:revision_number")},
                     None, id="switch-without-revision"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}",
                                        "external_ids": without(LS_EXT, "neutron:network_name")},
                     None, id="switch-without-network-name"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}", "external_ids": {}}, None,
                     id="switch-no-external-ids"),
        pytest.param("Logical_Switch", {"name": f"neutron-{NET}", "external_ids": None}, None,
                     id="switch-null-external-ids"),
        pytest.param("Logical_Switch", {"name": "sw0"}, None, id="foreign-switch"),
        # Logical_Switch_Port: a Neutron port's keys, not a localnet port
        pytest.param("Logical_Switch_Port", {"name": PORT, "type": "", "external_ids": LSP_EXT},
                     ("port", PORT), id="vm-port"),
        pytest.param("Logical_Switch_Port", {"name": PORT, "type": "vtep",
                                             "external_ids": LSP_EXT},
                     ("port", PORT), id="vtep-port"),
        pytest.param("Logical_Switch_Port",
                     {"name": "provnet-seg1", "type": "localnet",
                      "external_ids": {**LSP_EXT,
                                       "neutron:provnet-physical-network": "public"}},
                     None, id="localnet-port-belongs-to-the-switch"),
        pytest.param("Logical_Switch_Port",
                     {"name": "provnet-seg1", "type": "localnet",
                      "external_ids": {"neutron:provnet-physical-network": "public"}},
                     None, id="localnet-port-as-written"),
        pytest.param("Logical_Switch_Port",
                     {"name": PORT, "type": "",
                      "external_ids": without(LSP_EXT, "neutron:revision_number")},
                     None, id="port-without-revision"),
        pytest.param("Logical_Switch_Port",
                     {"name": PORT, "type": "",
                      "external_ids": without(LSP_EXT, "neutron:network_name")},
                     None, id="port-without-network-name"),
        pytest.param("Logical_Switch_Port", {"name": "p0", "type": "", "external_ids": {}},
                     None, id="foreign-port"),
        # DHCP_Options: per subnet, never the per-port rows
        pytest.param("DHCP_Options", {"cidr": "10.0.0.0/24", "external_ids": DHCP_EXT},
                     ("subnet", SUBNET), id="subnet-dhcp-options"),
        pytest.param("DHCP_Options",
                     {"cidr": "10.0.0.0/24", "external_ids": {**DHCP_EXT, "port_id": PORT}},
                     None, id="per-port-dhcp-options"),
        pytest.param("DHCP_Options",
                     {"external_ids": without(DHCP_EXT, "neutron:revision_number")},
                     None, id="dhcp-without-revision"),
        pytest.param("DHCP_Options", {"external_ids": without(DHCP_EXT, "subnet_id")}, None,
                     id="dhcp-without-subnet-id"),
        pytest.param("DHCP_Options",
                     {"external_ids": {"neutron:subnet_id": SUBNET,
                                       "neutron:revision_number": "0"}},
                     None, id="dhcp-with-prefixed-subnet-key"),
        pytest.param("DHCP_Options", {"external_ids": {}}, None, id="foreign-dhcp-options"),
        # Port_Group: pg_<id> carrying that id
        pytest.param("Port_Group", {"name": PG, "external_ids": {"neutron:security_group_id": SG}},
                     ("security_group", SG), id="security-group"),
        pytest.param("Port_Group",
                     {"name": "pg_aaaaaaaa_0000_4000_8000_000000000001",
                      "external_ids": {"neutron:security_group_id": SG}},
                     None, id="group-name-of-another-id"),
        pytest.param("Port_Group", {"name": SG, "external_ids": {"neutron:security_group_id": SG}},
                     None, id="group-name-not-underscored"),
        pytest.param("Port_Group", {"name": PG, "external_ids": {}}, None,
                     id="group-without-id"),
        pytest.param("Port_Group", {"name": PG, "external_ids": {"neutron:security_group_id": ""}},
                     None, id="group-empty-id"),
        pytest.param("Port_Group", {"name": "neutron_pg_drop", "external_ids": {}}, None,
                     id="drop-group-is-no-resource"),
        pytest.param("Port_Group", {"name": "pg_ops"}, None, id="foreign-group"),
        # ACL: one per rule
        pytest.param("ACL", {"match": f"outport == @{PG} && ip4",
                             "external_ids": {"neutron:security_group_rule_id": RULE}},
                     ("security_group_rule", RULE), id="rule-acl"),
        pytest.param("ACL", {"match": "inport == @neutron_pg_drop && ip", "external_ids": {}},
                     None, id="drop-acl-is-no-resource"),
        pytest.param("ACL", {"match": "ip", "external_ids": {"neutron:security_group_rule_id": ""}},
                     None, id="acl-empty-rule-id"),
        pytest.param("ACL", {"match": "ip", "external_ids": {"neutron:lport": PORT}}, None,
                     id="acl-other-neutron-key"),
        # tables neutrino does not own
        pytest.param("Logical_Router", {"name": f"neutron-{NET}", "external_ids": LS_EXT}, None,
                     id="other-table"),
        pytest.param("Address_Set", {"name": f"{PG}_ip4",
                                     "external_ids": {"neutron:security_group_id": SG}},
                     None, id="address-set-not-ours"),
    ],
)
def test_owner_of(table: str, row: dict[str, Any], owner: tuple[str, str] | None) -> None:
    assert owner_of(table, row) == owner

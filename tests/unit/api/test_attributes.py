"""parse_create / parse_update against the NETWORK, SUBNET and PORT attribute specs."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino import errors
from neutrino.api.attributes import (
    ADDRESS_GROUP,
    ADDRESS_SCOPE,
    DEFAULT_SECURITY_GROUP_RULE,
    FLOATING_IP,
    FLOW_CLASSIFIER,
    L2_GATEWAY,
    L2_GATEWAY_CONNECTION,
    NETWORK,
    PORT,
    PORT_CHAIN,
    PORT_FORWARDING,
    PORT_PAIR,
    PORT_PAIR_GROUP,
    QOS_POLICY,
    RBAC_POLICY,
    ROUTER,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SPECS,
    SUBNET,
    SUBNETPOOL,
    TRUNK,
    ResourceSpec,
    parse_create,
    parse_update,
)

NET_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

NETWORK_DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "admin_state_up": True,
    "shared": False,
    "router:external": False,
    "mtu": None,
    "port_security_enabled": True,
    "availability_zone_hints": [],
    "dns_domain": "",
}
SUBNET_DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "allocation_pools": None,
    "enable_dhcp": True,
    "dns_nameservers": [],
    "host_routes": [],
    "ipv6_ra_mode": None,
    "ipv6_address_mode": None,
    "subnetpool_id": None,
    "service_types": [],
    "dns_publish_fixed_ip": False,
}
PORT_DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "admin_state_up": True,
    "device_id": "",
    "device_owner": "",
    "fixed_ips": None,
    "allowed_address_pairs": [],
    "extra_dhcp_opts": [],
    "port_security_enabled": None,
    "binding:host_id": "",
    "binding:profile": {},
    "binding:vnic_type": "normal",
    "security_groups": None,
    "device_profile": None,
    "numa_affinity_policy": None,
    "dns_name": "",
    "dns_domain": "",
    "qos_policy_id": None,
}
SG_DEFAULTS: dict[str, Any] = {"name": "", "description": "", "stateful": True}
RULE_BODY = {"security_group_id": "sg-1", "direction": "ingress"}
RULE_DEFAULTS: dict[str, Any] = {
    "description": "",
    "ethertype": "IPv4",
    "protocol": None,
    "port_range_min": None,
    "port_range_max": None,
    "remote_ip_prefix": None,
    "remote_group_id": None,
    "remote_address_group_id": None,
}
ROUTER_DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "admin_state_up": True,
    "external_gateway_info": None,
    "availability_zone_hints": [],
}
FIP_BODY = {"floating_network_id": NET_ID}
FIP_DEFAULTS: dict[str, Any] = {
    "description": "",
    "floating_ip_address": None,
    "subnet_id": None,
    "port_id": None,
    "fixed_ip_address": None,
}
SUBNET_BODY = {"network_id": NET_ID, "ip_version": 4, "cidr": "10.0.0.0/24"}
PORT_BODY = {"network_id": NET_ID}


def test_specs_by_collection() -> None:
    assert SPECS == {"networks": NETWORK, "subnets": SUBNET, "ports": PORT,
                     "security_groups": SECURITY_GROUP,
                     "security_group_rules": SECURITY_GROUP_RULE,
                     "routers": ROUTER, "floatingips": FLOATING_IP,
                     "rbac_policies": RBAC_POLICY,
                     "address_groups": ADDRESS_GROUP,
                     "default_security_group_rules": DEFAULT_SECURITY_GROUP_RULE,
                     "subnetpools": SUBNETPOOL, "address_scopes": ADDRESS_SCOPE,

                     "port_pairs": PORT_PAIR, "port_pair_groups": PORT_PAIR_GROUP,
                     "port_chains": PORT_CHAIN, "flow_classifiers": FLOW_CLASSIFIER,
                     "trunks": TRUNK,
                     "policies": QOS_POLICY,
                     "l2_gateways": L2_GATEWAY,
                     "l2_gateway_connections": L2_GATEWAY_CONNECTION,
                     "port_forwardings": PORT_FORWARDING}
    assert [(s.singular, s.collection, s.path) for s in SPECS.values()] == [
        ("network", "networks", "networks"), ("subnet", "subnets", "subnets"),
        ("port", "ports", "ports"),
        ("security_group", "security_groups", "security-groups"),
        ("security_group_rule", "security_group_rules", "security-group-rules"),
        ("router", "routers", "routers"),
        ("floatingip", "floatingips", "floatingips"),
        ("rbac_policy", "rbac_policies", "rbac-policies"),
        ("address_group", "address_groups", "address-groups"),
        ("default_security_group_rule", "default_security_group_rules",
         "default-security-group-rules"),
        ("subnetpool", "subnetpools", "subnetpools"),
        ("address_scope", "address_scopes", "address-scopes"),
        ("port_pair", "port_pairs", "sfc/port_pairs"),
        ("port_pair_group", "port_pair_groups", "sfc/port_pair_groups"),
        ("port_chain", "port_chains", "sfc/port_chains"),
        ("flow_classifier", "flow_classifiers", "sfc/flow_classifiers"),
        ("trunk", "trunks", "trunks"),
        ("policy", "policies", "qos/policies"),
        ("l2_gateway", "l2_gateways", "l2-gateways"),
        ("l2_gateway_connection", "l2_gateway_connections", "l2-gateway-connections"),
        ("port_forwarding", "port_forwardings", "floatingips/{parent_id}/port_forwardings"),
    ]
    assert [s.collection for s in SPECS.values() if s.parent] == ["port_forwardings"]


@pytest.mark.parametrize(("value", "expected"), [
    (22, "22:22"), ("22", "22:22"), ("80:90", "80:90"), ("1:65535", "1:65535")])
def test_port_forwarding_ranges_are_kept_as_first_last(value: Any, expected: str) -> None:
    body = {"internal_port_id": "6a5a0c8e-0000-4000-8000-000000000000", "protocol": "tcp",
            "internal_port_range": value}
    assert parse_create(PORT_FORWARDING, body)["internal_port_range"] == expected


@pytest.mark.parametrize("value", ["0", "90:80", "1:2:3", "a:b", "65536", ":", True, [1]])
def test_port_forwarding_bad_ranges_are_400s(value: Any) -> None:
    with pytest.raises(errors.BadRequest, match="internal_port_range"):
        parse_create(PORT_FORWARDING, {"internal_port_range": value})


COMMON_ATTRS = ["id", "description", "project_id", "tenant_id", "tags", "revision_number",
                "created_at", "updated_at"]


def test_router_and_floating_ip_attributes() -> None:
    assert list(ROUTER.attrs) == [*COMMON_ATTRS, "name", "admin_state_up", "status",
                                  "external_gateway_info", "routes",
                                  "availability_zone_hints", "availability_zones"]
    assert list(FLOATING_IP.attrs) == [*COMMON_ATTRS, "floating_network_id",
                                       "floating_ip_address", "subnet_id", "port_id",
                                       "fixed_ip_address", "router_id", "status", "port_details"]


def test_floating_ips_have_no_name() -> None:
    assert "name" not in FLOATING_IP.attrs
    assert "name" in ROUTER.attrs


def test_rules_have_no_name() -> None:
    assert "name" not in SECURITY_GROUP_RULE.attrs
    assert "name" in SECURITY_GROUP.attrs


# --- parse_create: defaults and accepted values ---------------------------------------


@pytest.mark.parametrize(
    ("spec", "body", "expected"),
    [
        pytest.param(NETWORK, {}, NETWORK_DEFAULTS, id="network-defaults"),
        pytest.param(SUBNET, SUBNET_BODY, {**SUBNET_DEFAULTS, **SUBNET_BODY},
                     id="subnet-defaults"),
        pytest.param(PORT, PORT_BODY, {**PORT_DEFAULTS, **PORT_BODY}, id="port-defaults"),
        pytest.param(
            NETWORK,
            {"name": "net1", "admin_state_up": "False", "shared": "true", "mtu": "1400"},
            {**NETWORK_DEFAULTS, "name": "net1", "admin_state_up": False, "shared": True,
             "mtu": 1400},
            id="network-string-bool-and-int-accepted",
        ),
        pytest.param(
            NETWORK,
            {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
             "provider:segmentation_id": 101},
            {**NETWORK_DEFAULTS, "provider:network_type": "vlan",
             "provider:physical_network": "physnet1", "provider:segmentation_id": 101},
            id="network-provider-attrs",
        ),
        pytest.param(
            NETWORK,
            {"mtu": None, "provider:network_type": None},
            {**NETWORK_DEFAULTS, "provider:network_type": None},
            id="network-nullables",
        ),
        pytest.param(
            SUBNET,
            {**SUBNET_BODY, "ip_version": "6", "cidr": "fd00::/64",
             "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"},
            {**SUBNET_DEFAULTS, **SUBNET_BODY, "ip_version": 6, "cidr": "fd00::/64",
             "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"},
            id="subnet-ipv6-string-version",
        ),
        pytest.param(
            SUBNET,
            {**SUBNET_BODY, "gateway_ip": None},
            {**SUBNET_DEFAULTS, **SUBNET_BODY, "gateway_ip": None},
            id="subnet-explicit-null-gateway-kept",
        ),
        pytest.param(
            SUBNET,
            {**SUBNET_BODY, "gateway_ip": "10.0.0.254"},
            {**SUBNET_DEFAULTS, **SUBNET_BODY, "gateway_ip": "10.0.0.254"},
            id="subnet-gateway",
        ),
        pytest.param(
            SUBNET,
            {**SUBNET_BODY, "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}],
             "host_routes": [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.2"}],
             "dns_nameservers": ["8.8.8.8"], "enable_dhcp": "0"},
            {**SUBNET_DEFAULTS, **SUBNET_BODY,
             "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}],
             "host_routes": [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.2"}],
             "dns_nameservers": ["8.8.8.8"], "enable_dhcp": False},
            id="subnet-pools-routes-dns",
        ),
        pytest.param(
            PORT,
            {**PORT_BODY, "binding:profile": ""},
            {**PORT_DEFAULTS, **PORT_BODY, "binding:profile": {}},
            id="port-empty-string-profile",
        ),
        pytest.param(
            PORT,
            {**PORT_BODY, "binding:profile": None},
            {**PORT_DEFAULTS, **PORT_BODY, "binding:profile": {}},
            id="port-null-profile",
        ),
        pytest.param(
            PORT,
            {**PORT_BODY, "binding:profile": {"vtep-physical-switch": "psw"},
             "fixed_ips": [{"subnet_id": "s1"}, {"ip_address": "10.0.0.5"}],
             "allowed_address_pairs": [{"ip_address": "10.0.0.200"}],
             "port_security_enabled": "yes", "binding:vnic_type": "direct",
             "mac_address": "fa:16:3e:00:00:01"},
            {**PORT_DEFAULTS, **PORT_BODY, "binding:profile": {"vtep-physical-switch": "psw"},
             "fixed_ips": [{"subnet_id": "s1"}, {"ip_address": "10.0.0.5"}],
             "allowed_address_pairs": [{"ip_address": "10.0.0.200"}],
             "port_security_enabled": True, "binding:vnic_type": "direct",
             "mac_address": "fa:16:3e:00:00:01"},
            id="port-full",
        ),
        pytest.param(
            PORT,
            {**PORT_BODY, "security_groups": ["sg-1", "sg-2"]},
            {**PORT_DEFAULTS, **PORT_BODY, "security_groups": ["sg-1", "sg-2"]},
            id="port-security-groups",
        ),
        pytest.param(
            PORT,
            {**PORT_BODY, "security_groups": []},
            {**PORT_DEFAULTS, **PORT_BODY, "security_groups": []},
            id="port-no-security-groups",
        ),
        pytest.param(SECURITY_GROUP, {}, SG_DEFAULTS, id="security-group-defaults"),
        pytest.param(SECURITY_GROUP, {"name": "web", "description": "d"},
                     {"name": "web", "description": "d", "stateful": True},
                     id="security-group-named"),
        pytest.param(SECURITY_GROUP, {"stateful": "false"}, {**SG_DEFAULTS, "stateful": False},
                     id="security-group-stateless"),
        pytest.param(SECURITY_GROUP_RULE, RULE_BODY, {**RULE_DEFAULTS, **RULE_BODY},
                     id="rule-defaults"),
        pytest.param(
            SECURITY_GROUP_RULE,
            {**RULE_BODY, "ethertype": "IPv6", "protocol": "tcp", "port_range_min": "22",
             "port_range_max": 22, "remote_ip_prefix": "::/0"},
            {**RULE_DEFAULTS, **RULE_BODY, "ethertype": "IPv6", "protocol": "tcp",
             "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "::/0"},
            id="rule-ports-converted",
        ),
        pytest.param(ROUTER, {}, ROUTER_DEFAULTS, id="router-defaults"),
        pytest.param(
            ROUTER,
            {"name": "r1", "admin_state_up": "false",
             "external_gateway_info": {"network_id": NET_ID, "enable_snat": False,
                                       "external_fixed_ips": [{"ip_address": "172.24.4.9"}]}},
            {**ROUTER_DEFAULTS, "name": "r1", "admin_state_up": False,
             "external_gateway_info": {"network_id": NET_ID, "enable_snat": False,
                                       "external_fixed_ips": [{"ip_address": "172.24.4.9"}]}},
            id="router-with-gateway",
        ),
        pytest.param(ROUTER, {"external_gateway_info": None}, ROUTER_DEFAULTS,
                     id="router-null-gateway"),
        pytest.param(FLOATING_IP, FIP_BODY, {**FIP_DEFAULTS, **FIP_BODY},
                     id="floating-ip-defaults"),
        pytest.param(
            FLOATING_IP,
            {**FIP_BODY, "floating_ip_address": "172.24.4.50", "subnet_id": "s-ext",
             "port_id": "p1", "fixed_ip_address": "10.0.0.5", "description": "web"},
            {**FIP_DEFAULTS, **FIP_BODY, "floating_ip_address": "172.24.4.50",
             "subnet_id": "s-ext", "port_id": "p1", "fixed_ip_address": "10.0.0.5",
             "description": "web"},
            id="floating-ip-full",
        ),
        pytest.param(
            NETWORK,
            {"tenant_id": "t1"},
            {**NETWORK_DEFAULTS, "project_id": "t1"},
            id="tenant-id-becomes-project-id",
        ),
        pytest.param(
            NETWORK,
            {"project_id": "p1"},
            {**NETWORK_DEFAULTS, "project_id": "p1"},
            id="project-id",
        ),
        pytest.param(
            NETWORK,
            {"project_id": "p1", "tenant_id": "p1"},
            {**NETWORK_DEFAULTS, "project_id": "p1"},
            id="project-and-tenant-equal-merged",
        ),
        pytest.param(
            NETWORK,
            {"tags": ["a", "b"]},
            {**NETWORK_DEFAULTS, "tags": ["a", "b"]},
            id="tags",
        ),
    ],
)
def test_parse_create(spec: ResourceSpec, body: dict[str, Any],
                      expected: dict[str, Any]) -> None:
    assert parse_create(spec, body) == expected


def test_parse_create_absent_gateway_stays_absent() -> None:
    assert "gateway_ip" not in parse_create(SUBNET, SUBNET_BODY)


def test_parse_create_defaults_are_fresh_copies() -> None:
    first = parse_create(PORT, PORT_BODY)
    first["allowed_address_pairs"].append({"ip_address": "x"})
    first["binding:profile"]["k"] = "v"
    second = parse_create(PORT, PORT_BODY)
    assert (second["allowed_address_pairs"], second["binding:profile"]) == ([], {})


# --- parse_create: rejections ---------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "body", "message"),
    [
        pytest.param(SUBNET, {"ip_version": 4, "cidr": "10.0.0.0/24"},
                     "Failed to parse request. Required attribute 'network_id' not specified",
                     id="subnet-missing-network-id"),
        pytest.param(SUBNET, {"network_id": NET_ID, "cidr": "10.0.0.0/24"},
                     "Failed to parse request. Required attribute 'ip_version' not specified",
                     id="subnet-missing-ip-version"),
        # a subnet without cidr comes from a subnet pool: the service decides (400 there)
        pytest.param(SUBNETPOOL, {"name": "p"},
                     "Failed to parse request. Required attribute 'prefixes' not specified",
                     id="subnetpool-missing-prefixes"),
        pytest.param(ADDRESS_SCOPE, {"name": "s"},
                     "Failed to parse request. Required attribute 'ip_version' not specified",
                     id="address-scope-missing-ip-version"),
        pytest.param(PORT, {},
                     "Failed to parse request. Required attribute 'network_id' not specified",
                     id="port-missing-network-id"),
        pytest.param(NETWORK, {"bogus": 1}, "Unrecognized attribute(s) 'bogus'",
                     id="unknown"),
        pytest.param(NETWORK, {"bogus": 1, "other": 2}, "Unrecognized attribute(s) 'bogus, other'",
                     id="unknown-two"),
        pytest.param(PORT, {**PORT_BODY, "gateway_ip": "10.0.0.1"},
                     "Unrecognized attribute(s) 'gateway_ip'", id="subnet-attr-on-port"),
        pytest.param(NETWORK, {"status": "ACTIVE"}, "Attribute 'status' not allowed in POST",
                     id="network-status-read-only"),
        pytest.param(PORT, {**PORT_BODY, "status": "DOWN"},
                     "Attribute 'status' not allowed in POST", id="port-status-read-only"),
        pytest.param(NETWORK, {"id": NET_ID}, "Attribute 'id' not allowed in POST",
                     id="id-read-only"),
        pytest.param(NETWORK, {"revision_number": 3},
                     "Attribute 'revision_number' not allowed in POST", id="revision-read-only"),
        pytest.param(PORT, {**PORT_BODY, "binding:vif_type": "ovs"},
                     "Attribute 'binding:vif_type' not allowed in POST", id="vif-type-read-only"),
        pytest.param(SECURITY_GROUP_RULE, {"direction": "ingress"},
                     "Failed to parse request. Required attribute 'security_group_id' not "
                     "specified", id="rule-missing-group"),
        pytest.param(SECURITY_GROUP_RULE, {"security_group_id": "sg-1"},
                     "Failed to parse request. Required attribute 'direction' not specified",
                     id="rule-missing-direction"),
        pytest.param(SECURITY_GROUP_RULE, {**RULE_BODY, "name": "r"},
                     "Unrecognized attribute(s) 'name'", id="rule-has-no-name"),
        pytest.param(SECURITY_GROUP, {"security_group_rules": []},
                     "Attribute 'security_group_rules' not allowed in POST",
                     id="group-rules-read-only"),
        pytest.param(NETWORK, {"project_id": "p1", "tenant_id": "t1"},
                     "'project_id' and 'tenant_id' do not match", id="project-tenant-mismatch"),
        pytest.param(ROUTER, {"routes": []}, "Attribute 'routes' not allowed in POST",
                     id="router-routes-only-on-update"),
        pytest.param(ROUTER, {"status": "ACTIVE"}, "Attribute 'status' not allowed in POST",
                     id="router-status-read-only"),
        pytest.param(ROUTER, {"distributed": True}, "Unrecognized attribute(s) 'distributed'",
                     id="router-unknown"),
        pytest.param(FLOATING_IP, {},
                     "Failed to parse request. Required attribute 'floating_network_id' not "
                     "specified", id="floating-ip-missing-network"),
        pytest.param(FLOATING_IP, {**FIP_BODY, "router_id": "r1"},
                     "Attribute 'router_id' not allowed in POST",
                     id="floating-ip-router-read-only"),
        pytest.param(FLOATING_IP, {**FIP_BODY, "name": "f"},
                     "Unrecognized attribute(s) 'name'", id="floating-ip-has-no-name"),
    ],
)
def test_parse_create_rejects(spec: ResourceSpec, body: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse_create(spec, body)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("spec", "body", "attr"),
    [
        (NETWORK, {"admin_state_up": "maybe"}, "admin_state_up"),
        (NETWORK, {"admin_state_up": 1}, "admin_state_up"),
        (NETWORK, {"admin_state_up": None}, "admin_state_up"),
        (NETWORK, {"shared": "nope"}, "shared"),
        (NETWORK, {"mtu": "x"}, "mtu"),
        (NETWORK, {"mtu": True}, "mtu"),
        (NETWORK, {"mtu": 14.5}, "mtu"),
        (NETWORK, {"name": 5}, "name"),
        (NETWORK, {"name": "x" * 256}, "name"),
        (NETWORK, {"provider:segmentation_id": "abc"}, "provider:segmentation_id"),
        (NETWORK, {"availability_zone_hints": "az1"}, "availability_zone_hints"),
        (NETWORK, {"tags": "a"}, "tags"),
        (SUBNET, {**SUBNET_BODY, "ip_version": 5}, "ip_version"),
        (SUBNET, {**SUBNET_BODY, "ip_version": "four"}, "ip_version"),
        (SUBNET, {**SUBNET_BODY, "network_id": "x" * 37}, "network_id"),
        (SUBNET, {**SUBNET_BODY, "enable_dhcp": "sometimes"}, "enable_dhcp"),
        (SUBNET, {**SUBNET_BODY, "ipv6_address_mode": "dhcp"}, "ipv6_address_mode"),
        (SUBNET, {**SUBNET_BODY, "allocation_pools": [{"start": "10.0.0.2"}]},
         "allocation_pools"),
        (SUBNET, {**SUBNET_BODY, "allocation_pools": [{"start": "a", "end": "b", "x": "c"}]},
         "allocation_pools"),
        (SUBNET, {**SUBNET_BODY, "host_routes": ["0.0.0.0/0"]}, "host_routes"),
        (SUBNET, {**SUBNET_BODY, "dns_nameservers": "8.8.8.8"}, "dns_nameservers"),
        (SUBNET, {**SUBNET_BODY, "subnetpool_id": 7}, "subnetpool_id"),
        (SUBNET, {**SUBNET_BODY, "prefixlen": "x"}, "prefixlen"),
        (PORT, {**PORT_BODY, "binding:profile": "nope"}, "binding:profile"),
        (PORT, {**PORT_BODY, "binding:profile": []}, "binding:profile"),
        (PORT, {**PORT_BODY, "binding:vnic_type": "weird"}, "binding:vnic_type"),
        (PORT, {**PORT_BODY, "fixed_ips": [{"subnet": "s1"}]}, "fixed_ips"),
        (PORT, {**PORT_BODY, "fixed_ips": {"subnet_id": "s1"}}, "fixed_ips"),
        (PORT, {**PORT_BODY, "allowed_address_pairs": [{"mac_address": "m"}]},
         "allowed_address_pairs"),
        (PORT, {**PORT_BODY, "port_security_enabled": "maybe"}, "port_security_enabled"),
        (PORT, {**PORT_BODY, "extra_dhcp_opts": [{"opt_name": "a"}]}, "extra_dhcp_opts"),
        (PORT, {**PORT_BODY, "security_groups": "sg-1"}, "security_groups"),
        (PORT, {**PORT_BODY, "security_groups": ["x" * 37]}, "security_groups"),
        (SECURITY_GROUP_RULE, {**RULE_BODY, "direction": "both"}, "direction"),
        (SECURITY_GROUP_RULE, {**RULE_BODY, "ethertype": "ipv4"}, "ethertype"),
        (SECURITY_GROUP_RULE, {**RULE_BODY, "port_range_min": "x"}, "port_range_min"),
        (SECURITY_GROUP_RULE, {**RULE_BODY, "port_range_max": True}, "port_range_max"),
        (ROUTER, {"admin_state_up": "sometimes"}, "admin_state_up"),
        (ROUTER, {"external_gateway_info": "ext"}, "external_gateway_info"),
        (ROUTER, {"external_gateway_info": {"network_id": NET_ID, "ha": True}},
         "external_gateway_info"),
        (FLOATING_IP, {**FIP_BODY, "floating_network_id": "x" * 37}, "floating_network_id"),
        (FLOATING_IP, {**FIP_BODY, "port_id": 5}, "port_id"),
    ],
)
def test_parse_create_type_errors_name_the_attribute(
    spec: ResourceSpec, body: dict[str, Any], attr: str
) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse_create(spec, body)
    assert exc.value.message.startswith(f"Invalid input for {attr}. Reason: ")


def test_type_error_reason_is_the_converters() -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse_create(NETWORK, {"admin_state_up": "maybe"})
    assert exc.value.message == (
        "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."
    )


@pytest.mark.parametrize(
    ("word", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("1", True), ("yes", True), ("on", True),
     ("false", False), ("False", False), ("0", False), ("no", False), ("off", False),
     (True, True), (False, False)],
)
def test_boolean_words(word: Any, value: bool) -> None:
    assert parse_create(NETWORK, {"admin_state_up": word})["admin_state_up"] is value
    assert parse_update(PORT, {"admin_state_up": word}) == {"admin_state_up": value}


# --- parse_update ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "body", "expected"),
    [
        pytest.param(NETWORK, {}, {}, id="empty"),
        pytest.param(NETWORK, {"name": "n2"}, {"name": "n2"}, id="only-given-no-defaults"),
        pytest.param(NETWORK, {"admin_state_up": "False", "mtu": "9000"},
                     {"admin_state_up": False, "mtu": 9000}, id="network-converted"),
        pytest.param(NETWORK, {"provider:segmentation_id": None},
                     {"provider:segmentation_id": None}, id="network-null-segmentation"),
        pytest.param(SUBNET, {"gateway_ip": None}, {"gateway_ip": None}, id="subnet-null-gw"),
        pytest.param(SUBNET, {"enable_dhcp": "false", "dns_nameservers": []},
                     {"enable_dhcp": False, "dns_nameservers": []}, id="subnet-dhcp-dns"),
        pytest.param(PORT, {"binding:profile": ""}, {"binding:profile": {}},
                     id="port-empty-profile"),
        pytest.param(PORT, {"port_security_enabled": None}, {"port_security_enabled": None},
                     id="port-null-port-security"),
        pytest.param(PORT, {"security_groups": []}, {"security_groups": []},
                     id="port-clear-security-groups"),
        pytest.param(SECURITY_GROUP, {"name": "n", "description": "d"},
                     {"name": "n", "description": "d"}, id="group-name-description"),
        pytest.param(PORT, {"fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.9"}],
                            "binding:host_id": "h1"},
                     {"fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.9"}],
                      "binding:host_id": "h1"}, id="port-fixed-ips-host"),
        pytest.param(ROUTER, {"routes": [{"destination": "192.168.7.0/24",
                                          "nexthop": "10.0.0.7"}]},
                     {"routes": [{"destination": "192.168.7.0/24", "nexthop": "10.0.0.7"}]},
                     id="router-routes"),
        pytest.param(ROUTER, {"external_gateway_info": None, "admin_state_up": "0"},
                     {"external_gateway_info": None, "admin_state_up": False},
                     id="router-clear-gateway"),
        pytest.param(FLOATING_IP, {"port_id": None}, {"port_id": None},
                     id="floating-ip-disassociate"),
        pytest.param(FLOATING_IP, {"port_id": "p1", "fixed_ip_address": "10.0.0.5"},
                     {"port_id": "p1", "fixed_ip_address": "10.0.0.5"},
                     id="floating-ip-associate"),
    ],
)
def test_parse_update(spec: ResourceSpec, body: dict[str, Any], expected: dict[str, Any]) -> None:
    assert parse_update(spec, body) == expected


@pytest.mark.parametrize(
    ("spec", "body", "message"),
    [
        pytest.param(PORT, {"network_id": NET_ID},
                     "Cannot update read-only attribute network_id", id="port-network-id"),
        pytest.param(SUBNET, {"cidr": "10.1.0.0/24"},
                     "Cannot update read-only attribute cidr", id="subnet-cidr"),
        pytest.param(SUBNET, {"ip_version": 6},
                     "Cannot update read-only attribute ip_version", id="subnet-ip-version"),
        pytest.param(SUBNET, {"ipv6_address_mode": "slaac"},
                     "Cannot update read-only attribute ipv6_address_mode", id="subnet-v6-mode"),
        pytest.param(NETWORK, {"status": "DOWN"},
                     "Cannot update read-only attribute status", id="network-status"),
        pytest.param(NETWORK, {"id": NET_ID},
                     "Cannot update read-only attribute id", id="network-id"),
        pytest.param(NETWORK, {"project_id": "p2"},
                     "Cannot update read-only attribute project_id", id="project-id"),
        pytest.param(NETWORK, {"tenant_id": "p2"},
                     "Cannot update read-only attribute tenant_id", id="tenant-id"),
        pytest.param(NETWORK, {"availability_zone_hints": ["az"]},
                     "Cannot update read-only attribute availability_zone_hints",
                     id="az-hints"),
        pytest.param(NETWORK, {"tags": ["a"]},
                     "Cannot update read-only attribute tags", id="tags"),
        pytest.param(NETWORK, {"bogus": 1}, "Unrecognized attribute(s) 'bogus'", id="unknown"),
        pytest.param(SECURITY_GROUP_RULE, {"protocol": "udp"},
                     "Cannot update read-only attribute protocol", id="rule-protocol"),
        pytest.param(SECURITY_GROUP_RULE, {"direction": "egress"},
                     "Cannot update read-only attribute direction", id="rule-direction"),
        pytest.param(NETWORK, {"name": "ok", "bogus": 1}, "Unrecognized attribute(s) 'bogus'",
                     id="unknown-with-valid"),
        pytest.param(NETWORK, {"admin_state_up": "maybe"},
                     "Invalid input for admin_state_up. Reason: "
                     "'maybe' cannot be converted to boolean.", id="bad-bool"),
        pytest.param(NETWORK, {"mtu": "x"},
                     "Invalid input for mtu. Reason: 'x' is not an integer.", id="bad-mtu"),
        pytest.param(ROUTER, {"status": "DOWN"}, "Cannot update read-only attribute status",
                     id="router-status"),
        pytest.param(ROUTER, {"routes": [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1",
                                          "metric": 5}]},
                     "Invalid input for routes. Reason: Unrecognized keys ['metric'].",
                     id="router-route-unknown-key"),
        pytest.param(FLOATING_IP, {"floating_network_id": NET_ID},
                     "Cannot update read-only attribute floating_network_id",
                     id="floating-ip-network"),
        pytest.param(FLOATING_IP, {"floating_ip_address": "172.24.4.9"},
                     "Cannot update read-only attribute floating_ip_address",
                     id="floating-ip-address"),
        pytest.param(FLOATING_IP, {"subnet_id": "s"},
                     "Cannot update read-only attribute subnet_id", id="floating-ip-subnet"),
        pytest.param(FLOATING_IP, {"router_id": "r"},
                     "Cannot update read-only attribute router_id", id="floating-ip-router"),
    ],
)
def test_parse_update_rejects(spec: ResourceSpec, body: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse_update(spec, body)
    assert exc.value.message == message


@pytest.mark.parametrize("spec", [NETWORK, ROUTER], ids=["network", "router"])
@pytest.mark.parametrize(
    ("hints", "reason"),
    [
        pytest.param("az1", "'az1' is not a list", id="not-a-list"),
        pytest.param([1], "'1' is not a valid string", id="not-strings"),
        pytest.param(["a" * 256], "exceeds maximum length of 255", id="name-too-long"),
        pytest.param(["az1", "az2", "az1"], "Duplicate items in the list: 'az1'",
                     id="duplicates"),
        pytest.param([f"zone-{n:03}" for n in range(25)],
                     "Too many availability_zone_hints specified", id="list-too-long"),
    ],
)
def test_availability_zone_hints_syntax(spec: ResourceSpec, hints: Any, reason: str) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse_create(spec, {"availability_zone_hints": hints})
    assert exc.value.message.startswith("Invalid input for availability_zone_hints. Reason: ")
    assert reason in exc.value.message


@pytest.mark.parametrize("spec", [NETWORK, ROUTER], ids=["network", "router"])
def test_availability_zone_hints_are_create_only(spec: ResourceSpec) -> None:
    assert parse_create(spec, {"availability_zone_hints": ["az1", "az2"]})[
        "availability_zone_hints"] == ["az1", "az2"]
    assert not spec.attrs["availability_zone_hints"].put
    assert not spec.attrs["availability_zones"].post


SG_A = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize(
    ("given", "stored"), [(17, "17"), ("17", "17"), ("udp", "udp"), (0, "0"), (None, None)],
    ids=["json-int", "string-number", "name", "int-zero", "null"])
def test_rule_protocol_as_number_or_name(given: Any, stored: str | None) -> None:
    """Neutron takes a protocol as a JSON integer too, and stores its decimal string."""
    body = {"security_group_id": SG_A, "direction": "ingress", "protocol": given}
    assert parse_create(SECURITY_GROUP_RULE, body)["protocol"] == stored


@pytest.mark.parametrize("given", [True, 1.5, ["tcp"], {"p": 1}],
                         ids=["bool", "float", "list", "dict"])
def test_rule_protocol_other_types_refused(given: Any) -> None:
    with pytest.raises(errors.BadRequest, match="Invalid input for protocol"):
        parse_create(SECURITY_GROUP_RULE, {"security_group_id": SG_A, "direction": "ingress",
                                           "protocol": given})


@pytest.mark.parametrize("parse", [
    lambda body: parse_create(PORT, {"network_id": NET_ID, **body}),
    lambda body: parse_update(PORT, body)], ids=["create", "update"])
def test_port_security_groups_listed_twice_refused(parse: Any) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse({"security_groups": [SG_A, SG_A]})
    assert exc.value.message == (f"Invalid input for security_groups. Reason: Duplicate items "
                                 f"in the list: '{SG_A}'.")

"""The attributes of each resource: what a request may set, defaults, and query converters.

This is the API's contract with clients (Neutron's attribute map), checked before any
service runs: unknown attributes, read-only attributes and values of the wrong shape are
400s here, with the attribute named.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neutrino import errors
from neutrino.api import converters as c
from neutrino.api import l2gw_devices
from neutrino.api.text import preview

REQUIRED = object()  # no default: the attribute must be given on create
UNSET = object()  # no default, and absent when not given


@dataclass(frozen=True)
class Attr:
    name: str
    convert: c.Converter = c.any_value
    default: Any = UNSET
    post: bool = True
    put: bool = False
    query: c.Converter | None = None  # converter for filter values; default `convert`
    filter: bool = True  # Neutron's is_filter (where a resource says no)
    sort: bool = True  # Neutron's is_sort_key (where a resource says no)

    def filter_value(self, raw: str) -> Any:
        convert = self.query or self.convert
        return convert(raw)


@dataclass(frozen=True)
class ResourceSpec:
    singular: str
    collection: str  # the envelope key of lists and bulk bodies
    attrs: Mapping[str, Attr]
    path: str  # the URL segment under /v2.0/
    parent: str | None = None  # a sub-resource's parent collection ({parent_id} in path)


def _spec(singular: str, collection: str, *attrs: Attr, named: bool = True,
          path: str | None = None) -> ResourceSpec:
    common = (
        Attr("id", c.string(36), post=False),
        Attr("description", c.string(), default="", put=True),
        Attr("project_id", c.string(), default=UNSET),
        Attr("tenant_id", c.string(), default=UNSET),
        Attr("tags", c.list_of(c.string()), query=c.string()),
        Attr("revision_number", post=False, query=c.to_int),
        Attr("created_at", post=False),
        Attr("updated_at", post=False),
    )
    if named:
        common += (Attr("name", c.string(), default="", put=True),)
    attrs_by_name = {a.name: a for a in common + attrs}
    return ResourceSpec(singular, collection, attrs_by_name, path or collection)


_str_or_null = c.nullable(c.string())


def _lower_fqdn(value: object) -> str:
    """dns_name / dns_domain: a string of at most 255 characters, compared lower-cased
    (Neutron's convert_string_to_case_insensitive); their DNS rules are services/dns.py's."""
    return c.string(255)(value).lower()


_segment = c.dict_with((), ("provider:network_type", "provider:physical_network",
                           "provider:segmentation_id"),
                       types={"provider:network_type": _str_or_null,
                              "provider:physical_network": c.nullable(c.string(64)),
                              "provider:segmentation_id": c.nullable(c.to_int)})

NETWORK = _spec(
    "network",
    "networks",
    Attr("admin_state_up", c.to_bool, default=True, put=True),
    Attr("status", post=False),
    Attr("subnets", post=False, query=c.string()),
    Attr("shared", c.to_bool, default=False, put=True),
    Attr("router:external", c.to_bool, default=False, put=True),
    Attr("mtu", c.nullable(c.to_int), default=None, put=True),
    Attr("port_security_enabled", c.to_bool, default=True, put=True),
    Attr("qos_policy_id", c.nullable(c.string(36)), default=UNSET, put=True),
    Attr("provider:network_type", _str_or_null, put=True),
    Attr("provider:physical_network", c.nullable(c.string(64)), put=True),
    Attr("provider:segmentation_id", c.nullable(c.to_int), put=True),
    Attr("availability_zone_hints", c.az_hints, default=[], query=c.string()),
    Attr("availability_zones", post=False, query=c.string()),
    Attr("ipv4_address_scope", post=False),
    Attr("ipv6_address_scope", post=False),
    Attr("l2_adjacency", post=False, query=c.to_bool),
    # multi-provider: one segment only (services/segments.py), shown as provider:* then
    Attr("segments", c.nullable(c.list_of(_segment)), query=c.string()),
    Attr("dns_domain", _lower_fqdn, default="", put=True),
)

# Values nested in dicts are typed too: the database columns and OVN hold strings of a size.
_address = c.string(64)
_pool = c.dict_with(("start", "end"), types={"start": _address, "end": _address})
_route = c.dict_with(("destination", "nexthop"),
                     types={"destination": _address, "nexthop": _address})
_ipv6_mode = c.nullable(c.one_of("slaac", "dhcpv6-stateful", "dhcpv6-stateless"))

SUBNET = _spec(
    "subnet",
    "subnets",
    Attr("network_id", c.string(36), default=REQUIRED),
    Attr("ip_version", c.int_one_of(4, 6), default=REQUIRED),
    Attr("cidr", c.nullable(c.string(64))),  # absent or null: allocated from the pool
    Attr("gateway_ip", _str_or_null, put=True),
    Attr("allocation_pools", c.list_of(_pool), default=None, put=True, query=c.string()),
    Attr("enable_dhcp", c.to_bool, default=True, put=True),
    Attr("dns_nameservers", c.list_of(c.string(64)), default=[], put=True, query=c.string()),
    Attr("host_routes", c.list_of(_route), default=[], put=True, query=c.string()),
    Attr("ipv6_ra_mode", _ipv6_mode, default=None),
    Attr("ipv6_address_mode", _ipv6_mode, default=None),
    Attr("subnetpool_id", c.nullable(c.string(36)), default=None),
    Attr("prefixlen", c.to_int),  # not shown (Neutron's is_visible False)
    Attr("use_default_subnetpool", c.to_bool),  # not shown
    Attr("service_types", c.list_of(c.string()), default=[], put=True, query=c.string()),
    Attr("dns_publish_fixed_ip", c.to_bool, default=False, put=True),
    Attr("segment_id", post=False, query=c.string(36)),
    # not shown (Neutron's is_visible False): a filter on the network's `shared`
    Attr("shared", post=False, query=c.to_bool),
    Attr("router:external", post=False, query=c.to_bool),
)

_fixed_ip = c.dict_with((), ("subnet_id", "ip_address"),
                        types={"subnet_id": c.string(36), "ip_address": _address})
_pair = c.dict_with(("ip_address",), ("mac_address",),
                    types={"ip_address": _address, "mac_address": c.string(32)})
# The options' keys and text types are checked here; their meaning (ip_version, blank values,
# duplicates) by the port service with Neutron's words (services/dhcp_opts.py).
_dhcp_opt = c.dict_with(("opt_name", "opt_value"), ("ip_version",),
                        types={"opt_name": c.string(), "opt_value": _str_or_null})
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical",
              "virtio-forwarder", "smart-nic", "vdpa", "remote-managed", "accelerator-direct",
              "accelerator-direct-physical")
# port-numa-affinity-policy(-socket): None (Nova's flavor decides) or one of these
NUMA_POLICIES = ("required", "preferred", "legacy", "socket")

PORT = _spec(
    "port",
    "ports",
    Attr("network_id", c.string(36), default=REQUIRED),
    Attr("mac_address", c.nullable(c.string(32)), put=True, query=c.string(32)),
    Attr("admin_state_up", c.to_bool, default=True, put=True),
    Attr("status", post=False),
    Attr("device_id", c.string(), default="", put=True),
    Attr("device_owner", c.string(), default="", put=True),
    Attr("fixed_ips", c.list_of(_fixed_ip), default=None, put=True, query=c.string()),
    Attr("allowed_address_pairs", c.list_of(_pair), default=[], put=True, query=c.string()),
    Attr("extra_dhcp_opts", c.nullable(c.list_of(_dhcp_opt)), default=[], put=True,
         query=c.string()),
    Attr("port_security_enabled", c.nullable(c.to_bool), default=None, put=True,
         query=c.to_bool),
    Attr("binding:host_id", c.string(), default="", put=True),
    Attr("binding:profile", c.dict_or_empty, default={}, put=True, query=c.string()),
    Attr("binding:vnic_type", c.one_of(*VNIC_TYPES), default="normal", put=True),
    Attr("binding:vif_type", post=False),
    Attr("binding:vif_details", post=False),
    Attr("security_groups", c.unique_list_of(c.string(36)), default=None, put=True,
         query=c.string()),
    Attr("device_profile", c.nullable(c.string()), default=None),
    Attr("numa_affinity_policy", c.nullable(c.one_of(*NUMA_POLICIES)), default=None,
         put=True),
    Attr("dns_name", _lower_fqdn, default="", put=True),
    Attr("dns_domain", _lower_fqdn, default="", put=True),
    Attr("dns_assignment", post=False, filter=False, sort=False),
    Attr("trunk_details", post=False, filter=False, sort=False),  # trunk-details
    Attr("qos_policy_id", c.nullable(c.string(36)), default=None, put=True),
)

SECURITY_GROUP = _spec(
    "security_group",
    "security_groups",
    Attr("security_group_rules", post=False),
    Attr("stateful", c.to_bool, default=True, put=True),
    # a filter (security-groups-shared-filtering), not a sort key, as in neutron-lib
    Attr("shared", post=False, query=c.to_bool, sort=False),
    path="security-groups",
)

_port_number = c.nullable(c.to_int)
SECURITY_GROUP_RULE = _spec(
    "security_group_rule",
    "security_group_rules",
    Attr("security_group_id", c.string(36), default=REQUIRED),
    Attr("direction", c.one_of("ingress", "egress"), default=REQUIRED),
    Attr("ethertype", c.one_of("IPv4", "IPv6"), default="IPv4"),
    Attr("protocol", c.nullable(c.text_or_number(32)), default=None,
         query=c.string(32)),
    Attr("port_range_min", _port_number, default=None),
    Attr("port_range_max", _port_number, default=None),
    Attr("remote_ip_prefix", _str_or_null, default=None),
    Attr("remote_group_id", c.nullable(c.string(36)), default=None),
    Attr("remote_address_group_id", c.nullable(c.string(36)), default=None),
    Attr("normalized_cidr", post=False),
    Attr("belongs_to_default_sg", post=False, query=c.to_bool),
    named=False,
    path="security-group-rules",
)

_gateway_info = c.nullable(c.dict_with(
    (), ("network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"),
    types={"network_id": c.string(36), "enable_snat": c.to_bool,
           "external_fixed_ips": c.list_of(_fixed_ip),
           "qos_policy_id": c.nullable(c.string(36))}))

# Routers and floating IPs filter and sort on what neutron-lib's l3 definitions mark
# is_filter / is_sort_key (besides the standard attributes).
_HIDDEN = {"filter": False, "sort": False}
ROUTER = _spec(
    "router",
    "routers",
    Attr("admin_state_up", c.to_bool, default=True, put=True),
    Attr("status", post=False, filter=False),
    Attr("external_gateway_info", _gateway_info, default=None, put=True, **_HIDDEN),
    Attr("routes", c.empty_if_none(c.list_of(_route)), post=False, put=True, **_HIDDEN),
    Attr("availability_zone_hints", c.az_hints, default=[], **_HIDDEN),
    Attr("availability_zones", post=False, **_HIDDEN),
)

FLOATING_IP = _spec(
    "floatingip",
    "floatingips",
    Attr("floating_network_id", c.string(36), default=REQUIRED),
    Attr("floating_ip_address", _str_or_null, default=None),
    Attr("subnet_id", c.nullable(c.string(36)), default=None, **_HIDDEN),
    Attr("port_id", c.nullable(c.string(36)), default=None, put=True, sort=False),
    Attr("fixed_ip_address", _str_or_null, default=None, put=True),
    Attr("router_id", post=False),
    Attr("status", post=False),
    Attr("port_details", post=False, **_HIDDEN),
    named=False,
)

# No standard attributes (name, description, tags, revision, timestamps), as in Neutron.
RBAC_POLICY = ResourceSpec("rbac_policy", "rbac_policies", {a.name: a for a in (
    Attr("id", c.string(36), post=False),
    Attr("project_id", c.string(), default=UNSET),
    Attr("tenant_id", c.string(), default=UNSET),
    Attr("object_type", c.string(), default=REQUIRED),
    Attr("object_id", c.uuid, default=REQUIRED, query=c.string()),
    Attr("action", c.string(), default=REQUIRED),
    Attr("target_tenant", c.target_project, default=REQUIRED, put=True, query=c.string()),
)}, "rbac-policies")

_AG = _spec(
    "address_group",
    "address_groups",
    Attr("addresses", c.nullable(c.list_of(c.string(64))), default=[], query=c.string(64)),
    path="address-groups",
)
# Address groups carry no tags in Neutron.
ADDRESS_GROUP = ResourceSpec(_AG.singular, _AG.collection,
                             {k: v for k, v in _AG.attrs.items() if k != "tags"}, _AG.path)

# Rule templates carry no standard attributes (no name, revision, timestamps or tags), and
# none of theirs may change.
DEFAULT_SECURITY_GROUP_RULE = ResourceSpec(
    "default_security_group_rule", "default_security_group_rules", {a.name: a for a in (
        Attr("id", c.string(36), post=False),
        Attr("description", c.string(), default=""),
        Attr("tenant_id", c.string(), default=UNSET),
        Attr("project_id", c.string(), default=UNSET),
        *(SECURITY_GROUP_RULE.attrs[name] for name in (
            "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
            "remote_ip_prefix", "remote_group_id", "remote_address_group_id")),
        Attr("used_in_default_sg", c.to_bool, default=False),
        Attr("used_in_non_default_sg", c.to_bool, default=False),
    )}, "default-security-group-rules")

_prefixlen = c.non_negative
SUBNETPOOL = _spec(
    "subnetpool",
    "subnetpools",
    Attr("name", c.string(), default=REQUIRED, put=True),
    Attr("prefixes", c.list_of(c.string(64)), default=REQUIRED, put=True, query=c.string()),
    Attr("default_quota", c.nullable(c.non_negative), default=None, put=True),
    Attr("ip_version", post=False, query=c.to_int),
    Attr("default_prefixlen", _prefixlen, put=True),
    Attr("min_prefixlen", _prefixlen, put=True),
    Attr("max_prefixlen", _prefixlen, put=True),
    Attr("is_default", c.to_bool, default=False, put=True),
    Attr("shared", c.to_bool, default=False),
    Attr("address_scope_id", c.nullable(c.string(36)), put=True),
)

# Neutron's address scope has no standard attributes (description, tags, revision, times).
ADDRESS_SCOPE = ResourceSpec("address_scope", "address_scopes", {a.name: a for a in (
    Attr("id", c.string(36), post=False),
    Attr("name", c.string(), default="", put=True),
    Attr("project_id", c.string(), default=UNSET),
    Attr("tenant_id", c.string(), default=UNSET),
    Attr("shared", c.to_bool, default=False, put=True),
    Attr("ip_version", c.int_one_of(4, 6), default=REQUIRED),
)}, "address-scopes")

# -- service function chaining (networking-sfc's attribute maps; values checked by the
# services in networking-sfc's words) --------------------------------------------------------
_uuid = c.string(36)
_n_tuple_port = c.nullable(c.to_int)
_n_tuple = c.nullable(c.dict_with((), (
    "source_ip_prefix", "destination_ip_prefix", "source_port_range_min",
    "source_port_range_max", "destination_port_range_min", "destination_port_range_max"),
    types={"source_ip_prefix": c.nullable(c.string(64)),
           "destination_ip_prefix": c.nullable(c.string(64)),
           **{f"{side}_port_range_{end}": _n_tuple_port for side in ("source", "destination")
              for end in ("min", "max")}}))
LB_FIELDS = ("eth_src", "eth_dst", "ip_src", "ip_dst", "tcp_src", "tcp_dst", "udp_src",
             "udp_dst")

PORT_PAIR = _spec(
    "port_pair", "port_pairs",
    Attr("ingress", _uuid, default=REQUIRED),
    Attr("egress", _uuid, default=REQUIRED),
    Attr("service_function_parameters", c.nullable(c.dict_with(
        (), ("correlation", "weight"),
        types={"correlation": c.nullable(c.one_of("mpls", "nsh")), "weight": c.to_int})),
        default=None, query=c.string()),
    path="sfc/port_pairs",
)

PORT_PAIR_GROUP = _spec(
    "port_pair_group", "port_pair_groups",
    Attr("port_pairs", c.nullable(c.list_of(_uuid)), default=None, put=True,
         query=c.string()),
    Attr("port_pair_group_parameters", c.nullable(c.dict_with(
        (), ("lb_fields", "ppg_n_tuple_mapping"),
        types={"lb_fields": c.list_of(c.one_of(*LB_FIELDS)),
               "ppg_n_tuple_mapping": c.nullable(c.dict_with(
                   (), ("ingress_n_tuple", "egress_n_tuple"),
                   types={"ingress_n_tuple": _n_tuple, "egress_n_tuple": _n_tuple}))})),
        default=None, query=c.string()),
    Attr("tap_enabled", c.to_bool, default=False),
    Attr("group_id", post=False, query=c.to_int),
    path="sfc/port_pair_groups",
)

PORT_CHAIN = _spec(
    "port_chain", "port_chains",
    Attr("port_pair_groups", c.list_of(_uuid), default=REQUIRED, put=True, query=c.string()),
    Attr("flow_classifiers", c.nullable(c.list_of(_uuid)), default=None, put=True,
         query=c.string()),
    Attr("chain_parameters", c.nullable(c.dict_with(
        (), ("correlation", "symmetric"),
        types={"correlation": c.one_of("mpls", "nsh"), "symmetric": c.to_bool})),
        default=None, query=c.string()),
    Attr("chain_id", c.to_int, default=0, query=c.to_int),
    Attr("status", post=False),
    Attr("status_reason", post=False),
    path="sfc/port_chains",
)

_port_value = c.any_value  # networking-sfc's own checks (FlowClassifierInvalidPortValue)
FLOW_CLASSIFIER = _spec(
    "flow_classifier", "flow_classifiers",
    Attr("ethertype", c.nullable(c.string(8)), default=None),
    Attr("protocol", c.nullable(c.string(16)), default=None),
    *(Attr(f"{side}_port_range_{end}", _port_value, default=None, query=c.to_int)
      for side in ("source", "destination") for end in ("min", "max")),
    Attr("source_ip_prefix", c.nullable(c.string(64)), default=None),
    Attr("destination_ip_prefix", c.nullable(c.string(64)), default=None),
    Attr("logical_source_port", c.nullable(_uuid), default=None),
    Attr("logical_destination_port", c.nullable(_uuid), default=None),
    Attr("l7_parameters", c.nullable(c.dict_value), default=None, query=c.string()),
    path="sfc/flow_classifiers",
)

# trunk (neutron-lib's attribute map; the service checks sub_ports as validate_subports does)
TRUNK = _spec(
    "trunk", "trunks",
    Attr("port_id", c.string(36), default=REQUIRED),
    Attr("admin_state_up", c.to_bool, default=True, put=True),
    Attr("status", post=False),
    Attr("sub_ports", default=[], filter=False, sort=False),
)

# -- QoS (Neutron's qos extension; rules: api/qos.py) ------------------------------------------
QOS_POLICY = _spec(
    "policy", "policies",
    Attr("shared", c.to_bool, default=False, put=True),
    Attr("is_default", c.to_bool, default=False, put=True),
    Attr("rules", post=False, filter=False, sort=False),
    path="qos/policies",
)

# -- L2 gateways (networking-l2gw's attribute maps: no standard attributes) -----------------
L2_GATEWAY = ResourceSpec("l2_gateway", "l2_gateways", {a.name: a for a in (
    Attr("id", c.string(36), post=False),
    Attr("name", c.string(), default="", put=True),
    Attr("project_id", c.string(), default=UNSET),
    Attr("tenant_id", c.string(), default=UNSET),
    Attr("devices", l2gw_devices.parse_devices, default=REQUIRED, put=True, query=c.string(),
         filter=False, sort=False),
)}, "l2-gateways")

L2_GATEWAY_CONNECTION = ResourceSpec("l2_gateway_connection", "l2_gateway_connections", {
    a.name: a for a in (
        Attr("id", c.string(36), post=False),
        Attr("project_id", c.string(), default=UNSET),
        Attr("tenant_id", c.string(), default=UNSET),
        Attr("l2_gateway_id", c.string(36), default=REQUIRED),
        Attr("network_id", c.string(36), default=REQUIRED),
        Attr("segmentation_id", c.nullable(l2gw_devices.segmentation_id), default=None,
             query=c.to_int),
    )}, "l2-gateway-connections")


# -- floating IP port forwardings (neutron-lib's floating_ip_port_forwarding, -description,
# -port-ranges); a sub-resource of a floating IP ---------------------------------------------
def _port_number(value: Any) -> int:
    number = c.to_int(value)
    if not 1 <= number <= 65535:
        raise ValueError(f"'{number}' is not in range 1 through 65535")
    return number


def _port_range(value: Any) -> str:
    """"N" or "N:M" (N <= M), ports 1-65535; kept as "N:M"."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) \
        else c.string(11)(value)
    parts = text.split(":")
    try:
        if len(parts) > 2:
            raise ValueError
        first, last = (_port_number(p) for p in (parts[0], parts[-1]))
    except ValueError:
        raise ValueError(f"Invalid port range: '{preview(text)}'") from None
    if first > last:
        raise ValueError(f"Invalid port range: '{preview(text)}'")
    return f"{first}:{last}"


def _ipv4_address(value: Any) -> str:
    text = c.string(64)(value)
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(f"'{preview(text)}' is not a valid IP address") from None
    return text


PORT_FORWARDING = ResourceSpec("port_forwarding", "port_forwardings", {a.name: a for a in (
    Attr("id", c.string(36), post=False),
    Attr("project_id", c.string(), default=UNSET),  # not shown (Neutron's is_visible False)
    Attr("tenant_id", c.string(), default=UNSET),
    Attr("description", c.string(), default="", put=True),
    Attr("internal_port_id", c.uuid, put=True),
    Attr("internal_ip_address", _ipv4_address, put=True),
    Attr("internal_port", c.nullable(_port_number), put=True, query=c.to_int),
    Attr("internal_port_range", c.nullable(_port_range), put=True),
    Attr("external_port", c.nullable(_port_number), put=True, query=c.to_int),
    Attr("external_port_range", c.nullable(_port_range), put=True),
    Attr("protocol", c.one_of("tcp", "udp"), put=True),
)}, "floatingips/{parent_id}/port_forwardings", parent="floatingips")

SPECS = {spec.collection: spec for spec in (NETWORK, SUBNET, PORT, SECURITY_GROUP,
                                            SECURITY_GROUP_RULE, ROUTER, FLOATING_IP,
                                            RBAC_POLICY, ADDRESS_GROUP,
                                            DEFAULT_SECURITY_GROUP_RULE, SUBNETPOOL,
                                            ADDRESS_SCOPE, PORT_PAIR, PORT_PAIR_GROUP,
                                            PORT_CHAIN, FLOW_CLASSIFIER, TRUNK, QOS_POLICY,
                                            L2_GATEWAY, L2_GATEWAY_CONNECTION, PORT_FORWARDING)}


def parse_create(spec: ResourceSpec, body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a create body and fill in defaults; REQUIRED attributes must be present."""
    _check_known(spec, body)
    result: dict[str, Any] = {}
    for attr in spec.attrs.values():
        if attr.name in body:
            if not attr.post:
                raise errors.BadRequest(f"Attribute '{attr.name}' not allowed in POST")
            result[attr.name] = _convert(attr, body[attr.name])
        elif attr.default is REQUIRED:
            raise errors.BadRequest(f"Failed to parse request. Required attribute "
                                    f"'{attr.name}' not specified")
        elif attr.default is not UNSET and attr.post:
            result[attr.name] = _copy(attr.default)
    _merge_project(result)
    return result


def parse_update(spec: ResourceSpec, body: Mapping[str, Any]) -> dict[str, Any]:
    _check_known(spec, body)
    result = {}
    for name, value in body.items():
        attr = spec.attrs[name]
        if not attr.put:
            raise errors.BadRequest(f"Cannot update read-only attribute {name}")
        result[name] = _convert(attr, value)
    return result


def _check_known(spec: ResourceSpec, body: Mapping[str, Any]) -> None:
    unknown = [k for k in body if k not in spec.attrs]
    if unknown:
        raise errors.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")


def _convert(attr: Attr, value: Any) -> Any:
    try:
        return attr.convert(value)
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid input for {attr.name}. Reason: {exc}.") from None


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else dict(value) \
        if isinstance(value, dict) else value


def _merge_project(result: dict[str, Any]) -> None:
    project, tenant = result.pop("project_id", None), result.pop("tenant_id", None)
    if project and tenant and project != tenant:
        raise errors.BadRequest("'project_id' and 'tenant_id' do not match")
    if project or tenant:
        result["project_id"] = project or tenant

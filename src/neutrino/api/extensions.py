"""The extensions neutrino implements: `GET /v2.0/extensions` lists exactly these."""

from __future__ import annotations

UPDATED = "2026-11-26T00:00:00-00:00"

EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("agent", "agent", "The agents: OVN chassis as ML2/OVN lists them"),
    ("allowed-address-pairs", "Allowed Address Pairs", "Allowed address pairs on ports"),
    ("availability_zone", "Availability Zone",
     "availability_zones of gateway chassis and availability_zone of agents"),
    ("binding", "Port Binding", "binding:* attributes of ports"),
    ("external-net", "Neutron external network", "router:external on networks"),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "enable_snat in external_gateway_info"),
    ("extraroute", "Neutron Extra Route", "routes on routers"),
    ("empty-string-filtering", "Empty String Filtering Extension",
     "Filters with an empty value match resources whose attribute is the empty string"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra DHCP options on ports"),
    ("filter-validation", "Filter parameters validation", "Unknown filters are rejected"),
    ("ip-substring-filtering", "IP address substring filtering",
     "fixed_ips=ip_address_substr=... filters"),
    ("l2_adjacency", "L2 adjacency", "l2_adjacency on networks"),
    ("multi-provider", "Multi Provider Network",
     "segments on network create (one segment per network: a Logical_Switch has one)"),
    ("net-mtu", "Network MTU", "mtu on networks"),
    ("network-ip-availability", "Network IP Availability",
     "IP availability data for each network and subnet (admin only)"),
    ("network-ip-availability-details", "Network IP Availability Details Extension",
     "ip_availability_details on network-ip-availabilities"),
    ("network_availability_zone", "Network Availability Zone",
     "availability_zone_hints and availability_zones on networks"),
    ("net-mtu-writable", "Network MTU (writable)", "mtu may be updated"),
    ("pagination", "Pagination support", "limit and marker on lists"),
    ("port-mac-address-regenerate", "Neutron Port MAC address regenerate",
     "mac_address null on update gives an unbound port a new MAC"),
    ("port-security", "Port Security", "port_security_enabled on networks and ports"),
    ("project-id", "project_id field enabled", "project_id alongside tenant_id"),
    ("provider", "Provider Network", "provider:* attributes of networks"),
    ("router", "Neutron L3 Router", "Routers, router interfaces and floating IPs"),
    ("router_availability_zone", "Router Availability Zone",
     "availability_zone_hints on routers, honoured by gateway scheduling"),
    ("quotas", "Quota management support", "Per-project limits"),
    ("quota_details", "Quota details management support", "Limits with their usage"),
    ("revision-if-match", "If-Match constraints based on revision_number",
     "If-Match: revision_number=N on updates and deletes"),
    ("security-group", "security-group", "Security groups and their rules"),
    ("sorting", "Sorting support", "sort_key and sort_dir on lists"),
    ("standard-attr-description", "standard-attr-description", "description on resources"),
    ("standard-attr-revisions", "Resource revision numbers", "revision_number on resources"),
    ("standard-attr-tag", "Tag support for resources", "tags on resources"),
    ("standard-attr-timestamp", "Resource timestamps", "created_at and updated_at"),
    ("subnet-dns-publish-fixed-ip", "Subnet DNS publish fixed IP",
     "dns_publish_fixed_ip on subnets (stored and shown; no DNS backend)"),
    ("subnet-service-types", "Subnet service types",
     "service_types on subnets, honoured when ports get addresses"),
    ("tag-creation", "Tag creation", "tags may be given when a resource is created"),
)


def extension_list() -> list[dict[str, object]]:
    return [
        {"alias": alias, "name": name, "description": desc, "updated": UPDATED, "links": []}
        for alias, name, desc in EXTENSIONS
    ]

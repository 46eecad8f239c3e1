"""The extensions neutrino implements: `GET /v2.0/extensions` lists exactly these."""

from __future__ import annotations

UPDATED = "2026-11-26T00:00:00-00:00"

EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("agent", "agent", "The agents: OVN chassis as ML2/OVN lists them"),
    ("allowed-address-pairs", "Allowed Address Pairs", "Allowed address pairs on ports"),
    ("availability_zone", "Availability Zone",
     "availability_zones of gateway chassis and availability_zone of agents"),
    ("binding", "Port Binding", "binding:* attributes of ports"),
    ("binding-extended", "Port Bindings Extended",
     "Several bindings per port (/ports/{id}/bindings) and their activation"),
    ("external-net", "Neutron external network", "router:external on networks"),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "enable_snat in external_gateway_info"),
    ("extraroute", "Neutron Extra Route", "routes on routers"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra DHCP options on ports"),
    ("flow_classifier", "Flow Classifier",
     "networking-sfc's flow classifiers (/sfc/flow_classifiers)"),
    ("filter-validation", "Filter parameters validation", "Unknown filters are rejected"),
    ("ip-substring-filtering", "IP address substring filtering",
     "fixed_ips=ip_address_substr=... filters"),
    ("l2_adjacency", "L2 adjacency", "l2_adjacency on networks"),
    ("net-mtu", "Network MTU", "mtu on networks"),
    ("network_availability_zone", "Network Availability Zone",
     "availability_zone_hints and availability_zones on networks"),
    ("net-mtu-writable", "Network MTU (writable)", "mtu may be updated"),
    ("pagination", "Pagination support", "limit and marker on lists"),
    ("port-device-profile", "Port device profile", "device_profile on ports"),
    ("port-numa-affinity-policy", "Port NUMA affinity policy",
     "numa_affinity_policy on ports"),
    ("port-numa-affinity-policy-socket", "Port NUMA affinity policy \"socket\"",
     "numa_affinity_policy 'socket' on ports"),
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
    ("sfc", "Service Function Chaining",
     "networking-sfc's port pairs, port pair groups and port chains, realised as OVN "
     "router policies"),
    ("sorting", "Sorting support", "sort_key and sort_dir on lists"),
    ("standard-attr-description", "standard-attr-description", "description on resources"),
    ("standard-attr-revisions", "Resource revision numbers", "revision_number on resources"),
    ("standard-attr-tag", "Tag support for resources", "tags on resources"),
    ("standard-attr-timestamp", "Resource timestamps", "created_at and updated_at"),
    ("tag-creation", "Tag creation", "tags may be given when a resource is created"),
)


def extension_list() -> list[dict[str, object]]:
    return [
        {"alias": alias, "name": name, "description": desc, "updated": UPDATED, "links": []}
        for alias, name, desc in EXTENSIONS
    ]

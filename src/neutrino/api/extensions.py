"""The extensions neutrino implements: `GET /v2.0/extensions` lists exactly these."""

from __future__ import annotations

UPDATED = "2026-11-26T00:00:00-00:00"

EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("address-group", "Address group", "Address groups, realised as OVN Address_Sets"),
    ("address-scope", "Address scope", "Address scopes extension."),
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
    ("default-subnetpools", "Default Subnetpools",
     "Provides ability to mark and use a subnetpool as the default."),
    ("extraroute-atomic", "Atomically add/remove extra routes",
     "PUT /routers/{id}/add_extraroutes and remove_extraroutes"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra DHCP options on ports"),
    ("filter-validation", "Filter parameters validation", "Unknown filters are rejected"),
    ("fip-port-details", "Floating IP Port Details Extension",
     "port_details on floating IPs"),
    ("floatingip-pools", "Floating IP Pools Extension", "GET /v2.0/floatingip_pools"),
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
    ("quota-check-limit", "Quota engine limit check",
     "A new limit below the usage is refused unless forced"),
    ("quota-check-limit-default", "Quota engine limit check by default",
     "The usage is checked before a new limit is applied, by default"),
    ("quota_details", "Quota details management support", "Limits with their usage"),
    ("rbac-policies", "RBAC Policies",
     "Allows creation and modification of policies that control project access to resources"),
    ("rbac-security-groups", "Add security_group type to network RBAC",
     "Add security_group type to network RBAC"),
    ("revision-if-match", "If-Match constraints based on revision_number",
     "If-Match: revision_number=N on updates and deletes"),
    ("security-group", "security-group", "Security groups and their rules"),
    ("security-groups-default-rules", "Default rules for security groups",
     "Templates for the rules of new security groups"),
    ("security-groups-normalized-cidr", "Normalized CIDR field for security group rules",
     "normalized_cidr on security group rules"),
    ("security-groups-remote-address-group", "Remote address group id field for security "
     "group rules", "remote_address_group_id on security group rules"),
    ("security-groups-rules-belongs-to-default-sg", "Security group rule belongs to the "
     "project's default security group", "belongs_to_default_sg on security group rules"),
    ("sorting", "Sorting support", "sort_key and sort_dir on lists"),
    ("subnet-external-network", "Subnet belongs to an external network",
     "router:external on subnets"),
    ("standard-attr-description", "standard-attr-description", "description on resources"),
    ("standard-attr-revisions", "Resource revision numbers", "revision_number on resources"),
    ("standard-attr-tag", "Tag support for resources", "tags on resources"),
    ("standard-attr-timestamp", "Resource timestamps", "created_at and updated_at"),
    ("stateful-security-group", "Stateful security group",
     "stateful on security groups; stateless groups use allow-stateless ACLs"),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet "
     "pool"),
    ("subnetpool-prefix-ops", "Subnet Pool Prefix Operations",
     "Provides support for adjusting the prefix list of subnet pools"),
    ("tag-creation", "Tag creation", "tags may be given when a resource is created"),
)


def extension_list() -> list[dict[str, object]]:
    return [
        {"alias": alias, "name": name, "description": desc, "updated": UPDATED, "links": []}
        for alias, name, desc in EXTENSIONS
    ]

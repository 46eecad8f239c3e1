"""The facts translation needs, as frozen values (loaded from the database elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TranslateConfig:
    dns_servers: tuple[str, ...] = ()
    dhcp_lease_time: int = 43200
    transit_cidr: str = "169.254.128.0/30"  # every router's distributed↔gateway link
    dns_domain: str = "openstacklocal."  # Neutron's dns_domain: completes ports' names
    l3_mode: str = "gateway-router"  # or "distributed-gateway-port" (settings.l3_mode)
    fip_distributed: bool = False  # distributed floating IPs (distributed-gateway-port only)

    @property
    def distributed_gateway(self) -> bool:
        return self.l3_mode == "distributed-gateway-port"


@dataclass(frozen=True)
class NetworkFacts:
    id: str
    name: str
    revision: int
    mtu: int
    network_type: str
    physical_network: str | None
    segmentation_id: int | None
    segment_id: str
    az_hints: tuple[str, ...] = ()
    dns_ports: tuple[DnsPortFacts, ...] = ()  # its ports' names (internal DNS)


@dataclass(frozen=True)
class DnsPortFacts:
    """What a port gives its network's DNS row: its name, addresses and domain (its own
    dns_domain or its network's, keywords already substituted when it was set)."""

    port_id: str
    dns_name: str
    device_id: str
    ips: tuple[str, ...]
    domain: str = ""


@dataclass(frozen=True)
class SubnetFacts:
    id: str
    network_id: str
    revision: int
    network_mtu: int
    ip_version: int
    cidr: str
    gateway_ip: str | None
    enable_dhcp: bool
    ipv6_address_mode: str | None
    dns_nameservers: tuple[str, ...]
    host_routes: tuple[tuple[str, str], ...]
    dhcp_server_mac: str
    metadata_ip: str | None = None  # the network's metadata port's address on this subnet

    @property
    def dhcp_kind(self) -> str | None:
        """Which OVN DHCP this subnet offers: 'v4', 'v6' (stateful/stateless) or None."""
        if not self.enable_dhcp:
            return None
        if self.ip_version == 4:
            return "v4"
        if self.ipv6_address_mode in ("dhcpv6-stateful", "dhcpv6-stateless"):
            return "v6"
        return None


@dataclass(frozen=True)
class FixedIp:
    subnet_id: str
    ip_address: str
    prefixlen: int
    ip_version: int
    dhcp: bool  # the subnet offers OVN DHCP for this address family
    ra_mode: str | None = None  # IPv6 router advertisements the subnet asks routers for


@dataclass(frozen=True)
class AddressPair:
    ip_address: str
    mac_address: str


@dataclass(frozen=True)
class DhcpOpt:
    """One of a port's extra_dhcp_opts, as stored (already validated)."""

    name: str
    value: str
    ip_version: int = 4


@dataclass(frozen=True)
class BandwidthLimit:
    direction: str  # egress (from the port) | ingress (to the port)
    max_kbps: int
    max_burst_kbps: int


@dataclass(frozen=True)
class QosFacts:
    """The rules of the QoS policy a port is under (`router_id` for a router gateway's)."""

    policy_id: str
    bandwidth_limits: tuple[BandwidthLimit, ...] = ()
    dscp_mark: int | None = None
    router_id: str | None = None


@dataclass(frozen=True)
class PortFacts:
    id: str
    name: str
    network_id: str
    project_id: str
    revision: int
    mac_address: str
    admin_state_up: bool
    device_id: str
    device_owner: str
    fixed_ips: tuple[FixedIp, ...]
    port_security_enabled: bool
    allowed_address_pairs: tuple[AddressPair, ...]
    binding_host_id: str
    binding_profile: tuple[tuple[str, str], ...]
    vnic_type: str
    security_group_ids: tuple[str, ...] = ()
    network_mtu: int = 1500
    floating_ip: str | None = None  # the address of the floating IP associated with it
    extra_dhcp_opts: tuple[DhcpOpt, ...] = ()
    # the DHCP-serving subnets of its addresses: a port's own DHCP_Options row starts from them
    dhcp_subnets: tuple[SubnetFacts, ...] = ()
    # hosts a live migration takes the port to (its inactive bindings, binding:profile's
    # migrating_to) besides its active host
    migrating_to: tuple[str, ...] = ()
    # a trunk's subport: the parent port and the VLAN that tells it apart on the parent
    trunk_parent: str | None = None
    trunk_tag: int | None = None
    # the QoS policy that applies to it (its own, else its network's), if any
    qos: QosFacts | None = None
    # a VTEP-bound port: the MACs its VTEP database learnt on its VTEP logical switch
    vtep_learned: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityGroupFacts:
    id: str


@dataclass(frozen=True)
class AddressGroupFacts:
    id: str
    revision: int
    addresses: tuple[str, ...]  # normalised CIDRs, IPv4 and IPv6


@dataclass(frozen=True)
class RuleFacts:
    id: str
    security_group_id: str
    direction: str  # ingress | egress
    ethertype: str  # IPv4 | IPv6
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    remote_address_group_id: str | None = None
    stateful: bool = True  # its group's: stateless groups' rules skip conntrack


@dataclass(frozen=True)
class GatewayFacts:
    port_id: str
    network_id: str
    mac: str
    addresses: tuple[tuple[str, int], ...]  # (address, prefix length) of the gateway port
    subnet_ids: tuple[str, ...]
    nexthop: str | None  # the external subnet's gateway, the default route's next hop
    enable_snat: bool
    chassis: str | None  # where the gateway router is bound; None until scheduled
    nexthop_subnet_id: str = ""  # the external subnet the default route leads into
    tenant_mtu: int | None = None  # smallest MTU behind the router (gateway_mtu)
    # the gateway chassis by falling priority (the first is `chassis`): a distributed gateway
    # port's HA_Chassis_Group
    ha_chassis: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouterFacts:
    id: str
    name: str
    revision: int
    admin_state_up: bool
    routes: tuple[tuple[str, str], ...]  # extra routes: (destination, nexthop)
    tenant_subnets: tuple[tuple[str, str], ...]  # attached IPv4 subnets: (id, cidr)
    gateway: GatewayFacts | None
    az_hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortForwardingFacts:
    """One port forwarding of a floating IP: an external port range (per protocol) sent to
    an internal address and port range of the same length, or to one port (N:1)."""

    protocol: str  # "tcp" | "udp"
    internal_ip: str
    external: tuple[int, int]  # first and last port
    internal: tuple[int, int]


@dataclass(frozen=True)
class FloatingIpFacts:
    id: str
    revision: int
    floating_ip: str
    network_id: str  # the external network
    fip_port_mac: str  # MAC of the floating IP's own Neutron port
    port_id: str | None
    fixed_ip: str | None
    router_id: str | None
    port_forwardings: tuple[PortForwardingFacts, ...] = ()

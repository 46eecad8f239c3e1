"""A port's facts come from its own subnets and network, whatever else the caller loaded."""

from __future__ import annotations

from neutrino.db.models import IpAllocation, Network, Port, Subnet
from neutrino.reconcile.facts import port_facts


def _subnet(sid: str, net: Network, cidr: str, version: int) -> Subnet:
    return Subnet(id=sid, network=net, network_id=net.id, cidr=cidr, ip_version=version,
                  enable_dhcp=False, ipv6_ra_mode="slaac" if version == 6 else None,
                  ipv6_address_mode="slaac" if version == 6 else None, gateway_ip=None,
                  dns_nameservers=[], host_routes=[], allocation_pools=[])


def test_network_mtu_is_the_ports_own_networks() -> None:
    external, tenant = Network(id="ext", mtu=1500), Network(id="net", mtu=1442)
    subnets = {s.id: s for s in (_subnet("s-ext", external, "172.24.4.0/24", 4),
                                 _subnet("s-v6", tenant, "fd00:1::/64", 6))}
    port = Port(id="p", name="", network_id="net", project_id="x", revision_number=1,
                mac_address="fa:16:3e:00:00:01", admin_state_up=True, device_id="r",
                device_owner="network:router_interface", port_security_enabled=False,
                allowed_address_pairs=[], binding_host_id="", binding_profile={},
                binding_vnic_type="normal", extra_dhcp_opts=[],
                fixed_ips=[IpAllocation(subnet_id="s-v6", ip_address="fd00:1::1")])
    assert port_facts(port, subnets).network_mtu == 1442  # sync passes every subnet

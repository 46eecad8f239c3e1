"""A network's ports' names → its DNS row and its switch's dns_records, as whole values."""

from __future__ import annotations

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, Membership, RowKey
from neutrino.ovn.translate.dns import build_records
from neutrino.ovn.translate.inputs import DnsPortFacts, NetworkFacts, TranslateConfig
from neutrino.ovn.translate.networks import build_network

NET = "8a4b3c2d-0000-4000-8000-000000000001"
SWITCH = RowKey("Logical_Switch", "name", f"neutron-{NET}")
DNS = RowKey("DNS", "external_ids", NET, "neutron:network_id")
EXAMPLE = TranslateConfig(dns_domain="example.org.")


def port(name: str = "vm1", ips: tuple[str, ...] = ("10.0.0.5",), device: str = "d1",
         domain: str = "", port_id: str = "p1") -> DnsPortFacts:
    return DnsPortFacts(port_id, name, device, ips, domain)


def network(*ports: DnsPortFacts) -> NetworkFacts:
    return NetworkFacts(NET, "net1", 1, 1442, "geneve", None, 7, "seg", dns_ports=ports)


@pytest.mark.parametrize(("ports", "domain", "records"), [
    pytest.param((port(),), "example.org.", {
        "vm1": "10.0.0.5", "vm1.example.org": "10.0.0.5",
        "5.0.0.10.in-addr.arpa": "vm1.example.org"}, id="name-fqdn-and-reverse"),
    pytest.param((port(ips=("10.0.0.5", "fd00::5")),), "example.org.", {
        "vm1": "10.0.0.5 fd00::5", "vm1.example.org": "10.0.0.5 fd00::5",
        "5.0.0.10.in-addr.arpa": "vm1.example.org",
        "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa":
            "vm1.example.org"}, id="dual-stack"),
    pytest.param((port(),), "openstacklocal.", {
        "host-10-0-0-5": "10.0.0.5", "host-10-0-0-5.openstacklocal": "10.0.0.5",
        "5.0.0.10.in-addr.arpa": "host-10-0-0-5.openstacklocal"},
        id="default-domain-ignores-dns-name"),
    pytest.param((port(domain="net.example.com."),), "example.org.", {
        "vm1": "10.0.0.5", "vm1.example.org": "10.0.0.5", "vm1.net.example.com": "10.0.0.5",
        "5.0.0.10.in-addr.arpa": "vm1.example.org"}, id="port-or-network-domain"),
    pytest.param((port(name="vm1.example.org."),), "example.org.", {
        "vm1.example.org": "10.0.0.5", "5.0.0.10.in-addr.arpa": "vm1.example.org"},
        id="fqdn-dns-name"),
    pytest.param((port(device=""),), "example.org.", {}, id="no-device-no-records"),
    pytest.param((port(name=""),), "example.org.", {}, id="no-name-no-records"),
    pytest.param((port(), port(ips=("10.0.0.6",), port_id="p2")), "example.org.", {
        "vm1": "10.0.0.5 10.0.0.6", "vm1.example.org": "10.0.0.5 10.0.0.6",
        "5.0.0.10.in-addr.arpa": "vm1.example.org",
        "6.0.0.10.in-addr.arpa": "vm1.example.org"}, id="one-name-two-ports"),
])
def test_build_records(ports: tuple[DnsPortFacts, ...], domain: str,
                       records: dict[str, str]) -> None:
    assert build_records(ports, domain) == records


def test_network_with_names_has_a_dns_row_in_its_switch() -> None:
    state = build_network(network(port()), EXAMPLE)
    assert state.rows[1:] == (DesiredRow(DNS, {
        "records": {"vm1": "10.0.0.5", "vm1.example.org": "10.0.0.5",
                    "5.0.0.10.in-addr.arpa": "vm1.example.org"},
        "external_ids": {"ls_name": f"neutron-{NET}", "neutron:network_id": NET}}),)
    assert state.members == (Membership(SWITCH, "dns_records", DNS),)
    assert (state.owned, state.member_rows) == ((SWITCH, DNS), (DNS,))


def test_network_without_names_owns_but_wants_no_dns_row() -> None:
    state = build_network(network(port(device="")), EXAMPLE)
    assert [row.key for row in state.rows] == [SWITCH]
    assert state == DesiredState("network", NET, state.rows, (SWITCH, DNS),
                                 member_rows=(DNS,))

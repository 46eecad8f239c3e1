"""Two hypervisor chassis: a VM on each, one network, and their packets in a Geneve tunnel
over a real underlay (two userspace datapaths joined by a veth)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from lab_cloud import LabCloud, lab_cloud
from waiting import wait_for

from neutrino.lab import hypervisor, vm


@pytest.fixture(scope="module")
def cloud2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    with lab_cloud(tmp_path_factory.mktemp("labdb2"), hypervisors=2) as running:
        yield running


@pytest.fixture()
def vms_by_chassis(cloud2: LabCloud) -> Iterator[dict[str, list[vm.Vm]]]:
    """Each chassis' VMs from the test, unplugged from it afterwards even when it fails."""
    first, other = cloud2.lab, hypervisor.second(cloud2.lab)
    booted: dict[str, list[vm.Vm]] = {first.chassis: [], other.chassis: []}
    yield booted
    for lab in (first, other):
        for machine in booted[lab.chassis]:
            vm.unplug(lab, machine.port_id)


def bound_chassis(cloud: LabCloud, port_id: str) -> str:
    """The chassis SB's Port_Binding of `port_id` names, as ovn-controller claimed it."""
    sbctl = ["ovn-sbctl", f"--db={cloud.app.settings.ovn_sb}", "--timeout=10", "--bare"]
    chassis = subprocess.run([*sbctl, "--columns=chassis", "find", "Port_Binding",
                              f"logical_port={port_id}"], capture_output=True, text=True,
                             check=True, timeout=20).stdout.strip()
    return subprocess.run([*sbctl, "get", "Chassis", chassis, "name"], capture_output=True,
                          text=True, check=True, timeout=20).stdout.strip().strip('"')


def tunnel_packets(lab: hypervisor.Lab) -> dict[str, int]:
    """rx and tx packets of the chassis' Geneve ports (ovn-controller made them)."""
    names = hypervisor.vsctl(lab, "--bare", "--columns=name", "find", "Interface",
                             "type=geneve").split()
    assert names, f"no geneve port on {lab.chassis}"
    totals = {"rx_packets": 0, "tx_packets": 0}
    for name in names:
        statistics = hypervisor.vsctl(lab, "get", "Interface", name, "statistics")
        for key in totals:
            found = re.search(rf"\b{key}=(\d+)", statistics)
            totals[key] += int(found.group(1)) if found else 0
    return totals


def test_vms_on_two_chassis_ping_each_other_through_a_geneve_tunnel(
        cloud2: LabCloud, vms_by_chassis: dict[str, list[vm.Vm]]):
    first, other = cloud2.lab, hypervisor.second(cloud2.lab)
    assert (first.encap_ip, other.encap_ip) == hypervisor.UNDERLAY_ADDRESSES
    # each ovs-vswitchd routes to the other's encap address over its own br-phy
    for lab, bridge, remote in ((first, "br-phy", other.encap_ip),
                                (other, "br-phy2", first.encap_ip)):
        assert f"dev {bridge}\n" in hypervisor.appctl(lab, "ovs/route/lookup", remote)

    net, _ = cloud2.tenant_network("geneve", "10.62.0.0/24")
    port_a, a = cloud2.boot(net["id"], vms_by_chassis[first.chassis], on=first)
    port_b, b = cloud2.boot(net["id"], vms_by_chassis[other.chassis], on=other)
    assert (bound_chassis(cloud2, port_a["id"]), bound_chassis(cloud2, port_b["id"])) == (
        first.chassis, other.chassis)

    before = {lab.chassis: tunnel_packets(lab) for lab in (first, other)}
    address_a = port_a["fixed_ips"][0]["ip_address"]
    address_b = port_b["fixed_ips"][0]["ip_address"]
    assert a.ping(address_b, count=5) and b.ping(address_a, count=5)

    # OVS updates interface statistics every few seconds
    def crossed() -> bool:
        after = {lab.chassis: tunnel_packets(lab) for lab in (first, other)}
        return all(after[name][key] - before[name][key] >= 5
                   for name in after for key in ("rx_packets", "tx_packets"))
    wait_for(crossed, 15, "ping packets counted on both chassis' geneve ports")
    # each resolved the other's underlay address (by ARP over the veth) to its br-phy's MAC
    assert other.encap_ip in hypervisor.appctl(first, "tnl/arp/show")
    assert first.encap_ip in hypervisor.appctl(other, "tnl/arp/show")

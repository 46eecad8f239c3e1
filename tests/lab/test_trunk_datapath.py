"""A trunk on real packets: a VM on the trunk's parent port reaches the parent's network
untagged and, with frames tagged with a subport's segmentation id, the subport's network,
where ovn-controller takes the tag off (and puts it back on the way to the VM); frames tagged
with a VLAN id that is no subport's reach nobody.

The VM's VLAN interface is vlan_nic.py (this kernel has no 802.1Q driver): it tags and untags
in user space on the VM's eth0, as `eth0.<vid>` would. It carries the subport's own MAC (the
one Neutron allocated; a Linux `eth0.<vid>` would take the parent's unless told otherwise)
and address: the subport's port security admits only that MAC, and the VM takes only frames
to it (or broadcast) of its VLAN, so a ping answered proves the frames entered OVN as the
subport, and came back to it, not to the parent.
"""

from __future__ import annotations

import select
import subprocess
import sys
from pathlib import Path

from lab_cloud import LabCloud
from waiting import wait_for

from neutrino.lab import vm

VLAN, NOT_A_SUBPORT = 101, 102
VLAN_NIC = str(Path(__file__).with_name("vlan_nic.py"))


def _address(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


def _vlan_interface(servers: list, machine: vm.Vm, vid: int,
                    port: dict) -> subprocess.Popen[str]:
    """`eth0.<vid>` in the VM with the subport's MAC and address (vlan_nic.py in the VM's
    namespace); `servers` stops it after the test."""
    nic = subprocess.Popen(["ip", "netns", "exec", machine.namespace, sys.executable, VLAN_NIC,
                            "answer", "eth0", str(vid), port["mac_address"], _address(port)],
                           stdout=subprocess.PIPE, text=True)
    servers.append(nic)
    assert nic.stdout is not None
    wait_for(lambda: select.select([nic.stdout], [], [], 0)[0], 20, "VLAN interface up")
    assert nic.stdout.readline().strip() == "ready"
    return nic


def _remove(nic: subprocess.Popen[str]) -> None:
    nic.terminate()
    nic.wait(timeout=10)


def _vlan_ping(machine: vm.Vm, vid: int, port: dict, target: str, seconds: float = 2) -> bool:
    return machine.exec(sys.executable, VLAN_NIC, "ping", "eth0", str(vid), port["mac_address"],
                        _address(port), target, str(seconds),
                        timeout=seconds + 20).returncode == 0


def _echo_requests_received(machine: vm.Vm) -> int:
    """The ICMP echo requests the VM's kernel has received (its namespace's counter)."""
    lines = [line.split() for line in machine.exec("cat", "/proc/net/snmp").stdout.splitlines()
             if line.startswith("Icmp:")]
    return int(dict(zip(lines[0], lines[1], strict=True))["InEchos"])


def test_tagged_frames_reach_the_subport_network(cloud: LabCloud, vms, servers):
    parent_net, _ = cloud.tenant_network("trunk-parent", "10.74.0.0/24")
    sub_net, _ = cloud.tenant_network("trunk-sub", "10.74.1.0/24")
    # the VMs on the two networks the trunk's VM talks to
    parent_peer_port, parent_peer = cloud.boot(parent_net["id"], vms)
    sub_peer_port, sub_peer = cloud.boot(sub_net["id"], vms)
    sub_peer_ip = _address(sub_peer_port)

    # As Nova boots a trunk VM: the trunk first, then the parent port bound and plugged.
    parent = cloud.post("ports", {"network_id": parent_net["id"]})
    sub = cloud.post("ports", {"network_id": sub_net["id"]})
    assert sub["mac_address"] != parent["mac_address"]
    cloud.post("trunks", {"port_id": parent["id"], "sub_ports": [
        {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": VLAN}]})
    bound = cloud.api.put(f"/v2.0/ports/{parent['id']}",
                          json={"port": {"binding:host_id": cloud.lab.chassis}})
    assert bound.status_code == 200, bound.text
    trunk_vm = vm.plug(cloud.lab, parent["id"], parent["mac_address"])
    vms.append(trunk_vm)
    for port in (parent, sub):  # the subport is bound where its parent is, and up with it
        wait_for(lambda p=port: cloud.api.get(f"/v2.0/ports/{p['id']}").json()["port"][
            "status"] == "ACTIVE", 30, "port ACTIVE")
    assert cloud.api.get(f"/v2.0/ports/{sub['id']}").json()["port"][
        "binding:host_id"] == cloud.lab.chassis
    vm.dhcp(cloud.lab, trunk_vm)  # untagged, on the parent's network

    # Untagged: the parent's network, both ways.
    wait_for(lambda: trunk_vm.ping(_address(parent_peer_port), count=1), 20,
             "parent reaches its network")
    assert parent_peer.ping(_address(parent))

    # Tagged with the subport's VLAN: the subport's network, both ways.
    nic = _vlan_interface(servers, trunk_vm, VLAN, sub)
    wait_for(lambda: _vlan_ping(trunk_vm, VLAN, sub, sub_peer_ip), 20,
             "subport reaches its network")
    assert sub_peer.ping(_address(sub))

    # The same interface on a VLAN that is no subport's: its frames reach nobody.
    _remove(nic)
    nic = _vlan_interface(servers, trunk_vm, NOT_A_SUBPORT, sub)
    sub_peer.exec("ip", "neigh", "flush", "all")
    received = _echo_requests_received(sub_peer)
    assert not _vlan_ping(trunk_vm, NOT_A_SUBPORT, sub, sub_peer_ip)
    assert _echo_requests_received(sub_peer) == received
    assert not sub_peer.ping(_address(sub))

    # ... and back on the subport's VLAN it works again: it was the tag.
    _remove(nic)
    _vlan_interface(servers, trunk_vm, VLAN, sub)
    wait_for(lambda: _vlan_ping(trunk_vm, VLAN, sub, sub_peer_ip), 20,
             "subport reaches its network again")
    assert _echo_requests_received(sub_peer) > received
    assert sub_peer.ping(_address(sub))

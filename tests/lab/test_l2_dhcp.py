"""Real packets on one network: DHCP from OVN, ping, and port security."""

from __future__ import annotations

from lab_cloud import LabCloud

from neutrino.lab import hypervisor


def test_two_vms_get_their_addresses_by_dhcp_and_ping_each_other(cloud: LabCloud, vms):
    net, _ = cloud.tenant_network("l2", "10.60.0.0/24")
    first, a = cloud.boot(net["id"], vms)
    second, b = cloud.boot(net["id"], vms)
    address_a = first["fixed_ips"][0]["ip_address"]
    address_b = second["fixed_ips"][0]["ip_address"]
    assert address_a in a.exec("ip", "-4", "addr", "show", "eth0").stdout
    assert a.ping(address_b) and b.ping(address_a)


def test_a_vm_that_changes_its_address_or_mac_loses_connectivity(cloud: LabCloud, vms):
    net, _ = cloud.tenant_network("spoof", "10.61.0.0/24")
    first, a = cloud.boot(net["id"], vms)
    second, b = cloud.boot(net["id"], vms)
    address_a = first["fixed_ips"][0]["ip_address"]
    address_b = second["fixed_ips"][0]["ip_address"]
    assert a.ping(address_b)

    hypervisor.run_ip("-n", a.namespace, "addr", "add", "10.61.0.250/24", "dev", "eth0")
    assert not b.ping("10.61.0.250")  # the spoofed address is dropped
    assert a.exec("ping", "-c", "2", "-W", "1", "-I", "10.61.0.250", address_b).returncode != 0
    hypervisor.run_ip("-n", a.namespace, "addr", "del", "10.61.0.250/24", "dev", "eth0")
    assert b.ping(address_a)

    hypervisor.run_ip("-n", a.namespace, "link", "set", "eth0", "address",
                      "fa:16:3e:99:99:99")
    hypervisor.run_ip("-n", a.namespace, "neigh", "flush", "all")
    hypervisor.run_ip("-n", b.namespace, "neigh", "flush", "all")
    assert not a.ping(address_b)  # frames from an unknown MAC are dropped

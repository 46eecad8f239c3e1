"""Binding to a chassis a real ovn-controller registered: what it reports decides vif_details."""

from __future__ import annotations

from lab_cloud import LabCloud


def test_port_bound_to_the_lab_chassis_gets_ovs_on_its_netdev_datapath(cloud: LabCloud, vms):
    reported = next(c for c in cloud.app.sb.chassis() if c.name == cloud.lab.chassis)
    # the lab's OVS has no DPDK: it offers no dpdkvhostuser, so Nova plugs into OVS
    assert "dpdkvhostuser" not in reported.iface_types
    assert reported.hostname and reported.physnets == (cloud.lab.physical_network,)
    expected = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int",
                "datapath_type": "netdev"}
    net, _ = cloud.tenant_network("bind", "10.69.0.0/24")
    # Nova names the host as ovn-controller does, by hostname; the lab names its chassis
    by_hostname = cloud.post("ports", {"network_id": net["id"],
                                       "binding:host_id": reported.hostname})
    assert (by_hostname["binding:vif_type"], by_hostname["binding:vif_details"]) == (
        "ovs", expected)
    created, machine = cloud.boot(net["id"], vms)
    port = cloud.api.get(f"/v2.0/ports/{created['id']}").json()["port"]
    assert (port["status"], port["binding:vif_type"], port["binding:vif_details"]) == (
        "ACTIVE", "ovs", expected)
    unmapped = cloud.post("networks", {"name": "elsewhere", "provider:network_type": "flat",
                                       "provider:physical_network": "physnet-none"})
    refused = cloud.post("ports", {"network_id": unmapped["id"],
                                   "binding:host_id": cloud.lab.chassis})
    assert (refused["binding:vif_type"], refused["binding:vif_details"]) == (
        "binding_failed", {})

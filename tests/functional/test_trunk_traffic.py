"""A trunk's VLAN on the data path.

ovn-controller demultiplexes what arrives on the parent's interface by VLAN tag: a frame
tagged with a subport's segmentation id enters OVN, untagged, as that subport on the
subport's network (and the subport's traffic leaves on the parent tagged). It does so from
the southbound Port_Binding northd derives from the subport's switch port: `parent_port`
and `tag`. ovn-trace (23.03) starts after that demultiplexing, at the logical inport, so the
proof is both halves: the binding that maps (parent, VLAN) to the subport, and a trace of the
demultiplexed packet delivered on the subport's network (and back to the subport).
"""

from __future__ import annotations

import json

from nb_state import wait_journal_idle
from ovn_tools import delivered_to, sbctl, trace, wait_sb_synced


def _post(api, collection: str, body: dict) -> dict:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def _ip4(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


def _flow(src: dict, dst: dict) -> str:
    return (f'inport == "{src["id"]}" && eth.src == {src["mac_address"]} && '
            f'eth.dst == {dst["mac_address"]} && ip4.src == {_ip4(src)} && '
            f'ip4.dst == {_ip4(dst)} && ip.ttl == 64 && udp && udp.dst == 53')


def _binding(local_ovn, port_id: str) -> dict:
    found = json.loads(sbctl(local_ovn, "--format=json", "--columns=parent_port,tag",
                             "find", "Port_Binding", f"logical_port={port_id}"))
    assert len(found["data"]) == 1, found
    parent, tag = found["data"][0]
    return {"parent_port": parent if isinstance(parent, str) else None,
            "tag": tag if isinstance(tag, int) else None}


def test_vlan_of_the_parent_is_the_subport_on_its_network(api, neutrino, local_ovn):
    plain = {"port_security_enabled": False, "security_groups": []}
    nets = []
    for i in range(2):
        net = _post(api, "networks", {"name": f"trunk-trace-{i}"})
        _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                               "cidr": f"10.88.{i}.0/24"})
        nets.append(net)
    parent = _post(api, "ports", {"network_id": nets[0]["id"], **plain})
    sub = _post(api, "ports", {"network_id": nets[1]["id"], **plain})
    peer = _post(api, "ports", {"network_id": nets[1]["id"], **plain})
    trunk = _post(api, "trunks", {"port_id": parent["id"], "sub_ports": [
        {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 101}]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    # VLAN 101 on the parent's interface is the subport
    assert _binding(local_ovn, sub["id"]) == {"parent_port": parent["id"], "tag": 101}
    assert _binding(local_ovn, parent["id"]) == {"parent_port": None, "tag": None}
    # ... which OVN delivers on the subport's network, and answers back to it
    subnet = f"neutron-{nets[1]['id']}"
    assert delivered_to(trace(local_ovn, subnet, _flow(sub, peer))) == {peer["id"]}
    assert delivered_to(trace(local_ovn, subnet, _flow(peer, sub))) == {sub["id"]}

    # once removed from the trunk, VLAN 101 on the parent means nothing any more
    response = api.put(f"/v2.0/trunks/{trunk['id']}/remove_subports",
                       json={"sub_ports": [{"port_id": sub["id"]}]})
    assert response.status_code == 200, response.text
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)
    assert _binding(local_ovn, sub["id"]) == {"parent_port": None, "tag": None}

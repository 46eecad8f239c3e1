"""`neutrino sync` over port forwardings' Load_Balancers, changed behind neutrino's back:
missing, stale, detached and stray balancers are found and repaired; others' are not touched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import caught_up, one, rows, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture()
def app(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({"NEUTRINO_STATE_DIR": str(tmp_path),
                                    "NEUTRINO_OVN_NB": private_ovn.nb,
                                    "NEUTRINO_OVN_SB": private_ovn.sb,
                                    # the test's tampering is found by the test, not by
                                    # maintenance's audit racing it
                                    "NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0"}))
    neutrino.start()
    try:
        yield neutrino
    finally:
        neutrino.stop()


def _post(client: TestClient, path: str, body: dict) -> dict:
    singular = path.rsplit("/", 1)[-1].replace("-", "_")[:-1]
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _forwarding_world(client: TestClient) -> dict:
    ext = _post(client, "networks", {"name": "ext", "router:external": True})
    _post(client, "subnets", {"network_id": ext["id"], "ip_version": 4,
                              "cidr": "172.30.0.0/24"})
    net = _post(client, "networks", {"name": "tenant"})
    subnet = _post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                       "cidr": "10.30.0.0/24"})
    router = _post(client, "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    client.put(f"/v2.0/routers/{router['id']}/add_router_interface",
               json={"subnet_id": subnet["id"]})
    vm = _post(client, "ports", {"network_id": net["id"]})
    fip = _post(client, "floatingips", {"floating_network_id": ext["id"]})
    for proto, outside, inside in (("tcp", 2222, 22), ("udp", 5353, 53)):
        _post(client, f"floatingips/{fip['id']}/port_forwardings", {
            "internal_port_id": vm["id"], "protocol": proto, "internal_port": inside,
            "external_port": outside})
    return {"router": router, "fip": fip, "vm": vm}


def test_balancers_are_compared_and_repaired_and_others_left_alone(app, private_ovn):
    with TestClient(app.app) as client:
        world = _forwarding_world(client)
    wait_journal_idle(app)
    fip_id, address = world["fip"]["id"], world["fip"]["floating_ip_address"]
    tcp, udp = f"pf-floatingip-{fip_id}-tcp", f"pf-floatingip-{fip_id}-udp"
    gateway = f"neutron-gw-{world['router']['id']}"
    nbctl(private_ovn, "set", "Load_Balancer", tcp, f'vips:"{address}:2222"="10.9.9.9:22"')
    nbctl(private_ovn, "lr-lb-del", gateway, tcp)  # tampered with, and detached
    nbctl(private_ovn, "destroy", "Load_Balancer", udp)  # ...and lost
    stray = str(uuid.uuid4())  # a forwarding balancer of a floating IP nobody has
    nbctl(private_ovn, "lb-add", f"pf-floatingip-{stray}-tcp", "172.30.0.99:80", "10.0.0.1:80")
    nbctl(private_ovn, "set", "Load_Balancer", f"pf-floatingip-{stray}-tcp",
          f'external_ids:"neutron:fip_id"="{stray}"',
          'external_ids:"neutron:device_owner"="port_forwarding_plugin"')
    # someone else's balancer on our gateway router: not ours, never touched
    nbctl(private_ovn, "lb-add", "octavia-lb", "172.30.0.98:443", "10.30.0.50:443")
    nbctl(private_ovn, "lr-lb-add", gateway, "octavia-lb")
    caught_up(app, private_ovn)

    found = {(d.kind.value, d.resource_type, d.resource_id, d.row)
             for d in app.sync.compare().differences}
    assert found == {
        ("stale", "floating_ip", fip_id, f"Load_Balancer(name={tcp})"),
        ("missing", "floating_ip", fip_id, f"Load_Balancer(name={udp})"),
        ("extra", "floating_ip", stray, f"Load_Balancer(name=pf-floatingip-{stray}-tcp)")}
    repaired = app.sync.repair()
    wait_journal_idle(app)
    after = app.sync.compare()
    assert after.differences == [], (repaired, after)
    balancers = {lb["name"]: lb for lb in rows(app, "Load_Balancer")}
    inside = world["vm"]["fixed_ips"][0]["ip_address"]
    assert balancers[tcp]["vips"] == {f"{address}:2222": f"{inside}:22"}, (repaired, after)
    assert udp in balancers and f"pf-floatingip-{stray}-tcp" not in balancers
    attached = set(one(app, "Logical_Router", name=gateway)["load_balancer"])
    assert attached == {balancers[name]["_uuid"] for name in (tcp, udp, "octavia-lb")}

    # a balancer that only left its router is drift too
    nbctl(private_ovn, "lr-lb-del", gateway, udp)
    caught_up(app, private_ovn)
    assert [(d.resource_id, d.row) for d in app.sync.compare().differences] == [
        (fip_id, f"Load_Balancer(name={udp})")]
    app.sync.repair()
    wait_journal_idle(app)
    assert balancers[udp]["_uuid"] in one(app, "Logical_Router", name=gateway)["load_balancer"]

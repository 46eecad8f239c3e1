"""Port addresses as Neutron gives them: a second address of one subnet, SLAAC addresses
that follow subnets in and out, and conflicts that are never retried into a 503."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import one, wait_journal_idle
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def neutrino(request: pytest.FixtureRequest, local_ovn: LocalOvn,
             tmp_path: Path) -> Iterator[Neutrino]:
    env = {"NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": local_ovn.nb,
           "NEUTRINO_OVN_SB": local_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off"}
    if request.param == "postgresql":
        env["NEUTRINO_DB_URL"] = request.getfixturevalue("pg_url")
    app = build(load_settings(env))
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture()
def api(neutrino: Neutrino) -> Iterator[TestClient]:
    with TestClient(neutrino.app) as client:
        yield client


def _post(api, collection: str, body: dict) -> dict:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def _v4_net(api):
    net = _post(api, "networks", {"name": "n"})
    sub = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                 "cidr": "10.9.0.0/24"})
    return net, sub


def test_a_second_address_of_the_same_subnet_by_address(api, neutrino, caplog):
    net, sub = _v4_net(api)
    port = _post(api, "ports", {"network_id": net["id"]})
    mine = port["fixed_ips"][0]["ip_address"]
    other = "10.9.0.200" if mine != "10.9.0.200" else "10.9.0.201"
    caplog.set_level(logging.DEBUG, logger="neutrino.db.engine")
    answer = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"fixed_ips": [
        {"ip_address": mine}, {"ip_address": other}]}})
    assert answer.status_code == 200, answer.text
    # the port's own address is no lost race: the first attempt answers
    assert not [r for r in caplog.records if "lost a race" in r.getMessage()]
    got = {ip["ip_address"] for ip in answer.json()["port"]["fixed_ips"]}
    assert got == {mine, other}
    wait_journal_idle(neutrino)
    lsp = one(neutrino, "Logical_Switch_Port", name=port["id"])
    assert set(lsp["addresses"][0].split()[1:]) == {mine, other}


def test_a_second_address_of_the_same_subnet_by_subnet(api):
    net, sub = _v4_net(api)
    port = _post(api, "ports", {"network_id": net["id"]})
    mine = port["fixed_ips"][0]["ip_address"]
    answer = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"fixed_ips": [
        {"ip_address": mine, "subnet_id": sub["id"]}, {"subnet_id": sub["id"]}]}})
    assert answer.status_code == 200, answer.text
    ips = [ip["ip_address"] for ip in answer.json()["port"]["fixed_ips"]]
    assert len(ips) == 2 and mine in ips and len(set(ips)) == 2


def test_an_address_another_port_holds_is_409_at_once(api, caplog):
    net, sub = _v4_net(api)
    first = _post(api, "ports", {"network_id": net["id"]})
    second = _post(api, "ports", {"network_id": net["id"]})
    theirs = first["fixed_ips"][0]["ip_address"]
    mine = second["fixed_ips"][0]["ip_address"]
    caplog.set_level(logging.DEBUG, logger="neutrino.db.engine")
    answer = api.put(f"/v2.0/ports/{second['id']}", json={"port": {"fixed_ips": [
        {"ip_address": mine}, {"ip_address": theirs}]}})
    assert answer.status_code == 409, answer.text
    assert answer.json()["NeutronError"]["type"] == "IpAddressAlreadyAllocated"
    # a deterministic conflict is answered by the first attempt, never rerun as a lost race
    assert not [r for r in caplog.records if "lost a race" in r.getMessage()]


def _eui64(prefix: str, mac: str) -> str:
    octets = bytes.fromhex(mac.replace(":", ""))
    suffix = bytes([octets[0] ^ 0x02, octets[1], octets[2], 0xFF, 0xFE, *octets[3:]])
    return str(ipaddress.ip_network(prefix)[int.from_bytes(suffix, "big")])


def _lsp_addresses(app, port_id: str) -> set[str]:
    return set(one(app, "Logical_Switch_Port", name=port_id)["addresses"][0].split()[1:])


def _slaac(api, net_id: str, cidr: str = "fd00:5::/64", mode: str = "slaac") -> dict:
    return _post(api, "subnets", {"network_id": net_id, "ip_version": 6, "cidr": cidr,
                                  "ipv6_address_mode": mode, "ipv6_ra_mode": mode})


@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_a_new_auto_address_subnet_gives_every_port_its_address(api, neutrino, mode):
    net, sub = _v4_net(api)
    port = _post(api, "ports", {"network_id": net["id"]})
    router = _post(api, "routers", {"name": "r"})
    added = api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                    json={"subnet_id": sub["id"]})
    assert added.status_code == 200, added.text
    interface = added.json()["port_id"]
    v6 = _slaac(api, net["id"], mode=mode)
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    expected = _eui64("fd00:5::/64", port["mac_address"])
    assert {"subnet_id": v6["id"], "ip_address": expected} in shown["fixed_ips"]
    assert shown["revision_number"] > port["revision_number"]
    router_port = api.get(f"/v2.0/ports/{interface}").json()["port"]
    assert [ip["subnet_id"] for ip in router_port["fixed_ips"]] == [sub["id"]]
    wait_journal_idle(neutrino)
    assert expected in _lsp_addresses(neutrino, port["id"])


def test_deleting_an_auto_address_subnet_takes_its_addresses_back(api, neutrino):
    net, sub = _v4_net(api)
    v6 = _slaac(api, net["id"])
    port = _post(api, "ports", {"network_id": net["id"]})
    assert len(port["fixed_ips"]) == 2
    wait_journal_idle(neutrino)
    answer = api.delete(f"/v2.0/subnets/{v6['id']}")
    assert answer.status_code == 204, answer.text
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert [ip["subnet_id"] for ip in shown["fixed_ips"]] == [sub["id"]]
    wait_journal_idle(neutrino)
    assert _lsp_addresses(neutrino, port["id"]) == {shown["fixed_ips"][0]["ip_address"]}


def test_an_auto_address_subnet_a_router_uses_stays_in_use(api):
    net, _ = _v4_net(api)
    v6 = _slaac(api, net["id"])
    router = _post(api, "routers", {"name": "r"})
    added = api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                    json={"subnet_id": v6["id"]})
    assert added.status_code == 200, added.text
    answer = api.delete(f"/v2.0/subnets/{v6['id']}")
    assert answer.status_code == 409, answer.text
    assert answer.json()["NeutronError"]["type"] == "SubnetInUse"


def test_a_port_naming_only_ipv4_subnets_still_gets_its_slaac_address(api, neutrino):
    net, sub = _v4_net(api)
    v6 = _slaac(api, net["id"])
    port = _post(api, "ports", {"network_id": net["id"],
                                "fixed_ips": [{"subnet_id": sub["id"]}]})
    expected = _eui64("fd00:5::/64", port["mac_address"])
    assert {"subnet_id": v6["id"], "ip_address": expected} in port["fixed_ips"]
    wait_journal_idle(neutrino)
    assert expected in _lsp_addresses(neutrino, port["id"])

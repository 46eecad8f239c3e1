"""Internal DNS through the API into a real OVN NB: dns_name / dns_domain / dns_assignment,
Neutron's validation, filters, the network's DNS row in its switch's dns_records, domain
keywords, and sync compare / repair that leaves others' DNS rows alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nb_state import caught_up, one, rows, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

DOMAIN = "example.org."


def _start(ovn: LocalOvn, state: Path, domain: str = DOMAIN) -> Neutrino:
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
        "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_DNS_DOMAIN": domain, "NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0"}))
    app.start()
    wait_for(lambda: app.nb.connected, 20, "NB connection")
    return app


@pytest.fixture()
def app(local_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = _start(local_ovn, tmp_path)
    try:
        yield neutrino
    finally:
        neutrino.stop()


@pytest.fixture()
def client(app: Neutrino) -> Iterator[TestClient]:
    with TestClient(app.app) as test_client:
        yield test_client


def _post(api: TestClient, collection: str, body: dict[str, Any],
          headers: dict[str, str] | None = None) -> dict[str, Any]:
    singular = collection[:-1]
    response = api.post(f"/v2.0/{collection}", json={singular: body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _put(api: TestClient, collection: str, rid: str, body: dict[str, Any]) -> dict[str, Any]:
    singular = collection[:-1]
    response = api.put(f"/v2.0/{collection}/{rid}", json={singular: body})
    assert response.status_code == 200, response.text
    return response.json()[singular]


def _network(api: TestClient, third: int, **extra: Any) -> tuple[dict, dict]:
    net = _post(api, "networks", {"name": f"dns-{third}", **extra})
    sub = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                 "cidr": f"10.{third}.0.0/24"})
    return net, sub


def _ip(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


def _dns_row(app: Neutrino, net_id: str) -> dict | None:
    found = rows(app, "DNS", external_ids={"neutron:network_id": net_id})
    assert len(found) <= 1, found
    return found[0] if found else None


# -- the API ---------------------------------------------------------------------------------


def test_attributes_assignment_and_update(client):
    net, sub = _network(client, 71, dns_domain="Net.Example.COM.")
    assert net["dns_domain"] == "net.example.com."  # compared lower-cased, as Neutron
    port = _post(client, "ports", {"network_id": net["id"], "dns_name": "VM1",
                                   "device_id": "server-1"})
    ip = _ip(port)
    assert (port["dns_name"], port["dns_domain"]) == ("vm1", "")
    assert port["dns_assignment"] == [
        {"hostname": "vm1", "ip_address": ip, "fqdn": "vm1.example.org."}]
    plain = _post(client, "ports", {"network_id": net["id"]})
    assert plain["dns_assignment"] == [
        {"hostname": "host-" + _ip(plain).replace(".", "-"), "ip_address": _ip(plain),
         "fqdn": "host-" + _ip(plain).replace(".", "-") + ".example.org."}]

    updated = _put(client, "ports", port["id"], {"dns_name": "vm2.example.org.",
                                                 "dns_domain": "port.example.net."})
    assert updated["revision_number"] > port["revision_number"]
    assert (updated["dns_name"], updated["dns_domain"]) == ("vm2.example.org.",
                                                            "port.example.net.")
    assert updated["dns_assignment"] == [
        {"hostname": "vm2.example.org.", "ip_address": ip, "fqdn": "vm2.example.org."}]
    assert client.get(f"/v2.0/ports/{port['id']}").json()["port"] == updated
    again = _put(client, "networks", net["id"], {"dns_domain": ""})
    assert again["dns_domain"] == ""
    assert sub


def test_filters(client):
    net, _ = _network(client, 72, dns_domain="filter.example.")
    port = _post(client, "ports", {"network_id": net["id"], "dns_name": "findme"})
    _post(client, "ports", {"network_id": net["id"], "dns_name": "other"})
    found = client.get("/v2.0/ports", params={"dns_name": "FindMe"}).json()["ports"]
    assert [p["id"] for p in found] == [port["id"]]
    nets = client.get("/v2.0/networks", params={"dns_domain": "filter.example."}).json()
    assert [n["id"] for n in nets["networks"]] == [net["id"]]
    fields = client.get(f"/v2.0/ports/{port['id']}", params={"fields": "dns_assignment"})
    assert list(fields.json()["port"]) == ["dns_assignment"]
    refused = client.get("/v2.0/ports", params={"dns_assignment": "x"})
    assert refused.status_code == 400, refused.text


@pytest.mark.parametrize(("collection", "body", "reason"), [
    ("ports", {"dns_name": "-bad"}, "must not start or end with a hyphen"),
    ("ports", {"dns_name": "a_b"}, "must be 1-63 characters long"),
    ("ports", {"dns_name": "vm.123"}, "must not be all numeric"),
    ("ports", {"dns_name": "vm1.other.org."}, "must be equal to the dns_domain option"),
    ("ports", {"dns_name": "x" * 256}, "exceeds maximum length of 255"),
    ("ports", {"dns_name": 5}, "is not a valid string"),
    ("ports", {"dns_domain": "no-dot.org"}, "is not a FQDN"),
    ("ports", {"dns_assignment": []}, "dns_assignment"),
    ("networks", {"dns_domain": "no-dot.org"}, "is not a FQDN"),
    ("networks", {"dns_domain": "a..b."}, "Encountered an empty component"),
    ("networks", {"dns_domain": "<tenant_id>.org."}, "must be 1-63 characters long"),
])
def test_invalid_values_are_400_and_change_nothing(client, collection, body, reason):
    net, _ = _network(client, 73)
    port = _post(client, "ports", {"network_id": net["id"], "dns_name": "keep"})
    target = port if collection == "ports" else net
    before = client.get(f"/v2.0/{collection}/{target['id']}").json()
    singular = collection[:-1]
    for response in (
        client.put(f"/v2.0/{collection}/{target['id']}", json={singular: body}),
        client.post(f"/v2.0/{collection}", json={singular: {
            **({"network_id": net["id"]} if collection == "ports" else {}), **body}}),
    ):
        assert response.status_code == 400, response.text
        fault = response.json()["NeutronError"]
        assert fault["type"] in ("BadRequest", "InvalidInput", "HTTPBadRequest"), fault
        assert reason in fault["message"], fault
    assert client.get(f"/v2.0/{collection}/{target['id']}").json() == before


def test_default_domain_keeps_dns_name_out_of_the_assignment(local_ovn, tmp_path):
    app = _start(local_ovn, tmp_path, "openstacklocal")
    try:
        with TestClient(app.app) as api:
            net, _ = _network(api, 74)
            # any FQDN passes: with the default domain only the format is checked
            port = _post(api, "ports", {"network_id": net["id"], "dns_name": "vm1.other.org.",
                                        "device_id": "server-1"})
            host = "host-" + _ip(port).replace(".", "-")
            assert port["dns_assignment"] == [{"hostname": host, "ip_address": _ip(port),
                                               "fqdn": f"{host}.openstacklocal."}]
        wait_journal_idle(app)
        assert _dns_row(app, net["id"])["records"][host] == _ip(port)
    finally:
        app.stop()


# -- OVN NB ----------------------------------------------------------------------------------


def test_dns_row_follows_the_ports(app, client):
    net, _ = _network(client, 75, dns_domain="net.example.com.")
    vm1 = _post(client, "ports", {"network_id": net["id"], "dns_name": "vm1",
                                  "device_id": "server-1"})
    unnamed = _post(client, "ports", {"network_id": net["id"], "device_id": "server-2"})
    no_device = _post(client, "ports", {"network_id": net["id"], "dns_name": "ghost"})
    wait_journal_idle(app)
    ip1 = _ip(vm1)
    reverse = ".".join(reversed(ip1.split("."))) + ".in-addr.arpa"
    row = _dns_row(app, net["id"])
    assert row["records"] == {"vm1": ip1, "vm1.example.org": ip1,
                              "vm1.net.example.com": ip1, reverse: "vm1.example.org"}
    assert row["external_ids"] == {"ls_name": f"neutron-{net['id']}",
                                   "neutron:network_id": net["id"]}
    switch = one(app, "Logical_Switch", name=f"neutron-{net['id']}")
    assert switch["dns_records"] == [row["_uuid"]]
    assert unnamed and no_device

    _put(client, "ports", vm1["id"], {"dns_name": "web"})
    _put(client, "ports", no_device["id"], {"device_id": "server-3"})
    wait_journal_idle(app)
    ip3 = _ip(no_device)
    records = _dns_row(app, net["id"])["records"]
    assert records["web.example.org"] == ip1 and records["ghost.example.org"] == ip3
    assert "vm1" not in records and "vm1.example.org" not in records
    assert records[reverse] == "web.example.org"

    _put(client, "ports", vm1["id"], {"dns_name": ""})
    client.delete(f"/v2.0/ports/{no_device['id']}")
    wait_journal_idle(app)
    assert _dns_row(app, net["id"]) is None  # nothing to serve: no row
    assert one(app, "Logical_Switch", name=f"neutron-{net['id']}")["dns_records"] == []

    _put(client, "ports", vm1["id"], {"dns_name": "back"})
    wait_journal_idle(app)
    assert _dns_row(app, net["id"])["records"]["back"] == ip1
    client.delete(f"/v2.0/ports/{vm1['id']}")
    client.delete(f"/v2.0/ports/{unnamed['id']}")
    assert client.delete(f"/v2.0/networks/{net['id']}").status_code == 204
    wait_journal_idle(app)
    assert _dns_row(app, net["id"]) is None


def test_domain_keywords_are_filled_from_the_request(app, client):
    net, _ = _network(client, 76, dns_domain="<project_id>.example.com.")
    headers = {"X-Project-Id": "proj7"}
    port = _post(client, "ports", {"network_id": net["id"], "dns_name": "vm1",
                                   "device_id": "server-1", "project_id": "proj7"},
                 headers=headers)
    own = _post(client, "ports", {"network_id": net["id"], "dns_name": "vm2",
                                  "device_id": "server-2",
                                  "dns_domain": "<project_id>.<user_name>.example.net."},
                headers=headers)
    assert net["dns_domain"] == "<project_id>.example.com."  # shown as written
    assert own["dns_domain"] == "<project_id>.<user_name>.example.net."
    wait_journal_idle(app)
    records = _dns_row(app, net["id"])["records"]
    assert records["vm1.proj7.example.com"] == _ip(port)
    # a keyword without a value in the request stays as written (as Neutron)
    assert records["vm2.proj7.<user_name>.example.net"] == _ip(own)


# -- sync ------------------------------------------------------------------------------------


def test_sync_repairs_dns_rows_and_leaves_others_alone(private_ovn, tmp_path):
    app = _start(private_ovn, tmp_path)
    try:
        with TestClient(app.app) as api:
            nets = [_network(api, third)[0] for third in (77, 78, 79)]
            for net in nets:
                _post(api, "ports", {"network_id": net["id"], "dns_name": "vm",
                                     "device_id": "server"})
        wait_journal_idle(app)
        gone, changed, unlisted = nets
        expected = {n["id"]: _dns_row(app, n["id"]) for n in nets}
        nbctl(private_ovn, "destroy", "DNS", expected[gone["id"]]["_uuid"])
        nbctl(private_ovn, "set", "DNS", expected[changed["id"]]["_uuid"], "records:vm=10.9.9.9")
        nbctl(private_ovn, "clear", "Logical_Switch", f"neutron-{unlisted['id']}",
              "dns_records")
        ghost = "99999999-0000-4000-8000-000000000099"
        nbctl(private_ovn, "create", "DNS", f"external_ids:ls_name=neutron-{ghost}",
              f'external_ids:"neutron:network_id"={ghost}', "records:x=10.0.0.1")
        # ML2/OVN's own row (no key of ours), even one naming our network: never touched
        foreign = nbctl(private_ovn, "create", "DNS",
                        f"external_ids:ls_name=neutron-{changed['id']}",
                        "records:other=10.1.1.1").strip()
        caught_up(app, private_ovn)

        found = {(d.kind.value, d.resource_type, d.resource_id, d.row)
                 for d in app.sync.compare().differences}
        key = "DNS(external_ids:neutron:network_id={})"
        assert found == {
            ("missing", "network", gone["id"], key.format(gone["id"])),
            ("stale", "network", changed["id"], key.format(changed["id"])),
            # its membership of the switch's dns_records is what is missing
            ("stale", "network", unlisted["id"], key.format(unlisted["id"])),
            ("extra", "network", ghost, key.format(ghost)),
        }, found

        app.sync.repair()
        assert app.sync.compare().differences == []
        for net in nets:
            row = _dns_row(app, net["id"])
            assert row["records"] == expected[net["id"]]["records"]
            switch = one(app, "Logical_Switch", name=f"neutron-{net['id']}")
            assert switch["dns_records"] == [row["_uuid"]]
        assert _dns_row(app, ghost) is None
        assert one(app, "DNS", _uuid=foreign)["records"] == {"other": "10.1.1.1"}
    finally:
        app.stop()


def test_extensions_are_listed(client):
    aliases = {e["alias"] for e in client.get("/v2.0/extensions").json()["extensions"]}
    assert {"dns-integration", "dns-domain-ports", "dns-integration-domain-keywords",
            "subnet-dns-publish-fixed-ip"} <= aliases

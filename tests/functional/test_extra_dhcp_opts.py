"""extra_dhcp_opts through the API into a real OVN NB: a port's own DHCP_Options rows, their
removal, dhcp_disabled, sync repair, and the DHCP reply ovn-trace shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nb_state import caught_up, one, rows, wait_journal_idle
from ovn_tools import nbctl, trace, wait_sb_synced
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


def _post(api: TestClient, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    singular = collection.replace("-", "_")[:-1]
    response = api.post(f"/v2.0/{collection}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _put_port(api: TestClient, port_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.put(f"/v2.0/ports/{port_id}", json={"port": body})
    assert response.status_code == 200, response.text
    return response.json()["port"]


def _dual_stack(api: TestClient, third: int) -> tuple[dict, dict, dict]:
    net = _post(api, "networks", {"name": f"edo-{third}"})
    sub4 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": f"10.{third}.0.0/24"})
    sub6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                  "cidr": f"fd00:{third}::/64",
                                  "ipv6_address_mode": "dhcpv6-stateful",
                                  "ipv6_ra_mode": "dhcpv6-stateful"})
    return net, sub4, sub6


def _dhcp_rows(app: Neutrino, subnet_id: str) -> tuple[dict, list[dict]]:
    """(the subnet's own row, the per-port rows for that subnet)."""
    found = rows(app, "DHCP_Options", external_ids={"subnet_id": subnet_id})
    shared = [r for r in found if "port_id" not in r["external_ids"]]
    assert len(shared) == 1, found
    return shared[0], [r for r in found if "port_id" in r["external_ids"]]


def _lsp(app: Neutrino, port_id: str) -> dict:
    return one(app, "Logical_Switch_Port", name=port_id)


def test_options_create_update_and_remove(api, neutrino):
    net, sub4, sub6 = _dual_stack(api, 61)
    port = _post(api, "ports", {"network_id": net["id"], "extra_dhcp_opts": [
        {"opt_name": "mtu", "opt_value": "1400"},
        {"opt_name": "domain-name", "opt_value": "example.org", "ip_version": 4},
        {"opt_name": "not-known-to-ovn", "opt_value": "x"},
    ]})
    assert port["extra_dhcp_opts"] == [
        {"opt_name": "mtu", "opt_value": "1400", "ip_version": 4},
        {"opt_name": "domain-name", "opt_value": "example.org", "ip_version": 4},
        {"opt_name": "not-known-to-ovn", "opt_value": "x", "ip_version": 4},
    ]
    wait_journal_idle(neutrino)

    shared4, own4 = _dhcp_rows(neutrino, sub4["id"])
    shared6, own6 = _dhcp_rows(neutrino, sub6["id"])
    assert len(own4) == 1 and own6 == []
    row = own4[0]
    # the subnet's row, overridden and extended by the port's (OVN's names, strings quoted)
    assert row["options"] == {**shared4["options"], "mtu": "1400",
                              "domain_name": '"example.org"'}
    assert row["cidr"] == shared4["cidr"] == "10.61.0.0/24"
    assert row["external_ids"] == {
        "subnet_id": sub4["id"], "neutron:network_id": net["id"], "port_id": port["id"],
        "neutron:port_dhcp_key": f"{port['id']} 4",
        "neutron:revision_number": str(port["revision_number"])}
    lsp = _lsp(neutrino, port["id"])
    assert (lsp["dhcpv4_options"], lsp["dhcpv6_options"]) == (row["_uuid"], shared6["_uuid"])

    # update: merge by (name, version): change one, drop one, add an IPv6 one
    port = _put_port(api, port["id"], {"extra_dhcp_opts": [
        {"opt_name": "mtu", "opt_value": "1300"},
        {"opt_name": "domain-name", "opt_value": None},
        {"opt_name": "dns-server", "opt_value": "{2001:db8::1}", "ip_version": 6},
    ]})
    assert [(o["opt_name"], o["ip_version"]) for o in port["extra_dhcp_opts"]] == \
        [("mtu", 4), ("not-known-to-ovn", 4), ("dns-server", 6)]
    wait_journal_idle(neutrino)
    _, own4 = _dhcp_rows(neutrino, sub4["id"])
    _, own6 = _dhcp_rows(neutrino, sub6["id"])
    assert own4[0]["_uuid"] == row["_uuid"]  # updated in place
    assert own4[0]["options"] == {**shared4["options"], "mtu": "1300"}
    assert own6[0]["options"] == {**shared6["options"], "dns_server": "{2001:db8::1}"}
    assert own6[0]["external_ids"]["neutron:port_dhcp_key"] == f"{port['id']} 6"
    lsp = _lsp(neutrino, port["id"])
    assert (lsp["dhcpv4_options"], lsp["dhcpv6_options"]) == \
        (own4[0]["_uuid"], own6[0]["_uuid"])

    # only an option OVN cannot serve left for IPv4: back to the subnet's row
    _put_port(api, port["id"], {"extra_dhcp_opts": [
        {"opt_name": "mtu", "opt_value": None},
        {"opt_name": "dns-server", "opt_value": None, "ip_version": 6}]})
    wait_journal_idle(neutrino)
    assert _dhcp_rows(neutrino, sub4["id"])[1] == [] == _dhcp_rows(neutrino, sub6["id"])[1]
    lsp = _lsp(neutrino, port["id"])
    assert (lsp["dhcpv4_options"], lsp["dhcpv6_options"]) == \
        (shared4["_uuid"], shared6["_uuid"])


def test_dhcp_disabled_leaves_the_port_without_dhcp(api, neutrino):
    net, sub4, sub6 = _dual_stack(api, 62)
    port = _post(api, "ports", {"network_id": net["id"], "extra_dhcp_opts": [
        {"opt_name": "dhcp_disabled", "opt_value": "true", "ip_version": 4},
        {"opt_name": "mtu", "opt_value": "1400"}]})
    wait_journal_idle(neutrino)
    shared6, own6 = _dhcp_rows(neutrino, sub6["id"])
    assert _dhcp_rows(neutrino, sub4["id"])[1] == [] == own6
    lsp = _lsp(neutrino, port["id"])
    assert (lsp["dhcpv4_options"], lsp["dhcpv6_options"]) == (None, shared6["_uuid"])

    _put_port(api, port["id"], {"extra_dhcp_opts": [
        {"opt_name": "dhcp_disabled", "opt_value": None}]})
    wait_journal_idle(neutrino)
    _, own4 = _dhcp_rows(neutrino, sub4["id"])
    assert own4[0]["options"]["mtu"] == "1400"
    assert _lsp(neutrino, port["id"])["dhcpv4_options"] == own4[0]["_uuid"]


def test_subnet_change_reaches_the_port_row_and_delete_removes_it(api, neutrino):
    net, sub4, _ = _dual_stack(api, 63)
    port = _post(api, "ports", {"network_id": net["id"], "extra_dhcp_opts": [
        {"opt_name": "ntp-server", "opt_value": "192.0.2.123"}]})
    response = api.put(f"/v2.0/subnets/{sub4['id']}",
                       json={"subnet": {"dns_nameservers": ["198.51.100.7"]}})
    assert response.status_code == 200, response.text
    wait_journal_idle(neutrino)
    shared4, own4 = _dhcp_rows(neutrino, sub4["id"])
    assert shared4["options"]["dns_server"] == "{198.51.100.7}"
    assert own4[0]["options"] == {**shared4["options"], "ntp_server": "192.0.2.123"}

    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    wait_journal_idle(neutrino)
    assert _dhcp_rows(neutrino, sub4["id"])[1] == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param([{"opt_name": "mtu", "opt_value": ""}], "No valid key specs matched",
                     id="blank-value"),
        pytest.param([{"opt_name": "x" * 65, "opt_value": "1"}], "No valid key specs matched",
                     id="name-too-long"),
        pytest.param([{"opt_name": "mtu", "opt_value": "1", "ip_version": 5}],
                     "No valid key specs matched", id="ip-version-5"),
        pytest.param([{"opt_name": "mtu", "opt_value": "1"},
                      {"opt_name": "mtu", "opt_value": "2", "ip_version": 4}],
                     "Duplicate extra DHCP option 'mtu'", id="duplicate"),
    ],
)
def test_invalid_options_are_a_400_and_nothing_is_stored(api, neutrino, extra, message):
    net, _, _ = _dual_stack(api, 64)
    before = api.get("/v2.0/ports", params={"network_id": net["id"]}).json()["ports"]
    response = api.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                      "extra_dhcp_opts": extra}})
    assert response.status_code == 400, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == "InvalidInput" and message in fault["message"]
    assert api.get("/v2.0/ports", params={"network_id": net["id"]}).json()["ports"] == before

    port = _post(api, "ports", {"network_id": net["id"], "extra_dhcp_opts": [
        {"opt_name": "T1", "opt_value": "100"}]})
    response = api.put(f"/v2.0/ports/{port['id']}",
                       json={"port": {"name": "renamed", "extra_dhcp_opts": extra}})
    assert response.status_code == 400, response.text
    after = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert (after["name"], after["revision_number"], after["extra_dhcp_opts"]) == \
        (port["name"], port["revision_number"], port["extra_dhcp_opts"])


def test_dhcp_reply_carries_the_port_options(api, neutrino, local_ovn):
    """ovn-trace shows the options OVN puts in its DHCP reply (put_dhcp_opts)."""
    net, sub4, _ = _dual_stack(api, 65)
    plain = _post(api, "ports", {"network_id": net["id"], "port_security_enabled": False})
    custom = _post(api, "ports", {"network_id": net["id"], "port_security_enabled": False,
                                  "extra_dhcp_opts": [
                                      {"opt_name": "mtu", "opt_value": "1380"},
                                      {"opt_name": "router", "opt_value": "10.65.0.254"}]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    def offer(port: dict) -> str:
        ip = next(i["ip_address"] for i in port["fixed_ips"] if "." in i["ip_address"])
        flow = (f'inport == "{port["id"]}" && eth.src == {port["mac_address"]} && '
                "eth.dst == ff:ff:ff:ff:ff:ff && ip4.src == 0.0.0.0 && "
                "ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67")
        output = trace(local_ovn, f"neutron-{net['id']}", flow)
        line = next((x for x in output.splitlines() if "put_dhcp_opts(" in x), None)
        assert line is not None, output
        assert f"offerip = {ip}" in line, line
        return line

    plain_offer, custom_offer = offer(plain), offer(custom)
    assert "router = 10.65.0.1" in plain_offer and "mtu = 1442" in plain_offer
    assert "router = 10.65.0.254" in custom_offer and "mtu = 1380" in custom_offer
    assert "server_id = 10.65.0.1" in custom_offer  # the rest still comes from the subnet


# -- sync: a port's own rows are compared and repaired, and nobody else's ---------------------


def _env(ovn: LocalOvn, state: Path) -> dict[str, str]:
    return {"NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
            "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off"}


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    return private_app


def _own_row_uuid(ovn: LocalOvn, port_id: str, version: int) -> str:
    return nbctl(ovn, "--bare", "--columns=_uuid", "find", "DHCP_Options",
                 f'external_ids:"neutron:port_dhcp_key"="{port_id} {version}"').strip()


def test_sync_repairs_deleted_modified_and_extra_port_rows(app, private_ovn):
    with TestClient(app.app) as client:
        net, sub4, sub6 = _dual_stack(client, 66)
        opts = [{"opt_name": "mtu", "opt_value": "1400"},
                {"opt_name": "domain-search", "opt_value": "example.org", "ip_version": 6}]
        deleted, modified = (_post(client, "ports", {"network_id": net["id"],
                                                     "extra_dhcp_opts": opts})
                             for _ in range(2))
        plain = _post(client, "ports", {"network_id": net["id"]})
    wait_journal_idle(app)
    before = {r["_uuid"]: r for r in rows(app, "DHCP_Options")}
    expected_modified = one(app, "DHCP_Options", external_ids={"port_id": modified["id"],
                                                               "subnet_id": sub4["id"]})

    nbctl(private_ovn, "destroy", "DHCP_Options", _own_row_uuid(private_ovn, deleted["id"], 6))
    nbctl(private_ovn, "set", "DHCP_Options", _own_row_uuid(private_ovn, modified["id"], 4),
          "options:mtu=9000")
    ghost = "99999999-0000-4000-8000-000000000099"  # a port the database never had
    nbctl(private_ovn, "create", "DHCP_Options", "cidr=10.66.0.0/24",
          f'external_ids:subnet_id={sub4["id"]}', f"external_ids:port_id={ghost}",
          f'external_ids:"neutron:port_dhcp_key"="{ghost} 4"',
          'external_ids:"neutron:revision_number"=1')
    # a per-port row another system wrote (no identity key of ours), and one for a port of
    # ours: neither is ours, and neither may be touched or mistaken for the subnet's row
    foreign = [nbctl(private_ovn, "create", "DHCP_Options", "cidr=10.66.0.0/24",
                     f'external_ids:subnet_id={sub4["id"]}', f"external_ids:port_id={pid}",
                     'external_ids:"neutron:revision_number"=1', "options:mtu=1").strip()
               for pid in (plain["id"], "someone-else")]
    caught_up(app, private_ovn)

    found = {(d.kind.value, d.resource_type, d.resource_id, d.row)
             for d in app.sync.compare().differences}
    own6 = f"DHCP_Options(external_ids:neutron:port_dhcp_key={deleted['id']} 6)"
    own4 = f"DHCP_Options(external_ids:neutron:port_dhcp_key={modified['id']} 4)"
    assert found == {
        ("missing", "port", deleted["id"], own6),
        # the deleted row took the switch port's weak reference with it
        ("stale", "port", deleted["id"], f"Logical_Switch_Port(name={deleted['id']})"),
        ("stale", "port", modified["id"], own4),
        ("extra", "port", ghost, f"DHCP_Options(external_ids:neutron:port_dhcp_key={ghost} 4)"),
    }

    app.sync.repair()
    assert app.sync.compare().differences == []
    after = {r["_uuid"]: r for r in rows(app, "DHCP_Options")}
    assert set(foreign) <= set(after)  # not ours: left alone
    assert after[foreign[0]]["options"] == {"mtu": "1"}
    repaired6 = one(app, "DHCP_Options", external_ids={"neutron:port_dhcp_key":
                                                       f"{deleted['id']} 6"})
    assert repaired6["options"]["domain_search"] == "example.org"
    assert _lsp(app, deleted["id"])["dhcpv6_options"] == repaired6["_uuid"]
    assert one(app, "DHCP_Options", external_ids={"port_id": modified["id"],
                                                  "subnet_id": sub4["id"]}) == \
        expected_modified
    assert rows(app, "DHCP_Options", external_ids={"port_id": ghost}) == []
    # everything else is as it was, and the plain port still shares its subnet's row
    untouched = {u: r for u, r in before.items()
                 if r["external_ids"].get("port_id") not in (deleted["id"], modified["id"])}
    assert {u: after[u] for u in untouched} == untouched
    shared4, _ = _dhcp_rows(app, sub4["id"])
    assert _lsp(app, plain["id"])["dhcpv4_options"] == shared4["_uuid"]
    assert sub6  # the IPv6 subnet's own row is among the untouched ones


def test_subnet_update_reaches_port_rows_on_postgresql(local_ovn, pg_url, tmp_path):
    """Finding a subnet's ports must not DISTINCT over their json columns (PostgreSQL
    cannot compare json values)."""
    settings = {**_env(local_ovn, tmp_path), "NEUTRINO_DB_URL": pg_url}
    neutrino = build(load_settings(settings))
    neutrino.start()
    try:
        with TestClient(neutrino.app) as client:
            net, sub4, _ = _dual_stack(client, 67)
            _post(client, "ports", {"network_id": net["id"], "extra_dhcp_opts": [
                {"opt_name": "mtu", "opt_value": "1400"}]})
            response = client.put(f"/v2.0/subnets/{sub4['id']}",
                                  json={"subnet": {"host_routes": [
                                      {"destination": "172.16.0.0/16",
                                       "nexthop": "10.67.0.9"}]}})
            assert response.status_code == 200, response.text
        wait_journal_idle(neutrino)
        _, own4 = _dhcp_rows(neutrino, sub4["id"])
        assert own4[0]["options"]["classless_static_route"] == \
            "{172.16.0.0/16,10.67.0.9, 0.0.0.0/0,10.67.0.1}"
        assert own4[0]["options"]["mtu"] == "1400"
    finally:
        neutrino.stop()


def test_null_options_are_none_on_create_and_no_change_on_update(api, neutrino):
    net, _, _ = _dual_stack(api, 67)
    port = _post(api, "ports", {"network_id": net["id"], "extra_dhcp_opts": None})
    assert port["extra_dhcp_opts"] == []
    response = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"extra_dhcp_opts": [
        {"opt_name": "mtu", "opt_value": "1400"}]}})
    assert response.status_code == 200, response.text
    response = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"extra_dhcp_opts": None}})
    assert response.status_code == 200, response.text
    assert [o["opt_name"] for o in response.json()["port"]["extra_dhcp_opts"]] == ["mtu"]

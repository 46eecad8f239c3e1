"""The metadata localport (NEUTRINO_OVN_METADATA=true), as ML2/OVN makes it for the OVN
metadata agent: one per network with DHCP-enabled IPv4 subnets, an address on each, and the
route to 169.254.169.254 through it in each subnet's DHCP options; kept by sync, charged to
no quota."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import caught_up, one, rows, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

OWNER = "network:distributed"


@pytest.fixture()
def app(local_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": local_ovn.nb,
        "NEUTRINO_OVN_SB": local_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_OVN_METADATA": "true", "NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0"}))
    neutrino.start()
    try:
        yield neutrino
    finally:
        neutrino.stop()


@pytest.fixture()
def client(app: Neutrino) -> Iterator[TestClient]:
    with TestClient(app.app) as api:
        yield api


def post(api: TestClient, collection: str, body: dict, status: int = 201) -> dict:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == status, response.text
    return response.json()


def subnet(api: TestClient, net: dict, cidr: str, **attrs: object) -> dict:
    version = 6 if ":" in cidr else 4
    return post(api, "subnets", {"network_id": net["id"], "ip_version": version,
                                 "cidr": cidr, **attrs})["subnet"]


def metadata_ports(api: TestClient, net: dict) -> list[dict]:
    return api.get(f"/v2.0/ports?network_id={net['id']}&device_owner={OWNER}").json()["ports"]


def metadata_port(api: TestClient, net: dict) -> dict:
    (port,) = metadata_ports(api, net)
    return port


def routes(app: Neutrino, subnet_id: str) -> str | None:
    return one(app, "DHCP_Options", external_ids={"subnet_id": subnet_id})["options"].get(
        "classless_static_route")


def test_the_metadata_port_follows_the_dhcp_subnets(app: Neutrino, client: TestClient):
    net = post(client, "networks", {"name": "md"})["network"]
    assert metadata_ports(client, net) == []
    first = subnet(client, net, "10.70.0.0/24")
    port = metadata_port(client, net)
    assert (port["device_id"], port["project_id"], port["name"]) == (
        f"ovnmeta-{net['id']}", net["project_id"], "")
    ((md_first,),) = [[ip["ip_address"] for ip in port["fixed_ips"]
                       if ip["subnet_id"] == first["id"]]]
    wait_journal_idle(app)
    lsp = one(app, "Logical_Switch_Port", name=port["id"])
    assert (lsp["type"], lsp["addresses"], lsp["port_security"], dict(lsp["options"])) == (
        "localport", [f"{port['mac_address']} {md_first}"], [], {})
    assert lsp["dhcpv4_options"] is None
    assert {k: lsp["external_ids"][k] for k in (
        "neutron:device_owner", "neutron:device_id", "neutron:cidrs",
        "neutron:network_name")} == {
        "neutron:device_owner": OWNER, "neutron:device_id": f"ovnmeta-{net['id']}",
        "neutron:cidrs": f"{md_first}/24", "neutron:network_name": f"neutron-{net['id']}"}
    assert routes(app, first["id"]) == f"{{169.254.169.254/32,{md_first}, 0.0.0.0/0,10.70.0.1}}"

    # a second DHCP subnet adds an address; no DHCP or IPv6 adds none
    second = subnet(client, net, "10.70.1.0/24")
    subnet(client, net, "10.70.2.0/24", enable_dhcp=False)
    subnet(client, net, "fd00:70::/64", ipv6_address_mode="dhcpv6-stateful",
           ipv6_ra_mode="dhcpv6-stateful")
    port = metadata_port(client, net)
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in port["fixed_ips"]}
    assert set(by_subnet) == {first["id"], second["id"]} and by_subnet[first["id"]] == md_first
    wait_journal_idle(app)
    assert one(app, "Logical_Switch_Port", name=port["id"])["addresses"] == [
        f"{port['mac_address']} {md_first} {by_subnet[second['id']]}"]
    assert routes(app, second["id"]).startswith(
        f"{{169.254.169.254/32,{by_subnet[second['id']]}, ")

    # DHCP off on the first: its address goes, and comes back with DHCP
    toggled = client.put(f"/v2.0/subnets/{first['id']}",
                         json={"subnet": {"enable_dhcp": False}})
    assert toggled.status_code == 200, toggled.text
    assert [ip["subnet_id"] for ip in metadata_port(client, net)["fixed_ips"]] == [
        second["id"]]
    client.put(f"/v2.0/subnets/{first['id']}", json={"subnet": {"enable_dhcp": True}})
    assert len(metadata_port(client, net)["fixed_ips"]) == 2
    wait_journal_idle(app)
    assert routes(app, first["id"]).startswith("{169.254.169.254/32,10.70.0.")

    # deleting a subnet the metadata port alone uses is no "in use"; the last takes the port
    assert client.delete(f"/v2.0/subnets/{first['id']}").status_code == 204
    assert [ip["subnet_id"] for ip in metadata_port(client, net)["fixed_ips"]] == [
        second["id"]]
    assert client.delete(f"/v2.0/subnets/{second['id']}").status_code == 204
    assert metadata_ports(client, net) == []
    wait_journal_idle(app)
    assert rows(app, "Logical_Switch_Port", name=port["id"]) == []


def test_a_network_goes_with_its_metadata_port(app: Neutrino, client: TestClient):
    net = post(client, "networks", {"name": "md-gone"})["network"]
    subnet(client, net, "10.71.0.0/24")
    port = metadata_port(client, net)
    assert client.delete(f"/v2.0/networks/{net['id']}").status_code == 204
    wait_journal_idle(app)
    assert rows(app, "Logical_Switch_Port", name=port["id"]) == []
    assert rows(app, "Logical_Switch", name=f"neutron-{net['id']}") == []


def test_a_subnet_used_by_a_vm_stays_in_use(app: Neutrino, client: TestClient):
    net = post(client, "networks", {"name": "md-used"})["network"]
    sub = subnet(client, net, "10.72.0.0/24")
    post(client, "ports", {"network_id": net["id"]})
    before = metadata_port(client, net)
    response = client.delete(f"/v2.0/subnets/{sub['id']}")
    assert response.status_code == 409, response.text
    assert metadata_port(client, net) == before  # the refused delete changed nothing


def test_metadata_ports_are_charged_to_no_quota(app: Neutrino, client: TestClient):
    project = {"X-Project-Id": "md-quota"}
    client.put("/v2.0/quotas/md-quota", json={"quota": {"port": 1}})
    net = client.post("/v2.0/networks", json={"network": {"name": "q"}},
                      headers=project).json()["network"]
    response = client.post("/v2.0/subnets", headers=project, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.73.0.0/24"}})
    assert response.status_code == 201, response.text
    assert metadata_port(client, net)["project_id"] == "md-quota"
    details = client.get("/v2.0/quotas/md-quota/details").json()["quota"]["port"]
    assert details["used"] == 0
    vm = client.post("/v2.0/ports", headers=project, json={"port": {"network_id": net["id"]}})
    assert vm.status_code == 201, vm.text


def test_sync_restores_the_metadata_port_and_its_route(app: Neutrino, client: TestClient,
                                                       local_ovn: LocalOvn):
    net = post(client, "networks", {"name": "md-sync"})["network"]
    sub = subnet(client, net, "10.74.0.0/24")
    port = metadata_port(client, net)
    wait_journal_idle(app)
    nbctl(local_ovn, "lsp-del", port["id"])
    dhcp = nbctl(local_ovn, "--bare", "--columns=_uuid", "find", "DHCP_Options",
                 f"external_ids:subnet_id={sub['id']}").strip()
    nbctl(local_ovn, "remove", "DHCP_Options", dhcp, "options", "classless_static_route")
    caught_up(app, local_ovn)
    found = {(d.kind.value, d.resource_type, d.resource_id)
             for d in app.sync.compare().differences}
    assert {("missing", "port", port["id"]), ("stale", "subnet", sub["id"])} <= found
    app.sync.repair()
    assert one(app, "Logical_Switch_Port", name=port["id"])["type"] == "localport"
    assert routes(app, sub["id"]).startswith("{169.254.169.254/32,")


def test_without_the_setting_there_is_no_metadata_port(neutrino: Neutrino, api: TestClient):
    net = post(api, "networks", {"name": "no-md"})["network"]
    sub = subnet(api, net, "10.75.0.0/24")
    assert metadata_ports(api, net) == []
    wait_journal_idle(neutrino)
    assert routes(neutrino, sub["id"]) is None

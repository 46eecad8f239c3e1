"""subnet-service-types, subnet-dns-publish-fixed-ip, port-mac-address-regenerate and
multi-provider (one segment) as Neutron defines them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nb_state import one, wait_journal_idle
from starlette.testclient import TestClient
from test_port_binding import add_chassis
from waiting import wait_for

from neutrino.bootstrap import Neutrino


def _post(api, collection: str, body: dict) -> dict:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def _fault(response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["NeutronError"]["type"] == kind, response.text


def _aliases(api) -> set[str]:
    return {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}


def _subnets_of(port: dict) -> set[str]:
    return {ip["subnet_id"] for ip in port["fixed_ips"]}


# -- subnet-service-types ------------------------------------------------------------------
def test_ports_get_addresses_only_from_subnets_serving_their_owner(api, neutrino):
    net = _post(api, "networks", {"name": "typed"})
    vms = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                 "cidr": "10.11.0.0/24", "service_types": ["compute:nova"]})
    fips = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.12.0.0/24",
                                  "service_types": ["network:floatingip"]})
    assert vms["service_types"] == ["compute:nova"]
    vm = _post(api, "ports", {"network_id": net["id"], "device_owner": "compute:nova"})
    assert _subnets_of(vm) == {vms["id"]}
    other = _post(api, "ports", {"network_id": net["id"], "device_owner": "network:floatingip"})
    assert _subnets_of(other) == {fips["id"]}
    _fault(api.post("/v2.0/ports", json={"port": {"network_id": net["id"]}}),
           409, "IpAddressGenerationFailureNoMatchingSubnet")
    # a subnet without service types serves every owner
    free = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.13.0.0/24"})
    assert _subnets_of(_post(api, "ports", {"network_id": net["id"]})) == {free["id"]}
    listed = api.get("/v2.0/subnets?service_types=compute:nova").json()["subnets"]
    assert [s["id"] for s in listed] == [vms["id"]]
    updated = api.put(f"/v2.0/subnets/{fips['id']}",
                      json={"subnet": {"service_types": ["compute:nova"]}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["subnet"]["service_types"] == ["compute:nova"]
    assert "subnet-service-types" in _aliases(api)


def test_a_typed_auto_address_subnet_serves_only_its_owners(api):
    net = _post(api, "networks", {"name": "typed6"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.14.0.0/24"})
    vm = _post(api, "ports", {"network_id": net["id"], "device_owner": "compute:nova"})
    other = _post(api, "ports", {"network_id": net["id"], "device_owner": "network:dhcp"})
    v6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                "cidr": "fd00:14::/64", "ipv6_address_mode": "slaac",
                                "ipv6_ra_mode": "slaac", "service_types": ["compute:nova"],
                                "enable_dhcp": False})
    assert v6["id"] in _subnets_of(api.get(f"/v2.0/ports/{vm['id']}").json()["port"])
    assert v6["id"] not in _subnets_of(api.get(f"/v2.0/ports/{other['id']}").json()["port"])


def test_a_service_type_must_name_a_device_owner(api):
    net = _post(api, "networks", {"name": "bad"})
    _fault(api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.15.0.0/24",
        "service_types": ["bogus"]}}), 400, "InvalidSubnetServiceType")
    _fault(api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.15.0.0/24",
        "service_types": [7]}}), 400, "BadRequest")


# -- subnet-dns-publish-fixed-ip -------------------------------------------------------------
def test_dns_publish_fixed_ip_is_stored_and_returned(api):
    net = _post(api, "networks", {"name": "dns"})
    plain = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                   "cidr": "10.16.0.0/24"})
    assert plain["dns_publish_fixed_ip"] is False
    published = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                       "cidr": "10.17.0.0/24", "dns_publish_fixed_ip": True})
    assert published["dns_publish_fixed_ip"] is True
    listed = api.get("/v2.0/subnets?dns_publish_fixed_ip=true").json()["subnets"]
    assert [s["id"] for s in listed] == [published["id"]]
    updated = api.put(f"/v2.0/subnets/{published['id']}",
                      json={"subnet": {"dns_publish_fixed_ip": False}})
    assert updated.json()["subnet"]["dns_publish_fixed_ip"] is False
    assert "subnet-dns-publish-fixed-ip" in _aliases(api)


# -- port-mac-address-regenerate ---------------------------------------------------------------
@pytest.fixture()
def sb_app(private_app: Neutrino) -> Neutrino:
    wait_for(lambda: private_app.sb.connected, 20, "SB connection")
    return private_app


@pytest.fixture()
def sb_api(sb_app: Neutrino) -> Iterator[TestClient]:
    with TestClient(sb_app.app) as client:
        yield client


def test_a_null_mac_regenerates_it_while_unbound(sb_api, sb_app, private_ovn):
    api = sb_api
    net = _post(api, "networks", {"name": "mac"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.18.0.0/24"})
    port = _post(api, "ports", {"network_id": net["id"]})
    answer = api.put(f"/v2.0/ports/{port['id']}", json={"port": {"mac_address": None}})
    assert answer.status_code == 200, answer.text
    fresh = answer.json()["port"]
    assert fresh["mac_address"] != port["mac_address"]
    assert fresh["mac_address"].startswith("fa:16:3e:")
    assert fresh["revision_number"] == port["revision_number"] + 1
    wait_journal_idle(sb_app)
    lsp = one(sb_app, "Logical_Switch_Port", name=port["id"])
    assert lsp["addresses"][0].split()[0] == fresh["mac_address"]
    add_chassis(sb_app, private_ovn, "hv-mac", "compute-mac")
    bound = api.put(f"/v2.0/ports/{port['id']}",
                    json={"port": {"binding:host_id": "compute-mac"}}).json()["port"]
    assert bound["binding:vif_type"] == "ovs"
    _fault(api.put(f"/v2.0/ports/{port['id']}", json={"port": {"mac_address": None}}),
           409, "PortBound")
    assert "port-mac-address-regenerate" in _aliases(api)


# -- multi-provider ----------------------------------------------------------------------------
def test_one_segment_is_the_same_network_as_its_provider_attributes(api):
    net = _post(api, "networks", {"name": "seg", "segments": [{
        "provider:network_type": "flat", "provider:physical_network": "physnet7"}]})
    assert (net["provider:network_type"], net["provider:physical_network"],
            net["provider:segmentation_id"]) == ("flat", "physnet7", None)
    assert "segments" not in net  # one segment is shown as provider attributes, as Neutron
    _fault(api.post("/v2.0/networks", json={"network": {"segments": [
        {"provider:network_type": "vlan", "provider:physical_network": "p",
         "provider:segmentation_id": 5},
        {"provider:network_type": "vlan", "provider:physical_network": "p",
         "provider:segmentation_id": 6}]}}), 400, "InvalidInput")
    _fault(api.post("/v2.0/networks", json={"network": {
        "provider:network_type": "geneve",
        "segments": [{"provider:network_type": "geneve"}]}}), 400, "InvalidInput")
    _fault(api.post("/v2.0/networks", json={"network": {"segments": [{"bogus": 1}]}}),
           400, "BadRequest")
    assert "multi-provider" in _aliases(api)

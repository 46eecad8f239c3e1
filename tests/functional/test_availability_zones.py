"""Availability zone hints of networks and routers against a real OVN, as ML2/OVN honours them:
zones are those gateway chassis name in SB (`availability-zones=` in ovn-cms-options), a hinted
router's gateway lives only on a chassis of its zones, and moves only within them."""

from __future__ import annotations

from itertools import count

import pytest
from nb_state import one, wait_journal_idle
from ovn_tools import sbctl
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.ovn.local import LocalOvn

_encaps = count(1)


def add_chassis(ovn: LocalOvn, name: str, zones: str, gateway: bool = True) -> None:
    """A chassis record (no ovn-controller) in the given zones ("az1:az2")."""
    sbctl(ovn, "chassis-add", name, "geneve", f"127.0.4.{next(_encaps)}")
    options = (["enable-chassis-as-gw"] if gateway else []) + [f"availability-zones={zones}"]
    sbctl(ovn, "set", "Chassis", name, f'other_config:ovn-cms-options="{",".join(options)}"')


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    wait_for(lambda: private_app.sb.connected, 20, "SB connection")
    return private_app


def _sees(app: Neutrino, *names: str) -> None:
    wait_for(lambda: {c.name for c in app.sb.chassis()} >= set(names), 20, "chassis in SB")


def _create(api: TestClient, collection: str, body: dict) -> dict:
    singular = collection[:-1]
    response = api.post(f"/v2.0/{collection}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _fault(api: TestClient, collection: str, body: dict) -> tuple[int, str, str]:
    response = api.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    error = response.json()["NeutronError"]
    return response.status_code, error["type"], error["message"]


@pytest.mark.parametrize("collection", ["networks", "routers"])
def test_hints_are_stored_returned_and_checked(app: Neutrino, private_ovn: LocalOvn,
                                               collection: str) -> None:
    api = TestClient(app.app)
    add_chassis(private_ovn, "gw-a", "az1")
    add_chassis(private_ovn, "gw-b", "az2:az3")
    add_chassis(private_ovn, "hv-c", "az4", gateway=False)  # not a gateway: not a zone
    _sees(app, "gw-a", "gw-b", "hv-c")

    made = _create(api, collection, {"name": "x", "availability_zone_hints": ["az3", "az1"]})
    plain = _create(api, collection, {"name": "y"})
    assert (made["availability_zone_hints"], made["availability_zones"]) == \
        (["az3", "az1"], ["az3", "az1"])
    assert (plain["availability_zone_hints"], plain["availability_zones"]) == ([], [])
    shown = api.get(f"/v2.0/{collection}/{made['id']}").json()[collection[:-1]]
    assert shown["availability_zone_hints"] == ["az3", "az1"]
    listed = api.get(f"/v2.0/{collection}", params={"availability_zones": "az1"})
    if collection == "routers":  # neutron-lib marks no router zone attribute as a filter
        assert listed.status_code == 400
    else:
        assert [item["id"] for item in listed.json()[collection]] == [made["id"]]

    wait_journal_idle(app)
    table = "Logical_Switch" if collection == "networks" else "Logical_Router"
    assert one(app, table, name=f"neutron-{made['id']}")["external_ids"][
        "neutron:availability_zone_hints"] == "az3,az1"

    assert _fault(api, collection, {"availability_zone_hints": ["az1", "az9"]}) == \
        (404, "AvailabilityZoneNotFound", "AvailabilityZone az9 could not be found.")
    assert _fault(api, collection, {"availability_zone_hints": ["az4"]})[:2] == \
        (404, "AvailabilityZoneNotFound")
    status, kind, message = _fault(api, collection, {"availability_zone_hints": ["az1", "az1"]})
    assert (status, kind) == (400, "BadRequest")  # what neutrino answers for any bad attribute
    assert "Duplicate items in the list: 'az1'" in message
    response = api.put(f"/v2.0/{collection}/{made['id']}",
                       json={collection[:-1]: {"availability_zone_hints": ["az2"]}})
    assert response.status_code == 400, response.text
    assert len(api.get(f"/v2.0/{collection}").json()[collection]) == 2


def test_extensions_are_listed(app: Neutrino) -> None:
    aliases = {e["alias"] for e in TestClient(app.app).get("/v2.0/extensions").json()[
        "extensions"]}
    assert {"network_availability_zone", "router_availability_zone"} <= aliases


def _placement(app: Neutrino) -> dict[str, str | None]:
    return {r["router_id"]: r["chassis"] for r in app.routers.list_gateways()}


def test_gateways_are_scheduled_and_moved_within_the_hinted_zone(app: Neutrino,
                                                                  private_ovn: LocalOvn) -> None:
    api = TestClient(app.app)
    for name, zone in (("gw-a1", "az1"), ("gw-a2", "az1"), ("gw-b", "az2")):
        add_chassis(private_ovn, name, zone)
    _sees(app, "gw-a1", "gw-a2", "gw-b")
    ext = _create(api, "networks", {"name": "public", "router:external": True})
    _create(api, "subnets", {"network_id": ext["id"], "ip_version": 4,
                             "cidr": "172.26.0.0/24"})
    gateway = {"network_id": ext["id"]}
    in_az1 = [_create(api, "routers", {"name": f"a{i}", "availability_zone_hints": ["az1"],
                                       "external_gateway_info": gateway})["id"]
              for i in range(3)]
    in_az2 = _create(api, "routers", {"name": "b", "availability_zone_hints": ["az2"],
                                      "external_gateway_info": gateway})["id"]
    placement = _placement(app)
    # least-loaded would have put one of the three on the empty gw-b without the hints
    assert sorted(placement[r] for r in in_az1) == ["gw-a1", "gw-a1", "gw-a2"]
    assert placement[in_az2] == "gw-b"
    shown = api.get(f"/v2.0/routers/{in_az1[0]}").json()["router"]
    assert (shown["availability_zones"], shown["status"]) == (["az1"], "ACTIVE")

    sbctl(private_ovn, "chassis-del", "gw-a1")  # its routers move to gw-a2, not to gw-b
    wait_for(lambda: all(_placement(app)[r] == "gw-a2" for r in in_az1), 20, "rescheduling")
    assert _placement(app)[in_az2] == "gw-b"
    wait_journal_idle(app)
    for router_id in in_az1:
        assert one(app, "Logical_Router", name=f"neutron-gw-{router_id}")["options"] == \
            {"chassis": "gw-a2"}

    sbctl(private_ovn, "chassis-del", "gw-a2")  # no chassis left in az1: no fallback to gw-b
    wait_for(lambda: all(_placement(app)[r] is None for r in in_az1), 20, "unscheduling")
    assert api.get(f"/v2.0/routers/{in_az1[0]}").json()["router"]["status"] == "ERROR"
    add_chassis(private_ovn, "gw-a3", "az1:az2")
    wait_for(lambda: all(_placement(app)[r] == "gw-a3" for r in in_az1), 20, "back in az1")
    assert _placement(app)[in_az2] == "gw-b"

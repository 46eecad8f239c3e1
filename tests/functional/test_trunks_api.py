"""Trunks on neutrino: Neutron's trunk API and rules, and the subports' switch ports as
ML2/OVN writes them (`parent_name`, `tag_request`), journaled after the parent's."""

from __future__ import annotations

import uuid

import pytest
from nb_state import one, rows, wait_journal_idle
from sqlalchemy import select
from starlette.testclient import TestClient

from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import keystone_context
from neutrino.db.models import JournalDependency, JournalEntry, Port, Trunk
from neutrino.services.quotas import QuotaService
from neutrino.services.tags import TagService
from neutrino.services.trunks.service import TrunkService


def post(api, path: str, body: dict, status: int = 201) -> dict:
    response = api.post(f"/v2.0/{path}", json={path[:-1]: body})
    assert response.status_code == status, response.text
    return response.json()[path[:-1]] if status == 201 else response.json()


def fault(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["NeutronError"]
    assert error["type"] == kind, error
    return error["message"]


class World:
    def __init__(self, api) -> None:
        self.api = api
        self.nets = []
        for i in range(3):
            net = post(api, "networks", {"name": f"t{i}"})
            post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": f"10.77.{i}.0/24"})
            self.nets.append(net)

    def port(self, net: int = 0, **extra) -> dict:
        return post(self.api, "ports", {"network_id": self.nets[net]["id"], **extra})

    def trunk(self, parent: dict, *subs: tuple[dict, int], **extra) -> dict:
        return post(self.api, "trunks", {"port_id": parent["id"], "sub_ports": [
            {"port_id": p["id"], "segmentation_type": "vlan", "segmentation_id": vid}
            for p, vid in subs], **extra})

    def get_port(self, port: dict) -> dict:
        return self.api.get(f"/v2.0/ports/{port['id']}").json()["port"]


@pytest.fixture()
def world(api) -> World:
    return World(api)


def test_trunk_crud_and_subport_ports(api, neutrino, world):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"trunk", "trunk-details"} <= aliases
    parent, sub1, sub2 = world.port(0), world.port(1), world.port(2)
    trunk = world.trunk(parent, (sub1, 101), name="t", description="d", tags=["x"])
    assert trunk["status"] == "ACTIVE" and trunk["admin_state_up"] is True
    assert trunk["sub_ports"] == [{"port_id": sub1["id"], "segmentation_type": "vlan",
                                   "segmentation_id": 101}]
    assert trunk["tags"] == ["x"] and trunk["revision_number"] == 1
    shown = world.get_port(sub1)
    assert (shown["device_owner"], shown["device_id"]) == ("trunk:subport", trunk["id"])
    assert world.get_port(parent)["trunk_details"] == {"trunk_id": trunk["id"], "sub_ports": [
        {"segmentation_id": 101, "segmentation_type": "vlan", "port_id": sub1["id"],
         "mac_address": sub1["mac_address"]}]}
    assert "trunk_details" not in world.get_port(sub1)

    added = api.put(f"/v2.0/trunks/{trunk['id']}/add_subports", json={"sub_ports": [
        {"port_id": sub2["id"], "segmentation_type": "vlan", "segmentation_id": 102}]})
    assert added.status_code == 200, added.text
    assert [s["segmentation_id"] for s in added.json()["sub_ports"]] == [101, 102]
    assert added.json()["revision_number"] == 2
    got = api.get(f"/v2.0/trunks/{trunk['id']}/get_subports").json()
    assert got == {"sub_ports": added.json()["sub_ports"]}

    updated = api.put(f"/v2.0/trunks/{trunk['id']}", json={"trunk": {"name": "t2"}}).json()
    assert updated["trunk"]["name"] == "t2"
    listed = api.get("/v2.0/trunks", params={"port_id": parent["id"]}).json()["trunks"]
    assert [t["id"] for t in listed] == [trunk["id"]]
    assert api.get("/v2.0/trunks", params={"name": "nope"}).json()["trunks"] == []
    assert api.put(f"/v2.0/trunks/{trunk['id']}/tags/y").status_code == 201

    removed = api.put(f"/v2.0/trunks/{trunk['id']}/remove_subports",
                      json={"sub_ports": [{"port_id": sub1["id"]}]})
    assert removed.status_code == 200, removed.text
    assert [s["port_id"] for s in removed.json()["sub_ports"]] == [sub2["id"]]
    freed = world.get_port(sub1)
    assert (freed["device_owner"], freed["device_id"]) == ("", "")

    assert api.delete(f"/v2.0/trunks/{trunk['id']}").status_code == 204
    fault(api.get(f"/v2.0/trunks/{trunk['id']}"), 404, "TrunkNotFound")
    assert world.get_port(sub2)["device_owner"] == ""
    assert "trunk_details" not in world.get_port(parent)
    assert api.delete(f"/v2.0/ports/{parent['id']}").status_code == 204


def test_subport_switch_ports_are_children_of_the_parent(api, neutrino, world):
    parent, sub1, sub2 = world.port(0), world.port(1), world.port(2)
    trunk = world.trunk(parent, (sub1, 101))
    wait_journal_idle(neutrino)
    child = one(neutrino, "Logical_Switch_Port", name=sub1["id"])
    assert (child["parent_name"], child["tag_request"]) == (parent["id"], 101)
    _wait_for(lambda: one(neutrino, "Logical_Switch_Port", name=sub1["id"])["tag"] == 101)
    assert child["external_ids"]["neutron:device_owner"] == "trunk:subport"
    assert one(neutrino, "Logical_Switch_Port", name=parent["id"])["parent_name"] is None

    api.put(f"/v2.0/trunks/{trunk['id']}/add_subports", json={"sub_ports": [
        {"port_id": sub2["id"], "segmentation_type": "vlan", "segmentation_id": 102}]})
    api.put(f"/v2.0/trunks/{trunk['id']}/remove_subports",
            json={"sub_ports": [{"port_id": sub1["id"]}]})
    wait_journal_idle(neutrino)
    freed = one(neutrino, "Logical_Switch_Port", name=sub1["id"])
    assert (freed["parent_name"], freed["tag_request"]) == (None, None)
    assert freed["external_ids"]["neutron:device_owner"] == ""
    child = one(neutrino, "Logical_Switch_Port", name=sub2["id"])
    assert (child["parent_name"], child["tag_request"]) == (parent["id"], 102)

    api.delete(f"/v2.0/trunks/{trunk['id']}")
    wait_journal_idle(neutrino)
    assert one(neutrino, "Logical_Switch_Port", name=sub2["id"])["parent_name"] is None


def test_subport_entries_wait_for_the_parent(api, neutrino, world):
    parent, sub = world.port(0), world.port(1)
    world.trunk(parent, (sub, 7))
    with neutrino.db.read() as session:
        entries = session.scalars(select(JournalEntry).where(
            JournalEntry.resource_id == sub["id"])).all()
        last = max(entries, key=lambda e: e.seq)
        waits = set(session.scalars(select(JournalDependency.resource_id).where(
            JournalDependency.seq == last.seq)))
    assert parent["id"] in waits


def test_binding_and_status_follow_the_parent(api, neutrino, world, local_ovn):
    from ovn_tools import sbctl

    parent, sub = world.port(0), world.port(1)
    trunk = world.trunk(parent, (sub, 5))
    host = f"hv-trunk-{parent['id'][:8]}"
    sbctl(local_ovn, "chassis-add", host, "geneve", "127.0.0.1")
    try:
        bound = api.put(f"/v2.0/ports/{parent['id']}",
                        json={"port": {"binding:host_id": host}}).json()["port"]
        assert bound["binding:vif_type"] == "ovs"
        child = world.get_port(sub)
        assert (child["binding:host_id"], child["binding:vif_type"]) == (host, "ovs")
        wait_journal_idle(neutrino)
        lsp = one(neutrino, "Logical_Switch_Port", name=sub["id"])
        assert lsp["options"].get("requested-chassis") == host

        sbctl(local_ovn, "lsp-bind", parent["id"], host)
        sbctl(local_ovn, "set", "Port_Binding", parent["id"], "up=true")
        _wait_for(lambda: world.get_port(sub)["status"] == "ACTIVE")
        assert api.get(f"/v2.0/trunks/{trunk['id']}").json()["trunk"]["status"] == "ACTIVE"
        # a bound parent's trunk takes new subports bound where the parent is
        late = world.port(2)
        api.put(f"/v2.0/trunks/{trunk['id']}/add_subports", json={"sub_ports": [
            {"port_id": late["id"], "segmentation_type": "vlan", "segmentation_id": 6}]})
        shown = world.get_port(late)
        assert (shown["binding:host_id"], shown["status"]) == (host, "ACTIVE")
        wait_journal_idle(neutrino)
        lsp = one(neutrino, "Logical_Switch_Port", name=late["id"])
        assert (lsp["parent_name"], lsp["tag_request"]) == (parent["id"], 6)
        assert lsp["options"].get("requested-chassis") == host
        # and a subport removed from the bound trunk is no child any more
        api.put(f"/v2.0/trunks/{trunk['id']}/remove_subports",
                json={"sub_ports": [{"port_id": late["id"]}]})
        wait_journal_idle(neutrino)
        lsp = one(neutrino, "Logical_Switch_Port", name=late["id"])
        assert (lsp["parent_name"], lsp["tag_request"], lsp["options"]) == (None, None, {})

        sbctl(local_ovn, "lsp-unbind", parent["id"])
        sbctl(local_ovn, "set", "Port_Binding", parent["id"], "up=false")
        _wait_for(lambda: world.get_port(sub)["status"] == "DOWN")
        api.put(f"/v2.0/ports/{parent['id']}", json={"port": {"binding:host_id": ""}})
        assert world.get_port(sub)["binding:host_id"] == ""
        assert api.get(f"/v2.0/trunks/{trunk['id']}").json()["trunk"]["status"] == "DOWN"
    finally:
        sbctl(local_ovn, "chassis-del", host)


def test_neutron_rules_and_faults(api, neutrino, world):
    parent, sub, other = world.port(0), world.port(1), world.port(2)
    trunk = world.trunk(parent, (sub, 10))
    # the parent of another trunk, or a subport, cannot be a parent
    fault(api.post("/v2.0/trunks", json={"trunk": {"port_id": parent["id"]}}), 409,
          "ParentPortInUse")
    fault(api.post("/v2.0/trunks", json={"trunk": {"port_id": sub["id"]}}), 409,
          "TrunkPortInUse")
    # a subport already in a trunk, the parent as its own subport, a duplicate VLAN
    add = f"/v2.0/trunks/{trunk['id']}/add_subports"

    def adding(port, vid, kind="vlan"):
        return api.put(add, json={"sub_ports": [{"port_id": port["id"],
                                                 "segmentation_type": kind,
                                                 "segmentation_id": vid}]})

    fault(adding(sub, 11), 409, "TrunkPortInUse")
    fault(adding(parent, 11), 409, "ParentPortInUse")
    fault(adding(other, 10), 409, "DuplicateSubPort")
    fault(adding(other, 0), 400, "InvalidInput")
    fault(adding(other, 4095), 400, "InvalidInput")
    fault(adding(other, "x"), 400, "InvalidInput")
    fault(adding(other, 12, "vxlan"), 400, "InvalidInput")
    fault(adding(other, 12, "inherit"), 400, "InvalidInput")  # a geneve network: no VLAN
    fault(api.put(add, json={"sub_ports": [
        {"port_id": other["id"], "segmentation_type": "vlan", "segmentation_id": 12},
        {"port_id": world.port(2)["id"], "segmentation_type": "vlan",
         "segmentation_id": 12}]}), 400, "InvalidInput")
    fault(api.put(add, json={"sub_ports": "nope"}), 400, "InvalidInput")
    fault(api.put(add, json={"sub_ports": [{"port_id": "not-a-uuid"}]}), 400, "InvalidInput")
    fault(api.put(add, json={"sub_ports": [{"port_id": str(uuid.uuid4()),
                                            "segmentation_type": "vlan",
                                            "segmentation_id": 13}]}), 404, "PortNotFound")
    busy = world.port(2, device_id="vm-1")
    fault(adding(busy, 14), 409, "PortInUse")
    fault(api.put(f"/v2.0/trunks/{trunk['id']}/remove_subports",
                  json={"sub_ports": [{"port_id": other["id"]}]}), 404, "SubPortNotFound")
    # bad input changed nothing
    assert [s["port_id"] for s in api.get(f"/v2.0/trunks/{trunk['id']}").json()["trunk"][
        "sub_ports"]] == [sub["id"]]
    assert world.get_port(other)["device_owner"] == ""
    # the ports of a trunk cannot be deleted
    fault(api.delete(f"/v2.0/ports/{parent['id']}"), 409, "PortInUseAsTrunkParent")
    fault(api.delete(f"/v2.0/ports/{sub['id']}"), 409, "PortInUseAsSubPort")
    # a disabled trunk cannot be managed
    api.put(f"/v2.0/trunks/{trunk['id']}", json={"trunk": {"admin_state_up": False}})
    fault(adding(other, 15), 409, "TrunkDisabled")
    fault(api.delete(f"/v2.0/trunks/{trunk['id']}"), 409, "TrunkDisabled")
    fault(api.get(f"/v2.0/trunks/{uuid.uuid4()}/get_subports"), 404, "TrunkNotFound")
    fault(api.post("/v2.0/trunks", json={"trunk": {"port_id": str(uuid.uuid4())}}), 404,
          "PortNotFound")
    fault(api.post("/v2.0/trunks", json={"trunk": {"port_id": other["id"], "status": "X"}}),
          400, "BadRequest")


def test_bulk_create_is_checked_item_by_item_and_all_or_nothing(api, neutrino, world):
    parent1, parent2, sub = world.port(0), world.port(0), world.port(1)

    def item(parent):
        return {"port_id": parent["id"], "sub_ports": [
            {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 4}]}

    fault(api.post("/v2.0/trunks", json={"trunks": [item(parent1), item(parent2)]}), 409,
          "TrunkPortInUse")
    fault(api.post("/v2.0/trunks", json={"trunks": [{"port_id": parent1["id"]},
                                                    {"port_id": parent1["id"]}]}), 409,
          "ParentPortInUse")
    assert api.get("/v2.0/trunks").json()["trunks"] == []
    assert world.get_port(sub)["device_owner"] == ""
    made = api.post("/v2.0/trunks", json={"trunks": [item(parent1), {"port_id": parent2["id"]}]})
    assert made.status_code == 201, made.text
    assert len(made.json()["trunks"]) == 2


def test_mtu_and_bound_parents(api, neutrino, world):
    small = post(api, "networks", {"name": "small", "mtu": 1300})
    post(api, "subnets", {"network_id": small["id"], "ip_version": 4, "cidr": "10.78.0.0/24"})
    parent = post(api, "ports", {"network_id": small["id"]})
    big = world.port(1)
    fault(api.post("/v2.0/trunks", json={"trunk": {"port_id": parent["id"], "sub_ports": [
        {"port_id": big["id"], "segmentation_type": "vlan", "segmentation_id": 3}]}}), 409,
        "SubPortMtuGreaterThanTrunkPortMtu")
    assert api.get("/v2.0/trunks").json()["trunks"] == []
    # a parent bound to no chassis (binding_failed) can neither be trunked nor untrunked
    failed = world.port(0, **{"binding:host_id": "no-such-host"})
    assert failed["binding:vif_type"] == "binding_failed"
    fault(api.post("/v2.0/trunks", json={"trunk": {"port_id": failed["id"]}}), 409,
          "ParentPortInUse")
    trunk = world.trunk(world.port(0))

    def unbindable(session):
        port = session.get(Port, session.get(Trunk, trunk["id"]).port_id)
        port.binding_host_id, port.binding_vif_type = "no-such-host", "binding_failed"

    neutrino.db.write(unbindable)
    fault(api.delete(f"/v2.0/trunks/{trunk['id']}"), 409, "TrunkInUse")


def test_inherit_takes_the_vlan_network_segment(api, neutrino, world):
    vlan = post(api, "networks", {"name": "v", "provider:network_type": "vlan",
                                  "provider:physical_network": "physnet1",
                                  "provider:segmentation_id": 333, "mtu": 1400})
    post(api, "subnets", {"network_id": vlan["id"], "ip_version": 4, "cidr": "10.79.0.0/24"})
    sub = post(api, "ports", {"network_id": vlan["id"]})
    parent = world.port(0)
    trunk = post(api, "trunks", {"port_id": parent["id"], "sub_ports": [
        {"port_id": sub["id"], "segmentation_type": "inherit"}]})
    assert trunk["sub_ports"] == [{"port_id": sub["id"], "segmentation_type": "vlan",
                                   "segmentation_id": 333}]


def test_policy_other_projects_and_readers(neutrino):
    db, settings, wakeup = neutrino.db, neutrino.settings, neutrino.wakeup
    app = build_app(ApiDeps(
        services={"networks": neutrino.networks, "subnets": neutrino.subnets,
                  "ports": neutrino.ports, "trunks": TrunkService(db, settings, wakeup)},
        tags=TagService(db, wakeup), quotas=QuotaService(db, settings),
        context_for=keystone_context, health=neutrino.health,
        metrics_registry=neutrino.metrics.registry))
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    member = TestClient(app, headers={"X-Project-Id": a, "X-Roles": "member"})
    reader = TestClient(app, headers={"X-Project-Id": a, "X-Roles": "reader"})
    stranger = TestClient(app, headers={"X-Project-Id": b, "X-Roles": "member"})
    net = post(member, "networks", {"name": "p"})
    parent = post(member, "ports", {"network_id": net["id"]})
    trunk = post(member, "trunks", {"port_id": parent["id"]})
    assert reader.get(f"/v2.0/trunks/{trunk['id']}").status_code == 200
    assert reader.get(f"/v2.0/trunks/{trunk['id']}/get_subports").status_code == 200
    assert reader.put(f"/v2.0/trunks/{trunk['id']}", json={"trunk": {"name": "n"}}
                      ).status_code == 403
    assert reader.delete(f"/v2.0/trunks/{trunk['id']}").status_code == 403
    fault(stranger.get(f"/v2.0/trunks/{trunk['id']}"), 404, "TrunkNotFound")
    assert stranger.get("/v2.0/trunks").json()["trunks"] == []
    # another project's port is not found, as a parent or a subport
    theirs = post(stranger, "networks", {"name": "q"})
    their_port = post(stranger, "ports", {"network_id": theirs["id"]})
    fault(member.post("/v2.0/trunks", json={"trunk": {"port_id": their_port["id"]}}), 404,
          "PortNotFound")
    fault(member.put(f"/v2.0/trunks/{trunk['id']}/add_subports", json={"sub_ports": [
        {"port_id": their_port["id"], "segmentation_type": "vlan", "segmentation_id": 9}]}),
        404, "PortNotFound")
    assert rows(neutrino, "Logical_Switch_Port", name=trunk["id"]) == []


def _wait_for(condition, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")

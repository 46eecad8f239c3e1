"""`neutrino sync` and a trunk's subports: drift in `parent_name`/`tag_request` is found and
repaired through the subport's own translation (the trunk has no rows of its own)."""

from __future__ import annotations

import pytest
from nb_state import caught_up, one, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    return private_app  # its drift audit is off: what a test breaks is found by its own sync


def _post(client: TestClient, collection: str, body: dict) -> dict:
    response = client.post(f"/v2.0/{collection}", json={collection[:-1]: body})
    assert response.status_code == 201, response.text
    return response.json()[collection[:-1]]


def test_subport_drift_is_found_and_repaired(app, private_ovn):
    with TestClient(app.app) as client:
        nets = [_post(client, "networks", {"name": f"s{i}"}) for i in range(2)]
        parent = _post(client, "ports", {"network_id": nets[0]["id"]})
        untagged, lost, stranger = (_post(client, "ports", {"network_id": nets[1]["id"]})
                                    for _ in range(3))
        _post(client, "trunks", {"port_id": parent["id"], "sub_ports": [
            {"port_id": p["id"], "segmentation_type": "vlan", "segmentation_id": vid}
            for p, vid in ((untagged, 10), (lost, 11))]})
    wait_journal_idle(app)
    # a subport loses its tag, another its parent, and a port that is no subport gains both
    nbctl(private_ovn, "clear", "Logical_Switch_Port", untagged["id"], "tag_request")
    nbctl(private_ovn, "clear", "Logical_Switch_Port", lost["id"], "parent_name")
    nbctl(private_ovn, "set", "Logical_Switch_Port", stranger["id"],
          f'parent_name="{parent["id"]}"', "tag_request=12")
    caught_up(app, private_ovn)

    found = {(d.kind.value, d.resource_type, d.resource_id): d.detail
             for d in app.sync.compare().differences}
    assert set(found) == {("stale", "port", p["id"]) for p in (untagged, lost, stranger)}
    assert "tag_request" in found[("stale", "port", untagged["id"])]
    assert "parent_name" in found[("stale", "port", lost["id"])]

    assert app.sync.repair().repaired == 3
    assert app.sync.compare().differences == []
    for port, vid in ((untagged, 10), (lost, 11)):
        lsp = one(app, "Logical_Switch_Port", name=port["id"])
        assert (lsp["parent_name"], lsp["tag_request"]) == (parent["id"], vid)
    lsp = one(app, "Logical_Switch_Port", name=stranger["id"])
    assert (lsp["parent_name"], lsp["tag_request"], lsp["tag"]) == (None, None, None)

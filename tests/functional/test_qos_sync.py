"""`neutrino sync` covers the ports' QoS rows: a removed, altered or left-over row is found and
repaired; a QoS row neutrino did not write is never touched."""

from __future__ import annotations

import uuid

import pytest
from nb_state import caught_up, rows, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    return private_app  # its drift audit is off: what a test breaks is found by its own sync


def _post(client: TestClient, path: str, singular: str, body: dict) -> dict:
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _qos_uuid(app: Neutrino, port_id: str, direction: str) -> str:
    found = [r for r in rows(app, "QoS", external_ids={"neutron:port_id": port_id})
             if r["direction"] == direction]
    assert len(found) == 1, found
    return found[0]["_uuid"]


def test_sync_finds_and_repairs_qos_rows_and_leaves_foreign_ones(app, private_ovn):
    with TestClient(app.app) as client:
        pol = _post(client, "qos/policies", "policy", {"name": "p"})
        base = f"qos/policies/{pol['id']}"
        _post(client, f"{base}/bandwidth_limit_rules", "bandwidth_limit_rule",
              {"max_kbps": 1000, "direction": "ingress"})
        _post(client, f"{base}/dscp_marking_rules", "dscp_marking_rule", {"dscp_mark": 10})
        net = _post(client, "networks", "network", {"name": "n", "qos_policy_id": pol["id"]})
        gone, altered, kept = (_post(client, "ports", "port", {"network_id": net["id"]})
                               for _ in range(3))
        other = _post(client, "networks", "network", {"name": "o", "qos_policy_id": None})
        plain = _post(client, "ports", "port", {"network_id": other["id"]})
    wait_journal_idle(app)
    switch = f"neutron-{net['id']}"
    before_kept = sorted(r["_uuid"] for r in rows(
        app, "QoS", external_ids={"neutron:port_id": kept["id"]}))

    nbctl(private_ovn, "remove", "Logical_Switch", switch, "qos_rules",
          _qos_uuid(app, gone["id"], "to-lport"))
    nbctl(private_ovn, "set", "QoS", _qos_uuid(app, altered["id"], "from-lport"),
          "action:dscp=46")
    # a left-over row of ours for a port under no policy, and a row someone else wrote
    leftover = f'{plain["id"]} from-lport'
    nbctl(private_ovn, "--", "--id=@q", "create", "QoS", "priority=2002",
          "direction=from-lport", f'match="inport == \\"{plain["id"]}\\""', "action:dscp=8",
          f'external_ids:"neutron:port_id"="{plain["id"]}"',
          f'external_ids:"neutron:qos_key"="{leftover}"',
          "--", "add", "Logical_Switch", f"neutron-{other['id']}", "qos_rules", "@q")
    # ...and one of ours for a port that no longer exists
    ghost = str(uuid.uuid4())
    nbctl(private_ovn, "--", "--id=@q", "create", "QoS", "priority=2002",
          "direction=to-lport", f'match="outport == \\"{ghost}\\""', "bandwidth:rate=5",
          f'external_ids:"neutron:port_id"="{ghost}"',
          f'external_ids:"neutron:qos_key"="{ghost} to-lport"',
          "--", "add", "Logical_Switch", switch, "qos_rules", "@q")
    foreign_port = str(uuid.uuid4())
    nbctl(private_ovn, "--", "--id=@q", "create", "QoS", "priority=100",
          "direction=from-lport", f'match="inport == \\"{foreign_port}\\""', "action:dscp=8",
          f'external_ids:"neutron:port_id"="{foreign_port}"',
          "--", "add", "Logical_Switch", switch, "qos_rules", "@q")
    caught_up(app, private_ovn)

    report = app.sync.compare()
    found = {(d.kind.value, d.resource_type, d.resource_id) for d in report.differences}
    assert found == {("missing", "port", gone["id"]), ("stale", "port", altered["id"]),
                     ("extra", "port", plain["id"]), ("extra", "port", ghost)}

    assert app.sync.repair().repaired == 4
    assert app.sync.compare().differences == []
    assert len(rows(app, "QoS", external_ids={"neutron:port_id": gone["id"]})) == 2
    fixed = rows(app, "QoS", external_ids={"neutron:port_id": altered["id"]})
    assert {r["direction"]: r["action"] for r in fixed} == {"from-lport": {"dscp": 10},
                                                            "to-lport": {}}
    assert rows(app, "QoS", external_ids={"neutron:port_id": plain["id"]}) == []
    assert rows(app, "QoS", external_ids={"neutron:port_id": ghost}) == []
    assert len(rows(app, "QoS", external_ids={"neutron:port_id": foreign_port})) == 1
    assert sorted(r["_uuid"] for r in rows(
        app, "QoS", external_ids={"neutron:port_id": kept["id"]})) == before_kept

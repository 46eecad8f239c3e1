"""The maintenance drift audit compares only what changed in NB since it last looked."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from nb_state import caught_up, one, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.clock import utcnow
from neutrino.db.models import Leadership
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.maintenance import jobs
from neutrino.maintenance.scheduler import LEASE_NAME
from neutrino.ovn import local

PORTS = 30


@pytest.fixture()
def app(private_app: Neutrino) -> Neutrino:
    """The conftest's app (its drift audit off: the test runs each audit itself), leading
    maintenance before the test's first audit (taking the lead makes the next one full)."""
    wait_for(lambda: private_app.maintenance.leading, 15, "maintenance led")
    return private_app


@pytest.fixture()
def ports(app: Neutrino) -> list[dict]:
    with TestClient(app.app) as client:
        net = client.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
        assert client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.70.0.0/24",
            "enable_dhcp": False}}).status_code == 201
        created = client.post("/v2.0/ports", json={"ports": [
            {"network_id": net["id"], "name": f"p{i}"} for i in range(PORTS)]})
        assert created.status_code == 201, created.text
    wait_journal_idle(app)
    return created.json()["ports"]


def _audit(app: Neutrino) -> jobs.DriftAudit:
    return jobs.journal_drift(app.db, app.sync)


def _port(port_id: str) -> ResourceRef:
    return ResourceRef(ResourceType.PORT, port_id)


def test_an_audit_compares_only_the_resources_changed_in_nb_since_the_last(app, private_ovn,
                                                                           ports):
    first = _audit(app)
    assert first.everything and first.compared > PORTS and first.drifted == []
    assert _audit(app) == jobs.DriftAudit(everything=False, compared=0, drifted=[])

    gone, altered = ports[0], ports[1]
    nbctl(private_ovn, "lsp-del", gone["id"])
    nbctl(private_ovn, "lsp-set-addresses", altered["id"], "fa:16:3e:00:00:99 10.71.0.99")
    stray = str(uuid.uuid4())  # a switch that looks like ours, of no network of ours
    nbctl(private_ovn, "ls-add", f"neutron-{stray}", "--", "set", "Logical_Switch",
          f"neutron-{stray}", 'external_ids:"neutron:network_name"=ghost',
          'external_ids:"neutron:revision_number"=1')
    caught_up(app, private_ovn)

    audit = _audit(app)
    assert not audit.everything
    # the two ports, the stray switch, the network whose switch lost a port and the default
    # group whose port group did: not the other 28 ports, nor the subnet
    assert audit.compared == 5
    assert set(audit.drifted) == {_port(gone["id"]), _port(altered["id"]),
                                  ResourceRef(ResourceType.NETWORK, stray)}

    wait_journal_idle(app)  # the fixes went through the journal
    one(app, "Logical_Switch_Port", name=gone["id"])
    lsp = one(app, "Logical_Switch_Port", name=altered["id"])
    assert lsp["addresses"] == [f"{altered['mac_address']} "
                                f"{altered['fixed_ips'][0]['ip_address']}"]
    assert app.sync.compare().differences == []
    # the journal's own fixes are changes too, found fine: nothing left to fix
    assert _audit(app).drifted == []


def test_a_reconnect_or_a_new_maintenance_node_makes_the_next_audit_compare_everything(
        app, private_ovn, ports):
    _audit(app)
    assert not _audit(app).everything

    # NB away and back: what happened meanwhile was not watched
    local.stop(private_ovn.directory, "ovnnb_db")
    wait_for(lambda: not app.nb.connected, 10, "NB seen as down")
    local.up(private_ovn.directory)
    wait_for(lambda: app.nb.connected, 30, "NB reconnect")
    caught_up(app, private_ovn)
    audit = _audit(app)
    assert audit.everything and audit.compared > PORTS
    assert not _audit(app).everything

    # renewing its own lease changes nothing...
    app.maintenance.tick()
    assert app.maintenance.leading and not _audit(app).everything
    # ...but leadership taken over from a node whose lease expired does: it may have died
    # before its audit
    with app.db.session() as session:
        lease = session.get(Leadership, LEASE_NAME)
        lease.holder, lease.expires_at = "maintenance-gone", utcnow() - timedelta(seconds=1)
    app.maintenance.tick()
    assert app.maintenance.leading
    assert _audit(app).everything


def test_a_resource_the_journal_was_at_is_compared_at_the_next_audit(app, private_ovn, ports):
    _audit(app)
    target = ports[2]
    nbctl(private_ovn, "lsp-set-addresses", target["id"], "fa:16:3e:00:00:98 10.71.0.98")
    caught_up(app, private_ovn)
    for worker in app.workers:  # the journal owes the port an update: the audit leaves it
        worker.stop()
    with TestClient(app.app) as client:
        assert client.put(f"/v2.0/ports/{target['id']}",
                          json={"port": {"name": "renamed"}}).status_code == 200
    owed = _audit(app)
    assert owed.compared == 0 and owed.drifted == []
    while app.workers[0].run_once():  # the update applies the port's state, drift and all
        pass
    wait_journal_idle(app)
    audit = _audit(app)
    assert audit.compared >= 1 and audit.drifted == []
    assert app.sync.compare().differences == []

"""`neutrino sync` against NB changed behind neutrino's back with ovn-nbctl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import caught_up, one, rows, wait_journal_idle
from ovn_tools import nbctl
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


def _env(ovn: LocalOvn, state: Path, **extra: str) -> dict[str, str]:
    return {"NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
            "NEUTRINO_OVN_SB": ovn.sb,
            # what a test breaks is found by its own sync, not by a drift audit racing it
            "NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0", **extra}


@pytest.fixture()
def app(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings(_env(private_ovn, tmp_path)))
    neutrino.start()
    try:
        yield neutrino
    finally:
        neutrino.stop()


def _post(client: TestClient, collection: str, body: dict) -> dict:
    singular = collection.replace("-", "_")[:-1]
    response = client.post(f"/v2.0/{collection}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _topology(app: Neutrino) -> dict:
    with TestClient(app.app) as client:
        net = _post(client, "networks", {"name": "a"})
        _post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.90.0.0/24", "enable_dhcp": False})
        lonely = _post(client, "networks", {"name": "b"})
        dhcp_subnet = _post(client, "subnets", {"network_id": lonely["id"], "ip_version": 4,
                                                "cidr": "10.91.0.0/24"})
        gone, altered, kept = (_post(client, "ports", {"network_id": net["id"]})
                               for _ in range(3))
    wait_journal_idle(app)
    return {"net": net, "subnet": dhcp_subnet, "gone": gone, "altered": altered,
            "kept": kept}


def _drift(ovn: LocalOvn, topo: dict) -> tuple[str, str]:
    """Break NB as an operator or a bug might; returns (stray network id, foreign switch)."""
    nbctl(ovn, "lsp-del", topo["gone"]["id"])
    nbctl(ovn, "lsp-set-addresses", topo["altered"]["id"], "fa:16:3e:00:00:99 10.92.0.99")
    dhcp = nbctl(ovn, "--bare", "--columns=_uuid", "find", "DHCP_Options",
                 f"external_ids:subnet_id={topo['subnet']['id']}").strip()
    nbctl(ovn, "destroy", "DHCP_Options", dhcp)
    stray = str(uuid.uuid4())
    nbctl(ovn, "ls-add", f"neutron-{stray}", "--", "set", "Logical_Switch", f"neutron-{stray}",
          'external_ids:"neutron:network_name"=ghost',
          'external_ids:"neutron:revision_number"=1')
    nbctl(ovn, "ls-add", "someone-elses", "--", "lsp-add", "someone-elses", "theirs")
    return stray, "someone-elses"


def test_log_reports_exactly_the_drift_and_repair_fixes_only_that(app, private_ovn):
    topo = _topology(app)
    stray, foreign = _drift(private_ovn, topo)
    caught_up(app, private_ovn)
    before_kept = one(app, "Logical_Switch_Port", name=topo["kept"]["id"])

    report = app.sync.compare()
    found = {(d.kind.value, d.resource_type, d.resource_id) for d in report.differences}
    assert found == {
        ("missing", "port", topo["gone"]["id"]),
        ("stale", "port", topo["altered"]["id"]),
        ("missing", "subnet", topo["subnet"]["id"]),
        ("extra", "network", stray),
    }
    stale = next(d for d in report.differences if d.kind.value == "stale")
    assert "addresses" in stale.detail and "port_security" not in stale.detail

    repaired = app.sync.repair()
    assert repaired.repaired == 4
    assert app.sync.compare().differences == []
    assert app.sync.repair().repaired == 0

    lsp = one(app, "Logical_Switch_Port", name=topo["altered"]["id"])
    ip = topo["altered"]["fixed_ips"][0]["ip_address"]
    assert lsp["addresses"] == [f"{topo['altered']['mac_address']} {ip}"]
    one(app, "Logical_Switch_Port", name=topo["gone"]["id"])
    one(app, "DHCP_Options", external_ids={"subnet_id": topo["subnet"]["id"]})
    assert rows(app, "Logical_Switch", name=f"neutron-{stray}") == []
    assert one(app, "Logical_Switch", name=foreign)["ports"]  # the foreign switch survives
    assert one(app, "Logical_Switch_Port", name="theirs")
    assert one(app, "Logical_Switch_Port", name=topo["kept"]["id"]) == before_kept


def test_resources_the_journal_still_owes_are_left_to_it(app, private_ovn):
    topo = _topology(app)
    for worker in app.workers:
        worker.stop()
    with TestClient(app.app) as client:
        response = client.put(f"/v2.0/ports/{topo['kept']['id']}",
                              json={"port": {"name": "renamed"}})
        assert response.status_code == 200
    report = app.sync.compare()
    assert report.left_to_journal == 1
    assert report.differences == []
    assert report.owed == []  # owed for less than the threshold: the journal's business

    app.sync.owed_after = 0.0  # ...but owed for longer, it is reported with its entry
    owed = app.sync.compare().owed
    assert [(o.resource_type, o.resource_id, o.state) for o in owed] == \
        [("port", topo["kept"]["id"], "pending")]
    assert owed[0].seq > 0 and owed[0].age_seconds >= 0


def test_cli_log_exit_status_json_and_startup_repair(private_ovn, tmp_path):
    first = build(load_settings(_env(private_ovn, tmp_path, NEUTRINO_STARTUP_SYNC="off")))
    first.start()
    try:
        topo = _topology(first)
    finally:
        first.stop()
    nbctl(private_ovn, "lsp-del", topo["gone"]["id"])

    env = dict(os.environ, **_env(private_ovn, tmp_path))
    cli = [sys.executable, "-m", "neutrino.cli", "sync", "--mode", "log", "--json"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    items = json.loads(done.stdout)["items"]
    assert [(i["kind"], i["resource_id"]) for i in items] == [("missing", topo["gone"]["id"])]
    ports_only = subprocess.run([*cli, "--resource-type", "network"], env=env,
                                capture_output=True, text=True, timeout=60)
    assert ports_only.returncode == 0 and json.loads(ports_only.stdout)["items"] == []
    # Piped (not a terminal), the table's ids are whole, one difference a line.
    piped = subprocess.run(cli[:-1], env=dict(env, COLUMNS="40"), capture_output=True,
                           text=True, timeout=60)
    assert f"missing\tport\t{topo['gone']['id']}\t" in piped.stdout, piped.stdout

    second = build(load_settings(_env(private_ovn, tmp_path, NEUTRINO_STARTUP_SYNC="repair")))
    second.start()
    try:
        deadline = time.monotonic() + 20
        while second.startup_sync is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.startup_sync["repaired"] == 1
        with TestClient(second.app) as client:
            assert client.get("/healthz").json()["startup_sync"]["differences"] == \
                {"missing": 1}
        one(second, "Logical_Switch_Port", name=topo["gone"]["id"])
    finally:
        second.stop()
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


def test_security_groups_and_routers_are_compared_and_repaired(app, private_ovn):
    with TestClient(app.app) as client:
        net = _post(client, "networks", {"name": "sgs"})
        subnet = _post(client, "subnets", {"network_id": net["id"], "ip_version": 4,
                                           "cidr": "10.92.0.0/24"})
        group = _post(client, "security-groups", {"name": "web"})
        rule = client.post("/v2.0/security-group-rules", json={"security_group_rule": {
            "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 80, "port_range_max": 80}}).json()["security_group_rule"]
        port = _post(client, "ports", {"network_id": net["id"],
                                       "security_groups": [group["id"]]})
        router = _post(client, "routers", {"name": "r"})
        interface = client.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                               json={"subnet_id": subnet["id"]}).json()
    wait_journal_idle(app)
    pg_name = "pg_" + group["id"].replace("-", "_")
    acl = nbctl(private_ovn, "--bare", "--columns=_uuid", "find", "ACL",
                f'external_ids:"neutron:security_group_rule_id"="{rule["id"]}"').strip()
    nbctl(private_ovn, "remove", "Port_Group", pg_name, "acls", acl)  # the rule's ACL is gone
    nbctl(private_ovn, "clear", "Port_Group", pg_name, "ports")  # ...and the port left its group
    nbctl(private_ovn, "lr-del", f"neutron-{router['id']}")  # ...and the router vanished
    caught_up(app, private_ovn)

    found = {(d.kind.value, d.resource_type, d.resource_id)
             for d in app.sync.compare().differences}
    assert found == {("missing", "security_group_rule", rule["id"]),
                     ("stale", "port", port["id"]),
                     ("missing", "router", router["id"]),
                     # the interface's router port went with the router
                     ("missing", "port", interface["port_id"])}
    app.sync.repair()
    assert app.sync.compare().differences == []
    group_row = one(app, "Port_Group", name=pg_name)
    assert one(app, "Logical_Switch_Port", name=port["id"])["_uuid"] in group_row["ports"]
    assert len(group_row["acls"]) == 3  # two default egress rules and tcp/80
    assert one(app, "Logical_Router", name=f"neutron-{router['id']}")


def test_address_groups_are_compared_and_repaired(app, private_ovn):
    with TestClient(app.app) as client:
        ag = _post(client, "address-groups", {"addresses": ["10.93.0.0/24", "fd00:93::/64"]})
        gone = _post(client, "address-groups", {"addresses": ["10.94.0.0/24"]})
    wait_journal_idle(app)
    v4 = "ag_" + ag["id"].replace("-", "_") + "_ip4"
    v6 = "ag_" + ag["id"].replace("-", "_") + "_ip6"
    nbctl(private_ovn, "set", "Address_Set", v4, "addresses=10.99.0.0/24")  # tampered with
    nbctl(private_ovn, "destroy", "Address_Set", v6)  # ...and lost
    nbctl(private_ovn, "destroy", "Address_Set", "ag_" + gone["id"].replace("-", "_") + "_ip4")
    stray = str(uuid.uuid4())  # a set of ours the database never heard of
    stray_name = "ag_" + stray.replace("-", "_") + "_ip4"
    nbctl(private_ovn, "create", "Address_Set", f"name={stray_name}",
          f'external_ids:"neutron:address_group_id"="{stray}"')
    nbctl(private_ovn, "create", "Address_Set", "name=someone_elses")  # not ours: left alone
    caught_up(app, private_ovn)

    found = {(d.kind.value, d.resource_type, d.resource_id, d.row.split("=")[-1].rstrip(")"))
             for d in app.sync.compare().differences}
    assert found == {("stale", "address_group", ag["id"], v4),
                     ("missing", "address_group", ag["id"], v6),
                     ("missing", "address_group", gone["id"],
                      "ag_" + gone["id"].replace("-", "_") + "_ip4"),
                     ("extra", "address_group", stray, stray_name)}
    app.sync.repair()
    assert app.sync.compare().differences == []
    assert one(app, "Address_Set", name=v4)["addresses"] == ["10.93.0.0/24"]
    assert one(app, "Address_Set", name=v6)["addresses"] == ["fd00:93::/64"]
    assert rows(app, "Address_Set", name=stray_name) == []
    assert one(app, "Address_Set", name="someone_elses")


def test_a_change_committed_while_sync_compares_is_left_to_the_journal(app, private_ovn):
    """Another node (here: the API, from inside the comparison) changes a port after sync
    read the journal and before it read the port: a second look sees the journal at work."""
    topo = _topology(app)
    for worker in app.workers:  # the change stays owed: NB keeps the port's old revision
        worker.stop()
    plan, changed = app.sync.reconciler.plan, []

    def plan_while_another_node_writes(refs):  # type: ignore[no-untyped-def]
        if not changed:
            with TestClient(app.app) as client:
                changed.append(client.put(f"/v2.0/ports/{topo['kept']['id']}",
                                          json={"port": {"name": "renamed"}}).status_code)
        return plan(refs)

    app.sync.reconciler.plan = plan_while_another_node_writes
    report = app.sync.compare()
    assert changed == [200]
    assert report.differences == []
    assert report.left_to_journal == 1


def test_nb_global_keys_come_back_without_a_sync(app, private_ovn):
    """NB_Global's neutron: keys are written at start; maintenance writes them again when NB
    was away then, had no NB_Global yet, or lost them (here the drift audit is off)."""
    def key() -> str | None:
        found = rows(app, "NB_Global")
        return found[0]["external_ids"].get("neutron:fip-distributed") if found else None

    wait_for(lambda: key() == "False", 20, "the key written at start")
    nbctl(private_ovn, "remove", "NB_Global", ".", "external_ids", '"neutron:fip-distributed"')
    wait_for(lambda: key() is None, 10, "the key seen gone")
    wait_for(lambda: key() == "False", 15, "maintenance to write the key again")

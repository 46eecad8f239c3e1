"""L2 gateways end to end: networking-l2gw's API, the VTEP database neutrino writes through
the journal, and ovn-controller-vtep linking it to OVN (all real, started by the tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import wait_journal_idle
from ovn_tools import nbctl, sbctl, trace, trace_outcome, wait_sb_synced
from starlette.testclient import TestClient
from vtep_tools import CONTROLLER, Vtep, start_controller, start_vtep
from waiting import wait_for

from neutrino import daemons, errors
from neutrino.bootstrap import Neutrino, build
from neutrino.maintenance import jobs
from neutrino.ovn.local import LocalOvn
from neutrino.services.context import Context
from neutrino.services.l2gw.connections import L2GatewayConnectionService
from neutrino.services.l2gw.gateways import L2GatewayService
from neutrino.services.listing import ListQuery
from neutrino.settings import load_settings
from neutrino.sync.runner import SyncRunner

GATEWAY = {"name": "gw", "devices": [
    {"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [100]}]}]}


@pytest.fixture()
def vtep(tmp_path: Path) -> Iterator[Vtep]:
    switch = start_vtep(tmp_path / "vtep", "ps1", ("p0", "p1"), "192.0.2.10")
    try:
        yield switch
    finally:
        daemons.stop_daemon(switch.directory, CONTROLLER)
        switch.stop_server()


@pytest.fixture()
def app(private_ovn: LocalOvn, vtep: Vtep, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": private_ovn.nb,
        "NEUTRINO_OVN_SB": private_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_VTEP_DBS": f"ps1={vtep.remote},ps9=unix:{tmp_path}/nowhere.sock",
        # the tests drive the VTEP catch-up themselves
        "NEUTRINO_MAINTENANCE_VTEP_SECONDS": "3600"}))
    neutrino.start()
    try:
        wait_for(lambda: neutrino.nb.connected, 20, "NB connection")
        yield neutrino
    finally:
        neutrino.stop()


@pytest.fixture()
def api(app: Neutrino) -> Iterator[TestClient]:
    with TestClient(app.app) as client:
        yield client


def _network(api: TestClient) -> str:
    net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]["id"]
    created = api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net, "cidr": "10.8.0.0/24", "ip_version": 4}})
    assert created.status_code == 201, created.text
    return net


def _connect(api: TestClient, gateway: dict | None = None, **extra: object) -> tuple[str, dict]:
    net = _network(api)
    made = api.post("/v2.0/l2-gateways", json={"l2_gateway": gateway or GATEWAY})
    assert made.status_code == 201, made.text
    gw = made.json()["l2_gateway"]["id"]
    connected = api.post("/v2.0/l2-gateway-connections", json={"l2_gateway_connection": {
        "l2_gateway_id": gw, "network_id": net, **extra}})
    assert connected.status_code == 201, connected.text
    return net, connected.json()["l2_gateway_connection"]


def _vtep_switches(vtep: Vtep) -> dict[str, str]:
    """VTEP Logical_Switch name → tunnel key ("" while none)."""
    out = vtep.ctl("--format=csv", "--data=bare", "--no-headings",
                   "--columns=name,tunnel_key", "list", "Logical_Switch")
    return dict(line.split(",", 1) for line in out.splitlines() if line)


def _bindings(vtep: Vtep, port: str) -> str:
    return vtep.ctl("list-bindings", "ps1", port).strip()


def _datapath_key(ovn: LocalOvn, net: str) -> str:
    return sbctl(ovn, "--bare", "--columns=tunnel_key", "find", "Datapath_Binding",
                 f"external_ids:name=neutron-{net}").strip()


def _sb_port(ovn: LocalOvn, name: str, column: str) -> str:
    return sbctl(ovn, "--bare", f"--columns={column}", "find", "Port_Binding",
                 f"logical_port={name}").strip()


def test_a_connection_is_realised_in_the_vtep_and_linked_by_ovn_controller_vtep(
        app: Neutrino, api: TestClient, private_ovn: LocalOvn, vtep: Vtep) -> None:
    start_controller(vtep, private_ovn)
    wait_for(lambda: "ps1" in sbctl(private_ovn, "--bare", "--columns=name", "list",
                                    "Chassis"), 20, "the physical switch as an SB chassis")
    net, conn = _connect(api)
    wait_journal_idle(app)
    ls = f"neutron-{net}"
    assert ls in _vtep_switches(vtep)
    assert _bindings(vtep, "p0") == f"0100 {ls}"
    lsp = f"l2gw-{conn['id']}-ps1"
    assert nbctl(private_ovn, "get", "Logical_Switch_Port", lsp, "type").strip() == "vtep"
    # ovn-controller-vtep: the network's tunnel key on the VTEP switch, the port on ps1
    wait_for(lambda: _vtep_switches(vtep)[ls] == _datapath_key(private_ovn, net) != "",
             20, "the VTEP logical switch to carry the network's tunnel key")
    ps1 = sbctl(private_ovn, "--bare", "--columns=_uuid", "find", "Chassis", "name=ps1").strip()
    wait_for(lambda: _sb_port(private_ovn, lsp, "chassis") == ps1, 20, "vtep port on ps1")
    # a VM port bound to a hypervisor: its MAC is told to the VTEP with the tunnel IP
    vm = api.post("/v2.0/ports", json={"port": {"network_id": net}}).json()["port"]
    wait_journal_idle(app)
    sbctl(private_ovn, "chassis-add", "hv1", "vxlan", "192.0.2.50")
    wait_for(lambda: _sb_port(private_ovn, vm["id"], "_uuid") != "", 20, "VM port binding")
    sbctl(private_ovn, "lsp-bind", vm["id"], "hv1")

    def remote_macs() -> str:
        return vtep.ctl("list-remote-macs", ls)

    wait_for(lambda: vm["mac_address"] in remote_macs() and "192.0.2.50" in remote_macs(),
             20, "the VM's MAC as a Ucast_Macs_Remote behind hv1's tunnel IP")
    # a MAC OVN does not know (not learnt on the switch either) is flooded to the VTEP
    wait_sb_synced(private_ovn)
    ip = vm["fixed_ips"][0]["ip_address"]
    flow = (f'inport=="{vm["id"]}" && eth.src=={vm["mac_address"]} && '
            f"eth.dst==00:11:22:33:44:55 && ip4.src=={ip} && ip4.dst==10.8.0.99 && "
            "ip.ttl==64 && udp && udp.dst==53")
    assert trace_outcome(trace(private_ovn, ls, flow)).delivered == {lsp}
    # deleting the connection removes all of it
    assert api.delete(f"/v2.0/l2-gateway-connections/{conn['id']}").status_code == 204
    wait_journal_idle(app)
    assert ls not in _vtep_switches(vtep)
    assert _bindings(vtep, "p0") == ""
    assert nbctl(private_ovn, "--bare", "--columns=name", "find", "Logical_Switch_Port",
                 f"name={lsp}").strip() == ""


LEARNT = "00:11:22:33:44:55"


def _lsp_addresses(ovn: LocalOvn, name: str) -> set[str]:
    out = nbctl(ovn, "--bare", "--columns=addresses", "find", "Logical_Switch_Port",
                f"name={name}")
    return set(out.split())


def test_a_mac_learnt_on_the_vtep_appears_in_sb_and_goes_again(
        app: Neutrino, api: TestClient, private_ovn: LocalOvn, vtep: Vtep) -> None:
    """ovn-controller-vtep (OVN 23.03) does not import Ucast_Macs_Local into SB; neutrino
    does, through the vtep switch port's addresses (the L2 gateway's, and a port bound by
    binding profile to a VTEP logical switch someone else made)."""
    start_controller(vtep, private_ovn)
    net, conn = _connect(api)
    wait_journal_idle(app)
    ls, lsp = f"neutron-{net}", f"l2gw-{conn['id']}-ps1"
    vtep.ctl("add-ls", "theirs")
    bound = api.post("/v2.0/ports", json={"port": {"network_id": _network(api),
                                                   "binding:profile": {
        "vtep-physical-switch": "ps1", "vtep-logical-switch": "theirs"}}})
    assert bound.status_code == 201, bound.text
    port = bound.json()["port"]["id"]
    wait_for(lambda: _sb_port(private_ovn, lsp, "chassis") != "", 20, "vtep port bound")
    vtep.ctl("add-ucast-local", ls, LEARNT.upper(), "192.0.2.10")
    vtep.ctl("add-ucast-local", "theirs", "00:11:22:33:44:66", "192.0.2.10")
    wait_for(lambda: _lsp_addresses(private_ovn, lsp) == {"unknown", LEARNT}, 20,
             "the learnt MAC in the NB vtep port's addresses")
    wait_for(lambda: set(_sb_port(private_ovn, lsp, "mac").split()) == {"unknown", LEARNT},
             20, "the learnt MAC in the SB Port_Binding")
    wait_for(lambda: _lsp_addresses(private_ovn, port) == {"unknown", "00:11:22:33:44:66"},
             20, "the MAC learnt behind the binding-profile port")
    assert _lsp_addresses(private_ovn, port) == {"unknown", "00:11:22:33:44:66"}
    vtep.ctl("del-ucast-local", ls, LEARNT.upper())
    wait_for(lambda: _sb_port(private_ovn, lsp, "mac") == "unknown", 20,
             "the forgotten MAC gone from SB")
    assert _lsp_addresses(private_ovn, lsp) == {"unknown"}


def test_sync_reports_and_repairs_a_learnt_mac_removed_from_nb(
        app: Neutrino, api: TestClient, private_ovn: LocalOvn, vtep: Vtep) -> None:
    net, conn = _connect(api)
    wait_journal_idle(app)
    lsp = f"l2gw-{conn['id']}-ps1"
    vtep.ctl("add-ucast-local", f"neutron-{net}", LEARNT, "192.0.2.10")
    wait_for(lambda: LEARNT in _lsp_addresses(private_ovn, lsp), 20, "the learnt MAC in NB")
    wait_journal_idle(app)
    nbctl(private_ovn, "lsp-set-addresses", lsp, "unknown")
    runner = SyncRunner(app.db, app.nb, app.reconciler)

    def found() -> list[tuple[str, str, str]]:
        return [(d.resource_type, d.resource_id, d.kind.value)
                for d in runner.compare().differences]

    wait_for(found, 10, "the hand-made change seen by sync")
    assert found() == [("l2_gateway_connection", conn["id"], "stale")]
    runner.repair()
    assert _lsp_addresses(private_ovn, lsp) == {"unknown", LEARNT}
    assert runner.compare().differences == []


def test_foreign_vtep_rows_are_left_alone(app: Neutrino, api: TestClient, vtep: Vtep) -> None:
    vtep.ctl("add-ls", "theirs")
    vtep.ctl("bind-ls", "ps1", "p1", "200", "theirs")
    _net, conn = _connect(api)
    wait_journal_idle(app)
    api.delete(f"/v2.0/l2-gateway-connections/{conn['id']}")
    wait_journal_idle(app)
    assert list(_vtep_switches(vtep)) == ["theirs"]
    assert _bindings(vtep, "p1") == "0200 theirs"
    report = SyncRunner(app.db, app.nb, app.reconciler).compare()
    assert not [d for d in report.differences if d.resource_type == "vtep"]


def test_vtep_database_down_during_create(app: Neutrino, api: TestClient,
                                           vtep: Vtep) -> None:
    vtep.stop_server()
    net, _conn = _connect(api)  # the API answers at once
    vtep.start_server()
    wait_for(lambda: f"neutron-{net}" in _vtep_switches(vtep), 30,
             "the VTEP rows once the database is back")
    wait_for(lambda: _bindings(vtep, "p0") == f"0100 neutron-{net}", 10, "VLAN binding")
    wait_journal_idle(app)


def test_sync_reports_and_repairs_a_deleted_vlan_binding(app: Neutrino, api: TestClient,
                                                          vtep: Vtep) -> None:
    net, _conn = _connect(api)
    wait_journal_idle(app)
    vtep.ctl("unbind-ls", "ps1", "p0", "100")
    runner = SyncRunner(app.db, app.nb, app.reconciler)
    report = runner.compare()
    found = [d for d in report.differences if d.resource_type == "vtep"]
    # the configured switch whose database never answers is said, not skipped silently
    assert [down.split(":", 1)[0] for down in report.vtep_unavailable] == ["ps9"]
    assert [(d.kind.value, d.row) for d in found] == [
        ("missing", "Physical_Port(name=p0).vlan_bindings[100]")]
    runner.repair()
    assert _bindings(vtep, "p0") == f"0100 neutron-{net}"
    assert not [d for d in runner.compare().differences if d.resource_type == "vtep"]


def test_connection_segmentation_from_the_connection(app: Neutrino, api: TestClient,
                                                      vtep: Vtep) -> None:
    gateway = {"name": "g", "devices": [{"device_name": "ps1",
                                         "interfaces": [{"name": "p1"}]}]}
    net, conn = _connect(api, gateway, segmentation_id=300)
    assert conn["segmentation_id"] == 300
    wait_journal_idle(app)
    assert _bindings(vtep, "p1") == f"0300 neutron-{net}"


def _error(response: object, status: int, fault: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["NeutronError"]["type"] == fault, response.text


def test_errors_as_networking_l2gw(app: Neutrino, api: TestClient, vtep: Vtep) -> None:
    gw_path, conn_path = "/v2.0/l2-gateways", "/v2.0/l2-gateway-connections"
    for bad in ([], [{"device_name": "", "interfaces": [{"name": "p0"}]}],
                [{"device_name": "ps1", "interfaces": []}],
                [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [5000]}]}],
                [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": []}]}]):
        _error(api.post(gw_path, json={"l2_gateway": {"devices": bad}}), 400, "BadRequest")
    # the body is checked before the gateway is looked up
    _error(api.put(f"{gw_path}/nope", json={"l2_gateway": {"devices": []}}), 400, "BadRequest")
    _error(api.put(f"{gw_path}/nope", json={"l2_gateway": {"name": "x"}}), 404,
           "L2GatewayNotFound")
    net, conn = _connect(api)
    gw = conn["l2_gateway_id"]
    _error(api.delete(f"{gw_path}/{gw}"), 409, "L2GatewayInUse")
    _error(api.post(conn_path, json={"l2_gateway_connection": {
        "l2_gateway_id": gw, "network_id": net}}), 409, "L2GatewayConnectionExists")
    other = _network(api)
    _error(api.post(conn_path, json={"l2_gateway_connection": {
        "l2_gateway_id": gw, "network_id": other, "segmentation_id": 7}}), 400, "InvalidInput")
    # the same VLAN on the same interface, through another gateway
    gw2 = api.post(gw_path, json={"l2_gateway": GATEWAY}).json()["l2_gateway"]["id"]
    _error(api.post(conn_path, json={"l2_gateway_connection": {
        "l2_gateway_id": gw2, "network_id": other}}), 409, "L2GatewaySegmentationIDExists")
    for device, fault in (("ps7", "L2GatewayDeviceNotFound"), ("ps1", "")):
        interface = "p0" if fault else "eth9"
        made = api.post(gw_path, json={"l2_gateway": {"devices": [{
            "device_name": device, "interfaces": [{"name": interface,
                                                   "segmentation_id": [9]}]}]}})
        assert made.status_code == 201, made.text  # any device may be named
        response = api.post(conn_path, json={"l2_gateway_connection": {
            "l2_gateway_id": made.json()["l2_gateway"]["id"], "network_id": other}})
        _error(response, 400, fault or "L2GatewayInterfaceNotFound")
        assert (device if fault else interface) in response.json()["NeutronError"]["message"]
    _error(api.post(conn_path, json={"l2_gateway_connection": {
        "l2_gateway_id": "nope", "network_id": other}}), 404, "L2GatewayNotFound")
    _error(api.get(f"{conn_path}/nope"), 404, "L2GatewayConnectionNotFound")
    assert api.put(f"{gw_path}/{gw}", json={"l2_gateway": {"name": "renamed"}}).json()[
        "l2_gateway"]["name"] == "renamed"
    _error(api.put(f"{gw_path}/{gw}", json={"l2_gateway": {"devices": [{
        "device_name": "ps1", "interfaces": [{"name": "p1", "segmentation_id": [1]}]}]}}),
        409, "L2GatewayInUse")


def test_a_network_the_caller_cannot_see_is_not_found(app: Neutrino, api: TestClient) -> None:
    hidden = api.post("/v2.0/networks", json={"network": {
        "name": "h", "project_id": "other"}}).json()["network"]["id"]
    gw = api.post("/v2.0/l2-gateways", json={"l2_gateway": GATEWAY}).json()["l2_gateway"]["id"]
    service = L2GatewayConnectionService(app.db, app.settings, app.wakeup, lambda _s: None)
    admin_elsewhere = Context(project_id="me", is_admin=True)
    made = service.create(admin_elsewhere, [{"l2_gateway_id": gw, "network_id": hidden}])
    assert made[0]["network_id"] == hidden  # an admin sees every network
    member = Context(project_id="me", is_admin=False, roles=("member",))
    with pytest.raises(errors.PolicyNotAuthorized):
        service.create(member, [{"l2_gateway_id": gw, "network_id": hidden}])


def test_non_admins_get_403_for_every_call(app: Neutrino, api: TestClient) -> None:
    member = Context(project_id="me", is_admin=False, roles=("member",))
    gateways = L2GatewayService(app.db, app.settings, app.wakeup)
    connections = L2GatewayConnectionService(app.db, app.settings, app.wakeup,
                                             lambda _s: None)
    calls = [lambda: gateways.create(member, [GATEWAY]),
             lambda: gateways.list(member, ListQuery()),
             lambda: gateways.get(member, "x"),
             lambda: gateways.update(member, "x", {"name": "y"}, None),
             lambda: gateways.delete(member, "x", None),
             lambda: connections.list(member, ListQuery()),
             lambda: connections.get(member, "x"),
             lambda: connections.delete(member, "x", None)]
    for call in calls:
        with pytest.raises(errors.PolicyNotAuthorized):
            call()


def test_extensions_listed_and_vtep_databases_in_health(api: TestClient) -> None:
    assert api.get("/healthz").json()["vtep"] == {"ps1": "reachable", "ps9": "unreachable"}
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"l2-gateway", "l2-gateway-connection"} <= aliases


def test_deleting_the_network_takes_its_connection_and_vtep_rows(
        app: Neutrino, api: TestClient, private_ovn: LocalOvn, vtep: Vtep) -> None:
    net, conn = _connect(api)
    wait_journal_idle(app)
    assert api.delete(f"/v2.0/networks/{net}").status_code == 204
    wait_journal_idle(app)
    assert api.get(f"/v2.0/l2-gateway-connections/{conn['id']}").status_code == 404
    assert _vtep_switches(vtep) == {} and _bindings(vtep, "p0") == ""
    assert api.delete(f"/v2.0/l2-gateways/{conn['l2_gateway_id']}").status_code == 204


def test_a_delete_missed_by_a_down_vtep_is_caught_up(app: Neutrino, api: TestClient,
                                                      vtep: Vtep) -> None:
    net, conn = _connect(api)
    wait_journal_idle(app)
    vtep.stop_server()
    assert api.delete(f"/v2.0/l2-gateway-connections/{conn['id']}").status_code == 204
    wait_journal_idle(app)  # NB done; the delete does not wait for the VTEP
    vtep.start_server()
    assert f"neutron-{net}" in _vtep_switches(vtep)
    wait_for(lambda: app.reconciler.vtep["ps1"].connected, 20, "VTEP reconnected")
    # the drift audit journals NB drift only, and does not trip over VTEP differences
    assert jobs.journal_drift(app.db, SyncRunner(app.db, app.nb, app.reconciler)).drifted == []
    assert jobs.vtep_catch_up(app.reconciler) == 1
    assert _vtep_switches(vtep) == {} and _bindings(vtep, "p0") == ""
    assert jobs.vtep_catch_up(app.reconciler) == 0

"""binding-extended: a port's bindings as Nova's live migration drives them, and what the
switch port in OVN NB says meanwhile (requested-chassis with both hosts, RARP activation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nb_state import rows, wait_journal_idle
from starlette.testclient import TestClient
from test_port_binding import OVS_SYSTEM, add_chassis

from neutrino import errors
from neutrino.bootstrap import Neutrino
from neutrino.ovn.local import LocalOvn
from neutrino.services.context import Context
from neutrino.services.port_bindings import PortBindingService


def make_port(api: TestClient, **attrs: object) -> dict:
    net = api.post("/v2.0/networks", json={"network": {"name": "mig"}}).json()["network"]
    response = api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "device_owner": "compute:nova", "device_id": "vm-1",
        **attrs}})
    assert response.status_code == 201, response.text
    return response.json()["port"]


def bindings(api: TestClient, port_id: str, query: str = "") -> list[dict]:
    response = api.get(f"/v2.0/ports/{port_id}/bindings{query}")
    assert response.status_code == 200, response.text
    return response.json()["bindings"]


def lsp_options(app: Neutrino, port_id: str) -> dict[str, str]:
    wait_journal_idle(app)
    (lsp,) = rows(app, "Logical_Switch_Port", name=port_id)
    return dict(lsp["options"])


def fault(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["NeutronError"]["type"]


def test_live_migration_bindings_and_requested_chassis(neutrino: Neutrino, api: TestClient):
    port = make_port(api, **{"binding:host_id": "src-host"})
    pid = port["id"]
    base = f"/v2.0/ports/{pid}/bindings"
    (active,) = bindings(api, pid)
    assert (active["host"], active["status"], active["vnic_type"]) == (
        "src-host", "ACTIVE", "normal")
    assert lsp_options(neutrino, pid) == {"requested-chassis": "src-host"}

    # Nova prepares the destination: an inactive binding, and OVN may claim the port on
    # either chassis (on the destination only once the VM's RARP is seen).
    created = api.post(base, json={"binding": {"host": "dst-host",
                                               "profile": {"os_vif_delegation": True}}})
    assert created.status_code == 201, created.text
    made = created.json()["binding"]
    assert (made["host"], made["status"], made["profile"]) == (
        "dst-host", "INACTIVE", {"os_vif_delegation": True})
    assert set(made) == {"host", "vif_type", "vif_details", "vnic_type", "profile", "status"}
    assert lsp_options(neutrino, pid) == {"requested-chassis": "src-host,dst-host",
                                          "activation-strategy": "rarp"}
    assert api.get(f"/v2.0/ports/{pid}").json()["port"]["binding:host_id"] == "src-host"
    assert [b["host"] for b in bindings(api, pid, "?status=INACTIVE")] == ["dst-host"]
    assert api.get(f"{base}/dst-host?fields=status").json() == {
        "binding": {"status": "INACTIVE"}}

    # duplicates and activating the active one are conflicts; unknown hosts are 404
    for host in ("dst-host", "src-host"):
        assert fault(api.post(base, json={"binding": {"host": host}}),
                     409) == "PortBindingAlreadyExists"
    assert fault(api.put(f"{base}/src-host/activate"), 409) == "PortBindingAlreadyActive"
    assert fault(api.put(f"{base}/nowhere/activate"), 404) == "PortBindingNotFound"
    assert fault(api.get(f"{base}/nowhere"), 404) == "PortBindingNotFound"
    assert fault(api.put(f"{base}/src-host", json={"binding": {"profile": {}}}),
                 404) == "PortBindingNotFound"

    updated = api.put(f"{base}/dst-host", json={"binding": {"profile": {"a": "b"}}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["binding"]["profile"] == {"a": "b"}

    # the switch-over: the destination's binding is the port's, the source's is inactive,
    # and OVN binds the port to the new chassis only
    activated = api.put(f"{base}/dst-host/activate")
    assert activated.status_code == 200, activated.text
    assert activated.json()["binding"]["status"] == "ACTIVE"
    shown = api.get(f"/v2.0/ports/{pid}").json()["port"]
    assert (shown["binding:host_id"], shown["binding:profile"]) == ("dst-host", {"a": "b"})
    assert {b["host"]: b["status"] for b in bindings(api, pid)} == {
        "dst-host": "ACTIVE", "src-host": "INACTIVE"}
    assert lsp_options(neutrino, pid) == {"requested-chassis": "dst-host"}

    # Nova removes the source's binding afterwards
    assert api.delete(f"{base}/src-host").status_code == 204
    assert [b["host"] for b in bindings(api, pid)] == ["dst-host"]
    assert fault(api.delete(f"{base}/src-host"), 404) == "PortBindingNotFound"
    assert lsp_options(neutrino, pid) == {"requested-chassis": "dst-host"}


def test_a_rolled_back_migration_and_the_active_binding_deleted(neutrino: Neutrino,
                                                                api: TestClient):
    pid = make_port(api, **{"binding:host_id": "src-host"})["id"]
    base = f"/v2.0/ports/{pid}/bindings"
    assert api.post(base, json={"binding": {"host": "dst-host"}}).status_code == 201
    assert api.delete(f"{base}/dst-host").status_code == 204  # Nova's rollback
    assert lsp_options(neutrino, pid) == {"requested-chassis": "src-host"}
    assert api.delete(f"{base}/src-host").status_code == 204
    shown = api.get(f"/v2.0/ports/{pid}").json()["port"]
    assert (shown["binding:host_id"], shown["binding:vif_type"]) == ("", "unbound")
    assert bindings(api, pid) == []
    assert lsp_options(neutrino, pid) == {}


def test_an_unbound_port_gets_an_active_binding(neutrino: Neutrino, api: TestClient):
    pid = make_port(api)["id"]
    made = api.post(f"/v2.0/ports/{pid}/bindings", json={"binding": {"host": "h1"}})
    assert made.status_code == 201, made.text
    assert made.json()["binding"]["status"] == "ACTIVE"
    assert api.get(f"/v2.0/ports/{pid}").json()["port"]["binding:host_id"] == "h1"
    assert lsp_options(neutrino, pid) == {"requested-chassis": "h1"}


def test_profile_migrating_to_also_names_the_destination(neutrino: Neutrino,
                                                         api: TestClient):
    """Nova also says where a port goes in its binding profile (ML2/OVN reads that)."""
    pid = make_port(api, **{"binding:host_id": "src-host",
                            "binding:profile": {"migrating_to": "dst-host"}})["id"]
    assert lsp_options(neutrino, pid) == {"requested-chassis": "src-host,dst-host",
                                          "activation-strategy": "rarp"}


@pytest.mark.parametrize("body, status", [
    ({"binding": {}}, 400),  # host is required
    ({"binding": {"host": ""}}, 400),
    ({"binding": {"host": "h", "vif_type": "ovs"}}, 400),  # read-only
    ({"binding": {"host": "h", "vnic_type": "bogus"}}, 400),
    ({"binding": {"host": "h", "bogus": 1}}, 400),
    ({"binding": {"host": "h", "profile": "x"}}, 400),
])
def test_bad_binding_requests_change_nothing(neutrino: Neutrino, api: TestClient,
                                             body: dict, status: int):
    port = make_port(api, **{"binding:host_id": "src-host"})
    assert api.post(f"/v2.0/ports/{port['id']}/bindings", json=body).status_code == status
    assert [b["host"] for b in bindings(api, port["id"])] == ["src-host"]
    after = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert after["revision_number"] == port["revision_number"]


def test_only_compute_ports_and_known_ports(neutrino: Neutrino, api: TestClient):
    net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
    plain = api.post("/v2.0/ports", json={"port": {"network_id": net["id"]}}).json()["port"]
    response = api.post(f"/v2.0/ports/{plain['id']}/bindings", json={"binding": {"host": "h"}})
    assert fault(response, 400) == "BadRequest"
    missing = "00000000-0000-4000-8000-000000000000"
    assert fault(api.get(f"/v2.0/ports/{missing}/bindings"), 404) == "PortNotFound"
    assert fault(api.get(f"/v2.0/ports/{plain['id']}/bindings?bogus=1"), 400) == "BadRequest"


@pytest.fixture()
def chassis_api(private_app: Neutrino) -> Iterator[TestClient]:
    with TestClient(private_app.app) as client:
        yield client


def test_an_inactive_binding_is_bound_for_its_own_host(
        private_app: Neutrino, private_ovn: LocalOvn, chassis_api: TestClient):
    add_chassis(private_app, private_ovn, "ch-a", "compute-a")
    add_chassis(private_app, private_ovn, "ch-b", "compute-b", **{
        "datapath-type": "netdev"})
    pid = make_port(chassis_api, **{"binding:host_id": "compute-a"})["id"]
    base = f"/v2.0/ports/{pid}/bindings"
    made = chassis_api.post(base, json={"binding": {"host": "compute-b"}}).json()["binding"]
    assert (made["vif_type"], made["vif_details"]) == (
        "ovs", {**OVS_SYSTEM, "datapath_type": "netdev"})
    failed = chassis_api.post(base, json={"binding": {"host": "no-chassis"}}).json()
    assert failed["binding"]["vif_type"] == "binding_failed"
    chassis_api.put(f"{base}/compute-b/activate")
    shown = chassis_api.get(f"/v2.0/ports/{pid}").json()["port"]
    assert (shown["binding:vif_type"], shown["binding:vif_details"]["datapath_type"]) == (
        "ovs", "netdev")


def test_bindings_are_for_admins_only(neutrino: Neutrino, api: TestClient):
    """Neutron's default policy: only an admin (Nova's service user) handles bindings; the
    port's own project member is refused (403) and another project sees no port (404)."""
    net = api.post("/v2.0/networks", json={"network": {"name": "own"}},
                   headers={"X-Project-Id": "mine"}).json()["network"]
    pid = api.post("/v2.0/ports", headers={"X-Project-Id": "mine"}, json={"port": {
        "network_id": net["id"], "device_owner": "compute:nova",
        "binding:host_id": "src-host"}}).json()["port"]["id"]
    service = PortBindingService(neutrino.ports)
    member = Context(project_id="mine", is_admin=False, roles=("member",))
    stranger = Context(project_id="other", is_admin=False, roles=("member",))
    calls = (lambda ctx: service.list(ctx, pid, {}),
             lambda ctx: service.get(ctx, pid, "src-host"),
             lambda ctx: service.create(ctx, pid, {"host": "h", "vnic_type": "normal",
                                                   "profile": {}}),
             lambda ctx: service.update(ctx, pid, "src-host", {"profile": {}}),
             lambda ctx: service.activate(ctx, pid, "h"),
             lambda ctx: service.delete(ctx, pid, "src-host"))
    for call in calls:
        with pytest.raises(errors.PolicyNotAuthorized):
            call(member)
        with pytest.raises(errors.PortNotFound):
            call(stranger)
    assert [b["host"] for b in bindings(api, pid)] == ["src-host"]

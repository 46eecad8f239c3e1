"""Who may do what with port forwardings (Neutron's defaults: the floating IP's project's
members write, its readers read, other projects see nothing), with the caller taken from
the headers keystonemiddleware would set."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import keystone_context
from neutrino.bootstrap import Neutrino
from neutrino.services.floating_ips import FloatingIpService
from neutrino.services.port_forwardings import PortForwardingService
from neutrino.services.quotas import QuotaService
from neutrino.services.tags import TagService


def _clients(app: Neutrino) -> dict[str, TestClient]:
    db, settings, wakeup = app.db, app.settings, app.wakeup
    api = build_app(ApiDeps(
        services={"networks": app.networks, "subnets": app.subnets, "ports": app.ports,
                  "routers": app.routers,
                  "floatingips": FloatingIpService(db, settings, wakeup),
                  "port_forwardings": PortForwardingService(db, settings, wakeup)},
        tags=TagService(db, wakeup), quotas=QuotaService(db, settings),
        context_for=keystone_context, health=app.health,
        metrics_registry=app.metrics.registry))
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    who = {"admin": (a, "admin"), "a": (a, "member"), "a_reader": (a, "reader"),
           "b": (b, "member")}
    return {name: TestClient(api, headers={"X-Project-Id": project, "X-Roles": role})
            for name, (project, role) in who.items()}


def _post(client: TestClient, path: str, body: dict, status: int = 201) -> dict:
    singular = path.rsplit("/", 1)[-1][:-1]
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json().get(singular) or response.json()


def test_members_write_readers_read_others_see_nothing(neutrino):
    clients = _clients(neutrino)
    admin, a, reader, b = (clients[k] for k in ("admin", "a", "a_reader", "b"))
    ext = _post(admin, "networks", {"name": "ext", "router:external": True})
    _post(admin, "subnets", {"network_id": ext["id"], "ip_version": 4,
                             "cidr": "172.31.40.0/24"})
    net = _post(a, "networks", {"name": "n"})
    subnet = _post(a, "subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.40.0.0/24"})
    router = _post(a, "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    assert a.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                 json={"subnet_id": subnet["id"]}).status_code == 200
    vm = _post(a, "ports", {"network_id": net["id"]})
    fip = _post(a, "floatingips", {"floating_network_id": ext["id"]})
    path = f"floatingips/{fip['id']}/port_forwardings"
    body = {"internal_port_id": vm["id"], "protocol": "tcp", "internal_port": 22,
            "external_port": 2222}
    pf = _post(a, path, body)

    assert reader.get(f"/v2.0/{path}/{pf['id']}").status_code == 200
    denied = reader.post(f"/v2.0/{path}", json={"port_forwarding": {
        **body, "external_port": 2223}})
    assert denied.status_code == 403, denied.text
    assert denied.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    assert reader.delete(f"/v2.0/{path}/{pf['id']}").status_code == 403
    for response in (b.get(f"/v2.0/{path}"), b.get(f"/v2.0/{path}/{pf['id']}"),
                     b.delete(f"/v2.0/{path}/{pf['id']}"),
                     b.post(f"/v2.0/{path}", json={"port_forwarding": body})):
        assert response.status_code == 404, response.text
        assert response.json()["NeutronError"]["type"] == "FloatingIPNotFound"
    listed = admin.get(f"/v2.0/{path}").json()["port_forwardings"]
    assert [p["id"] for p in listed] == [pf["id"]]
    assert a.delete(f"/v2.0/{path}/{pf['id']}").status_code == 204

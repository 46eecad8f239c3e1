"""One source of an entry's parents: what the services record for each resource is what
maintenance would record for it (`journal.parents.parents_of`), for every resource type."""

from __future__ import annotations

from sqlalchemy import select

from neutrino.db.models import JournalDependency, JournalEntry
from neutrino.journal.parents import parents_of
from neutrino.journal.types import ResourceRef, ResourceType


def _post(api, path: str, body: dict) -> dict:
    singular = path.replace("-", "_")[:-1]
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _recorded(neutrino, resource_id: str) -> set[str]:
    """The parent ids of the newest entry about `resource_id`."""
    with neutrino.db.read() as session:
        seq = session.scalar(select(JournalEntry.seq).where(
            JournalEntry.resource_id == resource_id).order_by(JournalEntry.seq.desc()))
        return set(session.scalars(select(JournalDependency.resource_id).where(
            JournalDependency.seq == seq)))


def _computed(neutrino, rtype: ResourceType, resource_id: str) -> set[str]:
    with neutrino.db.read() as session:
        found = parents_of(session, ResourceRef(rtype, resource_id))
    return {rid for ids in found.values() for rid in ids}


def test_services_and_maintenance_name_the_same_parents(api, neutrino):
    ext = _post(api, "networks", {"name": "ext", "router:external": True})
    ext_subnet = _post(api, "subnets", {"network_id": ext["id"], "ip_version": 4,
                                        "cidr": "172.31.9.0/24"})
    net = _post(api, "networks", {"name": "n"})
    subnet = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.209.0.0/24"})
    group = _post(api, "security-groups", {"name": "g"})
    other = _post(api, "security-groups", {"name": "other"})
    rule = _post(api, "security-group-rules", {
        "security_group_id": group["id"], "direction": "ingress",
        "remote_group_id": other["id"]})
    ag = _post(api, "address-groups", {"addresses": ["10.210.0.0/16"]})
    ag_rule = _post(api, "security-group-rules", {
        "security_group_id": group["id"], "direction": "ingress",
        "remote_address_group_id": ag["id"]})
    port = _post(api, "ports", {"network_id": net["id"], "security_groups": [group["id"]]})
    router = _post(api, "routers", {"name": "r",
                                    "external_gateway_info": {"network_id": ext["id"]}})
    interface = api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                        json={"subnet_id": subnet["id"]}).json()
    fip = _post(api, "floatingips", {"floating_network_id": ext["id"], "port_id": port["id"]})
    # A tag on the router journals it again: that path must name its parents too.
    assert api.put(f"/v2.0/routers/{router['id']}/tags/t").status_code == 201

    cases = {
        (ResourceType.SUBNET, subnet["id"]): {net["id"]},
        (ResourceType.SECURITY_GROUP_RULE, rule["id"]): {group["id"], other["id"]},
        (ResourceType.SECURITY_GROUP_RULE, ag_rule["id"]): {group["id"], ag["id"]},
        (ResourceType.ADDRESS_GROUP, ag["id"]): set(),
        (ResourceType.ROUTER, router["id"]): {ext["id"], ext_subnet["id"]},
        (ResourceType.PORT, interface["port_id"]): {net["id"], subnet["id"], router["id"]},
        (ResourceType.FLOATING_IP, fip["id"]): {router["id"], port["id"]},
        (ResourceType.PORT, port["id"]): {net["id"], subnet["id"], group["id"]},
    }
    for (rtype, rid), expected in cases.items():
        assert _computed(neutrino, rtype, rid) == expected, rtype
        assert _recorded(neutrino, rid) == expected, rtype

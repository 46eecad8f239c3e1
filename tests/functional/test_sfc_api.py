"""networking-sfc's API on neutrino: paths, defaults, rules and faults, and the journal's
ordering of the four resources."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from neutrino.db.models import JournalDependency, JournalEntry
from neutrino.journal.parents import parents_of
from neutrino.journal.types import ResourceRef, ResourceType


def _singular(path: str) -> str:
    return path.rsplit("/", 1)[-1].replace("-", "_")[:-1]


def post(api, path: str, body: dict, status: int = 201) -> dict:
    response = api.post(f"/v2.0/{path}", json={_singular(path): body})
    assert response.status_code == status, response.text
    return response.json()[_singular(path)] if status == 201 else response.json()


def fault(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["NeutronError"]
    assert error["type"] == kind, error
    return error["message"]


class World:
    def __init__(self, api) -> None:
        self.api = api
        self.router = post(api, "routers", {"name": "r"})
        self.nets = []
        for i in range(3):
            net = post(api, "networks", {"name": f"n{i}"})
            subnet = post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                           "cidr": f"10.66.{i}.0/24"})
            api.put(f"/v2.0/routers/{self.router['id']}/add_router_interface",
                    json={"subnet_id": subnet["id"]})
            self.nets.append(net)
        self.src = self.port(0)
        self.dst = self.port(1)

    def port(self, net: int, security: bool = False) -> dict:
        body = {"network_id": self.nets[net]["id"]}
        if not security:
            body.update(port_security_enabled=False, security_groups=[])
        return post(self.api, "ports", body)

    def pair(self) -> dict:
        sf = self.port(2)
        return post(self.api, "sfc/port_pairs", {"ingress": sf["id"], "egress": sf["id"]})

    def group(self, *pairs: dict) -> dict:
        return post(self.api, "sfc/port_pair_groups", {"port_pairs": [p["id"] for p in pairs]})

    def classifier(self, **extra) -> dict:
        body = {"protocol": "tcp", "destination_port_range_min": 80,
                "destination_port_range_max": 80, "logical_source_port": self.src["id"],
                **extra}
        return post(self.api, "sfc/flow_classifiers", body)

    def chain(self, groups: list[dict], classifiers: list[dict] = (), **extra) -> dict:
        return post(self.api, "sfc/port_chains", {
            "port_pair_groups": [g["id"] for g in groups],
            "flow_classifiers": [c["id"] for c in classifiers], **extra})


@pytest.fixture()
def world(api) -> World:
    return World(api)


def test_extensions_paths_and_networking_sfc_defaults(api, world):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"sfc", "flow_classifier"} <= aliases
    pair = world.pair()
    assert pair["service_function_parameters"] == {"correlation": None, "weight": 1}
    group = world.group(pair)
    assert group["port_pair_group_parameters"] == {
        "lb_fields": [], "ppg_n_tuple_mapping": {"ingress_n_tuple": {}, "egress_n_tuple": {}}}
    assert group["tap_enabled"] is False and isinstance(group["group_id"], int)
    fc = post(api, "sfc/flow_classifiers", {"logical_source_port": world.src["id"]})
    assert (fc["ethertype"], fc["protocol"], fc["l7_parameters"]) == ("IPv4", None, {})
    chain = world.chain([group], [fc])
    assert chain["chain_parameters"] == {"correlation": "mpls", "symmetric": False}
    assert chain["chain_id"] >= 1 and chain["port_pair_groups"] == [group["id"]]
    for path, rid in (("sfc/port_pairs", pair["id"]), ("sfc/port_pair_groups", group["id"]),
                      ("sfc/flow_classifiers", fc["id"]), ("sfc/port_chains", chain["id"])):
        assert api.get(f"/v2.0/{path}/{rid}").status_code == 200
        listed = api.get(f"/v2.0/{path}", params={"id": rid, "fields": "id"}).json()
        assert listed[path.split("/")[1]] == [{"id": rid}]
        assert api.put(f"/v2.0/{path}/{rid}/tags/blue").status_code == 201
    named = api.put(f"/v2.0/sfc/port_pairs/{pair['id']}",
                    json={"port_pair": {"name": "fw"}}).json()["port_pair"]
    assert named["name"] == "fw" and named["tags"] == ["blue"]
    assert api.get("/v2.0/sfc/port_pairs", params={"tags": "blue", "name": "fw"}).json()[
        "port_pairs"][0]["id"] == pair["id"]


def test_in_use_and_uniqueness_rules(api, world):
    pair, other_pair = world.pair(), world.pair()
    group = world.group(pair)
    fault(api.post("/v2.0/sfc/port_pair_groups", json={"port_pair_group": {
        "port_pairs": [pair["id"]]}}), 409, "PortPairInUse")
    fault(api.delete(f"/v2.0/sfc/port_pairs/{pair['id']}"), 409, "PortPairInUse")
    fault(api.post("/v2.0/sfc/port_pairs", json={"port_pair": {
        "ingress": pair["ingress"], "egress": pair["egress"]}}), 400,
        "PortPairIngressEgressInUse")
    fc = world.classifier()
    chain = world.chain([group], [fc])
    spare = world.group(other_pair)
    fault(api.post("/v2.0/sfc/port_chains", json={"port_chain": {
        "port_pair_groups": [group["id"]]}}), 409, "InvalidPortPairGroups")
    fault(api.post("/v2.0/sfc/port_chains", json={"port_chain": {
        "port_pair_groups": [spare["id"]], "flow_classifiers": [fc["id"]]}}), 409,
        "FlowClassifierInUse")
    fault(api.delete(f"/v2.0/sfc/port_pair_groups/{group['id']}"), 409, "PortPairGroupInUse")
    fault(api.delete(f"/v2.0/sfc/flow_classifiers/{fc['id']}"), 409, "FlowClassifierInUse")
    # an overlapping classifier on the same source port in another chain: refused
    wider = world.classifier(destination_port_range_min=1, destination_port_range_max=1000)
    fault(api.post("/v2.0/sfc/port_chains", json={"port_chain": {
        "port_pair_groups": [spare["id"]], "flow_classifiers": [wider["id"]]}}), 400,
        "PortChainFlowClassifierInConflict")
    ssh = world.classifier(destination_port_range_min=22, destination_port_range_max=22)
    second = world.chain([spare], [ssh], chain_id=chain["chain_id"] + 100)
    fault(api.post("/v2.0/sfc/port_chains", json={"port_chain": {
        "port_pair_groups": [world.group(world.pair())["id"]],
        "chain_id": second["chain_id"]}}), 400, "PortChainChainIdInConflict")
    # deletes in reverse order succeed
    for path, rid in (("sfc/port_chains", second["id"]), ("sfc/port_chains", chain["id"]),
                      ("sfc/port_pair_groups", group["id"]), ("sfc/port_pairs", pair["id"]),
                      ("sfc/flow_classifiers", fc["id"])):
        assert api.delete(f"/v2.0/{path}/{rid}").status_code == 204, path
    fault(api.get(f"/v2.0/sfc/port_chains/{chain['id']}"), 404, "PortChainNotFound")


@pytest.mark.parametrize(("path", "body", "kind"), [
    ("sfc/port_pairs", {"ingress": "00000000-0000-0000-0000-000000000001",
                        "egress": "00000000-0000-0000-0000-000000000001"},
     "PortPairPortNotFound"),
    ("sfc/port_pairs", {"service_function_parameters": {"correlation": "mpls"}},
     "SfcNotRealisable"),
    ("sfc/port_pairs", {"service_function_parameters": {"weight": -1}}, "InvalidInput"),
    ("sfc/port_pair_groups", {"tap_enabled": True}, "SfcNotRealisable"),
    ("sfc/port_pair_groups", {"port_pair_group_parameters": {"lb_fields": ["bogus"]}},
     "HTTPBadRequest"),
    ("sfc/port_pair_groups", {"port_pairs": ["00000000-0000-0000-0000-000000000002"]},
     "PortPairNotFound"),
    ("sfc/flow_classifiers", {"l7_parameters": {"url": "x"}},
     "FlowClassifierInvalidL7Parameter"),
    ("sfc/flow_classifiers", {"protocol": "sctp"}, "FlowClassifierInvalidProtocol"),
    ("sfc/flow_classifiers", {"ethertype": "IPv5"}, "FlowClassifierInvalidEthertype"),
    ("sfc/flow_classifiers", {"destination_port_range_min": 80},
     "FlowClassifierProtocolRequiredWithPorts"),
    ("sfc/flow_classifiers", {"protocol": "tcp", "source_port_range_min": 90,
                              "source_port_range_max": 80}, "FlowClassifierInvalidPortRange"),
    ("sfc/flow_classifiers", {"protocol": "udp", "source_port_range_min": 70000},
     "FlowClassifierInvalidPortValue"),
    ("sfc/flow_classifiers", {"ethertype": "IPv6", "source_ip_prefix": "10.0.0.0/8"},
     "FlowClassifierIpPrefixFormatConflictWithEthertype"),
    ("sfc/flow_classifiers", {"logical_source_port": "00000000-0000-0000-0000-000000000003"},
     "FlowClassifierPortNotFound"),
    ("sfc/port_chains", {"port_pair_groups": []}, "PortPairGroupNotSpecified"),
    ("sfc/port_chains", {"port_pair_groups": ["00000000-0000-0000-0000-000000000004"]},
     "PortPairGroupNotFound"),
    ("sfc/port_chains", {"port_pair_groups": ["00000000-0000-0000-0000-000000000004"],
                         "chain_parameters": {"correlation": "vxlan"}}, "HTTPBadRequest"),
])
def test_bad_input_is_refused_with_networking_sfcs_fault(api, world, path, body, kind):
    if path == "sfc/port_pairs" and "ingress" not in body:
        sf = world.port(2)
        body = {"ingress": sf["id"], "egress": sf["id"], **body}
    response = api.post(f"/v2.0/{path}", json={_singular(path): body})
    if kind == "HTTPBadRequest":
        assert response.status_code == 400, response.text
    else:
        fault(response, 404 if kind.endswith("NotFound") else 400, kind)
    assert api.get(f"/v2.0/{path}").json()[path.split("/")[1]] == []


def _recorded(neutrino, resource_id: str) -> set[str]:
    with neutrino.db.read() as session:
        seq = session.scalar(select(JournalEntry.seq).where(
            JournalEntry.resource_id == resource_id).order_by(JournalEntry.seq.desc()))
        return set(session.scalars(select(JournalDependency.resource_id).where(
            JournalDependency.seq == seq)))


def test_journal_parents_and_resteering(api, neutrino, world):
    pair = world.pair()
    group = world.group(pair)
    fc = world.classifier()
    chain = world.chain([group], [fc])
    used = {world.nets[0]["id"], world.nets[2]["id"]}  # the source's and the function's
    interfaces = {p["id"] for p in api.get("/v2.0/ports", params={
        "device_owner": "network:router_interface"}).json()["ports"]
                  if p["network_id"] in used}
    assert _recorded(neutrino, pair["id"]) == {pair["ingress"]}
    assert _recorded(neutrino, group["id"]) == {pair["id"]}
    assert _recorded(neutrino, fc["id"]) == {world.src["id"]}
    assert _recorded(neutrino, chain["id"]) == {group["id"], fc["id"], world.router["id"]} | \
        interfaces
    with neutrino.db.read() as session:
        for rtype, rid in ((ResourceType.PORT_PAIR, pair["id"]),
                           (ResourceType.PORT_PAIR_GROUP, group["id"]),
                           (ResourceType.FLOW_CLASSIFIER, fc["id"]),
                           (ResourceType.PORT_CHAIN, chain["id"])):
            found = parents_of(session, ResourceRef(rtype, rid))
            assert {i for ids in found.values() for i in ids} == _recorded(neutrino, rid)
    # a group's pairs changing re-steers its chain: a new revision, journaled
    more = world.pair()
    api.put(f"/v2.0/sfc/port_pair_groups/{group['id']}",
            json={"port_pair_group": {"port_pairs": [pair["id"], more["id"]]}})
    after = api.get(f"/v2.0/sfc/port_chains/{chain['id']}").json()["port_chain"]
    assert after["revision_number"] == chain["revision_number"] + 1


def test_networking_sfcs_quotas(api, world):
    group = world.group(world.pair())
    project = group["project_id"]
    defaults = api.get(f"/v2.0/quotas/{project}/default").json()["quota"]
    assert {k: defaults[k] for k in ("port_pair", "port_pair_group", "port_chain",
                                     "flow_classifier")} == {
        "port_pair": 100, "port_pair_group": 10, "port_chain": 10, "flow_classifier": 100}
    assert api.put(f"/v2.0/quotas/{project}", json={"quota": {"port_chain": 0}}).status_code \
        == 200
    try:
        fault(api.post("/v2.0/sfc/port_chains", json={"port_chain": {
            "port_pair_groups": [group["id"]]}}), 409, "OverQuota")
        details = api.get(f"/v2.0/quotas/{project}/details").json()["quota"]
        assert details["port_pair_group"]["used"] >= 1
    finally:
        api.delete(f"/v2.0/quotas/{project}")

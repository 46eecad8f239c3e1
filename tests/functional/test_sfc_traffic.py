"""Service function chaining on a real OVN: each leg of a chain proven with ovn-trace.

Topology: one router with four networks: `src` (the classified VM and a bystander), `dst`
(the destination), `sf1` (group 1: two service functions, ECMP) and `sf2` (group 2: one).
Each service function has one port, both its ingress and its egress (networking-sfc allows
it), with port security off (it forwards traffic addressed to others).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nb_state import caught_up, rows, wait_journal_idle
from ovn_tools import delivered_to, nbctl, trace, wait_sb_synced
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture()
def app(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({"NEUTRINO_STATE_DIR": str(tmp_path),
                                    "NEUTRINO_OVN_NB": private_ovn.nb,
                                    "NEUTRINO_OVN_SB": private_ovn.sb,
                                    "NEUTRINO_STARTUP_SYNC": "off",
                                    "NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0"}))
    neutrino.start()
    deadline = time.monotonic() + 20
    while not neutrino.nb.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield neutrino
    finally:
        neutrino.stop()


class Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, path: str, body: dict, status: int = 201) -> dict:
        singular = path.rsplit("/", 1)[-1].replace("-", "_")[:-1]
        response = self.client.post(f"/v2.0/{path}", json={singular: body})
        assert response.status_code == status, response.text
        return response.json()[singular] if status == 201 else response.json()

    def put(self, path: str, body: dict) -> dict:
        response = self.client.put(f"/v2.0/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def delete(self, path: str, status: int = 204) -> dict | None:
        response = self.client.delete(f"/v2.0/{path}")
        assert response.status_code == status, response.text
        return response.json() if response.content else None


def _ip(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


class Scenario:
    """The topology, plus helpers that trace TCP from a port."""

    def __init__(self, app: Neutrino, ovn: LocalOvn) -> None:
        self.app, self.ovn = app, ovn
        self.api = api = Api(TestClient(app.app))
        self.router = api.post("routers", {"name": "r"})
        self.nets = {}
        for i, name in enumerate(("src", "dst", "sf1", "sf2"), start=1):
            net = api.post("networks", {"name": name})
            subnet = api.post("subnets", {"network_id": net["id"], "ip_version": 4,
                                          "cidr": f"10.7.{i}.0/24", "enable_dhcp": False})
            api.put(f"routers/{self.router['id']}/add_router_interface",
                    {"subnet_id": subnet["id"]})
            self.nets[name] = net
        self.vm = self.port("src")
        self.bystander = self.port("src")
        self.dest = self.port("dst")
        self.sf1a, self.sf1b = self.port("sf1", sf=True), self.port("sf1", sf=True)
        self.sf2 = self.port("sf2", sf=True)

    def port(self, net: str, sf: bool = False) -> dict:
        body = {"network_id": self.nets[net]["id"]}
        if sf:
            body.update(port_security_enabled=False, security_groups=[])
        return self.api.post("ports", body)

    def router_mac(self, net: str) -> str:
        found = self.api.client.get("/v2.0/ports", params={
            "device_owner": "network:router_interface",
            "network_id": self.nets[net]["id"]}).json()["ports"]
        return found[0]["mac_address"]

    def settle(self) -> None:
        wait_journal_idle(self.app)
        wait_sb_synced(self.ovn)

    def tcp(self, sender: dict, net: str, src: dict, dst: dict, dport: int = 80,
            sport: int = 40000) -> set[str]:
        """Where TCP from `src` to `dst`, sent into OVN by `sender`'s port, is delivered."""
        flow = (f'inport == "{sender["id"]}" && eth.src == {sender["mac_address"]} && '
                f'eth.dst == {self.router_mac(net)} && ip4.src == {_ip(src)} && '
                f'ip4.dst == {_ip(dst)} && ip.ttl == 64 && tcp && tcp.src == {sport} && '
                f'tcp.dst == {dport}')
        return delivered_to(trace(self.ovn, f"neutron-{self.nets[net]['id']}", flow))

    def build_chain(self, symmetric: bool = False) -> dict:
        api = self.api
        pairs1 = [api.post("sfc/port_pairs", {"ingress": p["id"], "egress": p["id"]})
                  for p in (self.sf1a, self.sf1b)]
        pair2 = api.post("sfc/port_pairs", {"ingress": self.sf2["id"],
                                            "egress": self.sf2["id"]})
        self.group1 = api.post("sfc/port_pair_groups",
                               {"port_pairs": [p["id"] for p in pairs1]})
        self.group2 = api.post("sfc/port_pair_groups", {"port_pairs": [pair2["id"]]})
        self.classifier = api.post("sfc/flow_classifiers", {
            "protocol": "tcp", "destination_port_range_min": 80,
            "destination_port_range_max": 80, "logical_source_port": self.vm["id"],
            "logical_destination_port": self.dest["id"]})
        return api.post("sfc/port_chains", {
            "port_pair_groups": [self.group1["id"], self.group2["id"]],
            "flow_classifiers": [self.classifier["id"]],
            "chain_parameters": {"symmetric": symmetric}})


@pytest.fixture()
def scenario(app: Neutrino, private_ovn: LocalOvn) -> Scenario:
    return Scenario(app, private_ovn)


SF1 = ("sf1a", "sf1b")


def _ids(s: Scenario, *names: str) -> set[str]:
    return {getattr(s, name)["id"] for name in names}


def test_classified_traffic_visits_each_group_in_order(scenario: Scenario):
    s = scenario
    chain = s.build_chain()
    assert chain["status"] == "ACTIVE" and chain["status_reason"] == ""
    assert chain["chain_parameters"] == {"correlation": "mpls", "symmetric": False}
    s.settle()
    # leg 1: the source's TCP/80 goes to one of group 1's two service functions (ECMP)
    first = s.tcp(s.vm, "src", s.vm, s.dest)
    assert first and first <= _ids(s, *SF1), first
    policy = next(p for p in rows(s.app, "Logical_Router_Policy")
                  if p["external_ids"]["neutron:sfc_hop"] == "0")
    assert sorted(policy["nexthops"]) == sorted([_ip(s.sf1a), _ip(s.sf1b)])
    assert policy["action"] == "reroute"
    # leg 2: what either group-1 function hands back goes to group 2
    for sf in (s.sf1a, s.sf1b):
        assert s.tcp(sf, "sf1", s.vm, s.dest) == _ids(s, "sf2")
    # leg 3: after the last group, routed normally to the destination
    assert s.tcp(s.sf2, "sf2", s.vm, s.dest) == _ids(s, "dest")
    # unclassified: another destination port, or another source, goes straight there
    assert s.tcp(s.vm, "src", s.vm, s.dest, dport=22) == _ids(s, "dest")
    assert s.tcp(s.bystander, "src", s.bystander, s.dest) == _ids(s, "dest")
    # not symmetric: the reply is routed directly
    assert s.tcp(s.dest, "dst", s.dest, s.vm, dport=40000, sport=80) == _ids(s, "vm")


def test_symmetric_chain_steers_the_reply_in_reverse(scenario: Scenario):
    s = scenario
    s.build_chain(symmetric=True)
    s.settle()
    reply = {"dport": 40000, "sport": 80}
    assert s.tcp(s.dest, "dst", s.dest, s.vm, **reply) == _ids(s, "sf2")
    back = s.tcp(s.sf2, "sf2", s.dest, s.vm, **reply)
    assert back and back <= _ids(s, *SF1), back
    assert s.tcp(s.sf1a, "sf1", s.dest, s.vm, **reply) == _ids(s, "vm")
    # the forward direction still goes through both groups
    assert s.tcp(s.vm, "src", s.vm, s.dest) <= _ids(s, *SF1)


def test_removing_a_group_or_the_chain_returns_the_direct_path(scenario: Scenario):
    s = scenario
    chain = s.build_chain()
    s.settle()
    s.api.put(f"sfc/port_chains/{chain['id']}",
              {"port_chain": {"port_pair_groups": [s.group1["id"]]}})
    s.settle()
    assert s.tcp(s.vm, "src", s.vm, s.dest) <= _ids(s, *SF1)
    assert s.tcp(s.sf1a, "sf1", s.vm, s.dest) == _ids(s, "dest")  # group 2 is skipped now
    assert len(rows(s.app, "Logical_Router_Policy")) == 1  # hop 0 only
    s.api.delete(f"sfc/port_chains/{chain['id']}")
    s.settle()
    assert s.tcp(s.vm, "src", s.vm, s.dest) == _ids(s, "dest")
    assert rows(s.app, "Logical_Router_Policy") == []


def test_sync_compares_repairs_and_leaves_foreign_policies_alone(scenario: Scenario):
    s = scenario
    chain = s.build_chain(symmetric=True)
    s.settle()
    router = f"neutron-{s.router['id']}"
    nbctl(s.ovn, "lr-policy-add", router, "100", "ip4.dst == 192.0.2.1", "drop")  # foreign
    assert s.app.sync.compare().differences == []
    ours = rows(s.app, "Logical_Router_Policy", external_ids={"neutron:sfc_hop": "1",
                                                              "neutron:sfc_direction": "forward"})
    assert len(ours) == 1
    nbctl(s.ovn, "lr-policy-del", router, ours[0]["_uuid"])
    caught_up(s.app, s.ovn)
    found = s.app.sync.compare().differences
    assert [(d.resource_type, d.resource_id, d.kind.value) for d in found] == [
        ("port_chain", chain["id"], "missing")]
    s.app.sync.repair()
    assert s.app.sync.compare().differences == []
    assert s.tcp(s.sf1a, "sf1", s.vm, s.dest) == _ids(s, "sf2")
    # a policy of ours whose chain is gone is extra; the foreign policy is never touched
    s.api.delete(f"sfc/port_chains/{chain['id']}")
    s.settle()
    remaining = rows(s.app, "Logical_Router_Policy")
    assert [p["match"] for p in remaining] == ["ip4.dst == 192.0.2.1"]


def test_what_ovn_cannot_steer_is_said_not_half_done(scenario: Scenario, caplog):
    s = scenario
    s.build_chain()
    same_net = s.api.post("sfc/flow_classifiers", {
        "protocol": "udp", "logical_source_port": s.bystander["id"],
        "logical_destination_port": s.vm["id"]})
    secured = s.port("sf2")  # port security on: it would drop traffic for others
    pair = s.api.post("sfc/port_pairs", {"ingress": secured["id"], "egress": secured["id"]})
    group = s.api.post("sfc/port_pair_groups", {"port_pairs": [pair["id"]]})
    chain = s.api.post("sfc/port_chains", {"port_pair_groups": [group["id"]],
                                           "flow_classifiers": [same_net["id"]]})
    assert chain["status"] == "DEGRADED"
    assert "one network" in chain["status_reason"]
    assert "port security is enabled" in chain["status_reason"]
    s.settle()
    assert not rows(s.app, "Logical_Router_Policy",
                    external_ids={"neutron:port_chain_id": chain["id"]})
    assert s.app.health()["unsteered_port_chains"] == {chain["id"]: chain["status_reason"]}
    report = s.app.sync.compare()
    assert report.unsteered == {chain["id"]: chain["status_reason"]}
    assert report.summary()["unsteered_port_chains"] == 1
    assert any(chain["id"] in r.getMessage() and "not fully steered" in r.getMessage()
               for r in caplog.records)
    listed = s.api.client.get("/v2.0/sfc/port_chains").json()["port_chains"]
    assert {c["id"]: c["status"] for c in listed}[chain["id"]] == "DEGRADED"


def test_port_and_router_interface_changes_resteer_the_chains_using_them(scenario: Scenario):
    s = scenario
    guarded = s.port("sf2")  # port security on
    pair = s.api.post("sfc/port_pairs", {"ingress": guarded["id"], "egress": guarded["id"]})
    group = s.api.post("sfc/port_pair_groups", {"port_pairs": [pair["id"]]})
    fc = s.api.post("sfc/flow_classifiers", {"protocol": "tcp", "logical_source_port":
                                             s.vm["id"]})
    chain = s.api.post("sfc/port_chains", {"port_pair_groups": [group["id"]],
                                           "flow_classifiers": [fc["id"]]})
    assert chain["status"] == "DEGRADED"
    s.settle()
    assert s.tcp(s.vm, "src", s.vm, s.dest) == _ids(s, "dest")
    s.api.put(f"ports/{guarded['id']}", {"port": {"security_groups": [],
                                                  "port_security_enabled": False}})
    s.settle()
    shown = s.api.client.get(f"/v2.0/sfc/port_chains/{chain['id']}").json()["port_chain"]
    assert shown["status"] == "ACTIVE" and shown["revision_number"] > chain["revision_number"]
    assert s.tcp(s.vm, "src", s.vm, s.dest) == {guarded["id"]}
    # the service function's network leaves the router: its hop cannot be steered any more
    subnet = s.api.client.get("/v2.0/subnets", params={
        "network_id": s.nets["sf2"]["id"]}).json()["subnets"][0]
    s.api.put(f"routers/{s.router['id']}/remove_router_interface", {"subnet_id": subnet["id"]})
    s.settle()
    shown = s.api.client.get(f"/v2.0/sfc/port_chains/{chain['id']}").json()["port_chain"]
    assert shown["status"] == "DEGRADED" and "not attached to router" in shown["status_reason"]
    assert rows(s.app, "Logical_Router_Policy") == []
    assert s.tcp(s.vm, "src", s.vm, s.dest) == _ids(s, "dest")

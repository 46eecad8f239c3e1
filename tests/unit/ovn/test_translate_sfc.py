"""port chain → reroute policies: table tests of the pure translation."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.ovn import naming as n
from neutrino.ovn.ownership import owner_of
from neutrino.ovn.translate.sfc import (
    ChainFacts,
    ClassifierFacts,
    GroupFacts,
    PairFacts,
    RouterPort,
    SfPort,
    build_port_chain,
    build_port_chain_absent,
    chain_problems,
    classifier_match,
)

R = "r1"
SRC = SfPort("vm", "net-src", ("10.0.1.5",), True)
DST = SfPort("dest", "net-dst", ("10.0.2.7",), True)
SF1A = SfPort("sf1a", "net-sf1", ("10.0.11.5",), False)
SF1B = SfPort("sf1b", "net-sf1", ("10.0.11.6",), False)
SF2 = SfPort("sf2", "net-sf2", ("10.0.12.5",), False)
ROUTER_PORTS = tuple(RouterPort(R, f"lrp-{net}", net, (cidr,)) for net, cidr in (
    ("net-src", "10.0.1.0/24"), ("net-dst", "10.0.2.0/24"), ("net-sf1", "10.0.11.0/24"),
    ("net-sf2", "10.0.12.0/24")))


def _pair(port: SfPort) -> PairFacts:
    return PairFacts(f"pp-{port.id}", port.id, port.id, port, port)


FC = ClassifierFacts("fc", protocol="tcp", destination_port_range=(80, 80),
                     source_id="vm", destination_id="dest", source=SRC, destination=DST)
CHAIN = ChainFacts("chain", 3, False,
                   (GroupFacts("g1", (_pair(SF1A), _pair(SF1B))), GroupFacts("g2", (
                       _pair(SF2),))), (FC,), ROUTER_PORTS)


def _policies(facts: ChainFacts) -> list[tuple[str, str, list[str]]]:
    rows = build_port_chain(facts).rows
    return [(r.columns["external_ids"][n.SFC_DIRECTION] + r.columns["external_ids"][n.SFC_HOP],
             r.columns["match"], r.columns["nexthops"]) for r in rows]


def test_each_hop_reroutes_from_where_the_traffic_arrives():
    flow = "ip4 && ip4.src == 10.0.1.5 && ip4.dst == 10.0.2.7 && tcp && tcp.dst == 80"
    assert _policies(CHAIN) == [
        ("forward0", f'inport == "lrp-lrp-net-src" && {flow}', ["10.0.11.5", "10.0.11.6"]),
        ("forward1", f'inport == "lrp-lrp-net-sf1" && {flow}', ["10.0.12.5"]),
    ]
    row = build_port_chain(CHAIN).rows[0]
    assert row.parent is not None and row.parent.key.value == f"neutron-{R}"
    assert row.parent.column == "policies"
    assert row.columns["action"] == "reroute" and row.columns["priority"] == 30000
    ids = row.columns["external_ids"]
    assert ids[n.SFC_CHAIN_ID] == "chain" and ids[n.REVISION] == "3"
    assert owner_of(n.POLICY, {"external_ids": ids}) == ("port_chain", "chain")
    assert owner_of(n.POLICY, {"external_ids": {"foo": "bar"}}) is None


def test_symmetric_adds_the_reply_through_the_groups_in_reverse():
    flows = _policies(dataclasses.replace(CHAIN, symmetric=True))
    reply = "ip4 && ip4.src == 10.0.2.7 && ip4.dst == 10.0.1.5 && tcp && tcp.src == 80"
    assert flows[2:] == [
        ("reverse0", f'inport == "lrp-lrp-net-dst" && {reply}', ["10.0.12.5"]),
        ("reverse1", f'inport == "lrp-lrp-net-sf2" && {reply}', ["10.0.11.5", "10.0.11.6"]),
    ]


def test_absent_and_chains_without_classifiers_own_every_tagged_policy():
    for state in (build_port_chain_absent("chain"),
                  build_port_chain(dataclasses.replace(CHAIN, classifiers=()))):
        assert state.rows == ()
        assert state.owned_tagged == ((n.POLICY, n.SFC_CHAIN_ID, "chain"),)


@pytest.mark.parametrize(("fc", "expected"), [
    (ClassifierFacts("a", protocol="udp", source_port_range=(1000, 2000)),
     "ip4 && udp && udp.src >= 1000 && udp.src <= 2000"),
    (ClassifierFacts("b", protocol="icmp", source_ip_prefix="10.0.0.0/8"),
     "ip4 && ip4.src == 10.0.0.0/8 && icmp4"),
    (ClassifierFacts("c", ethertype="IPv6", destination_ip_prefix="fd00::/64",
                     protocol="tcp", destination_port_range=(443, None)),
     "ip6 && ip6.dst == fd00::/64 && tcp && tcp.dst >= 443"),
    (ClassifierFacts("d", source=SfPort("p", "n", ("10.0.0.1", "10.0.0.2", "fd00::1"),
                                         True)),
     "ip4 && ip4.src == {10.0.0.1, 10.0.0.2}"),
])
def test_classifier_matches(fc, expected):
    assert classifier_match(fc) == expected


def _unsteered(**changes) -> list[str]:
    facts = dataclasses.replace(CHAIN, **changes)
    problems = chain_problems(facts)
    assert build_port_chain(facts).rows == ()  # never half-realised
    return problems


@pytest.mark.parametrize(("changes", "reason"), [
    ({"classifiers": (dataclasses.replace(FC, source_id=None, source=None),)},
     "no logical_source_port"),
    ({"classifiers": (dataclasses.replace(FC, source=None),)}, "is gone"),
    ({"classifiers": (dataclasses.replace(FC, destination=dataclasses.replace(
        DST, network_id="net-src")),)}, "one network"),
    ({"classifiers": (dataclasses.replace(FC, destination=None, destination_id=None,
                                          destination_ip_prefix="10.0.1.128/25"),)},
     "one network"),
    ({"router_ports": ROUTER_PORTS[1:]}, "attached to no router"),
    ({"router_ports": ROUTER_PORTS[:3]}, "not attached to router"),
    ({"groups": (GroupFacts("g1", (_pair(dataclasses.replace(SF1A, port_security=True)),)),)},
     "port security is enabled"),
    ({"groups": (GroupFacts("g1", ()),)}, "no port pairs"),
    ({"groups": (GroupFacts("g1", (_pair(dataclasses.replace(SF1A, network_id="net-src")),)),
                 )}, "cannot tell the hops apart"),
    ({"groups": (GroupFacts("g1", (_pair(SF1A),)), GroupFacts("g2", (_pair(SF1B),)))},
     "cannot tell the hops apart"),
    ({"groups": (GroupFacts("g1", (_pair(SF1A),), n_tuple_mapping=True),)},
     "ppg_n_tuple_mapping"),
    ({"symmetric": True, "classifiers": (dataclasses.replace(
        FC, destination=None, destination_id=None, destination_ip_prefix="10.0.2.0/24"),)},
     "no logical_destination_port"),
])
def test_what_cannot_be_steered_is_said(changes, reason):
    problems = _unsteered(**changes)
    assert any(reason in p for p in problems), problems


def test_a_last_group_returning_to_the_destination_network_is_steerable():
    to_dst = dataclasses.replace(SF2, network_id="net-dst")
    facts = dataclasses.replace(CHAIN, groups=(CHAIN.groups[0], GroupFacts("g2", (
        _pair(to_dst),))))
    assert chain_problems(facts) == []
    assert len(build_port_chain(facts).rows) == 2

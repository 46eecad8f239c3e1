"""floating IP → one dnat_and_snat NAT row in its router's gateway router, or its port
forwardings' Load_Balancers (one per protocol) attached to that gateway router, or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, Membership, ParentLink, RowKey
from neutrino.ovn.translate.floating_ips import (
    build_floating_ip,
    build_floating_ip_absent,
    forwarded_vips,
    global_external_ids,
    lb_key,
    nat_key,
)
from neutrino.ovn.translate.inputs import FloatingIpFacts, PortForwardingFacts, TranslateConfig

FIP_ID = "f1f1f1f1-0000-4000-8000-0000000000f1"
RID = "12121212-3434-4565-8787-909090909090"
PORT_ID = "0f0f0f0f-1111-4222-8333-444444444444"
EXT_NET = "eeeeeeee-0000-4000-8000-0000000000ee"
FIP_MAC = "fa:16:3e:00:00:f1"
KEY = RowKey("NAT", "external_ids", FIP_ID, map_key="neutron:fip_id")
GATEWAY_ROUTER = RowKey("Logical_Router", "name", f"neutron-gw-{RID}")
LB_TCP = RowKey("Load_Balancer", "name", f"pf-floatingip-{FIP_ID}-tcp")
LB_UDP = RowKey("Load_Balancer", "name", f"pf-floatingip-{FIP_ID}-udp")
OWNED = (KEY, LB_TCP, LB_UDP)
NOTHING = DesiredState("floating_ip", FIP_ID, (), OWNED)


def fip(**overrides: Any) -> FloatingIpFacts:
    values: dict[str, Any] = {
        "id": FIP_ID,
        "revision": 1,
        "floating_ip": "172.24.4.50",
        "network_id": EXT_NET,
        "fip_port_mac": FIP_MAC,
        "port_id": PORT_ID,
        "fixed_ip": "10.0.0.5",
        "router_id": RID,
    }
    values.update(overrides)
    return FloatingIpFacts(**values)


def nat_state(external_ip: str = "172.24.4.50", logical_ip: str = "10.0.0.5",
              revision: str = "1", fip_mac: str = FIP_MAC, rows: bool = True) -> DesiredState:
    """The NAT row (`rows`: else a router but nothing to map: no rows, nothing joined)."""
    row = DesiredRow(
        KEY,
        {
            "type": "dnat_and_snat",
            "external_ip": external_ip,
            "logical_ip": logical_ip,
            "logical_port": PORT_ID,
            "options": {"stateless": "true"},
            "external_ids": {
                "neutron:fip_id": FIP_ID,
                "neutron:fip_port_id": PORT_ID,
                "neutron:fip_network_id": EXT_NET,
                "neutron:fip_external_mac": fip_mac,
                "neutron:router_name": f"neutron-{RID}",
                "neutron:revision_number": revision,
            },
            "external_mac": None,  # centralised: the gateway chassis answers
        },
        parent=ParentLink(GATEWAY_ROUTER, "nat"),
    )
    return DesiredState("floating_ip", FIP_ID, (row,) if rows else (), OWNED,
                        member_rows=(LB_TCP, LB_UDP))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(fip(), nat_state(), id="associated"),
        pytest.param(fip(revision=4, floating_ip="172.24.4.77", fixed_ip="10.0.1.9"),
                     nat_state("172.24.4.77", "10.0.1.9", revision="4"),
                     id="addresses-and-revision-follow-facts"),
        pytest.param(fip(fip_port_mac=""), nat_state(fip_mac=""),
                     id="own-port-gone-empty-external-mac"),
        pytest.param(fip(port_id=None, fixed_ip=None, router_id=None), NOTHING,
                     id="not-associated"),
        pytest.param(fip(router_id=None), NOTHING, id="no-router"),
        pytest.param(fip(fixed_ip=None), nat_state(rows=False), id="no-fixed-ip"),
        pytest.param(fip(port_id=None), nat_state(rows=False), id="no-port"),
        pytest.param(fip(port_id=""), nat_state(rows=False), id="empty-port"),
    ],
)
def test_build_floating_ip(facts: FloatingIpFacts, expected: DesiredState) -> None:
    assert build_floating_ip(facts) == expected


def test_build_floating_ip_absent() -> None:
    assert build_floating_ip_absent(FIP_ID) == NOTHING


def test_nat_key() -> None:
    assert nat_key(FIP_ID) == KEY


def test_lookup_keys_include_the_gateway_router() -> None:
    assert build_floating_ip(fip()).lookup_keys() == {KEY, GATEWAY_ROUTER, LB_TCP, LB_UDP}
    assert NOTHING.lookup_keys() == {KEY, LB_TCP, LB_UDP}


def test_revision_is_read_from_the_nat_row() -> None:
    assert build_floating_ip(fip(revision=7)).rows[0].revision == 7


def pf(protocol: str, external: tuple[int, int], internal: tuple[int, int],
       ip: str = "10.0.0.5") -> PortForwardingFacts:
    return PortForwardingFacts(protocol, ip, external, internal)


def lb_row(key: RowKey, protocol: str, vips: dict[str, str], revision: str = "3") -> DesiredRow:
    return DesiredRow(key, {"protocol": protocol, "vips": vips, "external_ids": {
        "neutron:device_owner": "port_forwarding_plugin", "neutron:fip_id": FIP_ID,
        "neutron:router_name": f"neutron-{RID}", "neutron:revision_number": revision}})


def forwarding(*forwardings: PortForwardingFacts) -> FloatingIpFacts:
    return fip(port_id=None, fixed_ip=None, revision=3, port_forwardings=forwardings)


@pytest.mark.parametrize(
    ("facts", "rows"),
    [
        pytest.param(forwarding(pf("tcp", (2222, 2222), (22, 22))),
                     (lb_row(LB_TCP, "tcp", {"172.24.4.50:2222": "10.0.0.5:22"}),),
                     id="one-tcp"),
        pytest.param(forwarding(pf("udp", (53, 53), (5353, 5353)),
                                pf("tcp", (80, 80), (8080, 8080), "10.0.0.6"),
                                pf("tcp", (443, 443), (8443, 8443))),
                     (lb_row(LB_TCP, "tcp", {"172.24.4.50:80": "10.0.0.6:8080",
                                             "172.24.4.50:443": "10.0.0.5:8443"}),
                      lb_row(LB_UDP, "udp", {"172.24.4.50:53": "10.0.0.5:5353"})),
                     id="one-balancer-per-protocol"),
        pytest.param(forwarding(pf("tcp", (9000, 9002), (8000, 8002))),
                     (lb_row(LB_TCP, "tcp", {"172.24.4.50:9000": "10.0.0.5:8000",
                                             "172.24.4.50:9001": "10.0.0.5:8001",
                                             "172.24.4.50:9002": "10.0.0.5:8002"}),),
                     id="n-to-n-range"),
        pytest.param(forwarding(pf("udp", (7000, 7001), (80, 80))),
                     (lb_row(LB_UDP, "udp", {"172.24.4.50:7000": "10.0.0.5:80",
                                             "172.24.4.50:7001": "10.0.0.5:80"}),),
                     id="n-to-one-range"),
    ],
)
def test_port_forwardings_become_load_balancers_on_the_gateway_router(
        facts: FloatingIpFacts, rows: tuple[DesiredRow, ...]) -> None:
    members = tuple(Membership(GATEWAY_ROUTER, "load_balancer", row.key) for row in rows)
    assert build_floating_ip(facts) == DesiredState(
        "floating_ip", FIP_ID, rows, OWNED, members=members, member_rows=(LB_TCP, LB_UDP))


def test_forwardings_without_a_router_are_nothing() -> None:
    facts = forwarding(pf("tcp", (2222, 2222), (22, 22)))
    assert build_floating_ip(FloatingIpFacts(**{**facts.__dict__, "router_id": None})) == \
        NOTHING


def test_lb_keys_and_vips() -> None:
    assert lb_key(FIP_ID, "udp") == LB_UDP
    assert forwarded_vips("192.0.2.1", pf("tcp", (1, 2), (5, 6))) == {
        "192.0.2.1:1": "10.0.0.5:5", "192.0.2.1:2": "10.0.0.5:6"}


# --- distributed-gateway-port mode ----------------------------------------------------

DGP = TranslateConfig(l3_mode="distributed-gateway-port")
DGP_FIP = TranslateConfig(l3_mode="distributed-gateway-port", fip_distributed=True)
DISTRIBUTED_ROUTER = RowKey("Logical_Router", "name", f"neutron-{RID}")


def on_distributed_router(state: DesiredState, external_mac: str | None = None
                          ) -> DesiredState:
    row = state.rows[0]
    moved = DesiredRow(row.key, {**row.columns, "external_mac": external_mac},
                       parent=ParentLink(DISTRIBUTED_ROUTER, "nat"))
    return DesiredState("floating_ip", FIP_ID, (moved,), OWNED, member_rows=(LB_TCP, LB_UDP))


@pytest.mark.parametrize(
    ("config", "facts", "expected"),
    [
        pytest.param(DGP, fip(), on_distributed_router(nat_state()),
                     id="centralised-on-the-distributed-router"),
        pytest.param(DGP_FIP, fip(), on_distributed_router(nat_state(), FIP_MAC),
                     id="distributed-external-mac-is-the-floating-ip-port-mac"),
        pytest.param(DGP_FIP, fip(fip_port_mac=""), on_distributed_router(nat_state(fip_mac="")),
                     id="distributed-without-its-own-port-centralised"),
        pytest.param(TranslateConfig(fip_distributed=True), fip(), nat_state(),
                     id="gateway-router-mode-never-distributed"),
    ],
)
def test_floating_ip_in_distributed_gateway_port_mode(
        config: TranslateConfig, facts: FloatingIpFacts, expected: DesiredState) -> None:
    assert build_floating_ip(facts, config) == expected


def test_port_forwardings_join_the_distributed_router() -> None:
    built = build_floating_ip(forwarding(pf("tcp", (2222, 2222), (22, 22))), DGP)
    assert built.members == (Membership(DISTRIBUTED_ROUTER, "load_balancer", LB_TCP),)


@pytest.mark.parametrize(
    ("config", "value"),
    [(TranslateConfig(), "False"), (DGP, "False"), (DGP_FIP, "True"),
     (TranslateConfig(fip_distributed=True), "False")],
)
def test_nb_global_says_whether_floating_ips_are_distributed(config: TranslateConfig,
                                                             value: str) -> None:
    assert global_external_ids(config) == {"neutron:fip-distributed": value}

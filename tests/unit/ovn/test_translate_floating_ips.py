"""floating IP → one dnat_and_snat NAT row in its router's gateway router, or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.floating_ips import (
    build_floating_ip,
    build_floating_ip_absent,
    nat_key,
)
from neutrino.ovn.translate.inputs import FloatingIpFacts

FIP_ID = "f1f1f1f1-0000-4000-8000-0000000000f1"
RID = "12121212-3434-4565-8787-909090909090"
PORT_ID = "0f0f0f0f-1111-4222-8333-444444444444"
EXT_NET = "eeeeeeee-0000-4000-8000-0000000000ee"
FIP_MAC = "fa:16:3e:00:00:f1"
KEY = RowKey("NAT", "external_ids", FIP_ID, map_key="neutron:fip_id")
GATEWAY_ROUTER = RowKey("Logical_Router", "name", f"neutron-gw-{RID}")
NOTHING = DesiredState("floating_ip", FIP_ID, (), (KEY,))


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
              revision: str = "1", fip_mac: str = FIP_MAC) -> DesiredState:
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
        },
        parent=ParentLink(GATEWAY_ROUTER, "nat"),
    )
    return DesiredState("floating_ip", FIP_ID, (row,), (KEY,))


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
        pytest.param(fip(fixed_ip=None), NOTHING, id="no-fixed-ip"),
        pytest.param(fip(port_id=None), NOTHING, id="no-port"),
        pytest.param(fip(port_id=""), NOTHING, id="empty-port"),
    ],
)
def test_build_floating_ip(facts: FloatingIpFacts, expected: DesiredState) -> None:
    assert build_floating_ip(facts) == expected


def test_build_floating_ip_absent() -> None:
    assert build_floating_ip_absent(FIP_ID) == NOTHING


def test_nat_key() -> None:
    assert nat_key(FIP_ID) == KEY


def test_lookup_keys_include_the_gateway_router() -> None:
    assert build_floating_ip(fip()).lookup_keys() == {KEY, GATEWAY_ROUTER}
    assert NOTHING.lookup_keys() == {KEY}


def test_revision_is_read_from_the_nat_row() -> None:
    assert build_floating_ip(fip(revision=7)).rows[0].revision == 7

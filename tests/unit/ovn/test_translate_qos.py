"""A port's QoS policy → OVN QoS rows, as ML2/OVN writes them (pure, table-driven)."""

from __future__ import annotations

import pytest

from neutrino.ovn.ownership import owner_of
from neutrino.ovn.rows import DesiredRow, ParentLink, RowKey
from neutrino.ovn.translate.inputs import BandwidthLimit, QosFacts
from neutrino.ovn.translate.qos import build_port_qos, qos_keys

PORT = "0f0f0f0f-1111-4222-8333-444444444444"
NET = "abababab-1111-4222-8333-444444444444"
ROUTER = "12121212-3434-4565-8787-909090909090"
SWITCH = ParentLink(RowKey("Logical_Switch", "name", f"neutron-{NET}"), "qos_rules")
EGRESS = BandwidthLimit("egress", 10000, 1000)
INGRESS = BandwidthLimit("ingress", 20000, 0)


def row(direction: str, bandwidth: dict, action: dict, **ext: str) -> DesiredRow:
    side = "inport" if direction == "from-lport" else "outport"
    return DesiredRow(
        RowKey("QoS", "external_ids", f"{PORT} {direction}", map_key="neutron:qos_key"),
        {"priority": 2002, "direction": direction, "match": f'{side} == "{PORT}"',
         "bandwidth": bandwidth, "action": action,
         "external_ids": {"neutron:port_id": PORT, "neutron:qos_key": f"{PORT} {direction}",
                          **ext}},
        parent=SWITCH)


@pytest.mark.parametrize(("qos", "expected"), [
    pytest.param(None, (), id="no-policy"),
    pytest.param(QosFacts("p"), (), id="policy-without-rules"),
    pytest.param(QosFacts("p", (EGRESS,), 26), (
        row("from-lport", {"rate": 10000, "burst": 1000}, {"dscp": 26}),), id="egress-and-dscp"),
    pytest.param(QosFacts("p", (INGRESS,)), (
        row("to-lport", {"rate": 20000}, {}),), id="ingress-no-burst"),
    pytest.param(QosFacts("p", (), 0), (row("from-lport", {}, {"dscp": 0}),),
                 id="dscp-zero-is-a-mark"),
    pytest.param(QosFacts("p", (INGRESS, EGRESS), 10), (
        row("from-lport", {"rate": 10000, "burst": 1000}, {"dscp": 10}),
        row("to-lport", {"rate": 20000}, {})), id="both-directions-egress-first"),
    pytest.param(QosFacts("p", (EGRESS,), router_id=ROUTER), (
        row("from-lport", {"rate": 10000, "burst": 1000}, {},
            **{"neutron:router_id": ROUTER}),), id="router-gateway"),
])
def test_build_port_qos(qos, expected):
    assert build_port_qos(PORT, NET, qos) == expected


def test_a_port_owns_both_rows_wanted_or_not():
    assert qos_keys(PORT) == tuple(
        RowKey("QoS", "external_ids", f"{PORT} {d}", map_key="neutron:qos_key")
        for d in ("from-lport", "to-lport"))


@pytest.mark.parametrize(("ext", "owner"), [
    ({"neutron:port_id": PORT, "neutron:qos_key": f"{PORT} from-lport"}, ("port", PORT)),
    ({"neutron:port_id": PORT}, None),  # ML2/OVN's own row: not written by neutrino
    ({"neutron:port_id": PORT, "neutron:qos_key": f"{NET} from-lport"}, None),
    ({"neutron:qos_key": f"{PORT} from-lport"}, None),
    ({}, None),
])
def test_qos_row_owner(ext, owner):
    assert owner_of("QoS", {"external_ids": ext}) == owner

"""network → Logical_Switch (+ localnet port for provider networks), as whole DesiredStates."""

from __future__ import annotations

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import NetworkFacts
from neutrino.ovn.translate.networks import build_network, build_network_absent, switch_key

NET_ID = "8a4b3c2d-0000-4000-8000-000000000001"
SEG_ID = "5e6f7a8b-0000-4000-8000-000000000002"
SWITCH = RowKey("Logical_Switch", "name", f"neutron-{NET_ID}")
DNS = RowKey("DNS", "external_ids", NET_ID, "neutron:network_id")
OTHER_CONFIG = {
    "mcast_snoop": "false",
    "mcast_flood_unregistered": "false",
    "vlan-passthru": "false",
}


def facts(**overrides: object) -> NetworkFacts:
    values: dict[str, object] = {
        "id": NET_ID,
        "name": "net1",
        "revision": 1,
        "mtu": 1442,
        "network_type": "geneve",
        "physical_network": None,
        "segmentation_id": 1234,
        "segment_id": SEG_ID,
    }
    values.update(overrides)
    return NetworkFacts(**values)  # type: ignore[arg-type]


def switch_row(name: str, mtu: int, revision: int, net_type: str,
               physnet: str | None = None) -> DesiredRow:
    external_ids = {
        "neutron:network_name": name,
        "neutron:mtu": str(mtu),
        "neutron:revision_number": str(revision),
        "neutron:availability_zone_hints": "",
        "neutron:provnet-network-type": net_type,
    }
    if physnet is not None:
        external_ids["neutron:provnet-physical-network"] = physnet
    return DesiredRow(SWITCH, {"external_ids": external_ids, "other_config": OTHER_CONFIG})


def localnet_row(physnet: str, tag: int | None) -> DesiredRow:
    return DesiredRow(
        RowKey("Logical_Switch_Port", "name", f"provnet-{SEG_ID}"),
        {
            "type": "localnet",
            "addresses": ["unknown"],
            "options": {
                "network_name": physnet,
                "mcast_flood": "false",
                "mcast_flood_reports": "true",
                "localnet_learn_fdb": "false",
            },
            "tag": tag,
            "external_ids": {"neutron:provnet-physical-network": physnet},
        },
        parent=ParentLink(SWITCH, "ports"),
    )


def test_switch_key_names_the_switch_after_the_network() -> None:
    assert switch_key(NET_ID) == SWITCH


@pytest.mark.parametrize(
    ("given", "rows"),
    [
        pytest.param(
            facts(),
            (switch_row("net1", 1442, 1, "geneve"),),
            id="geneve-switch-only",
        ),
        pytest.param(
            facts(name="", revision=7, mtu=1400),
            (switch_row("", 1400, 7, "geneve"),),
            id="geneve-empty-name-revision-mtu",
        ),
        pytest.param(
            facts(name="public", mtu=1500, network_type="flat", physical_network="public",
                  segmentation_id=None),
            (switch_row("public", 1500, 1, "flat", "public"), localnet_row("public", None)),
            id="flat-localnet-untagged",
        ),
        pytest.param(
            # A flat network never carries a tag, even if a segmentation id is recorded.
            facts(name="public", mtu=1500, network_type="flat", physical_network="public",
                  segmentation_id=5),
            (switch_row("public", 1500, 1, "flat", "public"), localnet_row("public", None)),
            id="flat-ignores-segmentation-id",
        ),
        pytest.param(
            facts(name="vl", mtu=1500, network_type="vlan", physical_network="physnet1",
                  segmentation_id=101, revision=3),
            (switch_row("vl", 1500, 3, "vlan", "physnet1"), localnet_row("physnet1", 101)),
            id="vlan-localnet-tagged",
        ),
    ],
)
def test_build_network(given: NetworkFacts, rows: tuple[DesiredRow, ...]) -> None:
    assert build_network(given) == DesiredState("network", NET_ID, rows, (SWITCH, DNS),
                                                member_rows=(DNS,))


def test_build_network_revision_is_readable_from_row() -> None:
    state = build_network(facts(revision=42))
    assert [row.revision for row in state.rows] == [42]


def test_build_network_lookup_keys_cover_switch_and_localnet() -> None:
    state = build_network(facts(network_type="vlan", physical_network="p", segmentation_id=9))
    assert state.lookup_keys() == {
        SWITCH, DNS,
        RowKey("Logical_Switch_Port", "name", f"provnet-{SEG_ID}"),
    }


def test_build_network_absent() -> None:
    assert build_network_absent(NET_ID) == DesiredState("network", NET_ID, (), (SWITCH, DNS))


def test_build_network_carries_its_zone_hints_as_ml2_ovn_does() -> None:
    switch = build_network(facts(az_hints=("az2", "az1"))).rows[0]
    assert switch.columns["external_ids"]["neutron:availability_zone_hints"] == "az2,az1"

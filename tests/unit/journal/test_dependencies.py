"""Journal ordering as data: the WAITS_FOR table and parent_ids checked against it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from neutrino.journal.dependencies import WAITS_FOR, UndeclaredDependency, parent_ids
from neutrino.journal.types import ResourceType

NET, SUBNET, PORT = ResourceType.NETWORK, ResourceType.SUBNET, ResourceType.PORT
SG, RULE = ResourceType.SECURITY_GROUP, ResourceType.SECURITY_GROUP_RULE
ROUTER, FIP = ResourceType.ROUTER, ResourceType.FLOATING_IP
AG = ResourceType.ADDRESS_GROUP
PAIR, GROUP = ResourceType.PORT_PAIR, ResourceType.PORT_PAIR_GROUP
CLASSIFIER, CHAIN = ResourceType.FLOW_CLASSIFIER, ResourceType.PORT_CHAIN


def test_waits_for_table_shape() -> None:
    assert dict(WAITS_FOR) == {
        NET: frozenset(),
        SUBNET: frozenset({NET}),
        PORT: frozenset({NET, SUBNET, SG, ROUTER, PORT}),  # a subport on its trunk's parent
        SG: frozenset(),
        RULE: frozenset({SG, AG}),
        ROUTER: frozenset({NET, SUBNET}),
        FIP: frozenset({ROUTER, PORT}),
        AG: frozenset(),
        PAIR: frozenset({PORT}),
        GROUP: frozenset({PAIR}),
        CLASSIFIER: frozenset({PORT}),
        CHAIN: frozenset({GROUP, CLASSIFIER, PORT, ROUTER}),
        ResourceType.L2_GATEWAY: frozenset(),
        ResourceType.L2_GATEWAY_CONNECTION: frozenset({NET, ResourceType.L2_GATEWAY}),
    }


def test_every_resource_type_is_declared() -> None:
    assert set(WAITS_FOR) == set(ResourceType)


def test_waits_for_is_acyclic() -> None:
    def reaches(start: ResourceType, target: ResourceType, seen: frozenset = frozenset()) -> bool:
        return any(
            p == target or (p not in seen and reaches(p, target, seen | {p}))
            for p in WAITS_FOR[start]
        )

    # The one declared loop: a trunk's subport waits for its parent port. Between ports it is
    # acyclic (a trunk's parent is never a subport, and a subport never a parent: the trunk
    # service refuses both), and an entry only ever waits for older entries.
    assert [t for t in ResourceType if reaches(t, t)] == [PORT]
    assert PORT not in {p for t in WAITS_FOR[PORT] - {PORT} for p in WAITS_FOR[t]}


@pytest.mark.parametrize(
    ("resource_type", "parents", "expected"),
    [
        pytest.param(NET, {}, [], id="network-no-parents"),
        pytest.param(SUBNET, {}, [], id="subnet-empty"),
        pytest.param(SUBNET, {NET: ["n1"]}, ["n1"], id="subnet-network"),
        pytest.param(SUBNET, {NET: []}, [], id="subnet-empty-list"),
        pytest.param(
            PORT,
            {NET: ["n1"], SUBNET: ["s2", "s1", "s2"]},
            ["n1", "s1", "s2"],
            id="port-sorted-unique",
        ),
        pytest.param(
            PORT,
            {SUBNET: ("b", "a"), NET: iter(["c", "a"])},
            ["a", "b", "c"],
            id="port-any-iterables-dedup-across-types",
        ),
        pytest.param(PORT, {NET: ["n1"]}, ["n1"], id="port-network-only"),
        pytest.param(
            PORT,
            {NET: ["n1"], SUBNET: ["s1"], SG: ["g2", "g1"]},
            ["g1", "g2", "n1", "s1"],
            id="port-with-security-groups",
        ),
        pytest.param(PORT, {SG: []}, [], id="port-no-groups"),
        pytest.param(SG, {}, [], id="group-no-parents"),
        pytest.param(RULE, {SG: ["g1"]}, ["g1"], id="rule-its-group"),
        pytest.param(RULE, {SG: ["g1", "g2", "g1"]}, ["g1", "g2"],
                     id="rule-group-and-remote-group-unique"),
        pytest.param(PORT, {NET: ["n1"], SUBNET: ["s1"], ROUTER: ["r1"]}, ["n1", "r1", "s1"],
                     id="router-interface-port-waits-for-its-router"),
        pytest.param(ROUTER, {}, [], id="router-without-gateway"),
        pytest.param(ROUTER, {NET: ["ext"], SUBNET: ["ext-v6", "ext-v4"]},
                     ["ext", "ext-v4", "ext-v6"], id="router-gateway-network-and-subnets"),
        pytest.param(FIP, {}, [], id="floating-ip-not-associated"),
        pytest.param(FIP, {ROUTER: ["r1"], PORT: ["p1"]}, ["p1", "r1"],
                     id="floating-ip-router-and-port"),
    ],
)
def test_parent_ids(
    resource_type: ResourceType,
    parents: Mapping[ResourceType, Iterable[str]],
    expected: list[str],
) -> None:
    assert parent_ids(resource_type, parents) == expected


@pytest.mark.parametrize(
    ("resource_type", "parents", "named"),
    [
        pytest.param(NET, {NET: ["n1"]}, "network", id="network-waits-for-network"),
        pytest.param(NET, {SUBNET: []}, "subnet", id="network-waits-for-subnet-even-empty"),
        pytest.param(SUBNET, {PORT: ["p1"]}, "port", id="subnet-waits-for-port"),
        pytest.param(SUBNET, {SUBNET: ["s1"], NET: ["n1"]}, "subnet", id="subnet-on-subnet"),
        pytest.param(NET, {PORT: ["p"], SUBNET: ["s"]}, "port, subnet", id="names-sorted"),
        pytest.param(SG, {SG: ["g0"]}, "security_group", id="group-on-group"),
        pytest.param(SG, {PORT: ["p"]}, "port", id="group-on-port"),
        pytest.param(RULE, {RULE: ["r0"]}, "security_group_rule", id="rule-on-rule"),
        pytest.param(RULE, {PORT: ["p"], SG: ["g"]}, "port", id="rule-on-port"),
        pytest.param(SUBNET, {SG: ["g"]}, "security_group", id="subnet-on-group"),
        pytest.param(PORT, {RULE: ["r"]}, "security_group_rule", id="port-on-rule"),
        pytest.param(PORT, {FIP: ["f"]}, "floating_ip", id="port-on-floating-ip"),
        pytest.param(ROUTER, {PORT: ["p"]}, "port", id="router-on-port"),
        pytest.param(ROUTER, {ROUTER: ["r0"]}, "router", id="router-on-router"),
        pytest.param(ROUTER, {SG: ["g"], FIP: ["f"]}, "floating_ip, security_group",
                     id="router-on-group-and-floating-ip"),
        pytest.param(FIP, {NET: ["ext"]}, "network", id="floating-ip-on-network"),
        pytest.param(FIP, {SUBNET: ["s"]}, "subnet", id="floating-ip-on-subnet"),
        pytest.param(FIP, {FIP: ["f0"]}, "floating_ip", id="floating-ip-on-floating-ip"),
        pytest.param(NET, {ROUTER: ["r"]}, "router", id="network-on-router"),
        pytest.param(SUBNET, {ROUTER: ["r"]}, "router", id="subnet-on-router"),
    ],
)
def test_parent_ids_undeclared(
    resource_type: ResourceType,
    parents: Mapping[ResourceType, Iterable[str]],
    named: str,
) -> None:
    with pytest.raises(UndeclaredDependency) as exc:
        parent_ids(resource_type, parents)
    assert str(exc.value) == f"{resource_type} may not wait for {named}"
    assert isinstance(exc.value, ValueError)

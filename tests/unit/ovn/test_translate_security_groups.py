"""security groups → Port_Groups, rules → ACLs, and the shared drop group, as whole values.

The matches follow the ML2/OVN strings observed in ../shared/ovn-conventions.md
("Port_Group / ACL"), e.g. `outport == @pg_X && ip4 && ip4.src == 0.0.0.0/0 && tcp &&
tcp.dst == 22`.
"""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import RuleFacts, SecurityGroupFacts
from neutrino.ovn.translate.security_groups import (
    DROP_GROUP_KEY,
    build_rule,
    build_rule_absent,
    build_security_group,
    build_security_group_absent,
    drop_group_rows,
    port_group_key,
    rule_key,
    rule_match,
)

SG = "11111111-2222-4333-8444-555555555555"
PG = "pg_11111111_2222_4333_8444_555555555555"
REMOTE = "aaaaaaaa-0000-4000-8000-000000000001"
REMOTE_PG = "pg_aaaaaaaa_0000_4000_8000_000000000001"
RULE_ID = "77777777-0000-4000-8000-000000000007"

PG_KEY = RowKey("Port_Group", "name", PG)
ACL_KEY = RowKey("ACL", "external_ids", RULE_ID, map_key="neutron:security_group_rule_id")
DROP = RowKey("Port_Group", "name", "neutron_pg_drop")


def rule(**overrides: Any) -> RuleFacts:
    values: dict[str, Any] = {
        "id": RULE_ID,
        "security_group_id": SG,
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": None,
        "port_range_min": None,
        "port_range_max": None,
        "remote_ip_prefix": None,
        "remote_group_id": None,
    }
    values.update(overrides)
    return RuleFacts(**values)


IN4 = f"outport == @{PG} && ip4"
OUT4 = f"inport == @{PG} && ip4"
IN6 = f"outport == @{PG} && ip6"
OUT6 = f"inport == @{PG} && ip6"


# --- rule_match: every form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "match"),
    [
        # direction and ethertype
        pytest.param(rule(), IN4, id="ingress-ipv4-outport"),
        pytest.param(rule(direction="egress"), OUT4, id="egress-ipv4-inport"),
        pytest.param(rule(ethertype="IPv6"), IN6, id="ingress-ipv6"),
        pytest.param(rule(direction="egress", ethertype="IPv6"), OUT6,
                     id="egress-ipv6-default-rule"),
        # remote prefixes: src for ingress, dst for egress; 0.0.0.0/0 is kept
        pytest.param(
            rule(remote_ip_prefix="0.0.0.0/0", protocol="tcp", port_range_min=22,
                 port_range_max=22),
            f"{IN4} && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22",
            id="observed-ssh-rule",
        ),
        pytest.param(rule(remote_ip_prefix="0.0.0.0/0"), f"{IN4} && ip4.src == 0.0.0.0/0",
                     id="any-prefix-kept"),
        pytest.param(rule(remote_ip_prefix="10.0.0.0/24"), f"{IN4} && ip4.src == 10.0.0.0/24",
                     id="ingress-prefix-src"),
        pytest.param(rule(direction="egress", remote_ip_prefix="10.0.0.0/24"),
                     f"{OUT4} && ip4.dst == 10.0.0.0/24", id="egress-prefix-dst"),
        pytest.param(rule(ethertype="IPv6", remote_ip_prefix="::/0"),
                     f"{IN6} && ip6.src == ::/0", id="ipv6-any-prefix-kept"),
        pytest.param(rule(direction="egress", ethertype="IPv6", remote_ip_prefix="fd00::/64"),
                     f"{OUT6} && ip6.dst == fd00::/64", id="ipv6-egress-prefix-dst"),
        pytest.param(rule(remote_ip_prefix="10.0.0.5/32"), f"{IN4} && ip4.src == 10.0.0.5/32",
                     id="host-prefix"),
        # remote groups: the address sets OVN derives from the group's Port_Group
        pytest.param(rule(remote_group_id=SG, protocol="icmp"),
                     f"{IN4} && ip4.src == ${PG}_ip4 && icmp4", id="observed-remote-group-icmp"),
        pytest.param(rule(remote_group_id=SG), f"{IN4} && ip4.src == ${PG}_ip4",
                     id="observed-default-group-ingress-v4"),
        pytest.param(rule(remote_group_id=SG, ethertype="IPv6"),
                     f"{IN6} && ip6.src == ${PG}_ip6", id="observed-default-group-ingress-v6"),
        pytest.param(rule(remote_group_id=REMOTE), f"{IN4} && ip4.src == ${REMOTE_PG}_ip4",
                     id="other-remote-group-underscored"),
        pytest.param(rule(direction="egress", remote_group_id=REMOTE),
                     f"{OUT4} && ip4.dst == ${REMOTE_PG}_ip4", id="egress-remote-group-dst"),
        pytest.param(rule(direction="egress", ethertype="IPv6", remote_group_id=REMOTE,
                          protocol="udp", port_range_min=53, port_range_max=53),
                     f"{OUT6} && ip6.dst == ${REMOTE_PG}_ip6 && udp && udp.dst == 53",
                     id="egress-ipv6-remote-group-udp"),
        # ported protocols
        pytest.param(rule(protocol="tcp"), f"{IN4} && tcp", id="tcp-no-ports"),
        pytest.param(rule(protocol="tcp", port_range_min=80, port_range_max=80),
                     f"{IN4} && tcp && tcp.dst == 80", id="tcp-single-port"),
        pytest.param(rule(protocol="tcp", port_range_min=1000, port_range_max=2000),
                     f"{IN4} && tcp && tcp.dst >= 1000 && tcp.dst <= 2000", id="tcp-range"),
        pytest.param(rule(protocol="tcp", port_range_min=1, port_range_max=65535),
                     f"{IN4} && tcp && tcp.dst >= 1 && tcp.dst <= 65535", id="tcp-full-range"),
        pytest.param(rule(protocol="udp", port_range_min=53, port_range_max=53),
                     f"{IN4} && udp && udp.dst == 53", id="udp-single-port"),
        pytest.param(rule(protocol="udp", port_range_min=5000, port_range_max=5010),
                     f"{IN4} && udp && udp.dst >= 5000 && udp.dst <= 5010", id="udp-range"),
        pytest.param(rule(protocol="sctp", port_range_min=9000, port_range_max=9000),
                     f"{IN4} && sctp && sctp.dst == 9000", id="sctp-single-port"),
        pytest.param(rule(protocol="sctp", port_range_min=9000, port_range_max=9100),
                     f"{IN4} && sctp && sctp.dst >= 9000 && sctp.dst <= 9100", id="sctp-range"),
        pytest.param(rule(protocol="sctp"), f"{IN4} && sctp", id="sctp-no-ports"),
        # only one bound: the other is the end of the port space (same traffic as ML2/OVN's
        # single `>=` / `<=`, which Neutron's API never lets through for tcp/udp anyway)
        pytest.param(rule(protocol="tcp", port_range_min=1024),
                     f"{IN4} && tcp && tcp.dst >= 1024 && tcp.dst <= 65535", id="tcp-only-min"),
        pytest.param(rule(protocol="udp", port_range_max=1024),
                     f"{IN4} && udp && udp.dst >= 1 && udp.dst <= 1024", id="udp-only-max"),
        pytest.param(rule(protocol="tcp", port_range_min=65535),
                     f"{IN4} && tcp && tcp.dst == 65535", id="tcp-only-min-at-top"),
        pytest.param(rule(protocol="tcp", port_range_max=1),
                     f"{IN4} && tcp && tcp.dst == 1", id="tcp-only-max-at-bottom"),
        # ICMP: type from port_range_min, code from port_range_max; family from ethertype
        pytest.param(rule(protocol="icmp"), f"{IN4} && icmp4", id="icmp-any"),
        pytest.param(rule(protocol="icmp", port_range_min=8),
                     f"{IN4} && icmp4 && icmp4.type == 8", id="icmp-type"),
        pytest.param(rule(protocol="icmp", port_range_min=3, port_range_max=1),
                     f"{IN4} && icmp4 && icmp4.type == 3 && icmp4.code == 1",
                     id="icmp-type-and-code"),
        pytest.param(rule(protocol="icmp", port_range_min=0, port_range_max=0),
                     f"{IN4} && icmp4 && icmp4.type == 0 && icmp4.code == 0",
                     id="icmp-zero-type-and-code-kept"),
        pytest.param(rule(protocol="icmp", ethertype="IPv6"), f"{IN6} && icmp6",
                     id="icmp-with-ipv6-is-icmp6"),
        pytest.param(rule(protocol="icmp", ethertype="IPv6", port_range_min=128),
                     f"{IN6} && icmp6 && icmp6.type == 128", id="icmp-ipv6-type"),
        pytest.param(rule(protocol="icmpv6", ethertype="IPv6", port_range_min=135,
                          port_range_max=0),
                     f"{IN6} && icmp6 && icmp6.type == 135 && icmp6.code == 0",
                     id="icmpv6-legacy-name"),
        pytest.param(rule(protocol="ipv6-icmp", ethertype="IPv6"), f"{IN6} && icmp6",
                     id="ipv6-icmp-name"),
        pytest.param(rule(direction="egress", protocol="ipv6-icmp", ethertype="IPv6",
                          remote_ip_prefix="::/0"),
                     f"{OUT6} && ip6.dst == ::/0 && icmp6", id="ipv6-icmp-egress-prefix"),
        # numeric protocols
        pytest.param(rule(protocol="6", port_range_min=22, port_range_max=22),
                     f"{IN4} && tcp && tcp.dst == 22", id="number-6-is-tcp"),
        pytest.param(rule(protocol="17", port_range_min=67, port_range_max=68),
                     f"{IN4} && udp && udp.dst >= 67 && udp.dst <= 68", id="number-17-is-udp"),
        pytest.param(rule(protocol="132"), f"{IN4} && sctp", id="number-132-is-sctp"),
        pytest.param(rule(protocol="1"), f"{IN4} && icmp4", id="number-1-is-icmp"),
        pytest.param(rule(protocol="1", port_range_min=8, port_range_max=0),
                     f"{IN4} && icmp4 && icmp4.type == 8 && icmp4.code == 0",
                     id="number-1-type-code"),
        pytest.param(rule(protocol="1", ethertype="IPv6"), f"{IN6} && icmp6",
                     id="number-1-with-ipv6-is-icmp6"),
        pytest.param(rule(protocol="58", ethertype="IPv6"), f"{IN6} && icmp6",
                     id="number-58-is-icmp6"),
        pytest.param(rule(protocol="47"), f"{IN4} && ip.proto == 47", id="number-47-ip-proto"),
        pytest.param(rule(protocol="112", direction="egress"), f"{OUT4} && ip.proto == 112",
                     id="number-112-ip-proto"),
        pytest.param(rule(protocol="0"), f"{IN4} && ip.proto == 0", id="number-0-ip-proto"),
        pytest.param(rule(protocol="50", remote_ip_prefix="192.0.2.0/24"),
                     f"{IN4} && ip4.src == 192.0.2.0/24 && ip.proto == 50",
                     id="number-after-prefix"),
        # no protocol
        pytest.param(rule(protocol=None, remote_ip_prefix="10.0.0.0/8"),
                     f"{IN4} && ip4.src == 10.0.0.0/8", id="protocol-none"),
        pytest.param(rule(protocol="any"), IN4, id="protocol-any"),
        pytest.param(rule(protocol="any", ethertype="IPv6", remote_group_id=SG),
                     f"{IN6} && ip6.src == ${PG}_ip6", id="protocol-any-remote-group"),
    ],
)
def test_rule_match(facts: RuleFacts, match: str) -> None:
    assert rule_match(facts) == match


@pytest.mark.parametrize(
    ("facts", "match"),
    [
        pytest.param(rule(remote_ip_prefix="10.0.0.5/24"), f"{IN4} && ip4.src == 10.0.0.5/24",
                     id="ipv4-host-bits"),
        pytest.param(rule(direction="egress", ethertype="IPv6", remote_ip_prefix="fd00::5/64"),
                     f"{OUT6} && ip6.dst == fd00::5/64", id="ipv6-host-bits"),
    ],
)
def test_rule_match_writes_prefix_as_stored(facts: RuleFacts, match: str) -> None:
    """The prefix goes in as the rule stores it. ML2/OVN writes the normalised network
    (10.0.0.0/24) instead; OVN reads both the same (checked with ovn-trace on OVN 23.03:
    `ip4.src == 10.0.0.5/24` matches 10.0.0.7 and not 10.0.1.7), so only the text differs."""
    assert rule_match(facts) == match


@pytest.mark.parametrize(
    ("protocol", "number"),
    [("gre", 47), ("vrrp", 112), ("dccp", 33), ("esp", 50)],
)
def test_rule_match_named_ip_protocols_use_numbers(protocol: str, number: int) -> None:
    assert rule_match(rule(protocol=protocol)) == f"{IN4} && ip.proto == {number}"


# --- whole DesiredStates ------------------------------------------------------------------


def test_keys() -> None:
    assert port_group_key(SG) == PG_KEY
    assert rule_key(RULE_ID) == ACL_KEY
    assert DROP_GROUP_KEY == DROP


def test_build_security_group() -> None:
    assert build_security_group(SecurityGroupFacts(SG)) == DesiredState(
        "security_group",
        SG,
        (DesiredRow(PG_KEY, {"external_ids": {"neutron:security_group_id": SG}}),),
        (PG_KEY,),
        (),
        (),
    )


def test_build_security_group_absent_removes_only_the_port_group() -> None:
    assert build_security_group_absent(SG) == DesiredState(
        "security_group", SG, (), (PG_KEY,), (), ()
    )


def acl_state(direction: str, match: str, group_key: RowKey = PG_KEY) -> DesiredState:
    row = DesiredRow(
        ACL_KEY,
        {
            "direction": direction,
            "priority": 1002,
            "action": "allow-related",
            "match": match,
            "log": False,
            "external_ids": {"neutron:security_group_rule_id": RULE_ID},
        },
        parent=ParentLink(group_key, "acls"),
    )
    return DesiredState("security_group_rule", RULE_ID, (row,), (ACL_KEY,), (), ())


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            rule(remote_ip_prefix="0.0.0.0/0", protocol="tcp", port_range_min=22,
                 port_range_max=22),
            acl_state("to-lport", f"{IN4} && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22"),
            id="ingress-to-lport",
        ),
        pytest.param(
            rule(direction="egress", ethertype="IPv6"),
            acl_state("from-lport", OUT6),
            id="egress-from-lport",
        ),
        pytest.param(
            rule(security_group_id=REMOTE, remote_group_id=SG),
            acl_state("to-lport", f"outport == @{REMOTE_PG} && ip4 && ip4.src == ${PG}_ip4",
                      group_key=RowKey("Port_Group", "name", REMOTE_PG)),
            id="acl-lives-in-its-own-group-not-the-remote",
        ),
    ],
)
def test_build_rule(facts: RuleFacts, expected: DesiredState) -> None:
    assert build_rule(facts) == expected


def test_rule_row_has_no_revision_and_looks_up_its_group() -> None:
    state = build_rule(rule())
    assert state.rows[0].revision is None
    assert state.lookup_keys() == {ACL_KEY, PG_KEY}


def test_build_rule_absent() -> None:
    assert build_rule_absent(RULE_ID) == DesiredState(
        "security_group_rule", RULE_ID, (), (ACL_KEY,), (), ()
    )


def test_drop_group_rows() -> None:
    def acl(direction: str, priority: int, action: str, match: str) -> DesiredRow:
        return DesiredRow(
            RowKey("ACL", "match", match),
            {"direction": direction, "priority": priority, "action": action, "match": match,
             "log": False},
            parent=ParentLink(DROP, "acls"),
        )

    assert drop_group_rows() == (
        DesiredRow(DROP, {}),  # no external_ids, as ML2/OVN's neutron_pg_drop
        acl("from-lport", 1000, "drop", "inport == @neutron_pg_drop && ip"),
        acl("to-lport", 1000, "drop", "outport == @neutron_pg_drop && ip"),
        acl("from-lport", 1001, "allow",
            "inport == @neutron_pg_drop && ip4 && udp && udp.src == 68 && udp.dst == 67"),
        acl("from-lport", 1001, "allow",
            "inport == @neutron_pg_drop && ip6 && udp && udp.src == 546 && udp.dst == 547"),
    )


def test_drop_acls_sit_below_rule_acls() -> None:
    """Rules (1002) must win over the drop group (1000) for allowed traffic to pass."""
    priorities = {row.columns["action"]: row.columns["priority"]
                  for row in drop_group_rows()[1:]}
    assert priorities == {"drop": 1000, "allow": 1001}
    assert build_rule(rule()).rows[0].columns["priority"] > max(priorities.values())

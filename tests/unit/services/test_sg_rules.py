"""validate_rule and find_duplicate: Neutron's security group rule checks, pure."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from neutrino import errors
from neutrino.services.sg_rules import MATCHED, find_duplicate, validate_rule

SG = "11111111-2222-4333-8444-555555555555"
REMOTE = "aaaaaaaa-0000-4000-8000-000000000001"
BODY = {"security_group_id": SG, "direction": "ingress"}
RESULT: dict[str, Any] = {
    "security_group_id": SG,
    "direction": "ingress",
    "ethertype": "IPv4",
    "protocol": None,
    "port_range_min": None,
    "port_range_max": None,
    "remote_ip_prefix": None,
    "remote_group_id": None,
}


def body(**values: Any) -> dict[str, Any]:
    return {**BODY, **values}


# --- validate_rule: accepted bodies, normalised ------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(BODY, RESULT, id="minimal-defaults-ipv4"),
        pytest.param(body(ethertype=None), RESULT, id="null-ethertype-is-ipv4"),
        pytest.param(body(ethertype="IPv6"), {**RESULT, "ethertype": "IPv6"}, id="ipv6"),
        pytest.param(body(direction="egress", description="ignored"),
                     {**RESULT, "direction": "egress"}, id="egress-only-rule-columns"),
        # protocol names and numbers
        pytest.param(body(protocol="TCP"), {**RESULT, "protocol": "tcp"}, id="name-lowercased"),
        pytest.param(body(protocol="Udp"), {**RESULT, "protocol": "udp"}, id="name-mixed-case"),
        # with IPv6, Neutron stores ICMP by its legacy names as ipv6-icmp, and 1 as 58
        pytest.param(body(protocol="ICMPv6", ethertype="IPv6"),
                     {**RESULT, "ethertype": "IPv6", "protocol": "ipv6-icmp"},
                     id="legacy-icmpv6-name-canonical"),
        pytest.param(body(protocol="icmp", ethertype="IPv6"),
                     {**RESULT, "ethertype": "IPv6", "protocol": "ipv6-icmp"},
                     id="icmp-with-ipv6-canonical"),
        pytest.param(body(protocol="1", ethertype="IPv6"),
                     {**RESULT, "ethertype": "IPv6", "protocol": "58"},
                     id="number-1-with-ipv6-is-58"),
        pytest.param(body(protocol="icmp"), {**RESULT, "protocol": "icmp"},
                     id="icmp-with-ipv4-kept"),
        pytest.param(body(protocol="ipv6-encap", ethertype="IPv6"),
                     {**RESULT, "ethertype": "IPv6", "protocol": "ipv6-encap"},
                     id="ipv6-encap-with-ipv6"),
        pytest.param(body(protocol="gre"), {**RESULT, "protocol": "gre"}, id="other-name"),
        pytest.param(body(protocol="006"), {**RESULT, "protocol": "6"}, id="number-leading-zeros"),
        pytest.param(body(protocol="6"), {**RESULT, "protocol": "6"}, id="number-kept-as-number"),
        pytest.param(body(protocol=17), {**RESULT, "protocol": "17"}, id="int-number"),
        pytest.param(body(protocol="0"), {**RESULT, "protocol": "0"}, id="number-zero"),
        pytest.param(body(protocol="255"), {**RESULT, "protocol": "255"}, id="number-255"),
        pytest.param(body(protocol="any"), RESULT, id="any-is-none"),
        pytest.param(body(protocol=""), RESULT, id="empty-is-none"),
        pytest.param(body(protocol=None), RESULT, id="null-is-none"),
        # ports
        pytest.param(body(protocol="tcp", port_range_min=22, port_range_max=22),
                     {**RESULT, "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
                     id="tcp-single-port"),
        pytest.param(body(protocol="udp", port_range_min=1, port_range_max=65535),
                     {**RESULT, "protocol": "udp", "port_range_min": 1,
                      "port_range_max": 65535}, id="udp-full-range"),
        pytest.param(body(protocol="6", port_range_min=80, port_range_max=81),
                     {**RESULT, "protocol": "6", "port_range_min": 80, "port_range_max": 81},
                     id="tcp-by-number-range"),
        pytest.param(body(protocol="sctp", port_range_min=9000, port_range_max=9001),
                     {**RESULT, "protocol": "sctp", "port_range_min": 9000,
                      "port_range_max": 9001}, id="sctp-range"),
        pytest.param(body(protocol="dccp", port_range_min=5, port_range_max=5),
                     {**RESULT, "protocol": "dccp", "port_range_min": 5, "port_range_max": 5},
                     id="dccp-has-ports"),
        pytest.param(body(protocol="136", port_range_min=5, port_range_max=6),
                     {**RESULT, "protocol": "136", "port_range_min": 5, "port_range_max": 6},
                     id="udplite-number-has-ports"),
        pytest.param(body(protocol="icmp", port_range_min=8),
                     {**RESULT, "protocol": "icmp", "port_range_min": 8}, id="icmp-type-only"),
        pytest.param(body(protocol="icmp", port_range_min=0, port_range_max=0),
                     {**RESULT, "protocol": "icmp", "port_range_min": 0, "port_range_max": 0},
                     id="icmp-type-and-code-zero"),
        pytest.param(body(protocol="icmp", port_range_min=255, port_range_max=255),
                     {**RESULT, "protocol": "icmp", "port_range_min": 255,
                      "port_range_max": 255}, id="icmp-type-and-code-255"),
        pytest.param(body(protocol="ipv6-icmp", ethertype="IPv6", port_range_min=135),
                     {**RESULT, "protocol": "ipv6-icmp", "ethertype": "IPv6",
                      "port_range_min": 135}, id="ipv6-icmp-type"),
        pytest.param(body(protocol="58", ethertype="IPv6", port_range_min=128,
                          port_range_max=0),
                     {**RESULT, "protocol": "58", "ethertype": "IPv6", "port_range_min": 128,
                      "port_range_max": 0}, id="number-58-type-code"),
        # remotes
        pytest.param(body(remote_ip_prefix="10.0.0.0/24"),
                     {**RESULT, "remote_ip_prefix": "10.0.0.0/24"}, id="prefix-v4"),
        pytest.param(body(remote_ip_prefix="10.0.0.5/24"),
                     {**RESULT, "remote_ip_prefix": "10.0.0.5/24"},
                     id="prefix-stored-as-given"),
        pytest.param(body(remote_ip_prefix="0.0.0.0/0"),
                     {**RESULT, "remote_ip_prefix": "0.0.0.0/0"}, id="prefix-any-kept"),
        pytest.param(body(ethertype="IPv6", remote_ip_prefix="fd00::/64"),
                     {**RESULT, "ethertype": "IPv6", "remote_ip_prefix": "fd00::/64"},
                     id="prefix-v6"),
        pytest.param(body(remote_ip_prefix=""), RESULT, id="empty-prefix-is-none"),
        pytest.param(body(remote_group_id=REMOTE), {**RESULT, "remote_group_id": REMOTE},
                     id="remote-group"),
        pytest.param(body(remote_group_id=REMOTE, remote_ip_prefix=None),
                     {**RESULT, "remote_group_id": REMOTE}, id="remote-group-null-prefix"),
    ],
)
def test_validate_rule(given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert validate_rule(given) == expected


# --- validate_rule: rejections -----------------------------------------------------------

UNSUPPORTED = ("Only protocol values and integer representations [0 to 255] are supported.")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        # protocols
        pytest.param(body(protocol="256"),
                     f"Security group rule protocol 256 not supported. {UNSUPPORTED}",
                     id="number-256"),
        pytest.param(body(protocol=256),
                     f"Security group rule protocol 256 not supported. {UNSUPPORTED}",
                     id="int-256"),
        pytest.param(body(protocol="-1"),
                     f"Security group rule protocol -1 not supported. {UNSUPPORTED}",
                     id="negative"),
        pytest.param(body(protocol="foo"),
                     f"Security group rule protocol foo not supported. {UNSUPPORTED}",
                     id="unknown-name"),
        pytest.param(body(protocol="\u0661"),
                     f"Security group rule protocol \u0661 not supported. {UNSUPPORTED}",
                     id="non-ascii-digit"),
        # port ranges
        pytest.param(body(port_range_min=22, port_range_max=22),
                     "Must also specify protocol if port range is given.",
                     id="ports-without-protocol"),
        pytest.param(body(protocol="any", port_range_max=22),
                     "Must also specify protocol if port range is given.",
                     id="ports-with-any-protocol"),
        pytest.param(body(protocol="tcp", port_range_min=100, port_range_max=99),
                     "For TCP/UDP protocols, port_range_min must be <= port_range_max",
                     id="tcp-min-above-max"),
        pytest.param(body(protocol="udp", port_range_min=0, port_range_max=10),
                     "Invalid value for port 0.", id="udp-port-zero"),
        pytest.param(body(protocol="tcp", port_range_min=1, port_range_max=65536),
                     "Invalid value for port 65536.", id="tcp-port-65536"),
        pytest.param(body(protocol="tcp", port_range_min=65536, port_range_max=65536),
                     "Invalid value for port 65536.", id="tcp-min-65536"),
        pytest.param(body(protocol="gre", port_range_min=1, port_range_max=2),
                     "Protocol gre does not support port ranges.", id="gre-with-ports"),
        pytest.param(body(protocol="47", port_range_min=1, port_range_max=1),
                     "Protocol 47 does not support port ranges.", id="number-47-with-ports"),
        pytest.param(body(protocol="vrrp", port_range_max=1),
                     "Protocol vrrp does not support port ranges.", id="vrrp-with-max"),
        pytest.param(body(protocol="icmp", port_range_min=256),
                     "Invalid value for ICMP type 256.", id="icmp-type-256"),
        pytest.param(body(protocol="icmp", port_range_min=-1),
                     "Invalid value for ICMP type -1.", id="icmp-type-negative"),
        pytest.param(body(protocol="1", port_range_min=8, port_range_max=256),
                     "Invalid value for ICMP code 256.", id="icmp-code-256"),
        pytest.param(body(protocol="icmp", port_range_max=0),
                     "ICMP code (port-range-max) 0 is provided but ICMP type (port-range-min) "
                     "is missing.", id="icmp-code-without-type"),
        pytest.param(body(protocol="ipv6-icmp", ethertype="IPv6", port_range_max=4),
                     "ICMP code (port-range-max) 4 is provided but ICMP type (port-range-min) "
                     "is missing.", id="icmp6-code-without-type"),
        # remotes
        pytest.param(body(remote_ip_prefix="fd00::/64"),
                     "Conflicting value ethertype IPv4 for CIDR fd00::/64",
                     id="v6-prefix-with-default-ipv4"),
        pytest.param(body(ethertype="IPv6", remote_ip_prefix="10.0.0.0/24"),
                     "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/24",
                     id="v4-prefix-with-ipv6"),
        pytest.param(body(remote_ip_prefix="10.0.0.0/33"),
                     "'10.0.0.0/33' is not a valid IP prefix", id="prefix-too-long"),
        pytest.param(body(remote_ip_prefix="not-a-cidr"),
                     "'not-a-cidr' is not a valid IP prefix", id="prefix-garbage"),
        pytest.param(body(remote_ip_prefix="10.0.0.0/24", remote_group_id=REMOTE),
                     "Only remote_ip_prefix or remote_group_id may be provided.",
                     id="prefix-and-remote-group"),
    ],
)
def test_validate_rule_rejects(given: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        validate_rule(given)
    assert exc.value.message == message


@pytest.mark.parametrize(
    "protocol", ["ipv6-icmp", "icmpv6", "58", "ipv6-frag", "44", "43", "ipv6-route",
                 "ipv6-encap", "41", "ipv6-nonxt", "59", "ipv6-opts", "60"],
)
def test_ipv6_only_protocol_with_ipv4_rejected(protocol: str) -> None:
    """Neutron's list of protocols refused with IPv4, by name and by number."""
    with pytest.raises(errors.SecurityGroupEthertypeConflictWithProtocol) as exc:
        validate_rule(body(protocol=protocol, ethertype="IPv4"))
    assert exc.value.message == f"Invalid ethertype IPv4 for protocol {protocol}."


@pytest.mark.parametrize(
    ("low", "high"), [(22, None), (None, 22)], ids=["only-min", "only-max"]
)
def test_tcp_range_needs_both_bounds(low: int | None, high: int | None) -> None:
    with pytest.raises(errors.BadRequest):
        validate_rule(body(protocol="tcp", port_range_min=low, port_range_max=high))


# --- find_duplicate ----------------------------------------------------------------------


def existing(rule_id: str, **values: Any) -> SimpleNamespace:
    """An existing rule as find_duplicate reads it: its id and the MATCHED attributes."""
    columns = {k: v for k, v in RESULT.items() if k in MATCHED}
    columns.update(values)
    return SimpleNamespace(id=rule_id, **columns)


SSH = {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
       "remote_ip_prefix": "0.0.0.0/0"}


def test_matched_columns() -> None:
    assert MATCHED == ("direction", "ethertype", "protocol", "port_range_min",
                       "port_range_max", "remote_ip_prefix", "remote_group_id")


@pytest.mark.parametrize(
    ("rules", "given", "found"),
    [
        pytest.param([], BODY, None, id="no-rules"),
        pytest.param([existing("r1")], BODY, "r1", id="same-empty-rule"),
        pytest.param([existing("r1", **SSH)], body(**SSH), "r1", id="same-ssh-rule"),
        pytest.param([existing("r1", **SSH)], body(**{**SSH, "protocol": "TCP"}), "r1",
                     id="after-validation-name-case"),
        pytest.param([existing("r1", remote_ip_prefix="10.0.0.0/24")],
                     body(remote_ip_prefix="10.0.0.5/24"), "r1", id="prefix-normalised-new"),
        pytest.param([existing("r1", remote_ip_prefix="10.0.0.5/24")],
                     body(remote_ip_prefix="10.0.0.0/24"), "r1", id="prefix-normalised-old"),
        pytest.param([existing("r1", ethertype="IPv6", remote_ip_prefix="fd00:0:0::/64")],
                     body(ethertype="IPv6", remote_ip_prefix="fd00::1/64"), "r1",
                     id="ipv6-prefix-normalised"),
        pytest.param([existing("r1", remote_ip_prefix="10.0.0.0/24")],
                     body(remote_ip_prefix="10.0.0.0/25"), None, id="other-prefix-length"),
        pytest.param([existing("r1", **SSH)], body(**{**SSH, "direction": "egress"}), None,
                     id="other-direction"),
        pytest.param([existing("r1")], body(ethertype="IPv6"), None, id="other-ethertype"),
        pytest.param([existing("r1", **SSH)], body(**{**SSH, "port_range_max": 23}), None,
                     id="other-port"),
        pytest.param([existing("r1", **SSH)], body(**{**SSH, "protocol": "udp"}), None,
                     id="other-protocol"),
        pytest.param([existing("r1", remote_group_id=SG)], body(remote_group_id=REMOTE), None,
                     id="other-remote-group"),
        pytest.param([existing("r1")], body(remote_group_id=SG), None,
                     id="remote-group-vs-none"),
        pytest.param([existing("r1", direction="egress"), existing("r2"), existing("r3")],
                     BODY, "r2", id="first-match-returned"),
    ],
)
def test_find_duplicate(rules: list[SimpleNamespace], given: dict[str, Any],
                        found: str | None) -> None:
    result = find_duplicate(rules, validate_rule(given))
    if found is None:
        assert result is None
    else:
        assert result is next(r for r in rules if r.id == found)


def test_find_duplicate_ignores_group_and_other_attributes() -> None:
    """Only the MATCHED columns count: rules are compared within one group already."""
    rule = existing("r1", description="old", project_id="p1")
    values = {**validate_rule(BODY), "security_group_id": "another-group"}
    assert find_duplicate([rule], values) is rule


@pytest.mark.parametrize(
    ("old", "given"),
    [
        pytest.param(SSH, {**SSH, "protocol": "6"}, id="tcp-vs-6"),
        pytest.param({"protocol": "udp"}, {"protocol": "17"}, id="udp-vs-17"),
        pytest.param({"ethertype": "IPv6", "protocol": "ipv6-icmp"},
                     {"ethertype": "IPv6", "protocol": "icmp"}, id="ipv6-icmp-vs-icmp"),
        pytest.param({"ethertype": "IPv6", "protocol": "ipv6-icmp"},
                     {"ethertype": "IPv6", "protocol": "58"}, id="ipv6-icmp-vs-58"),
        pytest.param({}, {"remote_ip_prefix": "0.0.0.0/0"}, id="any-prefix-vs-none"),
        pytest.param({"ethertype": "IPv6", "remote_ip_prefix": "::/0"}, {"ethertype": "IPv6"},
                     id="ipv6-any-prefix-vs-none"),
    ],
)
def test_equivalent_rules_are_duplicates(old: dict[str, Any], given: dict[str, Any]) -> None:
    rule = existing("r1", **old)
    assert find_duplicate([rule], validate_rule(body(**given))) is rule

"""Security groups → Port_Groups, rules → ACLs on them, and the shared drop group.

Each group is a Port_Group `pg_<id>`; each rule one ACL, `allow-related` (conntrack) in a
stateful group and `allow-stateless` in a stateless one, whose match names the group
(`inport`/`outport == @pg_X`) and, for a remote group, the address sets OVN derives from
that group's ports (`$pg_Y_ip4`), or for a remote address group its own sets
(`$ag_Z_ip4`). Every port with port security is in `neutron_pg_drop`, whose two ACLs drop
whatever no rule allows.
"""

from __future__ import annotations

import functools

from neutrino import protocols
from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import RuleFacts, SecurityGroupFacts

SG_RESOURCE = "security_group"
RULE_RESOURCE = "security_group_rule"
ALLOW_PRIORITY = 1002
SERVICE_PRIORITY = 1001
DROP_PRIORITY = 1000
# What a filtered port may always send, whatever its groups say: DHCP to OVN's own server
# (ovn-northd already lets the answers and IPv6 ND/RA through).
SERVICE_MATCHES = (
    f"inport == @{n.PG_DROP} && ip4 && udp && udp.src == 68 && udp.dst == 67",
    f"inport == @{n.PG_DROP} && ip6 && udp && udp.src == 546 && udp.dst == 547",
)

# OVN has match fields of their own for these; others match on `ip.proto == N`.
PORTED = {6: "tcp", 17: "udp", 132: "sctp"}


def port_group_key(security_group_id: str) -> RowKey:
    return RowKey(n.PG, "name", n.port_group_name(security_group_id))


def rule_key(rule_id: str) -> RowKey:
    return RowKey(n.ACL, "external_ids", rule_id, map_key=n.SG_RULE_ID)


DROP_GROUP_KEY = RowKey(n.PG, "name", n.PG_DROP)


def build_security_group(facts: SecurityGroupFacts) -> DesiredState:
    row = DesiredRow(port_group_key(facts.id), {"external_ids": {n.SG_ID: facts.id}})
    return DesiredState(SG_RESOURCE, facts.id, (row,), (port_group_key(facts.id),))


def build_security_group_absent(security_group_id: str) -> DesiredState:
    """Removing the Port_Group takes its ACLs with it."""
    key = port_group_key(security_group_id)
    return DesiredState(SG_RESOURCE, security_group_id, (), (key,))


def build_rule(facts: RuleFacts) -> DesiredState:
    columns = {
        "direction": "to-lport" if facts.direction == "ingress" else "from-lport",
        "priority": ALLOW_PRIORITY,
        "action": "allow-related" if facts.stateful else "allow-stateless",
        "match": rule_match(facts),
        "log": False,
        "external_ids": {n.SG_RULE_ID: facts.id},
    }
    parent = ParentLink(port_group_key(facts.security_group_id), "acls")
    row = DesiredRow(rule_key(facts.id), columns, parent=parent)
    return DesiredState(RULE_RESOURCE, facts.id, (row,), (rule_key(facts.id),))


def build_rule_absent(rule_id: str) -> DesiredState:
    return DesiredState(RULE_RESOURCE, rule_id, (), (rule_key(rule_id),))


@functools.cache
def drop_group_rows() -> tuple[DesiredRow, ...]:
    """`neutron_pg_drop`: what no rule allows is dropped, except DHCP requests.

    Built once: every filtered port of a batch carries these same rows (never changed)."""
    rows = [DesiredRow(DROP_GROUP_KEY, {})]
    for direction, port in (("from-lport", "inport"), ("to-lport", "outport")):
        rows.append(
            _drop_group_acl(direction, DROP_PRIORITY, "drop", f"{port} == @{n.PG_DROP} && ip")
        )
    for match in SERVICE_MATCHES:
        rows.append(_drop_group_acl("from-lport", SERVICE_PRIORITY, "allow", match))
    return tuple(rows)


def _drop_group_acl(direction: str, priority: int, action: str, match: str) -> DesiredRow:
    columns = {
        "direction": direction,
        "priority": priority,
        "action": action,
        "match": match,
        "log": False,
    }
    parent = ParentLink(DROP_GROUP_KEY, "acls")
    return DesiredRow(RowKey(n.ACL, "match", match), columns, parent=parent)


def rule_match(rule: RuleFacts) -> str:
    """The OVN match of a rule, in ML2/OVN's shape and order."""
    ingress = rule.direction == "ingress"
    family = "ip4" if rule.ethertype == "IPv4" else "ip6"
    group = n.port_group_name(rule.security_group_id)
    parts = [f"{'outport' if ingress else 'inport'} == @{group}", family]
    peer = f"{family}.{'src' if ingress else 'dst'}"
    if rule.remote_ip_prefix:
        parts.append(f"{peer} == {rule.remote_ip_prefix}")
    elif rule.remote_group_id:
        parts.append(f"{peer} == ${n.port_group_name(rule.remote_group_id)}_{family}")
    elif rule.remote_address_group_id:
        parts.append(f"{peer} == ${n.address_set_name(rule.remote_address_group_id, family)}")
    parts.extend(_protocol_match(rule, family))
    return " && ".join(parts)


def _protocol_match(rule: RuleFacts, family: str) -> list[str]:
    if rule.protocol in (None, "any"):
        return []
    number = protocols.number(rule.protocol)
    if number in PORTED:
        name = PORTED[number]
        return [name, *_port_range(name, rule.port_range_min, rule.port_range_max)]
    if number in protocols.ICMP:
        icmp = "icmp4" if family == "ip4" else "icmp6"
        parts = [icmp]
        if rule.port_range_min is not None:
            parts.append(f"{icmp}.type == {rule.port_range_min}")
        if rule.port_range_max is not None:
            parts.append(f"{icmp}.code == {rule.port_range_max}")
        return parts
    return [f"ip.proto == {number}"]


def _port_range(protocol: str, low: int | None, high: int | None) -> list[str]:
    if low is None and high is None:
        return []
    low = low if low is not None else 1
    high = high if high is not None else 65535
    if low == high:
        return [f"{protocol}.dst == {low}"]
    return [f"{protocol}.dst >= {low}", f"{protocol}.dst <= {high}"]

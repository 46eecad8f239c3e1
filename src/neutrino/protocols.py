"""IP protocol names Neutron accepts in security group rules, and their numbers."""

from __future__ import annotations

NUMBERS: dict[str, int] = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "icmpv6": 58, "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
WITH_PORTS = frozenset({6, 17, 132, 33, 136})  # tcp, udp, sctp, dccp, udplite
ICMP = frozenset({1, 58})
# Refused with ethertype IPv4, names and numbers alike: ipv6-encap, -route, -frag, -icmp
# (and icmpv6), -nonxt, -opts.
IPV6_ONLY = frozenset({41, 43, 44, 58, 59, 60})
IPV6_ICMP_LEGACY = ("icmp", "icmpv6")  # with ethertype IPv6, Neutron stores ipv6-icmp


def number(protocol: str | None) -> int | None:
    """The protocol number of a name or a numeric string; None for 'any'."""
    if protocol is None:
        return None
    text = protocol.lower()
    return NUMBERS[text] if text in NUMBERS else int(text)

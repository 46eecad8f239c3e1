"""Validating security group rules as Neutron does: protocols, port ranges, remotes."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from neutrino import errors, protocols
from neutrino.db.models import SecurityGroupRule

MATCHED = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
           "remote_ip_prefix", "remote_group_id")


def validate_rule(body: dict[str, Any]) -> dict[str, Any]:
    """The rule's columns, normalised, or a 400 that says what is wrong."""
    ethertype = body.get("ethertype") or "IPv4"
    protocol = _canonical_for(ethertype, _protocol(body.get("protocol")))
    if ethertype == "IPv4" and protocols.number(protocol) in protocols.IPV6_ONLY:
        raise errors.SecurityGroupEthertypeConflictWithProtocol(ethertype, protocol)
    low, high = body.get("port_range_min"), body.get("port_range_max")
    _check_ports(protocol, low, high)
    prefix = _remote_prefix(body.get("remote_ip_prefix"), ethertype)
    if prefix and body.get("remote_group_id"):
        raise errors.BadRequest("Only remote_ip_prefix or remote_group_id may be provided.")
    if body.get("remote_address_group_id") and (prefix or body.get("remote_group_id")):
        raise errors.SecurityGroupMultipleRemoteEntites()
    return {
        "security_group_id": body["security_group_id"],
        "direction": body["direction"],
        "ethertype": ethertype,
        "protocol": protocol,
        "port_range_min": low,
        "port_range_max": high,
        "remote_ip_prefix": prefix,
        "remote_group_id": body.get("remote_group_id"),
    }


def _protocol(value: Any) -> str | None:
    if value is None or value in ("", "any"):
        return None
    text = str(value).lower()
    if text in protocols.NUMBERS:
        return text
    if text.isascii() and text.isdigit() and 0 <= int(text) <= 255:
        return str(int(text))
    raise errors.BadRequest(f"Security group rule protocol {value} not supported. Only "
                            "protocol values and integer representations [0 to 255] are "
                            "supported.")


def _canonical_for(ethertype: str, protocol: str | None) -> str | None:
    """As Neutron stores it: with IPv6, ICMP by the legacy names is ipv6-icmp, and by
    number 1 is 58; other names and numbers stay as given."""
    if ethertype != "IPv6":
        return protocol
    if protocol in protocols.IPV6_ICMP_LEGACY:
        return "ipv6-icmp"
    return "58" if protocol == "1" else protocol


def _check_ports(protocol: str | None, low: int | None, high: int | None) -> None:
    if low is None and high is None:
        return
    if protocol is None:
        raise errors.BadRequest("Must also specify protocol if port range is given.")
    proto = protocols.number(protocol)
    if proto in protocols.ICMP:
        _check_icmp(low, high)
    elif proto in protocols.WITH_PORTS:
        for port in (low, high):
            if port is not None and not 1 <= port <= 65535:
                raise errors.BadRequest(f"Invalid value for port {port}.")
        if low is None or high is None or low > high:
            raise errors.BadRequest("For TCP/UDP protocols, port_range_min must be <= "
                                    "port_range_max")
    else:
        raise errors.BadRequest(f"Protocol {protocol} does not support port ranges.")


def _check_icmp(icmp_type: int | None, code: int | None) -> None:
    for name, value in (("type", icmp_type), ("code", code)):
        if value is not None and not 0 <= value <= 255:
            raise errors.BadRequest(f"Invalid value for ICMP {name} {value}.")
    if icmp_type is None and code is not None:
        raise errors.BadRequest(f"ICMP code (port-range-max) {code} is provided but ICMP type "
                                "(port-range-min) is missing.")


def _remote_prefix(prefix: str | None, ethertype: str) -> str | None:
    if not prefix:
        return None
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        raise errors.BadRequest(f"'{prefix}' is not a valid IP prefix") from None
    if (net.version == 4) != (ethertype == "IPv4"):
        raise errors.BadRequest(f"Conflicting value ethertype {ethertype} for CIDR {prefix}")
    return prefix if "/" in prefix else f"{prefix}/{net.max_prefixlen}"


def find_duplicate(rules: Iterable[SecurityGroupRule],
                   values: dict[str, Any]) -> SecurityGroupRule | None:
    wanted = _identity(values)
    return next((r for r in rules if _identity({k: getattr(r, k) for k in MATCHED}) == wanted),
                None)


def _identity(values: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two rules the same to Neutron: protocol by number (ICMP by family), and
    a prefix by its network, with 0.0.0.0/0 and ::/0 the same as none."""
    canonical = dict(values)
    proto = protocols.number(values.get("protocol"))
    if proto in protocols.ICMP:
        proto = 58 if values.get("ethertype") == "IPv6" else 1
    canonical["protocol"] = proto
    prefix = values.get("remote_ip_prefix")
    network = ipaddress.ip_network(prefix, strict=False) if prefix else None
    canonical["remote_ip_prefix"] = str(network) if network and network.prefixlen else None
    return tuple(canonical.get(k) for k in MATCHED)

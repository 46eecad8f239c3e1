"""Internal DNS names as Neutron's dns-integration defines them: pure rules, no I/O.

- `dns_name` (ports) and `dns_domain` (networks, ports) are lower-cased, then checked as
  neutron-lib's `dns_host_name` / `dns_domain` validators check them: labels of 1-63
  letters, digits and hyphens, no hyphen at either end, no all-numeric top label, at most
  255 characters; a domain is an FQDN (a trailing dot) that leaves room for a label. A
  domain label may also be one of the keywords `<project_id>`, `<project_name>`,
  `<user_id>`, `<user_name>` (dns-integration-domain-keywords).
- The global domain (Neutron's `dns_domain` option) decides whether a port's `dns_name`
  is used at all: with the default `openstacklocal.` it is stored and shown but every
  address gets a `host-<address>` name; otherwise a relative name is completed with the
  domain, and an FQDN must end with it.
- `dns_assignment`: one {hostname, ip_address, fqdn} per fixed IP.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_DOMAIN = "openstacklocal."
FQDN_MAX = 255
KEYWORDS = ("project_id", "project_name", "user_id", "user_name")
_LABEL = re.compile(r"^[a-z0-9-]{1,63}$")
_KEYWORD_LABELS = frozenset(f"<{k}>" for k in KEYWORDS)
_NUMERIC = re.compile(r"^[0-9]+$")


class InvalidDnsName(ValueError):
    """The value is no valid DNS name or domain (the message says why)."""


def normalise(value: str) -> str:
    """Neutron's convert_string_to_case_insensitive."""
    return value.lower()


def check_format(value: str, keywords: bool = False) -> None:
    if not value:
        return
    trimmed = value[:-1] if value.endswith(".") else value
    try:
        _check_labels(trimmed, keywords)
    except InvalidDnsName as e:
        raise InvalidDnsName(f"'{value}' not a valid PQDN or FQDN. Reason: {e}") from None


def _check_labels(trimmed: str, keywords: bool) -> None:
    if len(trimmed) > FQDN_MAX:
        raise InvalidDnsName(f"'{trimmed}' exceeds the {FQDN_MAX} character FQDN limit")
    labels = trimmed.split(".")
    for label in labels:
        if not label:
            raise InvalidDnsName("Encountered an empty component")
        if keywords and label in _KEYWORD_LABELS:
            continue
        if label.startswith("-") or label.endswith("-"):
            raise InvalidDnsName(f"Name '{label}' must not start or end with a hyphen")
        if not _LABEL.match(label):
            raise InvalidDnsName(f"Name '{label}' must be 1-63 characters long, each of "
                                 "which can only be alphanumeric or a hyphen")
    if len(labels) > 1 and _NUMERIC.match(labels[-1]):
        raise InvalidDnsName(f"TLD '{labels[-1]}' must not be all numeric")


def check_dns_name(dns_name: str, global_domain: str) -> None:
    """neutron-lib's validate_dns_name: the format, then (unless the domain is the
    default) the length of the completed name, or an FQDN's ending."""
    check_format(dns_name)
    domain = fqdn_domain(global_domain)
    if not dns_name or not domain or domain == DEFAULT_DOMAIN:
        return
    higher = f".{domain}"
    if not dns_name.endswith("."):
        if len(dns_name) + len(higher) > FQDN_MAX:
            raise InvalidDnsName(
                f"The dns_name passed is a PQDN and its size is '{len(dns_name)}'. The "
                f"dns_domain option is set to {domain}, with a length of '{len(higher)}'. "
                "When the two are concatenated to form a FQDN (with a '.' at the end), the "
                f"resulting length exceeds the maximum size of '{FQDN_MAX}'")
        return
    if len(dns_name) <= len(higher) or not dns_name.endswith(higher):
        raise InvalidDnsName(
            "The dns_name passed is a FQDN. Its higher level labels must be equal to the "
            f"dns_domain option, that has been set to '{domain}'. It must also include one "
            f"or more valid DNS labels to the left of '{domain}'")


def check_dns_domain(value: str) -> None:
    """neutron-lib's validate_dns_domain (keyword labels allowed)."""
    if not value:
        return
    if not value.endswith("."):
        raise InvalidDnsName(f"'{value}' is not a FQDN")
    check_format(value, keywords=True)
    if len(value) > FQDN_MAX - 2:
        raise InvalidDnsName(f"'{value}' contains {len(value)} characters. Adding a "
                             "sub-domain will cause it to exceed the maximum length of a "
                             f"FQDN of '{FQDN_MAX}'")


def fqdn_domain(domain: str) -> str:
    """The configured domain with its trailing dot ('' stays '')."""
    if not domain or domain.endswith("."):
        return domain
    return f"{domain}."


def substitute_keywords(domain: str, values: Mapping[str, str | None]) -> str:
    """dns_domain_keywords: each `<keyword>` with a value in the request's context is
    replaced; one without a value stays as written (as Neutron does)."""
    for keyword in KEYWORDS:
        value = values.get(keyword)
        if value is not None:
            domain = domain.replace(f"<{keyword}>", value)
    return domain


@dataclass(frozen=True)
class Assignment:
    hostname: str
    ip_address: str
    fqdn: str

    def as_dict(self) -> dict[str, str]:
        return {"hostname": self.hostname, "ip_address": self.ip_address, "fqdn": self.fqdn}


def assignment(ips: Iterable[str], dns_name: str, global_domain: str) -> list[Assignment]:
    """Neutron's dns_assignment: the requested name (completed with the domain) for every
    address, else `host-<address with dashes>` (plus the domain) per address."""
    return [Assignment(**entry) for entry in assignment_of(
        [("", ip) for ip in ips], dns_name, naming(global_domain))]


@dataclass(frozen=True)
class Naming:
    """What naming a port's addresses needs of the global domain, worked out once (for a
    page of ports rather than for each port)."""

    domain: str  # the global domain as an FQDN ('' for none)
    takes_dns_name: bool  # a domain other than the default: addresses take the dns_name


def naming(global_domain: str) -> Naming:
    domain = fqdn_domain(global_domain)
    return Naming(domain, bool(domain) and domain != DEFAULT_DOMAIN)


def assignment_of(fixed_ips: Iterable[tuple[str, str]], dns_name: str,
                  names: Naming) -> list[dict[str, str]]:
    """`assignment` as the API shows it (a port's `dns_assignment`), of a port's (subnet
    id, address) pairs."""
    name = dns_name if dns_name and names.takes_dns_name else ""
    domain = names.domain
    result = []
    for _, ip in fixed_ips:
        hostname = name or "host-" + ip.replace(".", "-").replace(":", "-")
        fqdn = hostname if hostname.endswith(".") or not domain else f"{hostname}.{domain}"
        result.append({"hostname": hostname, "ip_address": ip, "fqdn": fqdn})
    return result


def reverse_name(ip: str) -> str:
    """`5.0.0.10.in-addr.arpa` (or the ip6.arpa nibbles), without the final dot."""
    return ipaddress.ip_address(ip).reverse_pointer

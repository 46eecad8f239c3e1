"""Which Neutron extra DHCP option names OVN can serve, and under which OVN option name.

The names are ML2/OVN's (neutron/common/ovn/constants.py, synced from OVN's lib/ovn-l7.h):
a Neutron port may name an option by its dnsmasq-style name or by its DHCP code. Names not
listed here are options OVN's DHCP server does not know; ML2/OVN logs and skips them.
"""

from __future__ import annotations

from collections.abc import Mapping

# (OVN option name, DHCP code or None, Neutron names): one line per OVN option.
_V4: tuple[tuple[str, int | None, tuple[str, ...]], ...] = (
    ("netmask", 1, ("netmask",)),
    ("router", 3, ("router",)),
    ("dns_server", 6, ("dns-server",)),
    ("log_server", 7, ("log-server",)),
    ("lpr_server", 9, ("lpr-server",)),
    ("domain_name", 15, ("domain-name",)),
    ("swap_server", 16, ("swap-server",)),
    ("ip_forward_enable", 19, ("ip-forward-enable",)),
    ("policy_filter", 21, ("policy-filter",)),
    ("default_ttl", 23, ("default-ttl",)),
    ("mtu", 26, ("mtu",)),
    ("router_discovery", 31, ("router-discovery",)),
    ("router_solicitation", 32, ("router-solicitation",)),
    ("arp_cache_timeout", 35, ("arp-timeout",)),
    ("ethernet_encap", 36, ("ethernet-encap",)),
    ("tcp_ttl", 37, ("tcp-ttl",)),
    ("tcp_keepalive_interval", 38, ("tcp-keepalive",)),
    ("nis_server", 41, ("nis-server",)),
    ("ntp_server", 42, ("ntp-server",)),
    ("lease_time", 51, ("lease-time",)),
    ("server_id", 54, ("server-id",)),
    ("T1", 58, ("T1",)),
    ("T2", 59, ("T2",)),
    ("tftp_server", 66, ("tftp-server",)),
    ("bootfile_name", 67, ("bootfile-name",)),
    ("domain_search_list", 119, ("domain-search",)),
    ("classless_static_route", 121, ("classless-static-route",)),
    ("tftp_server_address", 150, ("tftp-server-address",)),
    ("path_prefix", 210, ("path-prefix",)),
    ("ms_classless_static_route", 249, ("ms-classless-static-route",)),
    ("wpad", 252, ("wpad",)),
    ("next_server", 255, ("server-ip-address",)),
    ("bootfile_name_alt", None, ("bootfile-name-alt",)),
)
_V6: tuple[tuple[str, int | None, tuple[str, ...]], ...] = (
    ("server_id", 2, ("server-id",)),
    ("ia_addr", 5, ("ia-addr",)),
    ("dns_server", 23, ("dns-server",)),
    ("domain_search", 24, ("domain-search",)),
    ("bootfile_name", 59, ("bootfile-name",)),
)
# Baremetal ports also accept dnsmasq tags that choose the boot file for iPXE or not.
_BAREMETAL = {
    4: {"tag:ipxe,bootfile-name": "bootfile_name", "tag:ipxe,67": "bootfile_name",
        "tag:!ipxe,bootfile-name": "bootfile_name_alt", "tag:!ipxe,67": "bootfile_name_alt"},
    6: {"tag:ipxe6,bootfile-name": "bootfile_name", "tag:ipxe6,59": "bootfile_name",
        "tag:!ipxe6,bootfile-name": "bootfile_name_alt", "tag:!ipxe6,59": "bootfile_name_alt"},
}

# OVN option types whose values must be quoted strings, and those that are sets ({...}).
STRING_OPTIONS = frozenset({"domain_name", "domain_search_list", "bootfile_name",
                            "bootfile_name_alt", "path_prefix", "wpad", "tftp_server"})
SET_OPTIONS = frozenset({"classless_static_route"})

# The special option that turns OVN's DHCP off for the port (per IP version).
DHCP_DISABLED = "dhcp_disabled"


def _names(table: tuple[tuple[str, int | None, tuple[str, ...]], ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for ovn_name, code, aliases in table:
        names.update({alias: ovn_name for alias in aliases})
        if code is not None:
            names[str(code)] = ovn_name
    return names


SUPPORTED: Mapping[int, Mapping[str, str]] = {4: _names(_V4), 6: _names(_V6)}
SUPPORTED_BAREMETAL: Mapping[int, Mapping[str, str]] = {
    version: {**SUPPORTED[version], **_BAREMETAL[version]} for version in (4, 6)}


def ovn_option_names(ip_version: int, baremetal: bool) -> Mapping[str, str]:
    """Neutron option name → OVN option name, for one IP version."""
    return (SUPPORTED_BAREMETAL if baremetal else SUPPORTED)[ip_version]

"""A port's DHCP in OVN: its subnet's DHCP_Options row, or a row of its own (extra_dhcp_opts).

As ML2/OVN does it, per IP version:
- the port's DHCP subnet is the first DHCP-serving subnet among its addresses of that version;
- `dhcp_disabled=true` for that version leaves the switch port's dhcpvN_options empty;
- options OVN supports (`dhcp_option_names`) are renamed to OVN's names, string options
  quoted and set options braced; the others are skipped;
- with none left, the port shares its subnet's row; otherwise it gets a row of its own: the
  subnet's cidr and options, overridden and extended by the port's (a set option such as
  classless_static_route keeps the subnet's entries and adds the port's), and the subnet's
  external_ids plus `port_id`.

neutrino adds its identity key ("<port id> <ip version>") to the row, so that the port, which
owns it, finds it again and removes it when it is no longer wanted; the row's revision is the
port's, the resource that writes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, RowKey
from neutrino.ovn.translate import dhcp_option_names as names
from neutrino.ovn.translate.inputs import DhcpOpt, PortFacts, SubnetFacts, TranslateConfig
from neutrino.ovn.translate.subnets import dhcp_columns, dhcp_key, dhcp_options

COLUMNS = {4: "dhcpv4_options", 6: "dhcpv6_options"}


@dataclass(frozen=True)
class PortDhcp:
    """What the switch port's DHCP columns point at, and the port's own rows among them."""

    refs: dict[str, RowKey | None] = field(
        default_factory=lambda: dict.fromkeys(COLUMNS.values()))
    rows: tuple[DesiredRow, ...] = ()


def port_dhcp_key(port_id: str, ip_version: int) -> RowKey:
    return RowKey(n.DHCP, "external_ids", n.port_dhcp_key(port_id, ip_version),
                  map_key=n.PORT_DHCP_KEY)


def port_dhcp_keys(port_id: str) -> tuple[RowKey, ...]:
    """Both rows a port may own, wanted or not (a removed option takes its row away)."""
    return tuple(port_dhcp_key(port_id, version) for version in COLUMNS)


def build_port_dhcp(facts: PortFacts, config: TranslateConfig) -> PortDhcp:
    refs: dict[str, RowKey | None] = {}
    rows: list[DesiredRow] = []
    for version, column in COLUMNS.items():
        refs[column], own = _for_version(facts, config, version)
        rows.extend(own)
    return PortDhcp(refs, tuple(rows))


def _for_version(facts: PortFacts, config: TranslateConfig, version: int
                 ) -> tuple[RowKey | None, tuple[DesiredRow, ...]]:
    subnet_id = next((ip.subnet_id for ip in facts.fixed_ips
                      if ip.ip_version == version and ip.dhcp), None)
    if subnet_id is None:
        return None, ()
    disabled, extra = lsp_dhcp_options(facts.extra_dhcp_opts, version,
                                       baremetal=facts.vnic_type == "baremetal")
    if disabled:
        return None, ()
    if not extra:
        return dhcp_key(subnet_id), ()
    subnet = next(s for s in facts.dhcp_subnets if s.id == subnet_id)
    row = _own_row(facts, subnet, config, extra, version)
    return row.key, (row,)


def lsp_dhcp_options(opts: Iterable[DhcpOpt], version: int, baremetal: bool = False
                     ) -> tuple[bool, dict[str, str]]:
    """(DHCP disabled?, the options OVN can serve under OVN's names) for one IP version."""
    supported = names.ovn_option_names(version, baremetal)
    mapped: dict[str, str] = {}
    for opt in opts:
        if opt.ip_version != version:
            continue
        if opt.name == names.DHCP_DISABLED and opt.value.lower() == "true":
            return True, {}
        if opt.name in supported:
            ovn_name = supported[opt.name]
            mapped[ovn_name] = _ovn_value(ovn_name, opt.value)
    return False, mapped


def _ovn_value(ovn_name: str, value: str) -> str:
    if ovn_name in names.STRING_OPTIONS and not (value.startswith('"') and value.endswith('"')):
        return f'"{value}"'
    if ovn_name in names.SET_OPTIONS and not (value.startswith("{") and value.endswith("}")):
        return "{" + value + "}"
    return value


def _own_row(facts: PortFacts, subnet: SubnetFacts, config: TranslateConfig,
             extra: dict[str, str], version: int) -> DesiredRow:
    options = dict(dhcp_options(subnet, config) or {})
    for name, value in extra.items():
        options[name] = _merged_set(options.get(name), value) if name in names.SET_OPTIONS \
            else value
    key = port_dhcp_key(facts.id, version)
    own_ids = {n.DHCP_PORT_ID: facts.id, n.PORT_DHCP_KEY: key.value,
               n.REVISION: str(facts.revision)}
    return DesiredRow(key, dhcp_columns(subnet, options, own_ids))


def _merged_set(subnet_value: str | None, port_value: str) -> str:
    """The subnet's entries, then the port's: `{a, b}` and `{c}` make `{a, b, c}`."""
    parts = [v[1:-1].strip() for v in (subnet_value, port_value) if v]
    return "{" + ", ".join(p for p in parts if p) + "}"

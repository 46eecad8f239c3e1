"""network → Logical_Switch `neutron-<id>`, plus a `localnet` port for flat/vlan networks
and the network's `DNS` row (its ports' names, ovn/translate/dns.py)."""

from __future__ import annotations

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.dns import build_dns_row, dns_key, dns_membership
from neutrino.ovn.translate.inputs import NetworkFacts, TranslateConfig

RESOURCE = "network"
PROVIDER_TYPES = ("flat", "vlan")


def switch_key(network_id: str) -> RowKey:
    return RowKey(n.LS, "name", n.switch_name(network_id))


DEFAULT_CONFIG = TranslateConfig()


def build_network(facts: NetworkFacts, config: TranslateConfig = DEFAULT_CONFIG) -> DesiredState:
    rows = [_switch(facts)]
    if facts.network_type in PROVIDER_TYPES:
        rows.append(_localnet_port(facts))
    dns = build_dns_row(facts.id, facts.dns_ports, config.dns_domain)
    members = (dns_membership(facts.id, switch_key(facts.id)),) if dns else ()
    return DesiredState(RESOURCE, facts.id, (*rows, *((dns,) if dns else ())),
                        (switch_key(facts.id), dns_key(facts.id)),
                        members=members, member_rows=(dns_key(facts.id),))


def build_network_absent(network_id: str) -> DesiredState:
    """A deleted network: removing the switch takes its ports with it; its DNS row (a root
    row) goes explicitly."""
    return DesiredState(RESOURCE, network_id, (), (switch_key(network_id), dns_key(network_id)))


def _switch(facts: NetworkFacts) -> DesiredRow:
    external_ids = {
        n.NETWORK_NAME: facts.name,
        n.MTU: str(facts.mtu),
        n.REVISION: str(facts.revision),
        n.AZ_HINTS: ",".join(facts.az_hints),
        n.PROVNET_TYPE: facts.network_type,
    }
    if facts.physical_network:
        external_ids[n.PROVNET_PHYSNET] = facts.physical_network
    other_config = {
        "mcast_snoop": "false",
        "mcast_flood_unregistered": "false",
        "vlan-passthru": "false",
    }
    columns = {"external_ids": external_ids, "other_config": other_config}
    return DesiredRow(switch_key(facts.id), columns)


def _localnet_port(facts: NetworkFacts) -> DesiredRow:
    columns = {
        "type": "localnet",
        "addresses": ["unknown"],
        "options": {
            "network_name": facts.physical_network or "",
            "mcast_flood": "false",
            "mcast_flood_reports": "true",
            "localnet_learn_fdb": "false",
        },
        "tag": facts.segmentation_id if facts.network_type == "vlan" else None,
        "external_ids": {n.PROVNET_PHYSNET: facts.physical_network or ""},
    }
    key = RowKey(n.LSP, "name", n.localnet_port_name(facts.segment_id))
    return DesiredRow(key, columns, parent=ParentLink(switch_key(facts.id), "ports"))

"""Address groups → two Address_Sets each, `ag_<id>_ip4` and `ag_<id>_ip6`, as ML2/OVN names
them; a rule naming the group as its remote matches `$ag_<id>_ip4` (or `_ip6`)."""

from __future__ import annotations

import ipaddress

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, RowKey
from neutrino.ovn.translate.inputs import AddressGroupFacts

RESOURCE = "address_group"
FAMILIES = (("ip4", 4), ("ip6", 6))


def address_set_key(address_group_id: str, family: str) -> RowKey:
    return RowKey(n.ADDRESS_SET, "name", n.address_set_name(address_group_id, family))


def _keys(address_group_id: str) -> tuple[RowKey, ...]:
    return tuple(address_set_key(address_group_id, family) for family, _ in FAMILIES)


def build_address_group(facts: AddressGroupFacts) -> DesiredState:
    """Both sets always exist (an empty one matches nothing), so a rule's match never
    names a set OVN does not have."""
    rows = []
    for family, version in FAMILIES:
        addresses = sorted(a for a in facts.addresses
                           if ipaddress.ip_network(a).version == version)
        columns = {"addresses": addresses,
                   "external_ids": {n.AG_ID: facts.id, n.REVISION: str(facts.revision)}}
        rows.append(DesiredRow(address_set_key(facts.id, family), columns))
    return DesiredState(RESOURCE, facts.id, tuple(rows), _keys(facts.id))


def build_address_group_absent(address_group_id: str) -> DesiredState:
    return DesiredState(RESOURCE, address_group_id, (), _keys(address_group_id))

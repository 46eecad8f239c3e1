"""The metadata port of a network, as ML2/OVN makes it for `neutron-ovn-metadata-agent`.

With metadata on (`NEUTRINO_OVN_METADATA=true`, ML2/OVN's `ovn_metadata_enabled`), a
network with DHCP-enabled IPv4 subnets has one port of its own: device_owner
`network:distributed`, device_id `ovnmeta-<network id>`, one fixed IP from each of those
subnets, realised as a `localport` switch port (ovn/translate/ports.py). The agent on each
chassis answers 169.254.169.254 behind that address, and each subnet's DHCP tells VMs the
route there (option 121, ovn/translate/subnets.py). The port follows the subnets: made with
the first, readdressed as they come and go or toggle DHCP, removed with the last. It is
charged to no quota, as in Neutron.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import IpAllocation, Network, Port, Subnet
from neutrino.journal.parents import merged, port_parents, subnet_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import ipam as port_ipam
from neutrino.services.common import bump_revision
from neutrino.services.context import Context
from neutrino.services.ports import create_port, delete_port, internal_port_body
from neutrino.settings import Settings

OWNER = "network:distributed"
DEVICE_PREFIX = "ovnmeta-"


def device_id(network_id: str) -> str:
    return f"{DEVICE_PREFIX}{network_id}"


def find_port(session: Session, network_id: str) -> Port | None:
    return session.scalars(select(Port).where(
        Port.network_id == network_id, Port.device_owner == OWNER,
        Port.device_id == device_id(network_id)).limit(1)).first()


def served_subnets(session: Session, net: Network, leaving: str | None) -> list[Subnet]:
    """The subnets the metadata port has an address on: DHCP-enabled IPv4 ones."""
    subnets = session.scalars(select(Subnet).where(Subnet.network_id == net.id)
                              .order_by(Subnet.created_at, Subnet.id))
    return [s for s in subnets if s.ip_version == 4 and s.enable_dhcp and s.id != leaving]


def sync_port(session: Session, net: Network, settings: Settings,
              leaving: str | None = None) -> None:
    """Make the network's metadata port match its subnets (`leaving`: a subnet about to be
    deleted); the subnets whose metadata address changed get their DHCP options rewritten."""
    if not settings.metadata_enabled:
        return
    session.flush()
    session.expire(net, ["subnets"])
    wanted = served_subnets(session, net, leaving)
    port = find_port(session, net.id)
    before = _addresses(port)
    if not wanted:
        if port is not None:
            delete_port(session, port)
    elif port is None:
        port = _create(session, net, wanted, settings)
    else:
        _readdress(session, net, port, wanted)
    _rewrite_dhcp(session, before, _addresses(port) if wanted else {}, leaving)


def remove_port(session: Session, net: Network) -> None:
    """The network is going: its metadata port goes first (whatever the setting says)."""
    port = find_port(session, net.id)
    if port is not None:
        delete_port(session, port)
        session.flush()


def _create(session: Session, net: Network, wanted: list[Subnet], settings: Settings) -> Port:
    body = internal_port_body(net.id, OWNER, device_id(net.id),
                              [{"subnet_id": s.id} for s in wanted], net.project_id)
    return create_port(session, Context(project_id=net.project_id), body, settings,
                       charged=False)


def _readdress(session: Session, net: Network, port: Port, wanted: list[Subnet]) -> None:
    current = {a.subnet_id: a.ip_address for a in port.fixed_ips}
    if list(current) == [s.id for s in wanted]:
        return
    old_parents = port_parents(port)
    requested = [{"subnet_id": s.id, **({"ip_address": current[s.id]} if s.id in current
                                        else {})} for s in wanted]
    chosen = port_ipam.allocate_requested(net, session, port.mac_address, requested, OWNER,
                                          keep=port.fixed_ips)
    port.fixed_ips.clear()
    session.flush()
    for position, (subnet, address) in enumerate(chosen):
        port.fixed_ips.append(IpAllocation(subnet_id=subnet.id, ip_address=address,
                                           network_id=net.id, position=position))
    session.flush()
    bump_revision(session, port, ResourceType.PORT, merged(old_parents, port_parents(port)))


def _addresses(port: Port | None) -> dict[str, str]:
    return {} if port is None else {a.subnet_id: a.ip_address for a in port.fixed_ips}


def _rewrite_dhcp(session: Session, before: dict[str, str], after: dict[str, str],
                  leaving: str | None) -> None:
    """A subnet's DHCP_Options name its metadata address: journal the subnets it changed on."""
    for subnet_id in sorted(set(before) | set(after)):
        if subnet_id == leaving or before.get(subnet_id) == after.get(subnet_id):
            continue
        subnet = session.get(Subnet, subnet_id)
        if subnet is not None:
            record_entry(session, ResourceType.SUBNET, subnet.id, Operation.UPDATE,
                         subnet_parents(subnet))

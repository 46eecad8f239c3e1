"""MACs learnt on the VTEP switches, published in OVN by neutrino.

OVN 23.03's ovn-controller-vtep tells a VTEP switch the MACs of OVN's ports
(Ucast_Macs_Remote) but not the other way round: what the switch learnt (Ucast_Macs_Local)
never reaches SB. So maintenance reads each configured VTEP database's Ucast_Macs_Local for
the VTEP logical switches behind neutrino's `vtep` switch ports (an L2 gateway connection's,
a binding-profile port's), keeps them in `vtep_learned_macs`, and journals an update of each
port whose set changed: the translation lists them in the port's `addresses` beside
`unknown`, ovn-northd copies them to the Port_Binding's `mac` and forwards them to the port
directly. Sync compares and repairs them like any other column.

The job runs every few seconds but only reads SQL when a VTEP database changed (its IDL's
change sequence number moved), and in full every `full_every` seconds, which also picks up
a port or connection that newly stands for a logical switch with MACs learnt before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import Database
from neutrino.db.models import Port, VtepLearnedMac
from neutrino.journal.parents import parents_of
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceRef, ResourceType
from neutrino.ovn import naming as n
from neutrino.ovn.reachability import reachable
from neutrino.ovn.translate.ports import VTEP_KEYS, vtep_switch_of
from neutrino.ovn.vtep_client import VtepClient
from neutrino.reconcile.l2gw_facts import VtepSwitch, load_all_connections

LOG = logging.getLogger(__name__)


class LearnedMacImporter:
    """`import_learned_macs` when a VTEP database changed, or in full now and then."""

    def __init__(self, db: Database, vtep: Mapping[str, VtepClient], cap: int,
                 full_every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.vtep, self.cap = db, vtep, cap
        self.full_every, self.clock = full_every, clock
        self._seen: dict[str, int | None] | None = None
        self._last_full = float("-inf")

    def __call__(self) -> int:
        seen = {switch: client.change_seqno for switch, client in self.vtep.items()}
        now = self.clock()
        full = now - self._last_full >= self.full_every
        if not full and seen == self._seen:
            return 0
        journaled = import_learned_macs(self.db, self.vtep, self.cap)
        self._seen = seen  # read before the import: a change during it is read next time
        if full:
            self._last_full = now
        return journaled


def import_learned_macs(db: Database, vtep: Mapping[str, VtepClient], cap: int) -> int:
    """Bring `vtep_learned_macs` up to each reachable VTEP database; returns how many
    switch ports were journaled. A database that does not answer keeps what was learnt."""
    with db.read() as session:
        users = vtep_port_users(session)
    journaled = 0
    for switch, client in sorted(vtep.items()):
        if not (client.connected or reachable(client.remote)):
            continue
        wanted = frozenset(ls for ps, ls in users if ps == switch)
        try:
            taken = client.learned_macs(wanted, cap)
        except errors.BackendUnavailable as exc:
            LOG.debug("VTEP %s: learnt MACs not read: %s", switch, exc)
            continue
        for ls in taken.over_cap:
            LOG.warning("VTEP %s: logical switch %s learnt more than %d MACs; only the "
                        "first %d are published in OVN", switch, ls, cap, cap)
        with db.session() as session:
            changed = store_learned(session, switch, taken.macs)
            refs = sorted({ref for ls in changed for ref in users.get((switch, ls), ())})
            for ref in refs:
                record_entry(session, ref.type, ref.id, Operation.UPDATE,
                             parents_of(session, ref))
        journaled += len(refs)
    return journaled


def vtep_port_users(session: Session) -> dict[VtepSwitch, list[ResourceRef]]:
    """(physical switch, VTEP logical switch) → the resources whose `vtep` ports stand for
    it: L2 gateway connections, and ports bound to a VTEP by their binding profile."""
    users: dict[VtepSwitch, list[ResourceRef]] = {}
    for conn in load_all_connections(session):
        for switch in conn.switches:
            users.setdefault((switch, n.vtep_switch_name(conn.network_id)), []).append(
                ResourceRef(ResourceType.L2_GATEWAY_CONNECTION, conn.id))
    bound = session.execute(select(Port.id, Port.binding_profile).where(
        Port.binding_profile[VTEP_KEYS[0]].as_string().is_not(None)))
    for port_id, profile in bound:
        named = vtep_switch_of(profile or {})
        if named is not None:
            users.setdefault(named, []).append(ResourceRef(ResourceType.PORT, port_id))
    return users


def store_learned(session: Session, switch: str,
                  learned: Mapping[str, tuple[str, ...]]) -> set[str]:
    """Make the stored MACs of `switch` equal `learned`; returns the logical switches whose
    set changed (those no longer learnt, or no longer wanted, included)."""
    stored: dict[str, set[str]] = {}
    for row in session.scalars(select(VtepLearnedMac).where(
            VtepLearnedMac.physical_switch == switch)):
        stored.setdefault(row.logical_switch, set()).add(row.mac)
    changed = set()
    for ls in set(stored) | set(learned):
        have, want = stored.get(ls, set()), set(learned.get(ls, ()))
        if have == want:
            continue
        changed.add(ls)
        gone = have - want
        if gone:
            session.execute(delete(VtepLearnedMac).where(
                VtepLearnedMac.physical_switch == switch, VtepLearnedMac.logical_switch == ls,
                VtepLearnedMac.mac.in_(gone)))
        session.add_all(VtepLearnedMac(physical_switch=switch, logical_switch=ls, mac=mac)
                        for mac in sorted(want - have))
    return changed

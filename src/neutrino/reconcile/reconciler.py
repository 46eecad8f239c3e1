"""Fetch → translate → plan → apply, for any resource, in batches."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import Database
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.reachability import reachable
from neutrino.ovn.rows import DesiredState, Plan
from neutrino.ovn.translate import address_groups as ags
from neutrino.ovn.translate import floating_ips as fips
from neutrino.ovn.translate import l2gw, routers, sfc
from neutrino.ovn.translate import security_groups as sg
from neutrino.ovn.translate.inputs import TranslateConfig
from neutrino.ovn.translate.networks import build_network, build_network_absent
from neutrino.ovn.translate.ports import build_port, build_port_absent
from neutrino.ovn.translate.subnets import build_subnet, build_subnet_absent
from neutrino.ovn.vtep_client import VtepClient, VtepUnavailable
from neutrino.reconcile import facts, l2gw_facts, sfc_facts

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Translator:
    """How one resource type is loaded (in bulk) and translated, present or absent."""

    load: Callable[[Session, Sequence[str]], Mapping[str, Any]]
    present: Callable[[Any, TranslateConfig], DesiredState]
    absent: Callable[[str], DesiredState]


TRANSLATORS: dict[ResourceType, _Translator] = {
    ResourceType.NETWORK: _Translator(
        facts.load_networks, build_network, build_network_absent),
    ResourceType.SUBNET: _Translator(facts.load_subnets, build_subnet, build_subnet_absent),
    ResourceType.PORT: _Translator(
        facts.load_ports, build_port, build_port_absent),
    ResourceType.SECURITY_GROUP: _Translator(
        facts.load_security_groups, lambda f, _c: sg.build_security_group(f),
        sg.build_security_group_absent),
    ResourceType.SECURITY_GROUP_RULE: _Translator(
        facts.load_rules, lambda f, _c: sg.build_rule(f), sg.build_rule_absent),
    ResourceType.ROUTER: _Translator(
        facts.load_routers, routers.build_router, routers.build_router_absent),
    ResourceType.FLOATING_IP: _Translator(
        facts.load_floating_ips, fips.build_floating_ip,
        fips.build_floating_ip_absent),
    ResourceType.ADDRESS_GROUP: _Translator(
        facts.load_address_groups, lambda f, _c: ags.build_address_group(f),
        ags.build_address_group_absent),
    ResourceType.PORT_CHAIN: _Translator(
        sfc_facts.load_port_chains, lambda f, _c: _port_chain(f),
        sfc.build_port_chain_absent),
    ResourceType.L2_GATEWAY_CONNECTION: _Translator(
        l2gw_facts.load_connections, lambda f, _c: l2gw.build_connection(f),
        l2gw.build_connection_absent),
    ResourceType.L2_GATEWAY: _Translator(
        lambda _s, _ids: {}, lambda _f, _c: l2gw.build_gateway(""), l2gw.build_gateway),
    # pairs, groups and classifiers have no rows of their own (their chain carries them)
    **{rtype: _Translator(lambda _s, _ids: {}, lambda f, _c: f,
                          functools.partial(sfc.build_nothing, rtype.value))
       for rtype in (ResourceType.PORT_PAIR, ResourceType.PORT_PAIR_GROUP,
                     ResourceType.FLOW_CLASSIFIER)},
}


def _port_chain(found: sfc.ChainFacts) -> DesiredState:
    """What this OVN cannot steer is said in the log each time the chain is applied."""
    problems = sfc.chain_problems(found)
    if problems:
        LOG.warning("port chain %s (revision %s) is not fully steered: %s", found.id,
                    found.revision, "; ".join(problems))
    return sfc.build_port_chain(found)


# Entries whose VTEP rows wait when a VTEP database is down; a network's entry only
# triggers a VTEP pass (a deleted network takes its connections with it) and never waits.
VTEP_OWNERS = (ResourceType.L2_GATEWAY_CONNECTION, ResourceType.L2_GATEWAY)
VTEP_TRIGGERS = (*VTEP_OWNERS, ResourceType.NETWORK)


class Reconciler:
    def __init__(self, db: Database, nb: NorthboundClient, config: TranslateConfig,
                 vtep: Mapping[str, VtepClient] | None = None) -> None:
        self.db = db
        self.nb = nb
        self.config = config
        self.vtep = dict(vtep or {})  # physical switch → its VTEP database

    def desired(self, refs: Sequence[ResourceRef],
                session: Session | None = None) -> list[DesiredState]:
        """The current database state of `refs`, translated (absent resources included):
        read in a transaction of its own, or in `session`'s (the journal's claim)."""
        loaded: dict[ResourceType, Mapping[str, Any]] = {}
        with contextlib.nullcontext(session) if session is not None else self.db.read() as s:
            for rtype in {ref.type for ref in refs}:
                ids = [ref.id for ref in refs if ref.type == rtype]
                loaded[rtype] = TRANSLATORS[rtype].load(s, ids)
        return [self._translate(ref, loaded[ref.type].get(ref.id)) for ref in refs]

    def _translate(self, ref: ResourceRef, found: Any) -> DesiredState:
        translator = TRANSLATORS[ref.type]
        if found is None:
            return translator.absent(ref.id)
        return translator.present(found, self.config)

    def apply(self, refs: Sequence[ResourceRef],
              states: Sequence[DesiredState] | None = None) -> list[Plan]:
        """Make NB match the database for `refs`, in one OVSDB transaction, then the VTEP
        databases when a ref concerns them. `states`: `desired(refs)`, read already."""
        plans = self.nb.apply(self.desired(refs) if states is None else states)
        if self.vtep and any(ref.type in VTEP_TRIGGERS for ref in refs):
            self._apply_vtep_for(refs)
        return plans

    def _apply_vtep_for(self, refs: Sequence[ResourceRef]) -> None:
        """A connection waits (in the journal) for the VTEP databases of its devices; what
        a down database misses otherwise is written by the next pass or by sync."""
        _plans, down = self._each_vtep(apply=True)
        if not down:
            return
        needed = self._switches_of(refs)
        waiting = [ref for ref in refs if ref.type in VTEP_OWNERS
                   and needed.get(ref.id, frozenset()) & set(down)]
        message = _unavailable(down)
        if waiting:
            raise VtepUnavailable(message, waiting)
        LOG.warning("%s (its rows are written by the next pass or by sync)", message)

    def _switches_of(self, refs: Sequence[ResourceRef]) -> dict[str, frozenset[str]]:
        ids = [ref.id for ref in refs if ref.type == ResourceType.L2_GATEWAY_CONNECTION]
        with self.db.read() as session:
            found = l2gw_facts.load_connections(session, ids)
        return {cid: frozenset(f.switches) for cid, f in found.items()}

    def vtep_desired(self) -> dict[str, l2gw.VtepDesired]:
        with self.db.read() as session:
            connections = l2gw_facts.load_all_connections(session)
        return l2gw.build_vtep_desired(connections, self.vtep)

    def apply_vtep(self) -> list[l2gw.VtepPlan]:
        """Make every configured VTEP database hold what all connections want (level
        triggered: each pass writes the whole of neutrino's rows there). Every reachable
        database is written; an unreachable one raises VtepUnavailable afterwards."""
        plans, down = self._each_vtep(apply=True)
        if down:
            raise VtepUnavailable(_unavailable(down))
        return plans

    def write_reachable_vtep(self) -> tuple[list[l2gw.VtepPlan], list[str]]:
        """Write every reachable VTEP database; returns the plans and what was down."""
        plans, down = self._each_vtep(apply=True)
        return plans, [f"{switch}: {why}" for switch, why in down.items()]

    def plan_vtep(self) -> tuple[list[l2gw.VtepPlan], list[str]]:
        """The plan of every reachable VTEP database, and what could not be asked."""
        plans, down = self._each_vtep(apply=False)
        return plans, [f"{switch}: {why}" for switch, why in down.items()]

    def _each_vtep(self, apply: bool) -> tuple[list[l2gw.VtepPlan], dict[str, str]]:
        """Every VTEP database planned (and written), and switch → why it could not be."""
        plans, down = [], {}
        for switch, wanted in self.vtep_desired().items():
            client = self.vtep[switch]
            if not (client.connected or reachable(client.remote)):
                down[switch] = f"{client.remote} does not answer"  # never wait on it
                continue
            try:
                plans.append(client.apply(wanted) if apply else client.plan(wanted))
            except errors.BackendUnavailable as exc:
                down[switch] = str(exc)
        return plans, down

    def global_differences(self) -> dict[str, tuple[str | None, str]]:
        """NB_Global keys neutrino sets that differ: key → (what NB holds, what is wanted);
        nothing while NB_Global does not exist yet."""
        have = self.nb.global_external_ids()
        if have is None:
            return {}
        return {key: (have.get(key), value)
                for key, value in fips.global_external_ids(self.config).items()
                if have.get(key) != value}

    def apply_global(self) -> bool:
        """Write the NB_Global keys neutrino sets; False while there is no NB_Global."""
        return self.nb.set_global_external_ids(fips.global_external_ids(self.config))

    def plan(self, refs: Sequence[ResourceRef]) -> list[Plan]:
        return self.nb.plan(self.desired(refs))


def _unavailable(down: Mapping[str, str]) -> str:
    return "VTEP database unavailable: " + "; ".join(f"{s}: {why}" for s, why in down.items())

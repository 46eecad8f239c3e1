"""Fetch → translate → plan → apply, for any resource, in batches."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.engine import Database
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.rows import DesiredState, Plan
from neutrino.ovn.translate import address_groups as ags
from neutrino.ovn.translate import floating_ips as fips
from neutrino.ovn.translate import routers, sfc
from neutrino.ovn.translate import security_groups as sg
from neutrino.ovn.translate.inputs import TranslateConfig
from neutrino.ovn.translate.networks import build_network, build_network_absent
from neutrino.ovn.translate.ports import build_port, build_port_absent
from neutrino.ovn.translate.subnets import build_subnet, build_subnet_absent
from neutrino.reconcile import facts, sfc_facts

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
        facts.load_floating_ips, lambda f, _c: fips.build_floating_ip(f),
        fips.build_floating_ip_absent),
    ResourceType.ADDRESS_GROUP: _Translator(
        facts.load_address_groups, lambda f, _c: ags.build_address_group(f),
        ags.build_address_group_absent),
    ResourceType.PORT_CHAIN: _Translator(
        sfc_facts.load_port_chains, lambda f, _c: _port_chain(f),
        sfc.build_port_chain_absent),
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


class Reconciler:
    def __init__(self, db: Database, nb: NorthboundClient, config: TranslateConfig) -> None:
        self.db = db
        self.nb = nb
        self.config = config

    def desired(self, refs: Sequence[ResourceRef]) -> list[DesiredState]:
        """The current database state of `refs`, translated (absent resources included)."""
        loaded: dict[ResourceType, Mapping[str, Any]] = {}
        with self.db.read() as session:
            for rtype in {ref.type for ref in refs}:
                ids = [ref.id for ref in refs if ref.type == rtype]
                loaded[rtype] = TRANSLATORS[rtype].load(session, ids)
        return [self._translate(ref, loaded[ref.type].get(ref.id)) for ref in refs]

    def _translate(self, ref: ResourceRef, found: Any) -> DesiredState:
        translator = TRANSLATORS[ref.type]
        if found is None:
            return translator.absent(ref.id)
        return translator.present(found, self.config)

    def apply(self, refs: Sequence[ResourceRef]) -> list[Plan]:
        """Make NB match the database for `refs`, in one OVSDB transaction."""
        return self.nb.apply(self.desired(refs))

    def plan(self, refs: Sequence[ResourceRef]) -> list[Plan]:
        return self.nb.plan(self.desired(refs))

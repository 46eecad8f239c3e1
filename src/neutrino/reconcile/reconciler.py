"""Fetch → translate → plan → apply, for any resource, in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from neutrino.db.engine import Database
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.rows import DesiredState, Plan
from neutrino.ovn.translate.inputs import TranslateConfig
from neutrino.ovn.translate.networks import build_network, build_network_absent
from neutrino.ovn.translate.ports import build_port, build_port_absent
from neutrino.ovn.translate.subnets import build_subnet, build_subnet_absent
from neutrino.reconcile import facts


@dataclass(frozen=True)
class _Translator:
    present: Callable[[Session, str, TranslateConfig], DesiredState | None]
    absent: Callable[[str], DesiredState]


def _network(session: Session, rid: str, _config: TranslateConfig) -> DesiredState | None:
    loaded = facts.load_network(session, rid)
    return build_network(loaded) if loaded else None


def _subnet(session: Session, rid: str, config: TranslateConfig) -> DesiredState | None:
    loaded = facts.load_subnet(session, rid)
    return build_subnet(loaded, config) if loaded else None


def _port(session: Session, rid: str, _config: TranslateConfig) -> DesiredState | None:
    loaded = facts.load_port(session, rid)
    return build_port(loaded) if loaded else None


TRANSLATORS: dict[ResourceType, _Translator] = {
    ResourceType.NETWORK: _Translator(_network, build_network_absent),
    ResourceType.SUBNET: _Translator(_subnet, build_subnet_absent),
    ResourceType.PORT: _Translator(_port, build_port_absent),
}


class Reconciler:
    def __init__(self, db: Database, nb: NorthboundClient, config: TranslateConfig) -> None:
        self.db = db
        self.nb = nb
        self.config = config

    def desired(self, refs: Sequence[ResourceRef]) -> list[DesiredState]:
        """The current database state of `refs`, translated (absent resources included)."""
        with self.db.read() as session:
            return [self._desired_one(session, ref) for ref in refs]

    def _desired_one(self, session: Session, ref: ResourceRef) -> DesiredState:
        translator = TRANSLATORS[ref.type]
        return translator.present(session, ref.id, self.config) or translator.absent(ref.id)

    def apply(self, refs: Sequence[ResourceRef]) -> list[Plan]:
        """Make NB match the database for `refs`, in one OVSDB transaction."""
        return self.nb.apply(self.desired(refs))

    def plan(self, refs: Sequence[ResourceRef]) -> list[Plan]:
        return self.nb.plan(self.desired(refs))

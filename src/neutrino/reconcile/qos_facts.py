"""Which QoS policy applies to each port, and its rules, as translation facts.

A port is under its own `qos_policy_id`, else its network's, except Neutron's own ports
(`network:*` owners: router interfaces and gateways, DHCP, metadata), which a network's
policy does not reach (as in Neutron).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import Network, Port, QosBandwidthLimitRule, QosDscpMarkingRule, QosPolicy
from neutrino.ovn.translate.inputs import BandwidthLimit, QosFacts
from neutrino.reconcile.bulk import ids_param, rows_for

NETWORK_OWNED = "network:"
ROUTER_GATEWAY = "network:router_gateway"  # its policy is its router's (qos-gateway-ip)

NETWORK_POLICIES = select(Network.id, Network.qos_policy_id).where(
    Network.id.in_(ids_param()), Network.qos_policy_id.is_not(None))
# A policy with its rules: a row per bandwidth limit (at most one DSCP mark per policy).
POLICY_RULES = (
    select(QosPolicy.id, QosBandwidthLimitRule.direction, QosBandwidthLimitRule.max_kbps,
           QosBandwidthLimitRule.max_burst_kbps, QosDscpMarkingRule.dscp_mark)
    .outerjoin(QosBandwidthLimitRule, QosBandwidthLimitRule.qos_policy_id == QosPolicy.id)
    .outerjoin(QosDscpMarkingRule, QosDscpMarkingRule.qos_policy_id == QosPolicy.id)
    .where(QosPolicy.id.in_(ids_param()))
    .order_by(QosPolicy.id, QosBandwidthLimitRule.id))


def effective_policy_id(port: Port, network_policy: str | None) -> str | None:
    if port.qos_policy_id:
        return port.qos_policy_id
    if port.device_owner.startswith(NETWORK_OWNED):
        return None
    return network_policy


def load_port_qos(session: Session, ports: Iterable[Any],
                  network_policies: Mapping[str, str] | None = None) -> dict[str, QosFacts]:
    """port id → the QoS facts of the policy it is under (ports under none are absent).

    A caller that read the ports' networks' policies (`network_policies`: network id → its
    policy, for those of these networks that have one) saves the statement finding them.
    """
    ports = list(ports)
    if network_policies is None:
        network_policies = dict(rows_for(session, NETWORK_POLICIES,
                                         sorted({p.network_id for p in ports})))
    wanted = {p.id: effective_policy_id(p, network_policies.get(p.network_id)) for p in ports}
    policies = load_policies(session, {v for v in wanted.values() if v})
    gateways = {p.id: p.device_id for p in ports if p.device_owner == ROUTER_GATEWAY}
    return {port_id: replace(policies[pid], router_id=gateways.get(port_id))
            for port_id, pid in wanted.items() if pid in policies}


def load_policies(session: Session, ids: Iterable[str]) -> dict[str, QosFacts]:
    """policy id → its facts, for the policies of these ids that exist."""
    limits: dict[str, list[BandwidthLimit]] = {}
    marks: dict[str, int | None] = {}
    for policy_id, direction, max_kbps, max_burst_kbps, dscp_mark in rows_for(
            session, POLICY_RULES, sorted(ids)):
        found = limits.setdefault(policy_id, [])
        marks[policy_id] = dscp_mark
        if direction is not None:
            found.append(BandwidthLimit(direction, max_kbps, max_burst_kbps))
    return {pid: QosFacts(policy_id=pid, bandwidth_limits=tuple(found), dscp_mark=marks[pid])
            for pid, found in limits.items()}

"""Which QoS policy applies to each port, and its rules, as translation facts.

A port is under its own `qos_policy_id`, else its network's, except Neutron's own ports
(`network:*` owners: router interfaces and gateways, DHCP, metadata), which a network's
policy does not reach (as in Neutron).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import Network, Port, QosPolicy
from neutrino.ovn.translate.inputs import BandwidthLimit, QosFacts

CHUNK = 500
NETWORK_OWNED = "network:"
ROUTER_GATEWAY = "network:router_gateway"  # its policy is its router's (qos-gateway-ip)


def effective_policy_id(port: Port, network_policy: str | None) -> str | None:
    if port.qos_policy_id:
        return port.qos_policy_id
    if port.device_owner.startswith(NETWORK_OWNED):
        return None
    return network_policy


def load_port_qos(session: Session, ports: Iterable[Port]) -> dict[str, QosFacts]:
    """port id → the QoS facts of the policy it is under (ports under none are absent)."""
    ports = list(ports)
    network_policy = _network_policies(session, {p.network_id for p in ports})
    wanted = {p.id: effective_policy_id(p, network_policy.get(p.network_id)) for p in ports}
    policies = {pid: policy_facts(pol) for pid, pol in
                _policies(session, {v for v in wanted.values() if v}).items()}
    gateways = {p.id: p.device_id for p in ports if p.device_owner == ROUTER_GATEWAY}
    return {port_id: replace(policies[pid], router_id=gateways.get(port_id))
            for port_id, pid in wanted.items() if pid in policies}


def policy_facts(policy: QosPolicy) -> QosFacts:
    return QosFacts(
        policy_id=policy.id,
        bandwidth_limits=tuple(BandwidthLimit(r.direction, r.max_kbps, r.max_burst_kbps)
                               for r in policy.bandwidth_limit_rules),
        dscp_mark=next((r.dscp_mark for r in policy.dscp_marking_rules), None))


def _network_policies(session: Session, ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        rows = session.execute(select(Network.id, Network.qos_policy_id).where(
            Network.id.in_(ordered[start:start + CHUNK]), Network.qos_policy_id.is_not(None)))
        found.update({net_id: pid for net_id, pid in rows})
    return found


def _policies(session: Session, ids: set[str]) -> dict[str, QosPolicy]:
    ordered = sorted(ids)
    found: dict[str, QosPolicy] = {}
    for start in range(0, len(ordered), CHUNK):
        found.update({p.id: p for p in session.scalars(select(QosPolicy).where(
            QosPolicy.id.in_(ordered[start:start + CHUNK])))})
    return found

"""A port's QoS policy → OVN `QoS` rows in its network's switch, as ML2/OVN writes them.

One row per direction that has something to do, priority 2002:
- egress (traffic the port sends): `from-lport`, `inport == "<port id>"`, the egress
  bandwidth limit as `bandwidth={rate, burst}` and the DSCP mark as `action={dscp}`;
- ingress (traffic the port receives): `to-lport`, `outport == "<port id>"`, the ingress
  bandwidth limit (DSCP marking is egress only, as in Neutron).
`external_ids` carry ML2/OVN's `neutron:port_id` (and `neutron:router_id` for a router
gateway), plus neutrino's identity key ("<port id> <direction>") by which the port, which
owns both rows, finds them again and removes those no longer wanted. OVN turns `bandwidth`
into meters itself; neutrino writes no Meter rows (nor does ML2/OVN for port QoS).
"""

from __future__ import annotations

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, ParentLink, RowKey
from neutrino.ovn.translate.inputs import QosFacts
from neutrino.ovn.translate.networks import switch_key

PRIORITY = 2002
DIRECTIONS = {"egress": ("from-lport", "inport"), "ingress": ("to-lport", "outport")}


def qos_key(port_id: str, ovn_direction: str) -> RowKey:
    return RowKey(n.QOS, "external_ids", f"{port_id} {ovn_direction}", map_key=n.QOS_KEY)


def qos_keys(port_id: str) -> tuple[RowKey, ...]:
    """Both rows a port may own, wanted or not (a removed rule takes its row away)."""
    return tuple(qos_key(port_id, ovn) for ovn, _ in DIRECTIONS.values())


def build_port_qos(port_id: str, network_id: str, qos: QosFacts | None
                   ) -> tuple[DesiredRow, ...]:
    if qos is None:
        return ()
    rows = []
    for direction, (ovn_direction, side) in DIRECTIONS.items():
        bandwidth = _bandwidth(qos, direction)
        action = {"dscp": qos.dscp_mark} if direction == "egress" and \
            qos.dscp_mark is not None else {}
        if not bandwidth and not action:
            continue
        columns = {"priority": PRIORITY, "direction": ovn_direction,
                   "match": f'{side} == "{port_id}"', "bandwidth": bandwidth,
                   "action": action, "external_ids": _external_ids(port_id, ovn_direction, qos)}
        rows.append(DesiredRow(qos_key(port_id, ovn_direction), columns,
                               parent=ParentLink(switch_key(network_id), "qos_rules")))
    return tuple(rows)


def _bandwidth(qos: QosFacts, direction: str) -> dict[str, int]:
    for limit in qos.bandwidth_limits:
        if limit.direction == direction:
            found = {"rate": limit.max_kbps}
            if limit.max_burst_kbps:
                found["burst"] = limit.max_burst_kbps
            return found
    return {}


def _external_ids(port_id: str, ovn_direction: str, qos: QosFacts) -> dict[str, str]:
    ids = {n.QOS_PORT_ID: port_id, n.QOS_KEY: f"{port_id} {ovn_direction}"}
    if qos.router_id:
        ids[n.ROUTER_ID] = qos.router_id
    return ids


def owner_port(ext: dict[str, str]) -> str | None:
    """The port a QoS row belongs to, when the row is ours (identity key names that port)."""
    port_id = ext.get(n.QOS_PORT_ID)
    if port_id and ext.get(n.QOS_KEY, "").split(" ", 1)[0] == port_id:
        return port_id
    return None

"""The journal loads a port's facts from prebuilt statements as plain rows (issue 15): they
must be what translation gets from the ORM objects, for every kind of port the facts tell
apart (a trunk's subport, a floating IP's port, QoS from the port, its network or nowhere,
a router gateway, a migrating port, a VTEP-bound port, a port without addresses), in a
fixed number of statements for a batch of them all, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from neutrino.api.attributes import NETWORK, PORT, SUBNET, parse_create
from neutrino.bootstrap import Neutrino, build
from neutrino.db.engine import statements_run
from neutrino.db.models import (
    FloatingIp,
    InactiveBinding,
    IpAllocation,
    Network,
    Port,
    PortSecurityGroup,
    QosBandwidthLimitRule,
    QosDscpMarkingRule,
    QosPolicy,
    Subnet,
    Trunk,
    TrunkSubport,
    VtepLearnedMac,
)
from neutrino.ovn.translate.inputs import BandwidthLimit, QosFacts
from neutrino.reconcile import facts
from neutrino.services.context import Context
from neutrino.settings import load_settings

CTX = Context(project_id="facts", is_admin=True)
NOW = datetime.datetime(2026, 1, 1)
FULL, DSCP, EMPTY, NET_POLICY = "pol-full", "pol-dscp", "pol-empty", "pol-net"


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Neutrino]:
    """Built, never started: loading facts needs no OVN."""
    settings = {"NEUTRINO_STATE_DIR": str(tmp_path),
                "NEUTRINO_OVN_NB": f"unix:{tmp_path}/nb.sock",
                "NEUTRINO_OVN_SB": f"unix:{tmp_path}/sb.sock", "NEUTRINO_STARTUP_SYNC": "off",
                "NEUTRINO_OVN_METADATA": "true", "NEUTRINO_QUOTA_PORT": "-1"}
    if request.param == "postgresql":
        settings["NEUTRINO_DB_URL"] = request.getfixturevalue("pg_url")
    neutrino = build(load_settings(settings))
    try:
        yield neutrino
    finally:
        neutrino.db.engine.dispose()


def _network(app: Neutrino, name: str, cidr: str) -> str:
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": name})])[0]["id"]
    app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net, "ip_version": 4, "cidr": cidr})])
    return net


def _ports(app: Neutrino, network_id: str, count: int) -> list[str]:
    return [p["id"] for p in app.ports.create(
        CTX, [parse_create(PORT, {"network_id": network_id}) for _ in range(count)])]


def _policy(s: Session, policy_id: str, limits: tuple[tuple[str, str, int, int], ...] = (),
            dscp: int | None = None) -> None:
    s.add(QosPolicy(id=policy_id, project_id="facts", created_at=NOW, updated_at=NOW))
    s.flush()
    for rule_id, direction, kbps, burst in limits:
        s.add(QosBandwidthLimitRule(id=rule_id, qos_policy_id=policy_id, direction=direction,
                                    max_kbps=kbps, max_burst_kbps=burst))
    if dscp is not None:
        s.add(QosDscpMarkingRule(id=f"{policy_id}-dscp", qos_policy_id=policy_id,
                                 dscp_mark=dscp))


def _set(s: Session, port_id: str, **values: Any) -> None:
    s.execute(update(Port).where(Port.id == port_id).values(**values))


def _every_kind(app: Neutrino) -> dict[str, str]:
    """Ports of every kind, by name: the rows beyond what the API makes written directly."""
    plain_net = _network(app, "plain", "10.1.0.0/24")
    qos_net = _network(app, "qos", "10.2.0.0/24")
    (plain, own_qos, dscp_qos, empty_qos, gone_qos, parent, sub1, sub2, with_fip,
     vtep, bare) = _ports(app, plain_net, 11)
    on_qos_net, dhcp, gateway, migrating = _ports(app, qos_net, 4)
    (fip_port,) = _ports(app, _network(app, "ext", "172.24.4.0/24"), 1)
    with app.db.session() as s:
        _policy(s, FULL, (("r2", "ingress", 2000, 0), ("r1", "egress", 1000, 100)), 26)
        _policy(s, DSCP, dscp=10)
        _policy(s, EMPTY)
        _policy(s, NET_POLICY, (("r3", "ingress", 5, 1),))
        s.execute(update(Network).where(Network.id == qos_net).values(qos_policy_id=NET_POLICY))
        _set(s, own_qos, qos_policy_id=FULL)
        _set(s, dscp_qos, qos_policy_id=DSCP)
        _set(s, empty_qos, qos_policy_id=EMPTY)
        _set(s, gone_qos, qos_policy_id="no-such-policy")
        _set(s, dhcp, device_owner="network:dhcp")
        _set(s, gateway, device_owner="network:router_gateway", device_id="router-1",
             qos_policy_id=DSCP)
        _set(s, migrating, device_owner="compute:nova", binding_host_id="h1",
             binding_profile={"migrating_to": "h3"})
        s.add_all([InactiveBinding(port_id=migrating, host="h2"),
                   InactiveBinding(port_id=migrating, host="h0", previously_active=True)])
        s.add(Trunk(id="trunk-1", port_id=parent, project_id="facts", created_at=NOW,
                    updated_at=NOW))
        s.flush()
        s.add_all([TrunkSubport(port_id=sub1, trunk_id="trunk-1", segmentation_type="vlan",
                                segmentation_id=101),
                   TrunkSubport(port_id=sub2, trunk_id="trunk-1", segmentation_type="vlan",
                                segmentation_id=102)])
        s.add(FloatingIp(id=str(uuid.uuid4()), project_id="facts", created_at=NOW,
                         updated_at=NOW, floating_network_id=plain_net,
                         floating_port_id=fip_port, floating_ip_address="172.24.4.10",
                         port_id=with_fip, fixed_ip_address="10.1.0.77"))
        _set(s, vtep, binding_profile={"vtep-physical-switch": "ps1",
                                       "vtep-logical-switch": "ls1"})
        s.add_all([VtepLearnedMac(physical_switch="ps1", logical_switch="ls1", mac=mac)
                   for mac in ("00:00:00:00:00:02", "00:00:00:00:00:01")])
        s.execute(delete(IpAllocation).where(IpAllocation.port_id == bare))
        s.execute(delete(PortSecurityGroup).where(PortSecurityGroup.port_id == bare))
    return {name: value for name, value in locals().items()
            if isinstance(value, str) and name not in ("plain_net", "qos_net", "fip_port")}


def _from_orm(app: Neutrino, port_id: str) -> Any:
    """What `port_facts` makes of the ORM objects (sync and the old loader's way)."""
    with app.db.read() as s:
        port = s.get(Port, port_id)
        assert port is not None
        subnets = {a.subnet_id: s.get(Subnet, a.subnet_id) for a in port.fixed_ips}
        fip = s.scalar(select(FloatingIp.floating_ip_address).where(
            FloatingIp.port_id == port_id))
        metadata = facts._metadata_ips(s, list(subnets))
        return facts.port_facts(port, subnets, fip, metadata)


def test_every_kind_of_port_loads_the_facts_the_orm_objects_give(app: Neutrino):
    ports = _every_kind(app)
    with app.db.read() as s:
        loaded = facts.load_ports(s, [*ports.values(), "no-such-port"])
    assert set(loaded) == set(ports.values())
    for name, port_id in ports.items():
        assert loaded[port_id].fixed_ips or name == "bare"
        assert replace(loaded[port_id], qos=None, vtep_learned=()) == \
            _from_orm(app, port_id), name
    got = {name: loaded[port_id] for name, port_id in ports.items()}
    assert got["plain"].dhcp_subnets[0].metadata_ip is not None
    assert (got["sub1"].trunk_parent, got["sub1"].trunk_tag) == (ports["parent"], 101)
    assert (got["sub2"].trunk_parent, got["sub2"].trunk_tag) == (ports["parent"], 102)
    assert got["parent"].trunk_parent is None
    assert got["with_fip"].floating_ip == "172.24.4.10"
    assert got["plain"].floating_ip is None
    assert got["migrating"].migrating_to == ("h2", "h3")
    assert got["vtep"].vtep_learned == ("00:00:00:00:00:01", "00:00:00:00:00:02")
    assert got["own_qos"].qos == QosFacts(FULL, (
        BandwidthLimit("egress", 1000, 100), BandwidthLimit("ingress", 2000, 0)), 26)
    assert got["dscp_qos"].qos == QosFacts(DSCP, (), 10)
    assert got["empty_qos"].qos == QosFacts(EMPTY, (), None)
    assert got["on_qos_net"].qos == QosFacts(NET_POLICY, (BandwidthLimit("ingress", 5, 1),))
    assert got["gateway"].qos == QosFacts(DSCP, (), 10, router_id="router-1")
    for name in ("plain", "gone_qos", "dhcp", "bare"):
        assert got[name].qos is None, name


def test_a_batch_of_every_kind_of_port_costs_the_statements_of_one_of_each(app: Neutrino):
    ports = _every_kind(app)
    one_of_each = [ports[name] for name in ("sub1", "own_qos", "vtep", "migrating")]
    with statements_run(app.db.engine) as few, app.db.read() as s:
        facts.load_ports(s, one_of_each)
    with statements_run(app.db.engine) as many, app.db.read() as s:
        batch = facts.load_ports(s, list(ports.values()))
    with app.db.read() as s:
        assert batch == {p: facts.load_ports(s, [p])[p] for p in ports.values()}
    selects = [[q for q in seen if q.startswith("SELECT")] for seen in (few, many)]
    # the ports, addresses, groups; the trunks' parents, the inactive bindings, the
    # policies, the MACs
    assert len(selects[1]) == len(selects[0]) == 7, selects  # 16 before (ORM objects, more asks)


def test_a_batch_makes_each_subnets_facts_once(app: Neutrino, monkeypatch):
    """A batch's ports share few subnets: each subnet's facts (and its prefix length) are
    made once for the batch, not once a port (a drain's 200 ports on a subnet made them
    200 times)."""
    net = _network(app, "shared", "10.31.0.0/24")
    ports = _ports(app, net, 12)
    made = []
    original = facts.subnet_facts
    monkeypatch.setattr(facts, "subnet_facts",
                        lambda *args: made.append(args[0].id) or original(*args))
    with app.db.read() as s:
        found = facts.load_ports(s, ports)
    assert len(found) == 12 and len(made) == 1
    assert len({id(f.fixed_ips[0]) for f in found.values()}) == 12  # each its own address
    assert all(f.fixed_ips[0].prefixlen == 24 for f in found.values())


def test_a_ports_facts_run_prepared_on_the_drivers_cursor(app: Neutrino):
    """Every statement of a port's facts runs compiled once on the driver's cursor
    (reconcile.prepared), for every kind of port: SQLAlchemy's execution of a prebuilt
    statement (its cache key hashed, an execution context and a result built) cost ~100 µs
    a statement, most of a one-port batch's facts. The statements are still heard (counted
    above), and the facts are those the ORM objects give (the first test). A VTEP-bound
    port's imported MACs (rare) are read by an ORM query still."""
    ports = {name: port for name, port in _every_kind(app).items() if name != "vtep"}
    executed: list[Any] = []

    def note(_conn, element, *_args) -> None:  # type: ignore[no-untyped-def]
        if isinstance(element, ClauseElement):
            executed.append(element)

    event.listen(app.db.engine, "before_execute", note)
    try:
        with statements_run(app.db.engine) as seen, app.db.read() as s:
            facts.load_ports(s, list(ports.values()))
    finally:
        event.remove(app.db.engine, "before_execute", note)
    # the ports, addresses, groups, the trunks' parents, the inactive bindings, the policies
    assert len([q for q in seen if q.startswith("SELECT")]) == 6, seen
    assert executed == [], [str(e)[:60] for e in executed]

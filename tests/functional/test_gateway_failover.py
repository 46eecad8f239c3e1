"""Gateway failover in gateway-router mode, against a real OVN (chassis registered by hand).

A gateway router is pinned to one chassis (options:chassis) and nothing in OVN moves it: when
its chassis leaves SB, or its ovn-controller stops acknowledging neutrino's nb_cfg probes,
neutrino must. A chassis deletion wakes the scheduling job at once (an SB IDL event), all
affected routers are moved in one database transaction, and the journal writes them to NB
together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from nb_state import wait_journal_idle
from ovn_tools import delivered_to, sbctl, trace, wait_sb_synced
from ovsdbapp.backend.ovs_idl import connection, idlutils
from starlette.testclient import TestClient
from test_agents_api import acknowledge
from test_agents_api import add_chassis as add_chassis_with_private
from test_router_traffic import (
    NEXT_HOP_MAC,
    Api,
    _from_vm,
    _ip4,
    _minimal,
    _teach_next_hop,
    add_chassis,
)
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn.client import NorthboundClient, SouthboundClient
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

ROUTERS = 50
GATEWAYS = ("gw1", "gw2", "gw3")
DOWN_TIME = 3  # seconds without an acknowledged probe before a controller counts as dead
FAILOVER_BOUND = 5.0  # seconds, loose: a loaded CI machine; bench/gateway_failover.py measures


@pytest.fixture()
def app(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": private_ovn.nb,
        "NEUTRINO_OVN_SB": private_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_AGENT_DOWN_TIME": str(DOWN_TIME), "NEUTRINO_AGENT_PROBE_SECONDS": "1",
        "NEUTRINO_QUOTA_ROUTER": "-1", "NEUTRINO_QUOTA_FLOATINGIP": "-1"}))
    neutrino.start()
    try:
        wait_for(lambda: neutrino.nb.connected and neutrino.sb.connected, 20, "OVN connections")
        yield neutrino
    finally:
        neutrino.stop()


@pytest.fixture()
def watcher(private_ovn: LocalOvn) -> Iterator[NorthboundClient]:
    """An NB connection of the test's own, to see what reached NB independently of the app."""
    client = NorthboundClient(private_ovn.nb)
    client.connect()
    try:
        wait_for(lambda: client.connected, 20, "watcher connection")
        yield client
    finally:
        client.close()


class _PinIdl(connection.OvsdbIdl):
    seen: Callable[[str, str | None], None]

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        if row._table.name == "Logical_Router" and event != "delete" and \
                (event == "create" or hasattr(updates, "options")):
            self.seen(row.name, row.options.get("chassis"))


class PinWatcher:
    """When each gateway router got its current options:chassis, as NB's updates arrive
    (an IDL of its own, its notify hook: no polling, no reads that would load the app)."""

    def __init__(self, nb: str) -> None:
        self.pins: dict[str, tuple[str | None, float]] = {}
        helper = idlutils.get_schema_helper(nb, "OVN_Northbound")
        helper.register_table("Logical_Router")
        idl = _PinIdl(nb, helper)
        idl.seen = self._seen
        self._conn = connection.Connection(idl, timeout=30)
        self._conn.start()

    def _seen(self, name: str, chassis: str | None) -> None:
        if name.startswith("neutron-gw-"):
            self.pins[name.removeprefix("neutron-gw-")] = (chassis, time.monotonic())

    def moved(self, routers: Sequence[str], to: set[str]) -> float | None:
        """The moment the last of `routers` was pinned to one of `to` (None: not all yet)."""
        found = [self.pins.get(rid, (None, 0.0)) for rid in routers]
        if not all(chassis in to for chassis, _ in found):
            return None
        return max(moment for _, moment in found)

    def close(self) -> None:
        self._conn.stop(timeout=5)


@pytest.fixture()
def pins(private_ovn: LocalOvn) -> Iterator[PinWatcher]:
    watcher = PinWatcher(private_ovn.nb)
    try:
        yield watcher
    finally:
        watcher.close()


def _only_events(app: Neutrino) -> None:
    """Stretch the periodic safety net to an hour: what moves now was moved by an event."""
    for job in app.maintenance.jobs:
        if job.name == "schedule_gateways":
            job.every = 3600


def _pinned(nb: NorthboundClient) -> dict[str, str | None]:
    """router id → the chassis its gateway router is pinned to in NB."""
    return {row["name"].removeprefix("neutron-gw-"): row["options"].get("chassis")
            for row in nb.read_rows("Logical_Router") if row["name"].startswith("neutron-gw-")}


def _placement(app: Neutrino) -> dict[str, str | None]:
    return {g["router_id"]: g["chassis"] for g in app.routers.list_gateways()}


def _traced_router(api: Api, ext: dict) -> dict:
    """A router with SNAT for a tenant network and a floating IP to a VM on it."""
    net = api.post("networks", {"name": "tenant"})
    subnet = api.post("subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": "10.0.1.0/24"})
    group = api.post("security-groups", {"name": "open"})
    api.post("security-group-rules", {"security_group_id": group["id"],
                                      "direction": "ingress", "ethertype": "IPv4"})
    router = api.post("routers", {"name": "traced", "external_gateway_info": {
        "network_id": ext["id"]}})
    api.put(f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    vm = api.post("ports", {"network_id": net["id"], "security_groups": [group["id"]],
                            "fixed_ips": [{"subnet_id": subnet["id"]}]})
    fip = api.post("floatingips", {"floating_network_id": ext["id"], "port_id": vm["id"]})
    return {"router": router, "net": net, "vm": vm, "fip": fip}


def _assert_floating_ip(ovn: LocalOvn, api: Api, ext: dict, traced: dict,
                        provnet: str) -> None:
    """An external host reaches the VM through its floating IP; the VM leaves from it."""
    router, vm, fip = traced["router"], traced["vm"], traced["fip"]
    gateway_port = api.port(device_owner="network:router_gateway", device_id=router["id"])
    router_mac = api.port(device_owner="network:router_interface",
                          device_id=router["id"])["mac_address"]
    out = trace(ovn, f"neutron-{traced['net']['id']}", _from_vm(vm, router_mac, "8.8.8.8"))
    assert delivered_to(out) == {provnet}
    assert f"ip4.src = {fip['floating_ip_address']};" in _minimal(out)
    assert f"eth.dst = {NEXT_HOP_MAC};" in _minimal(out)
    inbound = (f'inport == "{provnet}" && eth.src == {NEXT_HOP_MAC} && '
               f'eth.dst == {gateway_port["mac_address"]} && ip4.src == 8.8.8.8 && '
               f'ip4.dst == {fip["floating_ip_address"]} && ip.ttl == 64 && icmp4 && '
               'icmp4.type == 8 && icmp4.code == 0')
    arrived = trace(ovn, f"neutron-{ext['id']}", inbound)
    assert delivered_to(arrived) == {vm["id"]}
    assert f"ip4.dst = {_ip4(vm)};" in _minimal(arrived)


def _assert_snat(ovn: LocalOvn, api: Api, traced: dict, other_vm: dict,
                 provnet: str) -> None:
    """A VM without a floating IP leaves with the router's gateway address."""
    router = traced["router"]
    gateway_port = api.port(device_owner="network:router_gateway", device_id=router["id"])
    router_mac = api.port(device_owner="network:router_interface",
                          device_id=router["id"])["mac_address"]
    out = trace(ovn, f"neutron-{traced['net']['id']}", _from_vm(other_vm, router_mac, "8.8.8.8"))
    assert delivered_to(out) == {provnet}
    assert f"ct_snat(ip4.src={_ip4(gateway_port)})" in _minimal(out)
    assert f"eth.dst = {NEXT_HOP_MAC};" in _minimal(out)


def test_deleted_chassis_moves_its_gateway_routers_at_once(app, private_ovn, watcher, pins):
    api = Api(TestClient(app.app))
    for name in GATEWAYS:
        add_chassis(private_ovn, name)
    wait_for(lambda: {c.name for c in app.sb.chassis()} >= set(GATEWAYS), 10, "chassis in SB")
    ext = api.post("networks", {"name": "public", "router:external": True,
                                "provider:network_type": "flat",
                                "provider:physical_network": "public"})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.4.0/22"})
    traced = _traced_router(api, ext)
    other_vm = api.post("ports", {"network_id": traced["net"]["id"]})
    for i in range(ROUTERS - 1):
        api.post("routers", {"name": f"r{i}", "external_gateway_info": {
            "network_id": ext["id"]}})
    wait_journal_idle(app, timeout=60)
    before = _placement(app)
    victim = before[traced["router"]["id"]]
    assert victim is not None and sorted(set(before.values())) == sorted(GATEWAYS)
    affected = sorted(rid for rid, chassis in before.items() if chassis == victim)
    assert len(affected) >= ROUTERS // 3
    survivors = set(GATEWAYS) - {victim}
    _teach_next_hop(private_ovn, traced["router"]["id"],
                    api.port(device_owner="network:router_gateway",
                             device_id=traced["router"]["id"])["id"])
    _only_events(app)

    sb = SouthboundClient(private_ovn.sb)  # deletes as a CMS would, timed to its commit
    try:
        sb.connect()
        wait_for(lambda: sb.connected, 20, "SB connection")
        started = time.monotonic()
        assert sb.delete_chassis(victim)
        deleted = time.monotonic()
        wait_for(lambda: pins.moved(affected, survivors) is not None, 20,
                 "affected gateway routers re-pinned in NB")
    finally:
        sb.close()
    last = pins.moved(affected, survivors) - started
    print(f"\ngateway failover: {len(affected)} of {ROUTERS} gateway routers re-pinned in NB "
          f"{last:.3f}s after the chassis deletion was sent ({deleted - started:.3f}s to "
          "commit)")
    assert last < FAILOVER_BOUND

    wait_journal_idle(app)
    after = _placement(app)
    assert {rid: after[rid] for rid in before if rid not in affected} == \
        {rid: chassis for rid, chassis in before.items() if rid not in affected}  # stayed
    assert all(after[rid] in survivors for rid in affected)
    counts = [list(after.values()).count(name) for name in survivors]
    assert max(counts) - min(counts) <= 1, counts  # spread evenly over the survivors
    assert _pinned(watcher) == after
    wait_sb_synced(private_ovn)
    provnet = next(row["name"] for row in watcher.read_rows("Logical_Switch_Port")
                   if row["type"] == "localnet")
    _assert_floating_ip(private_ovn, api, ext, traced, provnet)
    _assert_snat(private_ovn, api, traced, other_vm, provnet)


def test_chassis_losing_gateway_option_moves_its_routers_at_once(app, private_ovn, watcher):
    api = Api(TestClient(app.app))
    for name in GATEWAYS[:2]:
        add_chassis(private_ovn, name)
    wait_for(lambda: {c.name for c in app.sb.chassis()} >= set(GATEWAYS[:2]), 10, "chassis")
    ext = api.post("networks", {"name": "public", "router:external": True})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.25.0.0/24"})
    for i in range(4):
        api.post("routers", {"name": f"r{i}", "external_gateway_info": {
            "network_id": ext["id"]}})
    wait_journal_idle(app)
    _only_events(app)
    sbctl(private_ovn, "set", "Chassis", "gw1", "other_config:ovn-cms-options=\"\"")
    wait_for(lambda: set(_pinned(watcher).values()) == {"gw2"}, FAILOVER_BOUND,
             "gateway routers off the chassis that stopped accepting gateways")


class Controllers:
    """ovn-controller's acknowledgement of probes, played by hand for the chosen chassis."""

    def __init__(self, ovn: LocalOvn, answering: set[str]) -> None:
        self.ovn, self.answering = ovn, set(answering)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Controllers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            for name in sorted(self.answering):
                acknowledge(self.ovn, name)


def test_gateway_routers_leave_a_chassis_whose_controller_stopped_answering(
        app, private_ovn, watcher):
    api = Api(TestClient(app.app))
    for i, name in enumerate(GATEWAYS[:2]):
        add_chassis_with_private(private_ovn, name, f"127.0.2.{i + 1}",
                                 cms="enable-chassis-as-gw")
    ext = api.post("networks", {"name": "public", "router:external": True})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.26.0.0/24"})
    with Controllers(private_ovn, {"gw1", "gw2"}) as controllers:
        wait_for(lambda: {c.name for c in app.sb.chassis()} >= {"gw1", "gw2"}, 10, "chassis")
        for i in range(4):
            api.post("routers", {"name": f"r{i}", "external_gateway_info": {
                "network_id": ext["id"]}})
        wait_journal_idle(app)
        assert sorted(_pinned(watcher).values()) == ["gw1", "gw1", "gw2", "gw2"]
        time.sleep(DOWN_TIME)  # both answered for longer than the down time: both alive
        assert sorted(_pinned(watcher).values()) == ["gw1", "gw1", "gw2", "gw2"]

        controllers.answering = {"gw2"}  # gw1's controller goes silent, its rows stay
        wait_for(lambda: set(_pinned(watcher).values()) == {"gw2"}, DOWN_TIME + 10,
                 "gateway routers off the silent chassis")
        assert {c.name for c in app.sb.chassis()} >= {"gw1", "gw2"}  # nothing left SB

        controllers.answering = {"gw1", "gw2"}  # back: nothing moves back (no flapping)
        time.sleep(DOWN_TIME)
        assert set(_pinned(watcher).values()) == {"gw2"}

        controllers.answering = set()  # every controller silent: no better place, all stay
        time.sleep(DOWN_TIME + 3)
        assert set(_pinned(watcher).values()) == {"gw2"}

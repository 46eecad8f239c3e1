"""`NEUTRINO_L3_MODE=distributed-gateway-port`: ML2/OVN's layout on a real ovsdb-server and
ovn-northd. NB rows (the gateway port on the distributed router, its HA_Chassis_Group by
priority, NAT on the distributed router, NB_Global's key), what northd makes of them in SB
(the `cr-lrp-*` chassisredirect port, the patch port whose nat_addresses name
is_chassis_resident), a chassis leaving, distributed floating IPs, and a change of mode on a
deployment with 50 routers repaired by sync, with ovn-trace before and after.

Chassis are SB records only (no ovn-controller): which chassis claims the chassisredirect
port is ovn-controller's decision, not neutrino's.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nb_state import one, rows, wait_journal_idle
from ovn_tools import delivered_to, nbctl, sbctl, trace, wait_sb_synced
from starlette.testclient import TestClient
from test_router_traffic import (
    NEXT_HOP_MAC,
    Api,
    _from_vm,
    _ip4,
    _minimal,
    _wait,
    add_chassis,
)

from neutrino.bootstrap import Neutrino, build
from neutrino.maintenance import jobs
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

GR, DGP = "gateway-router", "distributed-gateway-port"


@contextlib.contextmanager
def running(ovn: LocalOvn, state: Path, mode: str, **env: str) -> Iterator[Neutrino]:
    app = build(load_settings({"NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
                               "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_L3_MODE": mode,
                               "NEUTRINO_STARTUP_SYNC": "off", "NEUTRINO_QUOTA_ROUTER": "-1",
                               "NEUTRINO_QUOTA_FLOATINGIP": "-1", **env}))
    app.start()
    try:
        _wait(lambda: app.nb.connected and app.sb.connected)
        yield app
    finally:
        app.stop()


def external(api: Api, cidr: str = "172.24.4.0/24") -> dict:
    ext = api.post("networks", {"name": "public", "router:external": True,
                                "provider:network_type": "flat",
                                "provider:physical_network": "public"})
    api.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": cidr})
    return ext


def tenant(api: Api, ext: dict, number: int, group: dict) -> dict[str, Any]:
    """A router with a gateway, one interface, a VM port behind it and its floating IP."""
    net = api.post("networks", {"name": f"net{number}"})
    subnet = api.post("subnets", {"network_id": net["id"], "ip_version": 4,
                                  "cidr": f"10.{number // 250}.{number % 250}.0/24"})
    router = api.post("routers", {"name": f"r{number}", "external_gateway_info": {
        "network_id": ext["id"]}})
    api.put(f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    vm = api.post("ports", {"network_id": net["id"], "security_groups": [group["id"]]})
    fip = api.post("floatingips", {"floating_network_id": ext["id"], "port_id": vm["id"]})
    return {"net": net, "subnet": subnet, "router": router, "vm": vm, "fip": fip}


def open_group(api: Api) -> dict:
    group = api.post("security-groups", {"name": "open"})
    api.post("security-group-rules", {"security_group_id": group["id"],
                                      "direction": "ingress", "ethertype": "IPv4"})
    return group


def by_uuid(app: Neutrino, table: str) -> dict[str, dict]:
    return {row["_uuid"]: row for row in rows(app, table)}


def priorities(app: Neutrino, router_id: str) -> dict[str, int]:
    group = one(app, "HA_Chassis_Group", name=f"neutron-{router_id}")
    chassis = by_uuid(app, "HA_Chassis")
    return {chassis[u]["chassis_name"]: chassis[u]["priority"] for u in group["ha_chassis"]}


def test_gateway_port_ha_group_nat_and_what_northd_makes_of_them(private_ovn, tmp_path):
    for name in ("gw1", "gw2", "gw3"):
        add_chassis(private_ovn, name)
    with running(private_ovn, tmp_path, DGP) as app:
        api = Api(TestClient(app.app))
        _wait(lambda: {c.name for c in app.sb.chassis()} >= {"gw1", "gw2", "gw3"})
        ext = external(api)
        made = tenant(api, ext, 1, open_group(api))
        wait_journal_idle(app)
        rid, vm, fip = made["router"]["id"], made["vm"], made["fip"]
        gw = api.port(device_owner="network:router_gateway")

        # no gateway router, no transit switch: one router, the gateway port on it
        assert [r["name"] for r in rows(app, "Logical_Router")] == [f"neutron-{rid}"]
        assert not [s for s in rows(app, "Logical_Switch") if "transit" in s["name"]]
        router = one(app, "Logical_Router", name=f"neutron-{rid}")
        lrp = one(app, "Logical_Router_Port", name=f"lrp-{gw['id']}")
        assert lrp["_uuid"] in router["ports"]
        assert lrp["mac"] == gw["mac_address"] and lrp["networks"] == [f"{_ip4(gw)}/24"]
        assert lrp["options"] == {"reside-on-redirect-chassis": "true", "gateway_mtu": "1442"}
        assert lrp["gateway_chassis"] == []
        assert lrp["external_ids"] == {
            "neutron:is_ext_gw": "True", "neutron:network_name": f"neutron-{ext['id']}",
            "neutron:router_name": f"neutron-{rid}",
            "neutron:subnet_ids": gw["fixed_ips"][0]["subnet_id"],
            "neutron:revision_number": str(api.client.get(f"/v2.0/routers/{rid}").json()[
                "router"]["revision_number"]),
            "neutron:gateway_role": "gateway-port"}
        group = one(app, "HA_Chassis_Group", name=f"neutron-{rid}")
        assert lrp["ha_chassis_group"] == group["_uuid"]
        assert group["external_ids"] == {"neutron:router_id": rid,
                                         "neutron:availability_zone_hints": "",
                                         "neutron:gateway_role": "gateway-port"}
        # least-loaded: gw1 first (all equal, by name), the others by falling priority
        assert priorities(app, rid) == {"gw1": 3, "gw2": 2, "gw3": 1}
        default = [r for r in by_uuid(app, "Logical_Router_Static_Route").values()
                   if r["_uuid"] in router["static_routes"] and r["ip_prefix"] == "0.0.0.0/0"]
        assert [(r["nexthop"], r["external_ids"]["neutron:is_ext_gw"]) for r in default] == \
            [("172.24.4.1", "true")]
        nat = [by_uuid(app, "NAT")[u] for u in router["nat"]]
        assert sorted((r["type"], r["external_ip"], r["logical_ip"]) for r in nat) == [
            ("dnat_and_snat", fip["floating_ip_address"], _ip4(vm)),
            ("snat", _ip4(gw), "10.0.1.0/24")]
        floating = next(r for r in nat if r["type"] == "dnat_and_snat")
        assert floating["logical_port"] == vm["id"] and floating["external_mac"] is None
        assert rows(app, "NB_Global")[0]["external_ids"]["neutron:fip-distributed"] == "False"

        # SB: northd made the chassisredirect port, and the external switch's router port a
        # patch whose NAT addresses are answered where that port is resident
        wait_sb_synced(private_ovn)
        cr = sbctl(private_ovn, "--bare", "--columns=type", "find", "Port_Binding",
                   f"logical_port=cr-lrp-{gw['id']}").strip()
        assert cr == "chassisredirect"
        patch = sbctl(private_ovn, "--bare", "--columns=type,nat_addresses", "find",
                      "Port_Binding", f"logical_port={gw['id']}")
        assert patch.split()[0] == "patch"
        assert f'{gw["mac_address"]} {_ip4(gw)} is_chassis_resident("cr-lrp-{gw["id"]}")' \
            in patch
        assert f'{fip["floating_ip_address"]} is_chassis_resident("cr-lrp-{gw["id"]}")' in patch
        sb_group = sbctl(private_ovn, "--bare", "--columns=ha_chassis", "find",
                         "HA_Chassis_Group", f"name=neutron-{rid}").split()
        assert len(sb_group) == 3
        assert app.sync.compare().differences == []

        # a chassis leaving SB re-prioritises the group (no API call): the next one first
        sbctl(private_ovn, "chassis-del", "gw1")
        _wait(lambda: priorities(app, rid) == {"gw2": 2, "gw3": 1})
        wait_journal_idle(app)
        assert app.routers.list_gateways()[0]["chassis"] == "gw2"
        assert api.client.get(f"/v2.0/routers/{rid}").json()["router"]["status"] == "ACTIVE"
        add_chassis(private_ovn, "gw4")  # a new candidate joins last
        _wait(lambda: priorities(app, rid) == {"gw2": 3, "gw3": 2, "gw4": 1})
        wait_journal_idle(app)
        assert app.sync.compare().differences == []

        # the gateway goes: its port, group and NAT with it; then the router
        assert api.client.delete(f"/v2.0/floatingips/{fip['id']}").status_code == 204
        api.put(f"routers/{rid}", {"router": {"external_gateway_info": {}}})
        wait_journal_idle(app)
        assert not rows(app, "HA_Chassis_Group") and not rows(app, "HA_Chassis")
        assert not rows(app, "NAT")
        assert not rows(app, "Logical_Router_Port", name=f"lrp-{gw['id']}")
        api.put(f"routers/{rid}/remove_router_interface", {"subnet_id": made["subnet"]["id"]})
        assert api.client.delete(f"/v2.0/routers/{rid}").status_code == 204
        wait_journal_idle(app)
        assert not rows(app, "Logical_Router") and not rows(app, "Logical_Router_Port")
        assert app.sync.compare().differences == []


def test_deleting_a_router_takes_its_gateway_port_and_group(private_ovn, tmp_path):
    """The router and its HA_Chassis_Group go in one transaction (the port with them)."""
    add_chassis(private_ovn, "gw1")
    with running(private_ovn, tmp_path, DGP) as app:
        api = Api(TestClient(app.app))
        ext = external(api)
        router = api.post("routers", {"name": "r", "external_gateway_info": {
            "network_id": ext["id"]}})
        wait_journal_idle(app)
        assert one(app, "HA_Chassis_Group", name=f"neutron-{router['id']}")
        assert api.client.delete(f"/v2.0/routers/{router['id']}").status_code == 204
        wait_journal_idle(app)
        assert not rows(app, "Logical_Router") and not rows(app, "HA_Chassis_Group")
        assert not rows(app, "Logical_Router_Port") and not rows(app, "HA_Chassis")
        assert app.sync.compare().differences == []


def test_distributed_floating_ips(private_ovn, tmp_path):
    add_chassis(private_ovn, "gw1")
    with running(private_ovn, tmp_path, DGP, NEUTRINO_FIP_DISTRIBUTED="true") as app:
        api = Api(TestClient(app.app))
        ext = external(api)
        made = tenant(api, ext, 1, open_group(api))
        wait_journal_idle(app)
        fip, vm = made["fip"], made["vm"]
        own_port = api.port(device_owner="network:floatingip")
        nat = one(app, "NAT", type="dnat_and_snat")
        assert (nat["external_mac"], nat["logical_port"]) == (own_port["mac_address"], vm["id"])
        assert nat["external_ids"]["neutron:fip_external_mac"] == own_port["mac_address"]
        assert rows(app, "NB_Global")[0]["external_ids"]["neutron:fip-distributed"] == "True"
        wait_sb_synced(private_ovn)
        # distributed: the floating IP is answered with its own MAC where its port is
        gw = api.port(device_owner="network:router_gateway")
        patch = sbctl(private_ovn, "--bare", "--columns=nat_addresses", "find",
                      "Port_Binding", f"logical_port={gw['id']}")
        assert f'{own_port["mac_address"]} {fip["floating_ip_address"]} ' \
            f'is_chassis_resident("{vm["id"]}")' in patch
        assert app.sync.compare().differences == []

        # NB_Global's key changed behind neutrino's back: sync says so and repairs it, and
        # so does the drift audit (maintenance stopped: the test runs each by hand)
        app.maintenance.stop()
        for repair in (app.sync.repair, lambda: jobs.journal_drift(app.db, app.sync)):
            nbctl(private_ovn, "set", "NB_Global", ".",
                  'external_ids:"neutron:fip-distributed"=False')
            _wait(lambda: app.nb.global_external_ids()["neutron:fip-distributed"] == "False")
            found = app.sync.compare().differences
            assert [(d.resource_type, d.kind.value, d.detail) for d in found] == [
                ("nb_global", "stale", "is 'False', should be 'True'")]
            repair()
            _wait(lambda: app.nb.global_external_ids()["neutron:fip-distributed"] == "True")
            assert app.sync.compare().differences == []


def _teach(ovn: LocalOvn, router_id: str, gateway_port_id: str, mode: str) -> None:
    """The external next hop's MAC (as test_router_traffic teaches it), once per layout: the
    Static_MAC_Binding names the port, which keeps its name in both layouts."""
    lrp = f"lrp-{gateway_port_id}"
    nbctl(ovn, "--may-exist", "static-mac-binding-add", lrp, "172.24.4.1", NEXT_HOP_MAC)
    holder = f"neutron-gw-{router_id}" if mode == GR else f"neutron-{router_id}"
    wait_sb_synced(ovn)
    datapath = sbctl(ovn, "--bare", "--columns=_uuid", "find", "Datapath_Binding",
                     f"external_ids:name={holder}").strip()
    learnt = sbctl(ovn, "--bare", "--columns=_uuid", "find", "MAC_Binding",
                   f"logical_port={lrp}").strip()
    if learnt:  # learnt in the other layout: the port now lives in another datapath
        sbctl(ovn, "set", "MAC_Binding", learnt, f"datapath={datapath}")
    else:
        sbctl(ovn, "create", "MAC_Binding", f"logical_port={lrp}", "ip=172.24.4.1",
              f'mac="{NEXT_HOP_MAC}"', f"datapath={datapath}")


def _check_traffic(app: Neutrino, ovn: LocalOvn, api: Api, made: dict, mode: str) -> None:
    """SNAT out, the floating IP in and out, through whichever layout `mode` makes."""
    router, vm, fip = made["router"], made["vm"], made["fip"]
    gw = api.port(device_owner="network:router_gateway", device_id=router["id"])
    iface = api.port(device_owner="network:router_interface", device_id=router["id"])
    _teach(ovn, router["id"], gw["id"], mode)
    wait_sb_synced(ovn)
    switch = f"neutron-{made['net']['id']}"
    provnet = one(app, "Logical_Switch_Port", type="localnet")["name"]
    # vm answers from its floating IP; a port without one would leave from the gateway IP
    out = trace(ovn, switch, _from_vm(vm, iface["mac_address"], "8.8.8.8"))
    assert delivered_to(out) == {provnet}
    assert f"ip4.src = {fip['floating_ip_address']};" in _minimal(out)
    inbound = (f'inport == "{provnet}" && eth.src == {NEXT_HOP_MAC} && '
               f'eth.dst == {gw["mac_address"]} && ip4.src == 8.8.8.8 && '
               f'ip4.dst == {fip["floating_ip_address"]} && ip.ttl == 64 && icmp4 && '
               'icmp4.type == 8 && icmp4.code == 0')
    arrived = trace(ovn, f"neutron-{fip['floating_network_id']}", inbound)
    assert delivered_to(arrived) == {vm["id"]}
    assert f"ip4.dst = {_ip4(vm)};" in _minimal(arrived)


def test_a_change_of_mode_moves_every_router(private_ovn, tmp_path):
    """50 routers (gateway, interface, floating IP) made in one mode; after a restart in
    the other, `sync --mode repair` moves them all and leaves nothing of the old layout."""
    add_chassis(private_ovn, "gw1")
    count = int(os.environ.get("DGP_COUNT", "50"))
    with running(private_ovn, tmp_path, GR) as app:
        api = Api(TestClient(app.app))
        ext = external(api, "172.24.4.0/22")
        group = open_group(api)
        made = [tenant(api, ext, number, group) for number in range(1, count + 1)]
        wait_journal_idle(app, timeout=60)
        assert len(rows(app, "Logical_Router")) == 2 * count
        assert app.sync.compare().differences == []

    for mode in (DGP, GR):  # there, and back again
        with running(private_ovn, tmp_path, mode) as app:
            api = Api(TestClient(app.app))
            found = app.sync.compare()
            assert {d.resource_type for d in found.differences} >= {"router", "floating_ip"}
            started = time.monotonic()
            report = app.sync.repair()
            assert report.repaired >= 2 * count, report.summary()
            assert time.monotonic() - started < 60, report.summary()
            assert app.sync.compare().differences == []
            _check_layout(app, made, mode)
            for sample in {item["router"]["id"]: item for item in (made[0], made[-1])}.values():
                _check_traffic(app, private_ovn, api, sample, mode)


def _check_layout(app: Neutrino, made: list[dict], mode: str) -> None:
    routers = {r["name"] for r in rows(app, "Logical_Router")}
    switches = {s["name"] for s in rows(app, "Logical_Switch")}
    groups = {g["name"] for g in rows(app, "HA_Chassis_Group")}
    nat = by_uuid(app, "NAT")
    for item in made:
        rid = item["router"]["id"]
        dr = one(app, "Logical_Router", name=f"neutron-{rid}")
        on_dr = [nat[u]["type"] for u in dr["nat"]]
        if mode == DGP:
            assert f"neutron-gw-{rid}" not in routers
            assert f"neutron-transit-{rid}" not in switches
            assert f"neutron-{rid}" in groups
            assert sorted(on_dr) == ["dnat_and_snat", "snat"]
        else:
            assert f"neutron-gw-{rid}" in routers and f"neutron-transit-{rid}" in switches
            assert f"neutron-{rid}" not in groups
            assert on_dr == []
    if mode == GR:
        assert not rows(app, "HA_Chassis") and not groups
    else:
        assert not [r for r in routers if r.startswith("neutron-gw-")]
        assert not [s for s in switches if s.startswith("neutron-transit-")]
        assert not [p for p in rows(app, "Logical_Router_Port")
                    if p["name"].startswith("lrp-transit-")]
        assert not [p for p in rows(app, "Logical_Switch_Port")
                    if p["name"].startswith("transit-")]
    assert len(nat) == 2 * len(made)  # one SNAT and one floating IP per router, no leftover

"""GET /v2.0/agents against a real OVN: chassis registered in SB, acknowledging neutrino's
nb_cfg probes in Chassis_Private as ovn-controller does (here written by hand)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ovn_tools import sbctl
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import build
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

DOWN_TIME = 3  # seconds; probes every second


def add_chassis(ovn: LocalOvn, name: str, encap: str, cms: str = "") -> None:
    """A Chassis and its Chassis_Private row, as ovn-controller registers them."""
    sbctl(ovn, "chassis-add", name, "geneve", encap)
    sbctl(ovn, "set", "Chassis", name, f"hostname={name}.example",
          "other_config:ovn-bridge-mappings=physnet1:br-ex")
    if cms:
        sbctl(ovn, "set", "Chassis", name, f'other_config:ovn-cms-options="{cms}"')
    uuid = sbctl(ovn, "--bare", "--columns=_uuid", "find", "Chassis", f"name={name}").strip()
    sbctl(ovn, "create", "Chassis_Private", f"name={name}", f"chassis={uuid}")


def sb_nb_cfg(ovn: LocalOvn) -> int:
    return int(sbctl(ovn, "get", "SB_Global", ".", "nb_cfg").strip())


def acknowledge(ovn: LocalOvn, name: str, *extra: str) -> None:
    """What ovn-controller does once it processed SB: copy nb_cfg, stamp the time."""
    stamp = int(time.time() * 1000)
    sbctl(ovn, "set", "Chassis_Private", name, f"nb_cfg={sb_nb_cfg(ovn)}",
          f"nb_cfg_timestamp={stamp}", *extra)


@pytest.fixture()
def api(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[TestClient]:
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": private_ovn.nb,
        "NEUTRINO_OVN_SB": private_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_AGENT_DOWN_TIME": str(DOWN_TIME), "NEUTRINO_AGENT_PROBE_SECONDS": "1"}))
    app.start()
    try:
        wait_for(lambda: app.nb.connected and app.sb.connected, 20, "OVN connections")
        with TestClient(app.app) as client:
            yield client
    finally:
        app.stop()


def _agents(api: TestClient, query: str = "") -> dict[str, dict]:
    response = api.get(f"/v2.0/agents{query}")
    assert response.status_code == 200, response.text
    return {(a.get("id"), a.get("agent_type")): a for a in response.json()["agents"]}


def test_agents_listed_as_ml2_ovn_with_liveness(private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(private_ovn, "gw1", "127.0.3.1",
                "enable-chassis-as-gw,availability-zones=az1:az2")
    add_chassis(private_ovn, "hv1", "127.0.3.2")
    sbctl(private_ovn, "chassis-add", "hv2", "geneve", "127.0.3.3")  # never acknowledges
    # neutrino's probe moves nb_cfg, and ovn-northd passes it on to SB
    first = sb_nb_cfg(private_ovn)
    wait_for(lambda: sb_nb_cfg(private_ovn) > first, 10, "probe reaching SB_Global")
    acknowledge(private_ovn, "gw1")
    acknowledge(private_ovn, "hv1", "external_ids:neutron\\:ovn-metadata-id=meta-1",
                f"external_ids:neutron\\:ovn-metadata-sb-cfg={sb_nb_cfg(private_ovn)}")

    agents = _agents(api)
    assert set(agents) == {("gw1", "OVN Controller Gateway agent"),
                           ("hv1", "OVN Controller agent"), ("meta-1", "OVN Metadata agent"),
                           ("hv2", "OVN Controller agent")}
    gw1 = agents["gw1", "OVN Controller Gateway agent"]
    assert (gw1["host"], gw1["binary"], gw1["alive"], gw1["admin_state_up"]) == \
        ("gw1.example", "ovn-controller", True, True)
    assert gw1["availability_zone"] == "az1, az2"
    assert gw1["configurations"]["chassis_name"] == "gw1"
    assert gw1["configurations"]["bridge-mappings"] == "physnet1:br-ex"
    assert agents["meta-1", "OVN Metadata agent"]["alive"] is True
    assert agents["hv2", "OVN Controller agent"]["alive"] is False

    assert set(_agents(api, "?alive=false")) == {("hv2", "OVN Controller agent")}
    assert set(_agents(api, "?agent_type=OVN Controller Gateway agent&fields=id")) == \
        {("gw1", None)}
    # no further acknowledgement: after agent_down_time the chassis count as dead
    wait_for(lambda: not _agents(api)["gw1", "OVN Controller Gateway agent"]["alive"],
             DOWN_TIME + 5, "gw1 reported dead")
    assert not _agents(api)["meta-1", "OVN Metadata agent"]["alive"]


def test_show_update_delete(private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(private_ovn, "hv1", "127.0.3.4")
    add_chassis(private_ovn, "hv2", "127.0.3.5")
    wait_for(lambda: sb_nb_cfg(private_ovn) > 0, 10, "probe reaching SB_Global")
    acknowledge(private_ovn, "hv1")
    shown = api.get("/v2.0/agents/hv1")
    assert shown.status_code == 200, shown.text
    assert shown.json()["agent"]["agent_type"] == "OVN Controller agent"
    missing = api.get("/v2.0/agents/nope")
    assert missing.status_code == 404
    assert missing.json()["NeutronError"]["type"] == "AgentNotFound"
    assert api.get("/v2.0/agents?color=red").status_code == 400

    # ML2/OVN keeps an agent's description in its Chassis_Private row; status stays up
    updated = api.put("/v2.0/agents/hv1", json={"agent": {"description": "rack 4"}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["agent"]["description"] == "rack 4"
    stored = sbctl(private_ovn, "get", "Chassis_Private", "hv1",
                   "external_ids:neutron\\:description")
    assert stored.strip() == '"rack 4"'
    down = api.put("/v2.0/agents/hv1", json={"agent": {"admin_state_up": False}})
    assert down.status_code == 400, down.text
    assert api.put("/v2.0/agents/hv1", json={"agent": {"host": "x"}}).status_code == 400
    # the same border checks as every other body: nothing OVSDB cannot store reaches SB
    poisoned = api.put("/v2.0/agents/hv1", json={"agent": {"description": "a\x00b"}})
    assert poisoned.status_code == 400, poisoned.text

    # a live agent is not deleted (its ovn-controller would register it again); a dead one is
    assert api.delete("/v2.0/agents/hv1").status_code == 409
    assert api.delete("/v2.0/agents/hv2").status_code == 204
    assert "hv2" not in sbctl(private_ovn, "--bare", "--columns=name", "list", "Chassis")
    assert "hv2" not in sbctl(private_ovn, "--bare", "--columns=name", "list", "Chassis_Private")
    assert api.get("/v2.0/agents/hv2").status_code == 404


def test_availability_zones_of_gateway_chassis(private_ovn: LocalOvn, api: TestClient) -> None:
    add_chassis(private_ovn, "gw1", "127.0.3.6", "enable-chassis-as-gw,availability-zones=az1")
    add_chassis(private_ovn, "hv1", "127.0.3.7", "availability-zones=az7")
    zones = api.get("/v2.0/availability_zones")
    assert zones.status_code == 200, zones.text
    assert zones.json()["availability_zones"] == [
        {"name": "az1", "resource": "router", "state": "available"}]
    assert api.get("/v2.0/availability_zones?resource=network").json() == {
        "availability_zones": []}
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"agent", "availability_zone"} <= aliases

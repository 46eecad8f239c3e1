"""The cold-reboot check (maintenance, every few seconds on the NB connection's thread)
reads each switch's name and external_ids, not its `ports`: converting every port's uuid
each time cost as much as the cloud has ports (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
from nb_state import wait_journal_idle

from neutrino.bootstrap import Neutrino
from neutrino.maintenance.jobs import ColdRebootDetector


def test_a_switch_with_ports_is_read_without_them(neutrino: Neutrino, api, monkeypatch:
                                                   pytest.MonkeyPatch) -> None:
    net = api.post("/v2.0/networks", json={"network": {"name": "n"}}).json()["network"]
    api.post("/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                               "cidr": "10.9.0.0/24"}})
    api.post("/v2.0/ports", json={"ports": [{"network_id": net["id"]} for _ in range(3)]})
    wait_journal_idle(neutrino)

    asked: list[Any] = []
    real = neutrino.nb.read_rows

    def read_rows(table: str, columns: Any = None) -> list[dict[str, Any]]:
        asked.append((table, columns))
        return real(table, columns)

    monkeypatch.setattr(neutrino.nb, "read_rows", read_rows)
    assert not ColdRebootDetector(neutrino.nb, neutrino.db)._switches_missing_wholesale()
    assert asked == [("Logical_Switch", ("name", "external_ids"))]

    switches = real("Logical_Switch", ("name", "external_ids"))
    ours = [row for row in switches if row["name"] == f"neutron-{net['id']}"]
    assert len(ours) == 1 and set(ours[0]) == {"_uuid", "name", "external_ids"}
    (whole,) = [row for row in real("Logical_Switch") if row["name"] == ours[0]["name"]]
    assert len(whole["ports"]) >= 3  # every column, when none are named

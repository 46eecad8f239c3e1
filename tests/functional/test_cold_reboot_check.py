"""The cold-reboot check (maintenance, every few seconds on the NB connection's thread) looks
for one switch of ours, reading switches one at a time and only their name and
external_ids: reading every switch each time cost as much as the cloud has networks, and
their `ports` as much as it has ports (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
from nb_state import wait_journal_idle

from neutrino.bootstrap import Neutrino
from neutrino.maintenance.jobs import ColdRebootDetector
from neutrino.ovn import client
from neutrino.ovn.ownership import owner_of


def test_the_check_stops_at_the_first_switch_of_ours(neutrino: Neutrino, api, monkeypatch:
                                                      pytest.MonkeyPatch) -> None:
    nets = api.post("/v2.0/networks", json={"networks": [{"name": f"n{i}"} for i in range(5)]}
                    ).json()["networks"]
    api.post("/v2.0/subnets", json={"subnet": {"network_id": nets[0]["id"], "ip_version": 4,
                                               "cidr": "10.9.0.0/24"}})
    api.post("/v2.0/ports", json={"ports": [{"network_id": nets[0]["id"]} for _ in range(3)]})
    wait_journal_idle(neutrino)

    # the shared OVN holds other tests' switches too: rows are read until one is ours
    switches = neutrino.nb.read_rows("Logical_Switch", ("name", "external_ids"))
    read: list[dict[str, Any]] = []
    real = client._all_columns

    def all_columns(row: Any, names: Any = None) -> dict[str, Any]:
        read.append(real(row, names))
        return read[-1]

    monkeypatch.setattr(client, "_all_columns", all_columns)
    assert not ColdRebootDetector(neutrino.nb, neutrino.db)._switches_missing_wholesale()
    assert 1 <= len(read) < len(switches)
    assert all(set(row) == {"_uuid", "name", "external_ids"} for row in read)
    assert owner_of("Logical_Switch", read[-1]) is not None


def test_holds_any_says_whether_some_row_is_wanted(neutrino: Neutrino, api) -> None:
    api.post("/v2.0/networks", json={"network": {"name": "n"}})
    wait_journal_idle(neutrino)
    assert not neutrino.nb.holds_any("Logical_Switch", ("name",),
                                     lambda row: row["name"] == "no-such-switch")
    assert neutrino.nb.holds_any("Logical_Switch", ("name",),
                                 lambda row: row["name"].startswith("neutron-"))

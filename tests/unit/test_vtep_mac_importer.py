"""The learnt-MAC import runs when a VTEP database changed, or in full now and then."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from neutrino.maintenance import vtep_macs


@dataclass
class _Client:
    change_seqno: int | None = None


def test_imports_only_on_a_change_or_when_a_full_pass_is_due(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    now = [0.0]
    monkeypatch.setattr(vtep_macs, "import_learned_macs",
                        lambda _db, _vtep, _cap: calls.append(now[0]) or 1)
    client = _Client()
    run = vtep_macs.LearnedMacImporter(object(), {"ps1": client},  # type: ignore[arg-type]
                                       10, full_every=30, clock=lambda: now[0])
    assert run() == 1  # the first pass is a full one
    now[0] = 2
    assert run() == 0  # nothing moved
    client.change_seqno = 5  # connected: its copy of the database arrived
    now[0] = 4
    assert run() == 1
    now[0] = 6
    assert run() == 0
    client.change_seqno = 6  # a MAC learnt or forgotten (or anything else in that database)
    now[0] = 8
    assert run() == 1
    now[0] = 31
    assert run() == 1  # a full pass: a port may newly stand for a switch with learnt MACs
    assert calls == [0, 4, 8, 31]

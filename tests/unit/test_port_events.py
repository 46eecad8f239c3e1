"""Which port changes become Nova events: Neutron's nova notifier rules, as a table."""

from __future__ import annotations

import pytest

from neutrino.port_events import (
    NETWORK_CHANGED,
    VIF_DELETED,
    VIF_PLUGGED,
    VIF_UNPLUGGED,
    PortEvent,
    PortFacts,
    changed_event,
    deleted_event,
    status_event,
)

SERVER = "5e3898d7-11be-483e-9732-b2f5eccd2b2e"
VM = PortFacts("p1", "compute:nova", SERVER)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("DOWN", "ACTIVE", PortEvent(VIF_PLUGGED, SERVER, "p1")),
    ("BUILD", "ACTIVE", PortEvent(VIF_PLUGGED, SERVER, "p1")),
    (None, "ACTIVE", PortEvent(VIF_PLUGGED, SERVER, "p1")),
    ("ACTIVE", "DOWN", PortEvent(VIF_UNPLUGGED, SERVER, "p1")),
    ("ACTIVE", "ERROR", PortEvent(VIF_PLUGGED, SERVER, "p1", "failed")),
    ("DOWN", "ERROR", PortEvent(VIF_PLUGGED, SERVER, "p1", "failed")),
    ("ERROR", "ACTIVE", None),  # a repair nobody waits for
    ("ACTIVE", "ACTIVE", None),
    ("DOWN", "DOWN", None),
    ("BUILD", "DOWN", None),
    ("ERROR", "DOWN", None),
])
def test_status_rules(old: str | None, new: str, expected: PortEvent | None) -> None:
    assert status_event(VM, old, new) == expected


@pytest.mark.parametrize("port", [
    PortFacts("p1", "network:dhcp", SERVER),
    PortFacts("p1", "network:router_interface", SERVER),
    PortFacts("p1", "", SERVER),
    PortFacts("p1", "compute:nova", ""),  # no server to tell
])
def test_only_server_ports_say_anything(port: PortFacts) -> None:
    assert status_event(port, "DOWN", "ACTIVE") is None
    assert status_event(port, "ACTIVE", "DOWN") is None
    assert deleted_event(port) is None
    assert changed_event(port, [("s", "10.0.0.3")], [("s", "10.0.0.4")]) is None


def test_unbound_port_coming_up_is_no_plug_but_going_down_is_an_unplug() -> None:
    unbound = PortFacts("p1", "compute:az1", SERVER, bound=False)
    assert status_event(unbound, "DOWN", "ACTIVE") is None
    assert status_event(unbound, "ACTIVE", "DOWN") == PortEvent(VIF_UNPLUGGED, SERVER, "p1")


def test_delete_and_address_change() -> None:
    assert deleted_event(VM) == PortEvent(VIF_DELETED, SERVER, "p1")
    assert changed_event(VM, [("s", "10.0.0.3")], [("s", "10.0.0.4")]) == PortEvent(
        NETWORK_CHANGED, SERVER, "p1")
    assert changed_event(VM, [("s", "10.0.0.3")], [("s", "10.0.0.3")]) is None


def test_body_is_novas() -> None:
    assert PortEvent(VIF_PLUGGED, SERVER, "p1").as_body() == {
        "name": "network-vif-plugged", "server_uuid": SERVER, "tag": "p1",
        "status": "completed"}

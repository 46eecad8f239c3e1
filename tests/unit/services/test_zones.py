"""Availability zone hints are checked against the zones of the gateway chassis."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.scheduling import OPT_IN, Chassis
from neutrino.services.zones import checked_hints

CHASSIS = [Chassis("gw1", (OPT_IN, "availability-zones=az1:az2")),
           Chassis("hv1", ("availability-zones=az3",))]


def test_known_zones_are_kept_in_order() -> None:
    assert checked_hints(lambda: CHASSIS, ["az2", "az1"]) == ["az2", "az1"]


@pytest.mark.parametrize("hints", [["az9"], ["az1", "az3"]], ids=["unknown", "not-gateway"])
def test_unknown_zone_is_neutrons_not_found(hints: list[str]) -> None:
    with pytest.raises(errors.AvailabilityZoneNotFound) as caught:
        checked_hints(lambda: CHASSIS, hints)
    assert caught.value.message == f"AvailabilityZone {hints[-1]} could not be found."


def test_no_hints_reads_no_chassis() -> None:
    def unreachable() -> list[Chassis]:
        raise errors.BackendUnavailable("SB down")

    assert checked_hints(unreachable, []) == []
    assert checked_hints(unreachable, None) == []

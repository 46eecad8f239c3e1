"""A gateway's devices as networking-l2gw accepts them."""

from __future__ import annotations

import pytest

from neutrino.api.l2gw_devices import parse_devices, segmentation_id


def test_devices_are_normalised() -> None:
    assert parse_devices([{"device_name": "ps1", "interfaces": [
        {"name": "p0", "segmentation_id": ["7", 5, 5]}]}]) == [
        {"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [5, 7]}]}]


@pytest.mark.parametrize("devices", [
    None, [], "ps1", [{"device_name": "", "interfaces": [{"name": "p0"}]}],
    [{"device_name": "ps1"}], [{"device_name": "ps1", "interfaces": []}],
    [{"device_name": "ps1", "interfaces": ["p0"]}],
    [{"device_name": "ps1", "interfaces": [{"name": ""}]}],
    [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": []}]}],
    [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": 5}]}],
    [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [4095]}]}],
    [{"device_name": "ps1", "interfaces": [{"name": "p0", "vlan": [1]}]}],
    [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [1]},
                                           {"name": "p1"}]}],
    [{"device_name": "ps1", "interfaces": [{"name": "p0"}]},
     {"device_name": "ps1", "interfaces": [{"name": "p1"}]}],
])
def test_bad_devices(devices: object) -> None:
    with pytest.raises(ValueError):
        parse_devices(devices)


@pytest.mark.parametrize("value", [-1, 4095, "x", True])
def test_bad_segmentation_id(value: object) -> None:
    with pytest.raises(ValueError):
        segmentation_id(value)

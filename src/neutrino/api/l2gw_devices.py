"""A gateway's `devices` as networking-l2gw accepts them (pure; ValueError says why not).

    [{"device_name": "ps1", "interfaces": [{"name": "p0", "segmentation_id": [100]}]}]

Every device has a non-empty name and a non-empty list of interfaces; every interface a
non-empty name and, optionally, a non-empty list of VLAN ids (0-4094). Either every
interface of the gateway names its VLANs, or none does (then each connection names one).
"""

from __future__ import annotations

from typing import Any

from neutrino.api.converters import to_int
from neutrino.api.text import preview

VLAN_MAX = 4094
DEVICE_KEYS = {"device_name", "interfaces", "id"}
INTERFACE_KEYS = {"name", "segmentation_id"}


def parse_devices(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValueError("Cannot create a gateway with an empty device list")
    devices = [_device(item) for item in value]
    names = [d["device_name"] for d in devices]
    if len(set(names)) != len(names):
        raise ValueError("a device is named twice")
    given = {bool(i.get("segmentation_id")) for d in devices for i in d["interfaces"]}
    if len(given) > 1:
        raise ValueError("segmentation_id must be given for every interface or for none")
    return devices


def segmentation_id(value: Any) -> int:
    vlan = to_int(value)
    if not 0 <= vlan <= VLAN_MAX:
        raise ValueError(f"Segmentation id {vlan} is out of range (0-{VLAN_MAX})")
    return vlan


def _device(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"'{preview(item)}' is not a device (a dict)")
    _known(item, DEVICE_KEYS)
    name = item.get("device_name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("Cannot create a gateway with an empty device_name")
    interfaces = item.get("interfaces")
    if not isinstance(interfaces, list) or not interfaces:
        raise ValueError("Cannot create a gateway with an empty interfaces")
    parsed = [_interface(i) for i in interfaces]
    if len({i["name"] for i in parsed}) != len(parsed):
        raise ValueError(f"an interface of device {name} is named twice")
    return {"device_name": name, "interfaces": parsed}


def _interface(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("interfaces format is not a type dict")
    _known(item, INTERFACE_KEYS)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("Cannot create a gateway with an empty interface name")
    if "segmentation_id" not in item:
        return {"name": name}
    vlans = item["segmentation_id"]
    if not isinstance(vlans, list) or not vlans:
        raise ValueError("segmentation_id should be a non-empty list")
    return {"name": name, "segmentation_id": sorted({segmentation_id(v) for v in vlans})}


def _known(item: dict[str, Any], keys: set[str]) -> None:
    unknown = sorted(set(item) - keys)
    if unknown:
        raise ValueError(f"unrecognized keys {', '.join(map(preview, unknown))}")

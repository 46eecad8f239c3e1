"""A `sub_ports` list as neutron-lib's `validate_subports` checks it (400s, its words)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from neutrino import errors

SHOWN = 64  # characters of a bad value quoted back


@dataclass(frozen=True)
class SubportRequest:
    port_id: str
    segmentation_type: str | None
    segmentation_id: int | None

    def as_text(self) -> str:
        return _short({"port_id": self.port_id, "segmentation_type": self.segmentation_type,
                       "segmentation_id": self.segmentation_id})


def parse_subports(data: Any, removal: bool = False) -> list[SubportRequest]:
    """Each item a dict with a unique port UUID and, unless it inherits its network's, a
    segmentation unique in the list (a removal needs only the port)."""
    if not isinstance(data, list):
        raise errors.InvalidInput(f"Invalid data format for subports: '{_short(data)}' is "
                                  "not a list")
    seen_ports: set[str] = set()
    seen_segmentations: set[tuple[Any, Any]] = set()
    found = []
    for item in data:
        request = _one(item, seen_ports, removal)
        key = (request.segmentation_type, request.segmentation_id)
        if not removal and request.segmentation_type != "inherit":
            if key in seen_segmentations:
                raise errors.InvalidInput(
                    f"Segmentation ID '{request.segmentation_id}' for '{request.port_id}' "
                    "is not unique")
            seen_segmentations.add(key)
        found.append(request)
    return found


def _one(item: Any, seen: set[str], removal: bool) -> SubportRequest:
    if not isinstance(item, dict):
        raise errors.InvalidInput(f"Invalid data format for subport: '{_short(item)}' is not "
                                  "a dict")
    port_id = item.get("port_id")
    if port_id is None:
        raise errors.InvalidInput("A valid port UUID must be specified")
    if not _is_uuid(port_id):
        raise errors.InvalidInput(f"Invalid UUID for subport: '{_short(port_id)}'")
    if port_id in seen:
        raise errors.InvalidInput(f"Non unique UUID for subport: '{port_id}'")
    seen.add(port_id)
    unknown = set(item) - {"port_id", "segmentation_type", "segmentation_id"}
    if unknown:
        raise errors.InvalidInput(f"Unrecognized attribute(s) '{_short(sorted(unknown))}' "
                                  "in subport")
    seg_type, seg_id = item.get("segmentation_type"), item.get("segmentation_id")
    if not removal and seg_type != "inherit" and (not seg_type or seg_id is None):
        raise errors.InvalidInput(
            f"Invalid subport details '{_short(item)}': missing segmentation information. "
            "Must specify both segmentation_id and segmentation_type")
    if seg_type is not None and not isinstance(seg_type, str):
        raise errors.InvalidInput(f"Unknown segmentation_type '{_short(seg_type)}'")
    return SubportRequest(port_id, seg_type, None if seg_id is None else _seg_id(seg_id))


def _seg_id(value: Any) -> int:
    """An integer, or a string of one (Neutron's convert_to_int)."""
    if isinstance(value, bool):
        raise _not_integer(value)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise _not_integer(value) from None
    if isinstance(value, float) and value != number:
        raise _not_integer(value)
    return number


def _not_integer(value: Any) -> errors.InvalidInput:
    return errors.InvalidInput(f"Invalid subport details: segmentation_id '{_short(value)}' "
                               "is not an integer")


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return uuid.UUID(value).hex == value.replace("-", "").lower()
    except ValueError:
        return False


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."

"""Turning request values (JSON or query strings) into typed values, or a clear reason why not.

Each converter raises `ValueError` with the reason; `attributes.parse_body` names the attribute.
Reasons echo values only through `preview`, so a huge value makes a short message.
"""

from __future__ import annotations

import json
import re
import uuid as _uuid
from collections.abc import Callable, Mapping
from typing import Any

from neutrino.api.text import preview

Converter = Callable[[Any], Any]
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
AZ_HINTS_LEN = 255  # Neutron's column for the hints as a JSON list
INT32 = (-(2**31), 2**31 - 1)  # what an Integer column holds on PostgreSQL
_DECIMAL = re.compile(r"-?[0-9]{1,20}")  # ASCII digits only, and short enough for int()


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE_WORDS + FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    raise ValueError(f"'{preview(value)}' cannot be converted to boolean")


def to_int(value: Any) -> int:
    """An integer an Integer column holds, from a JSON number or a decimal string."""
    if isinstance(value, bool):
        raise ValueError(f"'{preview(value)}' is not an integer")
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"'{preview(value)}' is not an integer")
    if not INT32[0] <= value <= INT32[1]:
        raise ValueError(f"'{preview(value)}' is out of range")
    return value


def non_negative(value: Any) -> int:
    number = to_int(value)
    if number < 0:
        raise ValueError(f"'{number}' should be non-negative")
    return number


def string(max_len: int = 255) -> Converter:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"'{preview(value)}' is not a valid string")
        if len(value) > max_len:
            raise ValueError(f"'{preview(value)}' exceeds maximum length of {max_len}")
        return value

    return convert


def nullable(inner: Converter) -> Converter:
    def convert(value: Any) -> Any:
        return None if value is None else inner(value)

    return convert


def one_of(*choices: Any) -> Converter:
    def convert(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"'{preview(value)}' is not in {list(choices)}")
        return value

    return convert


def int_one_of(*choices: int) -> Converter:
    def convert(value: Any) -> int:
        number = to_int(value)
        if number not in choices:
            raise ValueError(f"{preview(value)} is not in {list(choices)}")
        return number

    return convert


def empty_if_none(inner: Converter) -> Converter:
    """Neutron's convert_none_to_empty_list: null stands for an empty list."""
    def convert(value: Any) -> Any:
        return [] if value is None else inner(value)

    return convert


def list_of(inner: Converter) -> Converter:
    def convert(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"'{preview(value)}' is not a list")
        return [inner(v) for v in value]

    return convert


def unique_list_of(inner: Converter) -> Converter:
    """A list whose items appear once each (Neutron's list validators refuse duplicates)."""
    def convert(value: Any) -> list[Any]:
        items = list_of(inner)(value)
        duplicates = sorted({str(item) for item in items if items.count(item) > 1})
        if duplicates:
            raise ValueError(f"Duplicate items in the list: '{preview(', '.join(duplicates))}'")
        return items

    return convert


def text_or_number(max_len: int) -> Converter:
    """A string, or a JSON integer taken as its decimal string (Neutron stores it so)."""
    def convert(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return string(max_len)(value)

    return convert


def az_hints(value: Any) -> list[str]:
    """Neutron's `availability_zone_hints`: unique names whose JSON list fits its 255-character
    column (whether the zones exist is the service's question)."""
    names = unique_list_of(string())(value)
    if len(json.dumps(names)) > AZ_HINTS_LEN:
        raise ValueError("Too many availability_zone_hints specified")
    return names


def dict_value(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"'{preview(value)}' is not a dictionary")
    return value


def dict_with(required: tuple[str, ...], optional: tuple[str, ...] = (),
              types: Mapping[str, Converter] | None = None) -> Converter:
    """A dict with exactly these keys (the required ones present), each value converted by
    its entry in `types` (kept as given when it has none)."""
    def convert(value: Any) -> dict[str, Any]:
        value = dict_value(value)
        missing = [k for k in required if k not in value]
        extra = [k for k in value if k not in required + optional]
        if missing:
            raise ValueError(f"Validation of dictionary's keys failed. Expected keys: "
                             f"{set(required)} Provided keys: {preview(set(value))}")
        if extra:
            raise ValueError(f"Unrecognized keys {preview(extra)}")
        return {k: (types or {}).get(k, any_value)(v) for k, v in value.items()}

    return convert


def dict_or_empty(value: Any) -> dict[str, Any]:
    """Neutron treats an empty string or null binding:profile as an empty dict."""
    if value in (None, ""):
        return {}
    return dict_value(value)


def any_value(value: Any) -> Any:
    return value


def uuid(value: Any) -> str:
    """A UUID, written with or without dashes (Neutron's `type:uuid`)."""
    text = string(36)(value)
    try:
        if _uuid.UUID(text).hex == text.replace("-", "").lower():
            return text
    except ValueError:
        pass
    raise ValueError(f"'{preview(value)}' is not a valid UUID")


def target_project(value: Any) -> str:
    """An RBAC policy's target: a project id (UUID-like, as Keystone's are) or `*`."""
    text = string()(value)
    if text == "*":
        return text
    try:
        uuid(text)
    except ValueError:
        raise ValueError(f"'{preview(value)}' is not a valid target project ID; expected a "
                         "UUID or '*'") from None
    return text

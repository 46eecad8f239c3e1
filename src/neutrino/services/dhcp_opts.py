"""A port's `extra_dhcp_opts`: Neutron's checks, and how an update merges with what is stored.

Each option is `{opt_name, opt_value, ip_version}`, checked as neutron-lib's extra_dhcp_opt
definition does: `opt_name` a one-line, non-blank string of at most 64 characters;
`opt_value` a one-line, non-blank string of at most 255, except that `router` and
`classless-static-route` may be blank (to send an empty option); `ip_version` 4 or 6,
default 4. A null `opt_value` means "delete this option" and only does something in an
update: on create Neutron simply does not store it.

Options are identified by (opt_name, ip_version). Neutron's database holds each once; a request
naming one twice is refused here (Neutron answers an identical repeat with 400 and a differing
one with a database error). An update sends only the options to change: each is merged into
the stored list, a null value removes one, and an empty list changes nothing (as Neutron's
extradhcpopt mixin does).

Options OVN cannot serve are stored and returned like any other, and simply not sent to OVN:
ML2/OVN logs them and moves on; the translation to OVN lives in `ovn/translate/port_dhcp.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neutrino import errors

NAME_MAX_LEN = 64
VALUE_MAX_LEN = 255
BLANK_ALLOWED = ("router", "classless-static-route")
IP_VERSIONS = (4, 6)
DEFAULT_IP_VERSION = 4

Option = dict[str, Any]  # {"opt_name": str, "opt_value": str | None, "ip_version": int}


def options_for_create(requested: list[Any] | None) -> list[Option]:
    """What a new port stores: the valid options, without those given a null value."""
    return [opt for opt in _checked(requested) if opt["opt_value"] is not None]


def options_for_update(stored: Iterable[Option], requested: list[Any] | None) -> list[Option]:
    """The stored options with `requested` merged in by (opt_name, ip_version)."""
    merged = {_identity(opt): _normalised(opt) for opt in stored}
    for opt in _checked(requested):
        if opt["opt_value"] is None:
            merged.pop(_identity(opt), None)
        else:
            merged[_identity(opt)] = opt
    return list(merged.values())


def _checked(requested: list[Any] | None) -> list[Option]:
    if requested is None:
        return []
    if not isinstance(requested, list):
        raise errors.InvalidInput(f"'{requested}' is not a list")
    _refuse_identical(requested)
    options = [_checked_option(item) for item in requested]
    seen: set[tuple[str, int]] = set()
    for opt in options:
        if _identity(opt) in seen:
            raise errors.InvalidInput(
                f"Duplicate extra DHCP option '{opt['opt_name']}' for IP version "
                f"{opt['ip_version']}")
        seen.add(_identity(opt))
    return options


def _refuse_identical(items: list[Any]) -> None:
    """neutron-lib's own wording for an option repeated word for word."""
    dups: list[Any] = []
    for i, item in enumerate(items):
        if item in items[:i] and item not in dups:
            dups.append(item)
    if dups:
        raise errors.InvalidInput(
            "Duplicate items in the list: '{}'".format(", ".join(str(d) for d in dups)))


def _checked_option(item: Any) -> Option:
    if not isinstance(item, dict) or set(item) - {"opt_name", "opt_value", "ip_version"}:
        raise _no_spec(item)
    version = _ip_version(item.get("ip_version", DEFAULT_IP_VERSION))
    name, value = item.get("opt_name"), item.get("opt_value")
    if "opt_name" not in item or "opt_value" not in item or version not in IP_VERSIONS:
        raise _no_spec(item)
    if not (_valid_name(name) and _valid_value(name, value)):
        raise _no_spec(item)
    return {"opt_name": name, "opt_value": value, "ip_version": version}


def _ip_version(raw: Any) -> int:
    """Neutron converts with int() first (so "6" is 6); the key specs then check the value."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise errors.InvalidInput(f"'{raw}' is not an integer") from None


def _valid_name(name: Any) -> bool:
    return _one_line_text(name, NAME_MAX_LEN)


def _valid_value(name: str, value: Any) -> bool:
    if value is None:
        return True
    if name in BLANK_ALLOWED:
        return isinstance(value, str) and len(value) <= VALUE_MAX_LEN
    return _one_line_text(value, VALUE_MAX_LEN)


def _one_line_text(value: Any, max_len: int) -> bool:
    return (isinstance(value, str) and len(value) <= max_len and bool(value.strip())
            and len(value.splitlines()) <= 1)


def _no_spec(item: Any) -> errors.InvalidInput:
    # neutron-lib tries each key spec of the attribute and reports that none matched
    return errors.InvalidInput(f"No valid key specs matched for: {item}")


def _identity(opt: Option) -> tuple[str, int]:
    return opt["opt_name"], int(opt.get("ip_version") or DEFAULT_IP_VERSION)


def _normalised(opt: Option) -> Option:
    """Stored options always carry their ip_version (older rows may lack it)."""
    return {"opt_name": opt["opt_name"], "opt_value": opt["opt_value"],
            "ip_version": _identity(opt)[1]}

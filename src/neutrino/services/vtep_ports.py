"""Ports bound to a hardware VTEP through `binding:profile` (as ML2/OVN accepts them).

A profile naming `vtep-physical-switch` and `vtep-logical-switch` makes the port a `vtep`
switch port in OVN: a whole VTEP logical switch behind one port, so the port has no
addresses of its own and keeps no fixed IPs. One key without the other is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neutrino import errors

VTEP_KEYS = ("vtep-physical-switch", "vtep-logical-switch")


def is_vtep_profile(profile: Mapping[str, Any]) -> bool:
    """Whether the profile binds the port to a VTEP; a half-given profile is refused."""
    given = [key for key in VTEP_KEYS if key in profile]
    if not given:
        return False
    if len(given) != len(VTEP_KEYS):
        raise errors.InvalidInput(
            f"Invalid binding:profile. {', '.join(VTEP_KEYS)} are all required.")
    for key in VTEP_KEYS:
        if not isinstance(profile[key], str) or not profile[key]:
            raise errors.InvalidInput(
                f"Invalid binding:profile. {key} value {profile[key]!r} is not a "
                "non-empty string.")
    return True


def check_no_fixed_ips(requested: list[Any] | None) -> None:
    """A VTEP port stands for a whole VTEP logical switch: it may not ask for addresses."""
    if requested:
        raise errors.InvalidInput(
            "a port bound to a VTEP (binding:profile vtep-physical-switch and "
            "vtep-logical-switch) keeps no fixed IPs")

"""Availability zone hints of networks and routers, checked against the zones OVN knows.

ML2/OVN keeps no zones of its own: they are the ones gateway chassis name in their
`ovn-cms-options`, read from SB when a hint is given. A hint naming none of them is Neutron's
404 `AvailabilityZoneNotFound`. The syntax (unique strings, short enough) is checked by the API.
"""

from __future__ import annotations

from collections.abc import Sequence

from neutrino import errors, scheduling


def checked_hints(source: scheduling.ChassisSource, hints: Sequence[str] | None) -> list[str]:
    if not hints:
        return []
    unknown = set(hints) - scheduling.gateway_zones(source())
    if unknown:
        raise errors.AvailabilityZoneNotFound(", ".join(sorted(unknown)))
    return list(hints)

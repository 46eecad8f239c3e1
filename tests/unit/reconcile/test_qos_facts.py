"""Which QoS policy a port is under: its own, else its network's (not for Neutron's own)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from neutrino.reconcile.qos_facts import effective_policy_id


@pytest.mark.parametrize(("own", "owner", "network", "expected"), [
    ("p-own", "compute:nova", "p-net", "p-own"),
    (None, "compute:nova", "p-net", "p-net"),
    (None, "", "p-net", "p-net"),
    (None, "compute:nova", None, None),
    (None, "network:router_interface", "p-net", None),
    (None, "network:router_gateway", "p-net", None),
    (None, "network:distributed", "p-net", None),
    ("p-gw", "network:router_gateway", "p-net", "p-gw"),  # the router's gateway policy
])
def test_effective_policy(own, owner, network, expected):
    port = SimpleNamespace(qos_policy_id=own, device_owner=owner)
    assert effective_policy_id(port, network) == expected  # type: ignore[arg-type]

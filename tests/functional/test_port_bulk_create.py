"""A bulk port create checks each port as a single create would, against the database and
against the ports before it in the same request (whose rows are written together at the
end): all or nothing, with the same errors (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from neutrino import errors
from neutrino.api.attributes import NETWORK, PORT, SUBNET, parse_create
from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import IpAllocation, JournalEntry, Port
from neutrino.services.context import Context
from neutrino.settings import load_settings

CTX = Context(project_id="bulk", is_admin=False, roles=("member",))


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Neutrino]:
    """Built, never started: no OVN is needed to create ports."""
    neutrino = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": f"unix:{tmp_path}/nb.sock",
        "NEUTRINO_OVN_SB": f"unix:{tmp_path}/sb.sock", "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_QUOTA_PORT": "6"}))
    try:
        yield neutrino
    finally:
        neutrino.db.engine.dispose()


def network(app: Neutrino, cidr: str = "10.7.0.0/24") -> tuple[str, str]:
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "bulk"})])[0]
    (sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net["id"], "ip_version": 4, "cidr": cidr})])
    return net["id"], sub["id"]


def create(app: Neutrino, *bodies: dict) -> list[dict]:
    return app.ports.create(CTX, [parse_create(PORT, body) for body in bodies])


def counts(app: Neutrino) -> tuple[int, int, int]:
    with app.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Port)),
                session.scalar(select(func.count()).select_from(IpAllocation)),
                session.scalar(select(func.count()).select_from(JournalEntry)))


def test_an_address_one_port_of_the_request_took_is_refused_to_a_later_one(app: Neutrino):
    network_id, subnet_id = network(app)
    (auto,) = create(app, {"network_id": network_id})
    before = counts(app)
    given = {"network_id": network_id, "fixed_ips": [{"ip_address": "10.7.0.50"}]}
    with pytest.raises(errors.IpAddressAlreadyAllocated, match="10.7.0.50"):
        create(app, {"network_id": network_id}, given, given)
    assert counts(app) == before  # all or nothing
    # one the database holds is refused too, and addresses picked are never given twice
    taken = auto["fixed_ips"][0]["ip_address"]
    with pytest.raises(errors.IpAddressAlreadyAllocated, match=taken):
        create(app, {"network_id": network_id, "fixed_ips": [{"ip_address": taken}]})
    made = create(app, given, *[{"network_id": network_id}] * 4)
    addresses = [p["fixed_ips"][0]["ip_address"] for p in made] + [taken]
    assert len(set(addresses)) == 6 and addresses[0] == "10.7.0.50"


def test_a_mac_one_port_of_the_request_took_is_refused_to_a_later_one(app: Neutrino):
    network_id, _ = network(app)
    (first,) = create(app, {"network_id": network_id})
    before = counts(app)
    mac = {"network_id": network_id, "mac_address": "fa:16:3e:00:00:01"}
    with pytest.raises(errors.MacAddressInUse):
        create(app, mac, mac)
    with pytest.raises(errors.MacAddressInUse):
        create(app, {"network_id": network_id, "mac_address": first["mac_address"]})
    assert counts(app) == before
    made = create(app, mac, *[{"network_id": network_id}] * 4)
    assert len({p["mac_address"] for p in made} | {first["mac_address"]}) == 6


def test_a_bulk_create_counts_its_own_ports_against_the_quota(app: Neutrino):
    network_id, _ = network(app)  # the limit is 6
    create(app, *[{"network_id": network_id}] * 3)
    before = counts(app)
    with pytest.raises(errors.OverQuota):
        create(app, *[{"network_id": network_id}] * 4)
    assert counts(app) == before
    assert len(create(app, *[{"network_id": network_id}] * 3)) == 3


def test_a_bulk_create_takes_the_last_free_addresses_and_fails_past_them(app: Neutrino):
    network_id, subnet_id = network(app, "10.7.1.0/29")  # pool .2 to .6: five addresses
    before = counts(app)
    with pytest.raises(errors.IpAddressGenerationFailure):
        create(app, *[{"network_id": network_id}] * 6)
    assert counts(app) == before
    # an address named by an earlier port is not picked for a later one
    made = create(app, {"network_id": network_id, "fixed_ips": [{"ip_address": "10.7.1.2"}]},
                  *[{"network_id": network_id}] * 4)
    assert sorted(p["fixed_ips"][0]["ip_address"] for p in made) == [
        f"10.7.1.{n}" for n in range(2, 7)]

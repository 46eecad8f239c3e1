"""Pure parts of address groups and rule templates: address normalisation and a template
turned into a rule body."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.db.models import DefaultSecurityGroupRule
from neutrino.services.address_groups import normalised
from neutrino.services.default_sg_rules import rule_body


def test_addresses_are_normalised_to_networks_without_duplicates() -> None:
    assert normalised(["10.0.0.5/24", "10.0.0.0/24", "2001:DB8::1/64", "192.0.2.1/32"]) == [
        "10.0.0.0/24", "2001:db8::/64", "192.0.2.1/32"]
    assert normalised([]) == []


@pytest.mark.parametrize("address", ["10.0.0.1", "10.0.0.0/33", "10.0.0.0/255.255.255.0",
                                     "", "x", None, 1, True, ["10.0.0.0/8"]])
def test_what_is_no_cidr_is_refused(address: object) -> None:
    with pytest.raises(errors.BadRequest, match="Invalid input for addresses"):
        normalised([address])


def test_addresses_must_be_a_list() -> None:
    with pytest.raises(errors.BadRequest, match="is not a list"):
        normalised("10.0.0.0/8")


def test_a_template_becomes_a_rule_of_the_new_group() -> None:
    template = DefaultSecurityGroupRule(
        id="t", description="from members", direction="ingress", ethertype="IPv6",
        protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix=None,
        remote_group_id="PARENT", remote_address_group_id=None, used_in_default_sg=True,
        used_in_non_default_sg=False)
    assert rule_body(template, "sg-1") == {
        "security_group_id": "sg-1", "description": "from members", "direction": "ingress",
        "ethertype": "IPv6", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
        "remote_ip_prefix": None, "remote_group_id": "sg-1", "remote_address_group_id": None}
    template.remote_group_id = None
    assert rule_body(template, "sg-1")["remote_group_id"] is None

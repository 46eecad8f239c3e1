"""Neutron's DNS name rules (neutron-lib validators, dns_integration's dns_assignment)."""

from __future__ import annotations

import pytest

from neutrino import dns_names as d


@pytest.mark.parametrize("value", ["vm1", "vm-1", "a" * 63, "vm1.example.org.", "vm1.a1"])
def test_valid_names(value: str) -> None:
    d.check_dns_name(value, "openstacklocal.")


@pytest.mark.parametrize(("value", "reason"), [
    ("-vm", "must not start or end with a hyphen"),
    ("vm-", "must not start or end with a hyphen"),
    ("a" * 64, "must be 1-63 characters long"),
    ("vm_1", "must be 1-63 characters long"),
    ("vm..x", "Encountered an empty component"),
    ("vm.123", "TLD '123' must not be all numeric"),
    (".".join(["a" * 60] * 5), "exceeds the 255 character FQDN limit"),
])
def test_invalid_names(value: str, reason: str) -> None:
    with pytest.raises(d.InvalidDnsName, match=reason):
        d.check_dns_name(value, "openstacklocal.")


def test_an_fqdn_must_end_with_the_global_domain() -> None:
    d.check_dns_name("vm1.example.org.", "example.org.")
    with pytest.raises(d.InvalidDnsName, match="must be equal to the dns_domain option"):
        d.check_dns_name("vm1.other.org.", "example.org.")
    with pytest.raises(d.InvalidDnsName, match="one or more valid DNS labels"):
        d.check_dns_name("example.org.", "example.org.")
    d.check_dns_name("vm1.other.org.", "openstacklocal.")  # the default checks the format only


def test_a_pqdn_with_the_domain_must_fit_255() -> None:
    with pytest.raises(d.InvalidDnsName, match="PQDN"):
        d.check_dns_name(".".join(["a" * 60] * 4), "example.org.")


@pytest.mark.parametrize(("value", "reason"), [
    ("example.org", "is not a FQDN"),
    ("-x.org.", "hyphen"),
    ("<project_idx>.org.", "must be 1-63 characters long"),
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61 + ".", "sub-domain"),
])
def test_invalid_domains(value: str, reason: str) -> None:
    with pytest.raises(d.InvalidDnsName, match=reason):
        d.check_dns_domain(value)


def test_domain_keywords_are_labels_and_are_substituted() -> None:
    domain = "<project_id>.<project_name>.<user_id>.<user_name>.example.org."
    d.check_dns_domain(domain)
    values = {"project_id": "p1", "project_name": "demo", "user_id": "u1", "user_name": None}
    assert d.substitute_keywords(domain, values) == "p1.demo.u1.<user_name>.example.org."


def test_assignment() -> None:
    assert [a.as_dict() for a in d.assignment(["10.0.0.5", "fd00::5"], "vm1", "example.org")] == [
        {"hostname": "vm1", "ip_address": "10.0.0.5", "fqdn": "vm1.example.org."},
        {"hostname": "vm1", "ip_address": "fd00::5", "fqdn": "vm1.example.org."}]
    assert d.assignment(["10.0.0.5"], "vm1", "openstacklocal.") == [
        d.Assignment("host-10-0-0-5", "10.0.0.5", "host-10-0-0-5.openstacklocal.")]
    assert d.assignment(["fd00::5"], "", "") == [d.Assignment("host-fd00--5", "fd00::5",
                                                              "host-fd00--5")]

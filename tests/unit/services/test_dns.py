"""A port's published domain: its own dns_domain or its network's, with the keywords filled
in from the caller (Keystone gives names; noauth only ids)."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.db.models import Network, Port
from neutrino.services import dns
from neutrino.services.context import Context

KEYSTONE = Context(project_id="p1", user_id="u1", project_name="demo", user_name="alice")


def _port(**values: str) -> Port:
    return Port(**{"dns_name": "", "dns_domain": "", "dns_current_domain": "", **values})


@pytest.mark.parametrize(("net_domain", "body", "ctx", "published"), [
    ("<project_name>.example.", {"dns_name": "vm"}, KEYSTONE, "demo.example."),
    ("n.example.", {"dns_domain": "<user_name>.<user_id>.example."}, KEYSTONE,
     "alice.u1.example."),
    ("<project_id>.<user_name>.example.", {"dns_name": "vm"}, Context(project_id="p1"),
     "p1.<user_name>.example."),
    ("", {"dns_name": "vm"}, KEYSTONE, ""),
])
def test_published_domain(net_domain, body, ctx, published):
    port = _port()
    assert dns.set_port_names(port, Network(dns_domain=net_domain), ctx, body, "example.org.")
    assert port.dns_current_domain == published


def test_nothing_given_changes_nothing():
    port = _port(dns_name="vm")
    assert not dns.set_port_names(port, Network(dns_domain="x."), KEYSTONE, {"name": "n"},
                                  "example.org.")
    assert port.dns_current_domain == ""


def test_a_bad_name_is_invalid_input():
    with pytest.raises(errors.InvalidInput, match="must be equal to the dns_domain option"):
        dns.set_port_names(_port(), Network(dns_domain=""), KEYSTONE,
                           {"dns_name": "vm.other."}, "example.org.")


def test_keystone_context_carries_the_names_keywords_need():
    from starlette.requests import Request

    from neutrino.api.auth import keystone_context

    headers = [(b"x-project-id", b"p1"), (b"x-project-name", b"demo"), (b"x-user-id", b"u1"),
               (b"x-user-name", b"alice"), (b"x-roles", b"member")]
    ctx = keystone_context(Request({"type": "http", "headers": headers}))
    assert dns.keyword_values(ctx) == {"project_id": "p1", "project_name": "demo",
                                       "user_id": "u1", "user_name": "alice"}

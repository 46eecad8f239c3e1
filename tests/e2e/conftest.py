"""One real Keystone and one `neutrino serve` in keystone mode, shared by the Keystone tests.

Projects alpha, beta and service; users a_member and a_reader (alpha), b_member (beta), the
service user neutrino, and Keystone's bootstrap admin. Starting Keystone takes most of a
minute, so every Keystone test module shares this one (each test creates what it uses).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest
from keystone_tools import PASSWORD, TOKEN_CACHE_SECONDS, Keystone, start_keystone
from serve_tools import free_port, start_serve, stop_serve, throwaway_ovn

from neutrino.ovn.local import LocalOvn


@dataclass
class World:
    keystone: Keystone
    url: str  # neutrino
    tokens: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        headers = {"X-Auth-Token": self.tokens[who]} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    # Its own OVN: this server outlives its modules, and its maintenance would take other
    # servers' rows in a shared NB for stale ones.
    with throwaway_ovn("nko") as ovn:
        yield from _world(ovn)


def _world(ovn: LocalOvn) -> Iterator[World]:
    directory = Path(tempfile.mkdtemp(prefix="nks", dir="/tmp"))
    keystone = start_keystone(directory, free_port())
    try:
        for project in ("alpha", "beta", "service"):
            keystone.projects[project] = keystone.create(
                "projects", {"name": project, "domain_id": "default"})
        keystone.user("neutrino", "service", "admin")
        keystone.user("a_member", "alpha", "member")
        keystone.user("a_reader", "alpha", "reader")
        keystone.user("b_member", "beta", "member")
        url, proc = start_serve(ovn, directory / "neutrino", **keystone_env(keystone))
        try:
            _register_endpoint(keystone, url)
            tokens = {"admin": keystone.admin(),
                      **{u: keystone.token(u, p) for u, p in (
                          ("a_member", "alpha"), ("a_reader", "alpha"), ("b_member", "beta"))}}
            yield World(keystone, url, tokens)
        finally:
            stop_serve(proc)
    finally:
        keystone.process.terminate()
        keystone.process.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)


def keystone_env(keystone: Keystone) -> dict[str, str]:
    return {
        "NEUTRINO_AUTH": "keystone", "NEUTRINO_STARTUP_SYNC": "off",
        "NEUTRINO_KEYSTONE_AUTH_TYPE": "password",
        "NEUTRINO_KEYSTONE_AUTH_URL": keystone.url,
        "NEUTRINO_KEYSTONE_WWW_AUTHENTICATE_URI": keystone.url,
        "NEUTRINO_KEYSTONE_USERNAME": "neutrino", "NEUTRINO_KEYSTONE_PASSWORD": PASSWORD,
        "NEUTRINO_KEYSTONE_PROJECT_NAME": "service",
        "NEUTRINO_KEYSTONE_USER_DOMAIN_NAME": "Default",
        "NEUTRINO_KEYSTONE_PROJECT_DOMAIN_NAME": "Default",
        "NEUTRINO_KEYSTONE_INTERFACE": "public",  # the only endpoint bootstrap made
        "NEUTRINO_KEYSTONE_TOKEN_CACHE_TIME": str(TOKEN_CACHE_SECONDS),
    }


def _register_endpoint(keystone: Keystone, url: str) -> None:
    service = keystone.create("services", {"type": "network", "name": "neutron"})
    keystone.create("endpoints", {"service_id": service, "interface": "public", "url": url,
                                  "region_id": "RegionOne"})

"""Fixtures for functional tests, which run against a real local OVN."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture()
def neutrino(local_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    """A started neutrino (fresh SQLite database, journal worker running) on the session OVN."""
    settings = load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path),
        "NEUTRINO_OVN_NB": local_ovn.nb,
        "NEUTRINO_OVN_SB": local_ovn.sb,
        "NEUTRINO_DNS_SERVERS": "192.0.2.53,2001:db8::53",
        # the session NB is shared by many tests' databases: a start-up sync is meaningless
        "NEUTRINO_STARTUP_SYNC": "off",
    })
    app = build(settings)
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture()
def api(neutrino: Neutrino) -> Iterator[TestClient]:
    with TestClient(neutrino.app) as client:
        yield client


@pytest.fixture()
def private_app(private_ovn: LocalOvn, tmp_path: Path) -> Iterator[Neutrino]:
    """A started neutrino (fresh SQLite database) on the test's own OVN, connected to NB."""
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(tmp_path), "NEUTRINO_OVN_NB": private_ovn.nb,
        "NEUTRINO_OVN_SB": private_ovn.sb, "NEUTRINO_STARTUP_SYNC": "off",
        # few attempts, so that a test sees an entry fail without waiting out five backoffs
        "NEUTRINO_JOURNAL_MAX_ATTEMPTS": "2",
        # what a test breaks in NB is found by its own sync, not by a drift audit racing it
        "NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0"}))
    app.start()
    try:
        wait_for(lambda: app.nb.connected, 20, "NB connection")
        yield app
    finally:
        app.stop()


@pytest.fixture()
def cluster_ovn() -> Iterator[LocalOvn]:
    """NB and SB as 3-member RAFT clusters (and northd) of the test's own, stopped after."""
    directory = Path(tempfile.mkdtemp(prefix="ncl", dir="/tmp"))
    try:
        yield local.up(directory, cluster=3)
    finally:
        local.down(directory)
        shutil.rmtree(directory, ignore_errors=True)

"""Fixtures for real-packet tests: a real OVN, neutrino, and the lab hypervisor (OVS with the
userspace datapath, ovn-controller, namespaces as VMs), all removed afterwards."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_cloud import LabCloud
from serve_tools import throwaway_ovn
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.bootstrap import Neutrino, build
from neutrino.lab import hypervisor, vm
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    lab_dir = Path(tempfile.mkdtemp(prefix="nlab", dir="/tmp"))
    with throwaway_ovn("nlo") as ovn:
        app = _neutrino(ovn, tmp_path_factory.mktemp("labdb"))
        try:
            lab = hypervisor.up(lab_dir, ovn.sb)
            wait_for(lambda: any(c.name == lab.chassis for c in app.sb.chassis()), 30,
                     "lab chassis in SB")
            with TestClient(app.app) as api:
                yield LabCloud(app, api, lab)
        finally:
            with contextlib.suppress(Exception):  # the lab may not have come up at all
                vm.unplug_all(hypervisor.load(lab_dir))
            hypervisor.down(lab_dir)
            app.stop()
            shutil.rmtree(lab_dir, ignore_errors=True)


def _neutrino(ovn: LocalOvn, state: Path) -> Neutrino:
    app = build(load_settings({"NEUTRINO_STATE_DIR": str(state), "NEUTRINO_OVN_NB": ovn.nb,
                               "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off"}))
    app.start()
    wait_for(lambda: app.nb.connected, 20, "NB connection")
    return app


@pytest.fixture()
def vms(cloud: LabCloud) -> Iterator[list[vm.Vm]]:
    """The test's VMs, unplugged after the test even when it fails."""
    booted: list[vm.Vm] = []
    yield booted
    for machine in booted:
        vm.unplug(cloud.lab, machine.port_id)


@pytest.fixture()
def servers() -> Iterator[list]:
    """TCP servers the test starts in namespaces, stopped afterwards even when it fails."""
    started: list = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)

"""Fixtures for real-packet tests: a real OVN, neutrino, and the lab hypervisor (OVS with the
userspace datapath, ovn-controller, namespaces as VMs), all removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lab_cloud import LabCloud, lab_cloud

from neutrino.lab import vm


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCloud]:
    with lab_cloud(tmp_path_factory.mktemp("labdb")) as running:
        yield running


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

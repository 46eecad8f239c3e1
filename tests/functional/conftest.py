"""Fixtures for functional tests, which run against a real local OVN."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from neutrino.ovn.local import LocalOvn, down, up


@pytest.fixture(scope="session")
def local_ovn() -> Iterator[LocalOvn]:
    """One NB/SB/northd for the whole session, torn down at the end."""
    # Not tmp_path_factory: its paths can push the unix sockets past the ~107-byte limit.
    directory = Path(tempfile.mkdtemp(prefix="nov", dir="/tmp"))
    try:
        yield up(directory)
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)

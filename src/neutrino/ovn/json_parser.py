"""python-ovs's C JSON parser, for every OVSDB connection neutrino makes.

python-ovs reads each OVSDB message with a JSON parser of its own. Its pure-Python parser
walks the text one character at a time: it was about half of the NB connection thread's CPU
while ports were created, and a 1,000-port message took 200 ms to read instead of 15 ms. The
`ovs` wheel on PyPI ships without the C parser (`ovs._json`, which links libopenvswitch),
while Debian's python3-openvswitch ships it built for the system's Python. Both parsers take
the same text and give the same values, so the one built by Debian is loaded for the `ovs`
in neutrino's environment when the interpreter's ABI matches; otherwise nothing changes.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

import ovs
import ovs.json

LOG = logging.getLogger(__name__)
MODULE = "ovs._json"
# Where Debian's python3-openvswitch installs the extension
SYSTEM_DIRS = ("/usr/lib/python3/dist-packages/ovs",)


def use_c_parser(dirs: Sequence[str] = SYSTEM_DIRS) -> str:
    """Make python-ovs parse with the C parser when one can be loaded; returns the parser in
    use, "C" or "PYTHON" (python-ovs's own names)."""
    if ovs.json.PARSER == ovs.json.PARSER_C:
        return ovs.json.PARSER
    module = _load_extension(dirs)
    if module is not None:
        sys.modules[MODULE] = module
        ovs._json = module  # type: ignore[attr-defined]
        # python-ovs picks its parser when ovs.json is imported; a parser is made for each
        # connection, so every connection opened from now on reads with this one
        importlib.reload(ovs.json)
    else:
        LOG.info("python-ovs parses OVSDB messages in Python: no C parser for this "
                 "interpreter in %s", ", ".join(dirs))
    return ovs.json.PARSER


def _load_extension(dirs: Sequence[str]) -> ModuleType | None:
    for directory in dirs:
        # only this interpreter's ABI: another one's build would not load, or crash
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(directory, "_json" + suffix)
            if not os.path.exists(path):
                continue
            try:
                spec = importlib.util.spec_from_file_location(MODULE, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            except (ImportError, OSError) as exc:
                LOG.info("python-ovs's C parser %s does not load: %s", path, exc)
                continue
            if hasattr(module, "Parser"):
                return module
    return None

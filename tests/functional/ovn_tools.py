"""Helpers for functional tests against a local OVN: ovn-nbctl/ovn-sbctl, waits and ovn-trace.

How traces are read
-------------------
`trace` runs ``ovn-trace --summary --minimal --no-friendly-names DATAPATH MICROFLOW``.
With two formats requested, ovn-trace (23.03) prints::

    # ip,reg14=0x1,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:01,...   <- the microflow, parsed
    # Summary trace.
    ingress(dp="...", inport="p1") {
        reg0[15] = check_in_port_sec();
        next;
        outport = "p2";
        output;
        egress(dp="...", inport="p1", outport="p2") {
            ...
            /* output to "p2", type "" */;
        };
    };
    # Minimal trace.
    output("p2");

The summary section is the readable path (it shows where a packet meets ``drop;``) and is
there for assertion messages. The minimal section holds only what is visible outside OVN:
header rewrites (``ip.ttl--;``, ``eth.src = ...;``) and one ``output("PORT");`` line per
logical port the packet leaves through. Hops across router/patch ports are traced into the
peer datapath and never produce an ``output(...)`` line, so the set of ``output("...")``
names is exactly the set of ports the packet is delivered to; a dropped packet has none
(its minimal section is empty). In the summary and detailed formats every hop shows as
``/* output to "PORT", type "TYPE" */``; there only ports of a type other than "patch"
are deliveries, because ovn-trace follows peers of patch ports only.

``--no-friendly-names`` matters: by default ovn-trace shortens names ending in a UUID to
their first six characters (``output("3f1c2b")``), and Neutron port names are UUIDs.

Beware: ovn-trace reports an unknown datapath or a microflow syntax error on stdout with
exit status 0 (``unknown datapath "x"`` / ``error parsing flow: ...``); `trace` turns those
into exceptions. An inport naming no port makes ovn-trace abort (non-zero status).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from neutrino.ovn.local import LocalOvn

TIMEOUT = 10  # seconds; passed to ovn-nbctl/ovn-sbctl --timeout

_MINIMAL_MARK = "# Minimal trace.\n"
_MINIMAL_OUTPUT = re.compile(r'^\s*output\("([^"]*)"\);$', re.MULTILINE)
_OUTPUT_COMMENT = re.compile(r'/\* output to "([^"]*)", type "([^"]*)" \*/')


def run(*argv: str) -> str:
    """Run a command and return its stdout; on failure the error carries stderr."""
    try:
        done = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)
    except subprocess.CalledProcessError as e:
        raise AssertionError(
            f"{' '.join(argv)} exited with {e.returncode}\nstdout: {e.stdout}\nstderr: {e.stderr}"
        ) from e
    return done.stdout


def nbctl(ovn: LocalOvn, *args: str) -> str:
    return run("ovn-nbctl", f"--db={ovn.nb}", f"--timeout={TIMEOUT}", *args)


def sbctl(ovn: LocalOvn, *args: str) -> str:
    return run("ovn-sbctl", f"--db={ovn.sb}", f"--timeout={TIMEOUT}", *args)


def wait_sb_synced(ovn: LocalOvn, timeout: int = TIMEOUT) -> None:
    """Block until ovn-northd has translated the current NB contents into the SB.

    ``--wait=sb`` bumps NB_Global.nb_cfg and waits for northd to copy it to sb_cfg, which it
    does only after writing the matching SB changes. Without a running northd this times out
    (ovn-nbctl dies of SIGALRM), which `run` reports as an AssertionError.
    """
    run("ovn-nbctl", f"--db={ovn.nb}", f"--timeout={timeout}", "--wait=sb", "sync")


def trace(ovn: LocalOvn, datapath: str, microflow: str, ct: tuple[str, ...] = (),
          lb_dst: str | None = None) -> str:
    """Trace `microflow` entering `datapath` (a logical switch/router name); see module doc.

    `ct` sets what each successive `ct_next` reports (``--ct``); ovn-trace's default is
    "trk,est", under which stateful ACLs let everything through as an established flow, so
    tests of security groups pass ``ct=("new", "new")`` for a new connection. `lb_dst`
    (``--lb-dst``) is the backend a load balancer's `ct_lb` picks.
    """
    output = run(
        "ovn-trace",
        f"--db={ovn.sb}",
        "--summary",
        "--minimal",
        "--no-friendly-names",
        *(f"--ct={flags}" for flags in ct),
        *([f"--lb-dst={lb_dst}"] if lb_dst else []),
        datapath,
        microflow,
    )
    if not output.startswith("# "):
        raise ValueError(f"ovn-trace rejected {datapath!r} {microflow!r}: {output.strip()}")
    return output


@dataclass(frozen=True)
class TraceOutcome:
    """What happened to a traced packet, from the outside."""

    delivered: frozenset[str]
    errors: tuple[str, ...]  # "*** ..." lines: things ovn-trace could not simulate

    @property
    def dropped(self) -> bool:
        return not self.delivered

    def reaches(self, port: str) -> bool:
        return port in self.delivered


def delivered_to(output: str) -> set[str]:
    """Logical ports a traced packet leaves OVN through; empty when it is dropped."""
    if _MINIMAL_MARK in output:
        return set(_MINIMAL_OUTPUT.findall(output.split(_MINIMAL_MARK, 1)[1]))
    if "/* output to " in output:  # summary or detailed format only
        return {port for port, kind in _OUTPUT_COMMENT.findall(output) if kind != "patch"}
    return set(_MINIMAL_OUTPUT.findall(output))  # --minimal alone


def trace_outcome(output: str) -> TraceOutcome:
    # An error shows in every requested format; keep each message once, in order.
    errors = tuple(dict.fromkeys(line.strip() for line in output.splitlines() if "*** " in line))
    return TraceOutcome(delivered=frozenset(delivered_to(output)), errors=errors)

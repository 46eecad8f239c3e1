"""The `neutrino` command: local OVN, the service, the database."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import os
import signal
import sys
from pathlib import Path

from neutrino.journal.types import ResourceType
from neutrino.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"neutrino: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neutrino", description=__doc__)
    sub = parser.add_subparsers(required=True)

    ovn = sub.add_parser("ovn", help="a local OVN (NB, SB, northd) for development and tests")
    ovn.add_argument("action", choices=("up", "down", "status"))
    ovn.add_argument("--dir", type=Path, help="state directory (default: <state dir>/ovn)")
    ovn.add_argument("--cluster", type=int, metavar="N",
                     help="with up: NB and SB as RAFT clusters of N members on loopback "
                          "(a directory keeps the shape it was created with)")
    ovn.set_defaults(func=_ovn)

    serve = sub.add_parser("serve", help="serve the Neutron API and run the journal workers")
    serve.add_argument("--local-ovn", action="store_true",
                       help="run a local OVN in the state directory while serving")
    serve.set_defaults(func=_serve)

    # started by `serve` (NEUTRINO_JOURNAL_PROCESS=separate), with the two channels it opened
    child = sub.add_parser("journal-process", help=argparse.SUPPRESS)
    child.add_argument("--wake-fd", type=int, required=True)
    child.add_argument("--control-fd", type=int, required=True)
    child.set_defaults(func=_journal_process)

    sync = sub.add_parser("sync", help="compare the database with OVN NB, and repair")
    sync.add_argument("--mode", choices=("log", "repair"), default="log")
    sync.add_argument("--resource-type", action="append", dest="types",
                      choices=[t.value for t in ResourceType],
                      help="limit to these resource types (repeatable)")
    sync.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sync.add_argument("--owed-after", type=float, metavar="SECONDS",
                      help="report resources the journal has owed for longer than this "
                           "(default NEUTRINO_SYNC_OWED_SECONDS, 300)")
    sync.set_defaults(func=_sync)

    journal = sub.add_parser("journal", help="inspect and retry journal entries")
    jsub = journal.add_subparsers(required=True, dest="journal_action")
    jsub.add_parser("status", help="counts per state, oldest pending age, worker leases")
    jlist = jsub.add_parser("list", help="entries, oldest first")
    jlist.add_argument("--state", choices=("pending", "processing", "completed", "failed"))
    jlist.add_argument("--resource-type")
    jlist.add_argument("--limit", type=int, default=100)
    jretry = jsub.add_parser("retry", help="failed entries back to pending")
    jretry.add_argument("seq", type=int, nargs="*", help="entry numbers")
    jretry.add_argument("--all-failed", action="store_true")
    journal.set_defaults(func=_journal)

    router = sub.add_parser("router", help="routers' gateway scheduling")
    router.add_argument("action", choices=("list-gateways",))
    router.set_defaults(func=_router)

    lab = sub.add_parser("lab", help="a hypervisor on this machine: OVS (userspace datapath), "
                                     "ovn-controller, and namespaces as VMs")
    lab.add_argument("action", choices=("up", "down", "status", "vm", "vm-rm"))
    lab.add_argument("port", nargs="?", help="with vm / vm-rm: the Neutron port id")
    lab.add_argument("--dir", type=Path, help="lab directory (default: <state dir>/lab)")
    lab.add_argument("--hypervisors", type=int, choices=(1, 2), default=1,
                     help="with up: 2 adds a second chassis, reached through Geneve")
    lab.add_argument("--on", type=int, choices=(1, 2), default=1,
                     help="with vm / vm-rm: the chassis (1 or 2) the VM is on")
    lab.add_argument("--url", help="neutrino's API, for vm (default: http://NEUTRINO_BIND); "
                                   "a token in OS_TOKEN is sent when set")
    lab.set_defaults(func=_lab)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=("upgrade",))
    db.set_defaults(func=_db)
    return parser


def _ovn(args: argparse.Namespace) -> int:
    from neutrino.ovn import local, local_cluster

    directory = args.dir or load_settings().ovn_dir
    if args.cluster is not None and (args.action != "up" or args.cluster < 1):
        print("neutrino: --cluster N (N >= 1) goes with up", file=sys.stderr)
        return 2
    if args.action == "up":
        try:
            ovn = local.up(directory, args.cluster)
        except local_cluster.ClusterMismatch as exc:
            print(f"neutrino: {exc}", file=sys.stderr)
            return 2
        print(json.dumps({"nb": ovn.nb, "sb": ovn.sb, "dir": str(ovn.directory)}))
    elif args.action == "down":
        print(json.dumps({"stopped": local.down(directory)}))
    else:
        state = local.status(directory)
        strings = local.connection_strings(directory)
        report = {"running": state, "nb": strings.nb, "sb": strings.sb}
        members = local_cluster.roles(strings.directory)
        if members or local_cluster.load_layout(strings.directory):
            report["members"] = members
        print(json.dumps(report))
        return 0 if all(state.values()) else 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    # Start-up makes some 110,000 objects that live as long as the process, nearly all of
    # them importing neutrino: the collector's passes over them cost a tenth of a second of
    # a start's CPU and free almost nothing (about a thousand objects). Held until they are
    # frozen, as Python's documentation advises for a process that forks (`gc.freeze`).
    gc.disable()
    settings = load_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)

    started: tuple[str, ...] = ()
    if args.local_ovn:
        from neutrino.ovn import local

        ovn = local.up(settings.ovn_dir)
        started = ovn.started
        logging.getLogger("neutrino").info("local OVN: NB %s, SB %s", ovn.nb, ovn.sb)
        # the local OVN's own strings (every member, when `ovn up --cluster` made it), unless
        # NEUTRINO_OVN_NB / _SB name others
        settings = dataclasses.replace(
            settings, ovn_nb=os.environ.get("NEUTRINO_OVN_NB", ovn.nb),
            ovn_sb=os.environ.get("NEUTRINO_OVN_SB", ovn.sb))
    from neutrino.bootstrap import build, freeze_start_up_objects
    from neutrino.db.migrate import upgrade_apart
    from neutrino.server import serve

    upgrade_apart(settings.db_url)  # before the journal process, which finds it migrated
    journal_process = None
    if settings.journal.process == "separate":
        from neutrino.journal_process import JournalProcess

        # forked now, with everything imported and no thread running: it imports nothing
        # again, and builds once we migrated the database
        journal_process = JournalProcess(dict(os.environ, NEUTRINO_OVN_NB=settings.ovn_nb,
                                              NEUTRINO_OVN_SB=settings.ovn_sb))
        freeze_start_up_objects(collect=False)  # the child starts the collector once built
        journal_process.spawn(fork=True)
    try:
        app = build(settings, migrate=False,  # upgrade_apart did
                    role="all" if journal_process is None else "api",
                    journal_process=journal_process)
    except BaseException:
        if journal_process is not None:
            journal_process.stop()
        raise
    if journal_process is not None:
        journal_process.go()
    app.start()
    freeze_start_up_objects()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        serve(app.app, settings.host, settings.port, settings.http)
    finally:
        app.stop()
        # What this serve started, it stops: never an OVN another process is using.
        for component in reversed(started):
            local.stop(settings.ovn_dir, component)  # imported with --local-ovn
    return 0


def _journal_process(args: argparse.Namespace) -> int:
    gc.disable()  # as `serve`: until built (`freeze_start_up_objects`)
    from neutrino.journal_process import run

    return run(args.wake_fd, args.control_fd)


def _sync(args: argparse.Namespace) -> int:
    from rich.console import Console

    from neutrino.bootstrap import SYNC_OVSDB_TIMEOUT, build
    from neutrino.sync import render
    from neutrino.sync.runner import ORDER

    app = build(load_settings(), ovsdb_timeout=SYNC_OVSDB_TIMEOUT)
    if args.owed_after is not None:
        app.sync.owed_after = args.owed_after
    types = [t for t in ORDER if not args.types or t.value in args.types]
    console = Console(stderr=args.json)
    try:
        app.nb.connect()
        if args.mode == "repair":
            with render.progress_bar(console) as progress:
                report = app.sync.repair(types, progress)
        else:
            report = app.sync.compare(types)
    finally:
        app.nb.close()
    if args.json:
        print(render.as_json(report))
    else:
        render.print_table(report, console)
    return 1 if args.mode == "log" and (report.differences or report.owed) else 0


def _journal(args: argparse.Namespace) -> int:
    from neutrino.db.engine import Database, make_engine
    from neutrino.journal import admin

    settings = load_settings()
    db = Database(make_engine(settings.db_url))
    if args.journal_action == "status":
        print(json.dumps(admin.status(db, settings.journal.backoff_max).as_dict(), indent=2))
    elif args.journal_action == "list":
        print(json.dumps(admin.list_entries(db, args.state, args.resource_type, args.limit),
                         indent=2))
    else:
        if not args.seq and not args.all_failed:
            print("neutrino: name entries to retry, or --all-failed", file=sys.stderr)
            return 2
        print(json.dumps({"retried": admin.retry(db, None if args.all_failed else args.seq)}))
    return 0


def _router(args: argparse.Namespace) -> int:
    from neutrino.bootstrap import build

    app = build(load_settings())
    print(json.dumps(app.routers.list_gateways(), indent=2))
    return 0


def _lab(args: argparse.Namespace) -> int:
    from neutrino.lab import commands

    settings = load_settings()
    directory = args.dir or settings.state_dir / "lab"
    url = args.url or f"http://{settings.bind}"
    if args.action in ("vm", "vm-rm") and not args.port:
        print(f"neutrino: lab {args.action} needs a port id", file=sys.stderr)
        return 2
    result, code = commands.run(args.action, directory, settings.ovn_sb, url, args.port,
                                hypervisors=args.hypervisors, on=args.on)
    print(json.dumps(result, indent=2))
    return code


def _db(args: argparse.Namespace) -> int:
    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import upgrade

    settings = load_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    upgrade(make_engine(settings.db_url))
    print("database upgraded to head")
    return 0


if __name__ == "__main__":
    sys.exit(main())

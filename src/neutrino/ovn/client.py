"""The only module that speaks OVSDB: reads NB rows, plans and applies changes via ovsdbapp.

Everything that touches the IDL runs inside an ovsdbapp command, on the connection's own
thread, so a plan is computed from a consistent view and re-computed if the server answers
"try again" (for example after a concurrent change to a row we verified).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from ovs import poller as ovs_poller
from ovs.db import data as ovs_data
from ovs.db import idl as ovs_idl
from ovsdbapp import exceptions as ovsdbapp_exc
from ovsdbapp.backend import ovs_idl as ovsdbapp_idl
from ovsdbapp.backend.ovs_idl import command, connection, idlutils
from ovsdbapp.backend.ovs_idl import transaction as ovsdbapp_txn

from neutrino import errors
from neutrino.agents import ChassisFacts, SouthboundView
from neutrino.ovn import json_parser, lean_updates, lookups
from neutrino.ovn import naming as n
from neutrino.ovn import row_diff as row_diff_module
from neutrino.ovn import values as row_values
from neutrino.ovn.changes import ChangeLog
from neutrino.ovn.cluster import ClusterView, MemberWatch, cluster_view
from neutrino.ovn.plan import plan_changes
from neutrino.ovn.rows import (
    ActualRow,
    AddMember,
    Delete,
    DesiredState,
    Insert,
    Membership,
    ParentLink,
    Plan,
    RemoveMember,
    RowKey,
    Update,
)
from neutrino.ovn.storable import state_problem
from neutrino.scheduling import Chassis, parse_cms_options, parse_physnets

LOG = logging.getLogger(__name__)
# every OVSDB connection of the process reads its messages with python-ovs's C parser
# when one can be loaded (see json_parser)
JSON_PARSER = json_parser.use_c_parser()
SCHEMA = "OVN_Northbound"
# Non-root tables: where their rows are referenced from, and the external_ids key (if any)
# that names the parent.
PARENTS: dict[str, tuple[str, str, str | None]] = {
    n.LSP: (n.LS, "ports", n.NETWORK_NAME),
    n.ACL: (n.PG, "acls", None),
    n.LRP: (n.LR, "ports", n.ROUTER_NAME),
    n.ROUTE: (n.LR, "static_routes", None),
    n.NAT: (n.LR, "nat", None),
    n.POLICY: (n.LR, "policies", None),
    n.QOS: (n.LS, "qos_rules", None),
    n.HA_CHASSIS: (n.HA_GROUP, "ha_chassis", None),
}
# How a child row found under an owned parent is named, when it is ours at all.
IDENTITY_KEYS: dict[str, str] = {n.ROUTE: n.ROUTE_KEY, n.NAT: n.SNAT_KEY,
                                 n.POLICY: n.SFC_POLICY_KEY, n.HA_CHASSIS: n.HA_KEY}
# Weak sets neutrino manages membership of: child table → (set table, column).
MEMBER_SETS = {n.LSP: (n.PG, "ports"), n.DNS: (n.LS, "dns_records"),
               n.LB: (n.LR, "load_balancer")}
# Map-key lookups that must pass over rows carrying a second key: a port's own DHCP_Options
# row repeats its subnet's `subnet_id` but is not the subnet's row.
SHADOWED_BY = {(n.DHCP, n.DHCP_SUBNET_ID): n.DHCP_PORT_ID}
# A key several rows share finds the newest of them, except these: the oldest, as ovsdbapp's
# name index answered for switches (port, port group... names are unique in NB's schema).
OLDEST_FIRST = {(n.LS, "name")}

PortUpCallback = Callable[[str, bool], None]
ChassisCallback = Callable[[], None]
# What in a Chassis row changes where gateways may go: its ovn-cms-options live in these.
CHASSIS_CONFIG_COLUMNS = ("other_config", "external_ids")


# ovsdb-server drops the connection of a client that sends what it cannot parse, and the
# IDL then retries the transaction. A drop while our transaction is in flight, followed by a
# successful reconnect and the same drop again, is the transaction's fault, not an outage.
DROPS_BEFORE_REFUSAL = 2
RECONNECT_BACKOFF_MS = 1000  # between tries to reach a database (or its cluster's members)


class OvsdbFailure(errors.NeutrinoError):
    """The server refused a transaction (constraint or referential error)."""


class TransactionRefused(OvsdbFailure):
    """The server answered our transaction with an error, or dropped us for sending it."""


class UnstorableValue(OvsdbFailure):
    """A desired row holds a value OVSDB cannot store; found before anything was sent."""


class TransactionTimedOut(errors.BackendUnavailable):
    """No answer in time while the server never said no: treated as an outage."""


class _Transaction(ovsdbapp_txn.Transaction):
    """ovsdbapp's transaction, failing with an error that says what happened.

    ovsdbapp reports a refusal and a timeout alike as RuntimeError, and retries a
    transaction whose connection was dropped until its timeout, so a transaction that makes
    the server drop the connection looks like an outage. Here each outcome has its type.
    """

    def do_commit(self) -> list[Any] | None:
        if not self.commands:
            return []
        deadline = time.monotonic() + self.timeout
        nb_idl, drops = self.api.idl, 0
        while True:
            change_seqno, session_seqno = nb_idl.change_seqno, nb_idl._session.get_seqno()
            sent_while_connected = nb_idl._session.is_connected() and \
                nb_idl.state == nb_idl.IDL_S_MONITORING
            txn = ovs_idl.Transaction(nb_idl)
            try:
                for cmd in self.commands:
                    cmd.run_idl(txn)
            except Exception:
                txn.abort()
                raise
            status = txn.commit_block()
            if status in (txn.SUCCESS, txn.UNCHANGED):
                self.post_commit(txn)
                return [cmd.result for cmd in self.commands]
            if status == txn.ABORTED:
                return None
            if status == txn.ERROR:
                raise TransactionRefused(f"OVSDB refused the transaction: {txn.get_error()}")
            if status == txn.NOT_LOCKED:
                raise errors.BackendUnavailable("OVSDB lock not held")
            if sent_while_connected and nb_idl._session.get_seqno() != session_seqno:
                drops += 1
                if drops >= DROPS_BEFORE_REFUSAL:
                    raise TransactionRefused(
                        f"OVSDB dropped the connection {drops} times while this transaction "
                        "was in flight: it sends something the server cannot accept")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransactionTimedOut(f"no answer within {self.timeout}s")
            idlutils.wait_for_change(nb_idl, remaining, change_seqno)


class _WatchedIdl(connection.OvsdbIdl):
    """The IDL, telling its watch which member it monitors after each run of its loop."""

    watch: MemberWatch | None = None

    def __init__(self, remote: str, schema_helper: Any, **kwargs: Any) -> None:
        super().__init__(remote, schema_helper, **kwargs)
        # python-ovs backs off up to 8 s between tries. While a cluster elects a new leader
        # every member refuses us for a second or two, which made finding the new leader
        # take up to 15 s; and a database back after an outage waited as long for us, with
        # the journal's backlog behind it. Retry every second instead (its floor).
        self._session.reconnect.set_backoff(RECONNECT_BACKOFF_MS, RECONNECT_BACKOFF_MS)
        self._atoms = lean_updates.AtomPool()

    # python-ovs's private steps, in the order an update goes through them; what they must
    # keep doing is in tests/functional/test_nb_row_diff.py and test_nb_lean_updates.py

    def _Idl__do_parse_update(self, table_updates: Any, version: Any,  # noqa: N802
                              tables: Any) -> None:
        """A large update (a connect's first copy of NB) is read a chunk of rows at a time
        (`lean_updates`)."""
        parse = super()._Idl__do_parse_update
        if lean_updates.update_rows(table_updates) <= lean_updates.LARGE_UPDATE_ROWS:
            parse(table_updates, version, tables)
        else:
            lean_updates.parse_consuming(parse, self, table_updates, version, tables)

    def _Idl__row_update(self, table: Any, row: Any, row_json: dict[str, Any]  # noqa: N802
                         ) -> bool:
        """A new row (or a whole one, in the first monitor protocol), with shared atoms."""
        changed = super()._Idl__row_update(table, row, row_json)
        self._atoms.share_row(row, row_json)
        return changed

    def _Idl__apply_diff(self, table: Any, row: Any, row_diff: dict[str, Any]  # noqa: N802
                         ) -> dict[str, ovs_data.Datum]:
        """python-ovs's private step for a "modify", at the cost of the diff (`row_diff`)."""
        return row_diff_module.apply_diff(table, row, row_diff, self._atoms)

    def cooperative_yield(self) -> None:
        """Nothing: ovsdbapp's IDL sleeps (gives up the GIL) after every row of an update,
        for green threads. Neutrino's threads are preempted anyway, and in a busy process
        each of those sleeps waited for the GIL again: an update of a few rows, and the
        reply to our transaction behind it, took several switch intervals to read."""

    def run(self) -> bool:
        loading = self.state != self.IDL_S_MONITORING
        changed = super().run()
        monitoring = self.state == self.IDL_S_MONITORING
        if loading and monitoring:
            # the copy of the database (first, or again after a reconnect) is in: what its
            # JSON left with the C allocator goes back now, once. Not after every large
            # update: a trim walks the whole heap (90 ms at 1 GB), and the IDL's thread
            # would make the answer to our own transaction wait for it.
            lean_updates.release_freed_memory()
        if self.watch is not None and monitoring and self._session.is_connected():
            self.watch.observe(self._session.get_name())
        return changed


class _NbIdl(_WatchedIdl):
    """The IDL, with hooks that report switch-port `up` changes made by ovn-northd and
    which resources' rows changed (for the drift audit)."""

    on_port_up: PortUpCallback | None = None
    changes: ChangeLog | None = None
    _session_seqno: int | None = None

    def run(self) -> bool:
        changed = super().run()
        seqno = self._session.get_seqno()  # moves on every connect and disconnect
        if self.changes is not None and seqno != self._session_seqno:
            self.changes.invalidate()  # NB may have changed while nobody watched
        self._session_seqno = seqno
        return changed

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        if self.changes is not None:
            self.changes.record_row(row._table.name, event, row, updates)
        if self.on_port_up is None or row._table.name != n.LSP:
            return
        if event == "delete":
            return
        if event == "create" or row_values.has(updates, "up"):
            up = row_values.column(row, "up")
            if not up and event == "create":
                # Not judged by ovn-northd yet (our own insert, or a port found so at a
                # connect): northd's `up` follows as an update, reported then. A report
                # now costs a status read for nothing (a new port is DOWN already), or
                # flips an ACTIVE port whose switch port was recreated to DOWN before
                # northd finds it up again.
                return
            self.on_port_up(row_values.column(row, "name"), bool(up and up[0]))


class _SbIdl(_WatchedIdl):
    """The IDL, with a hook that reports changes of the chassis set gateways depend on.

    A chassis deleted (Chassis or Chassis_Private), a chassis registering, and a chassis's
    configuration changing (it may have dropped `enable-chassis-as-gw`) are reported; the
    frequent Chassis_Private updates of live controllers acknowledging nb_cfg are not. The
    hook runs on the IDL's thread, before the change is visible to reads: it must only
    signal (a read it queues runs after this update is applied).
    """

    on_chassis_change: ChassisCallback | None = None

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        if self.on_chassis_change is None:
            return
        if gateway_relevant(row._table.name, event, updates):
            self.on_chassis_change()


def gateway_relevant(table: str, event: str, updates: Any = None) -> bool:
    """Whether an SB change may move a gateway: a chassis gone or new, or its configuration
    (ovn-cms-options) changed; not a live controller's nb_cfg acknowledgement."""
    if event == "delete":
        return table in ("Chassis", "Chassis_Private")
    if table != "Chassis":
        return False
    return event == "create" or \
        any(row_values.has(updates, c) for c in CHASSIS_CONFIG_COLUMNS)


def initial_copy(db_idl: ovs_idl.Idl, connect_timeout: float, download_timeout: float) -> None:
    """Run the IDL until it holds its first copy of the database.

    Reaching the server gets `connect_timeout`, as any operation does; receiving the copy,
    once connected, gets `download_timeout`: a large NB arrives as one message that this
    ovs package parses in pure Python (about 15 s for 10,000 ports on a busy machine),
    and a copy given up on is downloaded again from the start at the next try, so a short
    limit here meant a large cloud could never connect.
    """
    started = time.monotonic()
    while True:
        db_idl.run()
        if db_idl.has_ever_connected() and db_idl.state == db_idl.IDL_S_MONITORING:
            return
        connected = db_idl._session.is_connected()
        limit = download_timeout if connected else connect_timeout
        if time.monotonic() - started >= limit:
            what = "sending its contents" if connected else "answering"
            raise errors.BackendUnavailable(f"OVSDB server took over {limit:g} s {what}")
        waiter = ovs_poller.Poller()
        db_idl.wait(waiter)
        waiter.timer_wait(100)
        waiter.block()


class _OvsdbClient:
    """One IDL connection to one OVSDB database, started lazily, reconnecting by itself."""

    # seconds for the first copy of the database to arrive once connected (see initial_copy)
    download_timeout = 600.0

    schema = ""
    tables: tuple[str, ...] = ()  # tables to monitor; () means all

    def __init__(self, remote: str, timeout: float = 30.0,
                 on_transaction: Callable[[float], None] | None = None) -> None:
        self.remote = remote
        self.timeout = timeout
        self._backend: ovsdbapp_idl.Backend | None = None
        self._lock = threading.Lock()
        self._on_transaction = on_transaction
        self.transactions = 0
        self.watch = MemberWatch()

    @property
    def connected(self) -> bool:
        """Connected and holding a complete, current copy of the database (monitoring)."""
        backend = self._backend
        if backend is None:
            return False
        idl = backend.idl
        return idl._session.is_connected() and idl.state == idl.IDL_S_MONITORING

    def connect(self) -> None:
        """Connect once; afterwards the IDL reconnects by itself after an outage."""
        with self._lock:
            if self._backend is not None:
                return
            try:
                self._backend = self._start_backend()
            except errors.NeutrinoError:
                raise
            except Exception as exc:  # noqa: BLE001 - ovsdbapp raises bare Exception here
                raise errors.BackendUnavailable(
                    f"{self.schema} {self.remote} is unavailable: {exc}") from exc

    def cluster_view(self) -> ClusterView:
        """The member in use, every member's reachability, and leader changes seen."""
        member = self.watch.member if self.connected else None
        return cluster_view(self.schema, self.remote, member, self.watch.changes)

    def _new_idl(self, helper: Any) -> connection.OvsdbIdl:
        idl = _WatchedIdl(self.remote, helper)
        idl.watch = self.watch
        return idl

    def _start_backend(self) -> ovsdbapp_idl.Backend:
        helper = idlutils.get_schema_helper(self.remote, self.schema)
        if self.tables:
            for table in self.tables:
                helper.register_table(table)
        else:
            helper.register_all()
        nb_idl = self._new_idl(helper)
        conn = connection.Connection(nb_idl, timeout=self.timeout)
        # ovsdbapp keeps the connection on the Backend *class*; a class of our own per
        # client keeps two clients (tests, sync tools) from sharing one by accident.
        backend_cls = type("Backend", (ovsdbapp_idl.Backend,),
                           {"lookup_table": _LOOKUPS, "create_transaction": _create_transaction})
        # No ovsdbapp indexes: rows are found through `lookups.ValueIndex`es. python-ovs
        # updates each of its indexes on every change of a row of the table (converting the
        # row's column and re-sorting), and neutrino used them only to find rows by name.
        backend = backend_cls(conn, start=False, auto_index=False)
        backend.schema = self.schema
        # before the connection starts (which would wait only self.timeout)
        initial_copy(nb_idl, self.timeout, self.download_timeout)
        backend.start_connection(conn)
        # named for what it serves (ovsdbapp leaves "Thread-N (run)"): the per-thread CPU
        # metric and a thread dump tell NB's from SB's
        conn.thread.name = f"{self.schema}-idl"
        return backend

    def close(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.ovsdb_connection.stop(timeout=5)
                self._backend = None

    def _backend_or_raise(self) -> ovsdbapp_idl.Backend:
        if self._backend is None:
            self.connect()
        assert self._backend is not None
        return self._backend

    def read_rows(self, table: str,
                  columns: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Every row of `table` as plain values: all columns, or `columns` (and `_uuid`),
        which spares converting the others (a switch's `ports`: every port's uuid)."""
        return self._run(_ReadTableCommand(self._backend_or_raise(), table, columns))

    def holds_any(self, table: str, columns: Collection[str],
                  wanted: Callable[[dict[str, Any]], bool]) -> bool:
        """Whether a row of `table` is `wanted` (judged on its `columns` and `_uuid`): rows
        are read one at a time until one is, not all of them."""
        return self._run(_AnyRowCommand(self._backend_or_raise(), table, columns, wanted))

    def catch_up(self) -> None:
        """Return once this copy holds every change the server had committed when called.

        A round trip on the monitoring connection: the server answers a transaction (here a
        comment, which changes nothing) after the updates it sent before, and the IDL reads
        them in order. What another node wrote and then recorded as done is in the copy
        afterwards, so a comparison made next cannot mistake the copy's lag for drift.
        """
        self._run(_RoundTripCommand(self._backend_or_raise()))

    def _run(self, cmd: command.BaseCommand) -> Any:
        backend = self._backend_or_raise()
        if not self.connected:
            # Fail fast: a transaction would wait its whole timeout, and a plan made from a
            # copy of the database that is not current could be wrong.
            raise errors.BackendUnavailable(f"{self.schema} {self.remote} is not connected")
        started = time.monotonic()
        with (
            mapped_ovsdb_errors(self.remote),
            backend.create_transaction(check_error=True, log_errors=False) as txn,
        ):
            txn.add(cmd)
        self.transactions += 1
        elapsed = time.monotonic() - started
        if self._on_transaction is not None:
            self._on_transaction(elapsed)
        LOG.debug("OVSDB transaction %s took %.3fs", type(cmd).__name__, elapsed)
        return cmd.result


class NorthboundClient(_OvsdbClient):
    schema = SCHEMA

    def __init__(
        self, remote: str, timeout: float = 30.0, on_port_up: PortUpCallback | None = None,
        on_transaction: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(remote, timeout, on_transaction)
        self._on_port_up = on_port_up
        self.changes = ChangeLog()  # whose rows changed since the drift audit last looked

    def _new_idl(self, helper: Any) -> connection.OvsdbIdl:
        nb_idl = _NbIdl(self.remote, helper)
        nb_idl.on_port_up = self._on_port_up
        nb_idl.changes = self.changes
        nb_idl.watch = self.watch
        return nb_idl

    @property
    def database_id(self) -> str | None:
        """The NB_Global row's uuid: a new one means NB was rebuilt from scratch."""
        if not self.connected:
            return None
        rows = self.read_rows("NB_Global")
        return rows[0]["_uuid"] if rows else None

    def plan(self, states: Sequence[DesiredState]) -> list[Plan]:
        """The plans that would make NB hold `states`, without changing anything."""
        return self._run(_PlanCommand(self._backend_or_raise(), states, apply=False))

    def apply(self, states: Sequence[DesiredState]) -> list[Plan]:
        """Make NB hold `states`, all in one OVSDB transaction; returns what was done."""
        for state in states:
            problem = state_problem(state)
            if problem:
                raise UnstorableValue(f"{state.resource_type} {state.resource_id}: {problem}")
        return self._run(_PlanCommand(self._backend_or_raise(), states, apply=True))

    def global_external_ids(self) -> dict[str, str] | None:
        """NB_Global's external_ids (None: no NB_Global yet, northd has not started)."""
        rows = self.read_rows(n.NB_GLOBAL)
        return dict(rows[0]["external_ids"]) if rows else None

    def set_global_external_ids(self, wanted: dict[str, str]) -> bool:
        """Set these keys of NB_Global's external_ids (others are northd's or someone
        else's: left alone); False when there is no NB_Global yet."""
        return self._run(_SetGlobalIdsCommand(self._backend_or_raise(), wanted))

    def bump_nb_cfg(self) -> int | None:
        """Increment NB_Global.nb_cfg; returns the new value (None: no NB_Global yet).

        Not a resource write: a liveness probe. Each ovn-controller acknowledges the value in
        its SB Chassis_Private row once processed, which is how agents are known to be alive.
        """
        return self._run(_BumpNbCfgCommand(self._backend_or_raise()))


class SouthboundClient(_OvsdbClient):
    """Reads the chassis OVN knows, for gateway scheduling and the agents API."""

    schema = "OVN_Southbound"
    # a Chassis row refers to its Encaps; Chassis_Private and SB_Global say who is alive
    tables = ("Chassis", "Encap", "Chassis_Private", "SB_Global")

    def __init__(self, remote: str, timeout: float = 30.0,
                 on_chassis_change: ChassisCallback | None = None) -> None:
        super().__init__(remote, timeout)
        # who hears of chassis changes; may be set after construction, before or after connect
        self.on_chassis_change = on_chassis_change

    def _new_idl(self, helper: Any) -> connection.OvsdbIdl:
        sb_idl = _SbIdl(self.remote, helper)
        sb_idl.on_chassis_change = self._chassis_changed
        sb_idl.watch = self.watch
        return sb_idl

    def _chassis_changed(self) -> None:
        if self.on_chassis_change is not None:
            self.on_chassis_change()

    def chassis(self) -> list[Chassis]:
        return [chassis_from_row(row) for row in self.read_rows("Chassis")]

    def view(self) -> SouthboundView:
        """Every chassis with what it acknowledged, read in one consistent snapshot."""
        tables = self._run(_ReadTablesCommand(self._backend_or_raise(),
                                              ("Chassis", "Chassis_Private", "SB_Global")))
        private = {row["name"]: row for row in tables["Chassis_Private"]}
        chassis = tuple(_chassis_facts(row, private.get(row["name"]))
                        for row in tables["Chassis"])
        sb_global = tables["SB_Global"]
        return SouthboundView(chassis, sb_global[0]["nb_cfg"] if sb_global else 0)

    def set_chassis_external_id(self, chassis: str, key: str, value: str) -> bool:
        """Set `key` in the chassis's Chassis_Private (else Chassis) external_ids, as ML2/OVN
        keeps an agent's description; False when there is no such chassis."""
        return self._run(_SetChassisIdCommand(self._backend_or_raise(), chassis, key, value))

    def delete_chassis(self, chassis: str) -> bool:
        """Remove a chassis (Chassis and Chassis_Private); False when it was not there."""
        return self._run(_DeleteChassisCommand(self._backend_or_raise(), chassis))


# OVN moved chassis settings from external_ids to other_config; read either.
def chassis_config(row: dict[str, Any]) -> dict[str, str]:
    return {**(row.get("external_ids") or {}), **(row.get("other_config") or {})}


def chassis_from_row(row: dict[str, Any]) -> Chassis:
    """A Chassis row as neutrino uses it. ovn-controller reports its settings in other_config
    (OVN 20.06 on) and in external_ids before: read the first, fall back to the second."""
    config = chassis_config(row)

    def setting(key: str) -> str:
        return config.get(key) or ""

    return Chassis(
        row["name"], parse_cms_options(setting("ovn-cms-options")),
        hostname=row.get("hostname") or "",
        physnets=parse_physnets(setting("ovn-bridge-mappings")),
        # ovn-controller reports its br-int's type as datapath-type; ovn-bridge-datapath-type
        # is the Open_vSwitch key it is configured by, which some deployments copy over
        datapath_type=setting("datapath-type") or setting("ovn-bridge-datapath-type"),
        iface_types=parse_cms_options(setting("iface-types")),
        bridge=setting("ovn-bridge"),
    )


def _chassis_facts(row: dict[str, Any], private: dict[str, Any] | None) -> ChassisFacts:
    # Without Chassis_Private (OVN before 20.09) the Chassis row carries everything.
    source = private or row
    neutron_ids = {k: v for k, v in (row.get("external_ids") or {}).items()
                   if k.startswith("neutron:")}
    return ChassisFacts(
        name=row["name"], hostname=row.get("hostname") or "", config=chassis_config(row),
        private_ids={**neutron_ids, **(source.get("external_ids") or {})},
        nb_cfg=source.get("nb_cfg") or 0,
        nb_cfg_timestamp=source.get("nb_cfg_timestamp") or 0,
    )


_LOOKUPS = {n.LS: idlutils.RowLookup(n.LS, "name", None)}


def _create_transaction(backend: ovsdbapp_idl.Backend, check_error: bool = False,
                        log_errors: bool = True, **_: Any) -> _Transaction:
    conn = backend.ovsdb_connection
    return _Transaction(backend, conn, conn.timeout, check_error, log_errors)


@contextlib.contextmanager
def mapped_ovsdb_errors(remote: str) -> Iterator[None]:
    """Border: ovsdbapp/OVS failures become domain errors, keeping the cause."""
    try:
        yield
    except (ovsdbapp_exc.TimeoutException, ovsdbapp_exc.OvsdbConnectionUnavailable) as exc:
        raise errors.BackendUnavailable(f"OVSDB {remote} is unavailable: {exc}") from exc
    except RuntimeError as exc:  # anything else ovsdbapp or the IDL raises: not an outage
        raise OvsdbFailure(str(exc)) from exc
    except OSError as exc:
        raise errors.BackendUnavailable(f"OVSDB {remote} is unavailable: {exc}") from exc


class _ReadTableCommand(command.ReadOnlyCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, table: str,
                 columns: Collection[str] | None = None) -> None:
        super().__init__(api)
        self.table = table
        self.columns = columns

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        rows = self.api.idl.tables[self.table].rows.values()
        self.result = [_all_columns(row, self.columns) for row in rows]


class _AnyRowCommand(_ReadTableCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, table: str, columns: Collection[str],
                 wanted: Callable[[dict[str, Any]], bool]) -> None:
        super().__init__(api, table, columns)
        self.wanted = wanted

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        rows = self.api.idl.tables[self.table].rows.values()
        self.result = any(self.wanted(_all_columns(row, self.columns)) for row in rows)


class _RoundTripCommand(command.BaseCommand):
    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        txn.add_op({"op": "comment", "comment": "neutrino: catch up"})


class _ReadTablesCommand(command.ReadOnlyCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, tables: Sequence[str]) -> None:
        super().__init__(api)
        self.tables = tables

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        self.result = {table: [_all_columns(row)
                               for row in self.api.idl.tables[table].rows.values()]
                       for table in self.tables}


def _row_named(api: ovsdbapp_idl.Backend, table: str, name: str) -> Any | None:
    if table not in api.idl.tables:
        return None
    return next((r for r in api.idl.tables[table].rows.values() if r.name == name), None)


class _SetChassisIdCommand(command.BaseCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, chassis: str, key: str, value: str) -> None:
        super().__init__(api)
        self.chassis, self.key, self.value = chassis, key, value

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        row = _row_named(self.api, "Chassis_Private", self.chassis) or \
            _row_named(self.api, "Chassis", self.chassis)
        if row is not None:
            row.setkey("external_ids", self.key, self.value)
        self.result = row is not None


class _DeleteChassisCommand(command.BaseCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, chassis: str) -> None:
        super().__init__(api)
        self.chassis = chassis

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        rows = [_row_named(self.api, table, self.chassis)
                for table in ("Chassis_Private", "Chassis")]
        for row in rows:
            if row is not None:
                row.delete()
        self.result = any(row is not None for row in rows)


class _SetGlobalIdsCommand(command.BaseCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, wanted: dict[str, str]) -> None:
        super().__init__(api)
        self.wanted = wanted

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        row = next(iter(self.api.idl.tables[n.NB_GLOBAL].rows.values()), None)
        if row is not None:
            for key, value in self.wanted.items():
                if row.external_ids.get(key) != value:
                    row.setkey("external_ids", key, value)
        self.result = row is not None


class _BumpNbCfgCommand(command.BaseCommand):
    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        row = next(iter(self.api.idl.tables["NB_Global"].rows.values()), None)
        if row is None:
            self.result = None
            return
        row.verify("nb_cfg")  # two bumps at once must not both write the same value
        row.nb_cfg = row.nb_cfg + 1
        self.result = row.nb_cfg


class _PlanCommand(command.BaseCommand):
    """Plans every state against the live IDL and, when `apply`, writes the plans."""

    def __init__(
        self, api: ovsdbapp_idl.Backend, states: Sequence[DesiredState], apply: bool
    ) -> None:
        super().__init__(api)
        self.states = states
        self.do_apply = apply

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        reader = _Reader(self.api.idl, _compared_columns(self.states),
                         _desired_parents(self.states))
        states = [reader.with_owned_children(s) for s in self.states]
        plans = [plan_changes(s, reader.snapshot(s.lookup_keys())) for s in states]
        if self.do_apply:
            _Writer(txn, self.api.idl, reader).apply(plans)
        self.result = plans


class _Reader:
    """Finds rows by key in the IDL.

    Keys go through `lookups.ValueIndex`es the IDL keeps current, and a row's parent and
    the sets listing it are found by probing the candidate parents' reference sets: a plan
    costs what its own rows cost, not what NB holds. Only when a run looks up more children
    of a table than mapping all of them would cost does it map them.
    """

    def __init__(self, nb_idl: ovs_idl.Idl,
                 compared: Mapping[RowKey, frozenset[str]] | None = None,
                 parents: Mapping[RowKey, ParentLink] | None = None) -> None:
        self.idl = nb_idl
        # where the batch wants each child row: the first parent looked at for it
        self.parents = parents or {}
        # the columns a plan compares, per row (None: every column); converting each
        # column of each row from OVSDB's form was most of a large batch's planning time
        self.compared = compared
        self._sets: dict[str, tuple[list[tuple[Any, RowKey]], int]] = {}
        self._member_maps: dict[str, dict[Any, set[tuple[RowKey, str]]]] = {}
        self._parent_maps: dict[str, dict[Any, Any]] = {}
        self._parent_rows: dict[str, tuple[list[Any], int]] = {}
        self._probes: dict[str, int] = {}
        self._actual: dict[RowKey, ActualRow | None] = {}

    def find(self, key: RowKey) -> Any | None:
        table = self.idl.tables[key.table]
        shadow = SHADOWED_BY.get((key.table, key.map_key)) if key.map_key else None
        rows = lookups.value_index(table, key.column, key.map_key, shadow).rows(key.value)
        if not rows:
            return None
        return rows[0] if (key.table, key.column) in OLDEST_FIRST else rows[-1]

    def with_owned_children(self, state: DesiredState) -> DesiredState:
        """The state, owning also the existing children it declared as its own."""
        found: list[RowKey] = []
        for parent_key, column in state.owned_children:
            parent = self.find(parent_key)
            if parent is None:
                continue
            table = self.idl.tables[parent_key.table].columns[column].type.key.ref_table.name
            found += [k for k in (_identity_of(table, c)
                                  for c in row_values.column(parent, column)) if k]
        for table, key, value in state.owned_tagged:
            found += [k for k in (_identity_of(table, r) for r in self._tagged(table, key, value))
                      if k]
        for table, pairs in state.owned_matching:
            (key, value), rest = pairs[0], pairs[1:]
            found += [k for k in (_identity_of(table, r) for r in self._tagged(table, key, value)
                                  if all(_external_ids(r).get(k2) == v2 for k2, v2 in rest))
                      if k]
        extra = tuple(dict.fromkeys(k for k in found if k not in state.owned))
        return dataclasses.replace(state, owned=state.owned + extra) if extra else state

    def _tagged(self, table: str, key: str, value: str) -> list[Any]:
        """Rows of `table` whose external_ids[key] is `value`, in the table's order."""
        return lookups.value_index(self.idl.tables[table], "external_ids", key).rows(value)

    def snapshot(self, keys: set[RowKey]) -> dict[RowKey, ActualRow]:
        result = {}
        for key in keys:
            if key not in self._actual:  # shared rows (a switch, the drop group) read once
                row = self.find(key)
                self._actual[key] = self._to_actual(key, row) if row is not None else None
            if self._actual[key] is not None:
                result[key] = self._actual[key]
        return result

    def _to_actual(self, key: RowKey, row: Any) -> ActualRow:
        parent_column, parent_uuid = self._parent_of(key.table, row, self.parents.get(key))
        if self.compared is None:
            names = None
        elif key in self.compared:  # a desired row: its columns, and its revision
            names = self.compared[key] | {"external_ids"}
        else:  # only found, referred to, deleted or in sets: its place, not its values
            names = frozenset()
        return ActualRow(
            uuid=str(row.uuid),
            columns=_plain_columns(row, names),
            refs=_single_refs(row, names),
            parent_column=parent_column,
            parent_uuid=parent_uuid,
            member_of=self._member_of(key.table, row),
        )

    def _probing(self, table: str, candidates: int, total: int) -> bool:
        """Whether looking up one more child of `table` by probing `candidates` parents
        still costs less, over the run, than mapping all `total` children once."""
        self._probes[table] = probes = self._probes.get(table, 0) + 1
        return probes * candidates <= total

    def _member_of(self, table: str, row: Any) -> frozenset[tuple[RowKey, str]]:
        """The sets of ours `row` is listed in."""
        if table not in MEMBER_SETS:
            return frozenset()
        set_table, column = MEMBER_SETS[table]
        if table not in self._member_maps:
            sets, members = self._our_sets(set_table, column)
            if self._probing(table, len(sets), members):
                lookups.VISITS.add(len(sets))
                return frozenset((key, column) for parent, key in sets
                                 if lookups.holds(parent, column, row.uuid))
            found: dict[Any, set[tuple[RowKey, str]]] = {}
            for parent, key in sets:
                children = row_values.column(parent, column)
                lookups.VISITS.add(len(children))
                for child in children:
                    found.setdefault(child.uuid, set()).add((key, column))
            self._member_maps[table] = found
        return frozenset(self._member_maps[table].get(row.uuid, ()))

    def _our_sets(self, set_table: str, column: str) -> tuple[list[tuple[Any, RowKey]], int]:
        """The sets of ours in `set_table` (with their keys) and how many members they list
        together (read once per run)."""
        if set_table not in self._sets:
            rows = self.idl.tables[set_table].rows.values()
            lookups.VISITS.add(len(rows))
            sets = [(parent, RowKey(set_table, "name", parent.name)) for parent in rows
                    if _is_our_set(set_table, parent)]
            self._sets[set_table] = (sets, sum(lookups.size(p, column) for p, _ in sets))
        return self._sets[set_table]

    def _parent_of(self, table: str, row: Any,
                   wanted: ParentLink | None = None) -> tuple[str | None, str | None]:
        """The row's parent: the one its external_ids name, or the one the batch wants it
        in (an ACL of the drop group, planned with every port), when that lists it; else
        found by looking at the parent table's rows."""
        if table not in PARENTS:
            return None, None
        parent_table, column, name_key = PARENTS[table]
        likely = []
        if name_key is not None:
            likely.append(RowKey(parent_table, "name", _external_ids(row).get(name_key, "")))
        if wanted is not None and wanted.key.table == parent_table and wanted.column == column:
            likely.append(wanted.key)
        for key in likely:
            parent = self.find(key)
            if parent is not None and lookups.holds(parent, column, row.uuid):
                return column, str(parent.uuid)
        parent = self._scan_parent(table, row)
        return column, (str(parent.uuid) if parent is not None else None)

    def _scan_parent(self, table: str, row: Any) -> Any | None:
        """Slow path for rows whose parent is not named in their external_ids: the last row
        of the parent table listing `row`."""
        parent_table, column, _ = PARENTS[table]
        if table not in self._parent_maps:
            if table not in self._parent_rows:
                rows = list(self.idl.tables[parent_table].rows.values())
                self._parent_rows[table] = (rows, sum(lookups.size(p, column) for p in rows))
            parents, children_total = self._parent_rows[table]
            lookups.VISITS.add(len(parents))
            if self._probing(table, len(parents), children_total):
                found = None
                for parent in parents:
                    if lookups.holds(parent, column, row.uuid):
                        found = parent
                return found
            mapped = {}
            for parent in parents:
                children = row_values.column(parent, column)
                lookups.VISITS.add(len(children))
                mapped.update((child.uuid, parent) for child in children)
            self._parent_maps[table] = mapped
        return self._parent_maps[table].get(row.uuid)


class _Writer:
    """Turns plans into IDL changes inside one transaction."""

    def __init__(self, txn: ovs_idl.Transaction, nb_idl: ovs_idl.Idl, reader: _Reader) -> None:
        self.txn = txn
        self.idl = nb_idl
        self.reader = reader
        self.inserted: dict[RowKey, Any] = {}

    def apply(self, plans: list[Plan]) -> None:
        ops = [op for plan in plans for op in plan.ops]
        # Shared rows (the drop Port_Group) may be wanted by several resources of one batch.
        inserts = list({op.row.key: op for op in ops if isinstance(op, Insert)}.values())
        for op in inserts:
            self._insert(op)
        for op in inserts:
            self._link(op)
        for op in ops:
            if isinstance(op, Update):
                self._update(op)
        deleted = {op.uuid for op in ops if isinstance(op, Delete)}
        for op in ops:
            if isinstance(op, Delete):
                self._delete(op, deleted)
            elif isinstance(op, AddMember | RemoveMember):
                self._member(op.member, add=isinstance(op, AddMember), deleted=deleted)

    def _member(self, member: Membership, add: bool, deleted: set[str]) -> None:
        parent, child = self._resolve(member.parent), self._resolve(member.child)
        if not add and parent is not None and str(parent.uuid) in deleted:
            return  # its set goes with it (a gateway router left behind by a change of mode)
        if parent is None or child is None:
            if not add:
                return  # already gone, and with it the membership
            raise OvsdbFailure(f"{member.child} cannot join {member.parent}: row missing")
        if add:
            parent.addvalue(member.column, child.uuid)
        else:
            parent.delvalue(member.column, child.uuid)

    def _resolve(self, key: RowKey | None) -> Any | None:
        if key is None:
            return None
        return self.inserted.get(key) or self.reader.find(key)

    def _insert(self, op: Insert) -> None:
        table = self.idl.tables[op.row.key.table]
        row = self.txn.insert(table)
        _set_key(row, op.row.key)
        for name, value in op.row.columns.items():
            # An empty value is the column's default, which python-ovs leaves out of the
            # insert anyway: not setting it spares its conversion (half a port's columns).
            if value is not None and (value or not isinstance(value, _EMPTY_TYPES)):
                _set_new(self.txn, row, table.columns[name], value)
        self.inserted[op.row.key] = row

    def _link(self, op: Insert) -> None:
        row = self.inserted[op.row.key]
        for name, target in op.row.refs.items():
            self._set_ref(row, name, target)
        if op.row.parent is not None:
            parent = self._resolve(op.row.parent.key)
            if parent is None:
                raise OvsdbFailure(f"{op.row.key}: parent {op.row.parent.key} is missing")
            parent.addvalue(op.row.parent.column, row.uuid)

    def _update(self, op: Update) -> None:
        row = self.idl.tables[op.key.table].rows[_uuid(op.uuid)]
        # Compare-and-swap on the revision: if someone else rewrote our row since we read
        # it, the server answers "try again" and the plan is computed afresh.
        row.verify("external_ids")
        for name, value in op.columns.items():
            setattr(row, name, _to_ovsdb(value))
        for name, target in op.refs.items():
            self._set_ref(row, name, target)

    def _set_ref(self, row: Any, column: str, target: RowKey | None) -> None:
        target_row = self._resolve(target)
        if target is not None and target_row is None:
            raise OvsdbFailure(f"{target} referenced by {row._table.name} is missing")
        setattr(row, column, [target_row.uuid] if target_row is not None else [])

    def _delete(self, op: Delete, deleted: set[str]) -> None:
        table = self.idl.tables[op.key.table]
        row = table.rows.get(_uuid(op.uuid))
        if row is None:
            return
        if op.parent_uuid and op.parent_column and op.parent_uuid not in deleted:
            parent_table = PARENTS[op.key.table][0]
            parent = self.idl.tables[parent_table].rows.get(_uuid(op.parent_uuid))
            if parent is not None:
                parent.delvalue(op.parent_column, row.uuid)
        if not _drop_root_refs(row):
            row.delete()


def _drop_root_refs(row: Any) -> bool:
    """Let go of the root rows a child row holds (a gateway port's HA_Chassis_Group).

    A child row is never deleted by name: the IDL only stops referring to it and
    ovsdb-server collects it, after checking references. A root row deleted in the same
    transaction (the group, with its router) would still count the doomed child's reference
    then, and the server would refuse; cleared, the child goes unreferenced and is collected.
    """
    if row._table.is_root:
        return False
    cleared = False
    for name, column in row._table.columns.items():
        key = column.type.key
        if key.ref_table is not None and key.ref_table.is_root and \
                key.ref_type == "strong" and column.type.n_min == 0 and getattr(row, name):
            setattr(row, name, [])
            cleared = True
    return cleared


def _identity_of(table: str, row: Any) -> RowKey | None:
    if table in IDENTITY_KEYS:
        value = _external_ids(row).get(IDENTITY_KEYS[table])
        return RowKey(table, "external_ids", value, IDENTITY_KEYS[table]) if value else None
    name = row_values.column(row, "name") if row_values.has(row, "name") else None
    return RowKey(table, "name", name) if isinstance(name, str) and name else None


def _is_our_set(table: str, row: Any) -> bool:
    if table == n.LS:
        return n.NETWORK_NAME in _external_ids(row)  # a network's switch (its dns_records)
    if table == n.LR:  # a router whose load balancers we manage
        ids = _external_ids(row)
        return n.GATEWAY_ROLE in ids or n.REVISION in ids
    return row_values.column(row, "name") == n.PG_DROP or n.SG_ID in _external_ids(row)


def _external_ids(row: Any) -> dict[str, str]:
    return row_values.column(row, "external_ids")


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


def _set_key(row: Any, key: RowKey) -> None:
    if key.map_key is None:
        setattr(row, key.column, key.value)


_EMPTY_TYPES = (list, tuple, dict, set, frozenset)
# Atomic types whose Python values python-ovs stores as they are (not uuids, which it
# turns into rows and back)
_PLAIN_ATOMS = frozenset(("string", "integer", "real", "boolean"))


def _set_new(txn: ovs_idl.Transaction, row: Any, column: Any, value: Any) -> None:
    """Set a column of a row this transaction inserts, as `setattr` would.

    python-ovs's `Row.__setattr__` converts and checks every atom (type, range, enum) and
    re-indexes the row: two thirds of writing a new port. Here the value becomes a Datum
    directly (`new_datum`); ovsdb-server checks the transaction's values anyway, and a new
    row is in no index of ours until committed (see `lookups.ValueIndex`).
    """
    datum = new_datum(column.type, value)
    if datum is None:
        setattr(row, column.name, value)
    else:
        txn._write(row, column, datum)


def new_datum(ctype: Any, value: Any) -> ovs_data.Datum | None:
    """`value` as a Datum of column type `ctype`, unchecked; None for a type whose atoms
    python-ovs converts (uuids, which it turns into rows and back) or a value of another
    shape than the type's, left to python-ovs."""
    key = ctype.key.type
    val = ctype.value.type if ctype.value is not None else None
    if key.name not in _PLAIN_ATOMS or (val is not None and val.name not in _PLAIN_ATOMS):
        return None
    if val is not None:
        if not isinstance(value, Mapping):
            return None
        return ovs_data.Datum(ctype, {ovs_data.Atom(key, k): ovs_data.Atom(val, v)
                                      for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return ovs_data.Datum(ctype, {ovs_data.Atom(key, k): None for k in value})
    return ovs_data.Datum(ctype, {ovs_data.Atom(key, value): None})


def _to_ovsdb(value: Any) -> Any:
    if value is None:
        return []
    return value


def _desired_parents(states: Sequence[DesiredState]) -> dict[RowKey, ParentLink]:
    """Per child row of the batch, the parent it is wanted in."""
    return {row.key: row.parent for state in states for row in state.rows
            if row.parent is not None}


def _compared_columns(states: Sequence[DesiredState]) -> dict[RowKey, frozenset[str]]:
    """Per row, the columns and references some state of the batch sets: all a plan reads
    of the actual row (besides external_ids, for the revision)."""
    found: dict[RowKey, set[str]] = {}
    for state in states:
        for row in state.rows:
            found.setdefault(row.key, set()).update(row.columns, row.refs)
    return {key: frozenset(names) for key, names in found.items()}


def _plain_columns(row: Any, names: Collection[str] | None = None) -> dict[str, Any]:
    """Non-reference columns in the canonical shape of `neutrino.ovn.rows` (only `names`,
    when given)."""
    columns = row._table.columns
    values = {}
    for name in columns if names is None else names:
        column = columns.get(name)
        if column is None or column.type.key.ref_table is not None:
            continue
        value = row_values.column(row, name)
        if column.type.is_optional() and not column.type.is_map():
            value = value[0] if value else None
        values[name] = value
    return values


def _all_columns(row: Any, names: Collection[str] | None = None) -> dict[str, Any]:
    """Plain columns plus references as uuid strings (a set as a list), and `_uuid`: all
    columns, or only `names`."""
    values = _plain_columns(row, names)
    for name, column in row._table.columns.items():
        if column.type.key.ref_table is None or (names is not None and name not in names):
            continue
        uuids = [str(r.uuid) for r in row_values.column(row, name)]
        values[name] = (uuids[0] if uuids else None) if column.type.n_max == 1 else uuids
    values["_uuid"] = str(row.uuid)
    return values


def _single_refs(row: Any, names: Collection[str] | None = None) -> dict[str, str | None]:
    columns = row._table.columns
    refs = {}
    for name in columns if names is None else names:
        column = columns.get(name)
        if column is None or column.type.key.ref_table is None or column.type.n_max != 1:
            continue
        value = row_values.column(row, name)
        refs[name] = str(value[0].uuid) if value else None
    return refs


# The connection handling every OVSDB client of neutrino shares (NB, SB, VTEP databases).
OvsdbClient = _OvsdbClient

"""The composition root: builds every part from `Settings` and wires them together."""

from __future__ import annotations

import functools
import gc
import logging
import queue
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from neutrino import errors
from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import KeystoneAuth, keystone_context, noauth_context
from neutrino.api.payload import BodyLimits
from neutrino.db.engine import Database, make_engine
from neutrino.db.migrate import upgrade
from neutrino.journal.heartbeat import ClaimHeartbeat
from neutrino.journal.listen import JournalListener
from neutrino.journal.stats import JournalCollector, journal_stats
from neutrino.journal.wakeup import Wakeup
from neutrino.journal.worker import JournalWorker
from neutrino.journal_process import JournalProcess
from neutrino.maintenance import jobs, vtep_macs
from neutrino.maintenance.scheduler import MaintenanceScheduler
from neutrino.metrics import ClusterCollector, MergedCollector, Metrics
from neutrino.nova import NovaNotifier, keystone_post
from neutrino.ovn.client import NorthboundClient, SouthboundClient
from neutrino.ovn.reachability import reachable
from neutrino.ovn.translate.inputs import TranslateConfig
from neutrino.ovn.vtep_client import VtepClient
from neutrino.reconcile.reconciler import Reconciler
from neutrino.reconcile.sfc_facts import unsteered
from neutrino.services import floating_ips
from neutrino.services.address_groups import AddressGroupService
from neutrino.services.address_scopes import AddressScopeService
from neutrino.services.agents import AgentService
from neutrino.services.default_sg_rules import DefaultRuleService
from neutrino.services.floating_ips import FloatingIpService
from neutrino.services.ip_availability import IpAvailabilityService
from neutrino.services.l2gw.connections import L2GatewayConnectionService
from neutrino.services.l2gw.gateways import L2GatewayService
from neutrino.services.networks import NetworkService
from neutrino.services.port_bindings import PortBindingService
from neutrino.services.port_forwardings import PortForwardingService
from neutrino.services.ports import PortService
from neutrino.services.qos.policies import QosPolicyService
from neutrino.services.qos.rules import RULE_KINDS, QosRuleService
from neutrino.services.quotas import QuotaService
from neutrino.services.rbac import RbacService
from neutrino.services.routers import RouterService
from neutrino.services.security_groups import RuleService, SecurityGroupService
from neutrino.services.sfc.chains import PortChainService
from neutrino.services.sfc.classifiers import FlowClassifierService
from neutrino.services.sfc.groups import PortPairGroupService
from neutrino.services.sfc.pairs import PortPairService
from neutrino.services.subnetpools import SubnetPoolService
from neutrino.services.subnets import SubnetService
from neutrino.services.tags import TagService
from neutrino.services.trunks.service import TrunkService
from neutrino.settings import Settings
from neutrino.sync.runner import SyncRunner

LOG = logging.getLogger(__name__)
STATUS_BATCH = 500  # port status reports read together at most
# Seconds a batch of "down" reports waits for more: most say DOWN of a port that is DOWN
# already (every port created is reported so once ovn-northd has looked at it), and each
# batch costs a read. A port reported up is handled at once (Nova may be waiting for it).
STATUS_GATHER = 0.05
OVSDB_TIMEOUT = 10.0
# `neutrino sync` writes up to 1,000 resources a transaction, and compares all of NB: on a
# large cloud one of its transactions can take longer than the server's journal batches
SYNC_OVSDB_TIMEOUT = 300.0
# What a process built by `build` runs: everything ("all"); the API with an SB connection,
# its journal in a process of its own ("api"); or that journal process, with the OVN NB
# connection, the workers, port statuses and maintenance, and no HTTP ("journal").
ROLES = ("all", "api", "journal")


@dataclass
class Neutrino:
    settings: Settings
    db: Database
    nb: NorthboundClient
    sb: SouthboundClient
    wakeup: Wakeup
    metrics: Metrics
    reconciler: Reconciler
    workers: list[JournalWorker]
    networks: NetworkService
    subnets: SubnetService
    ports: PortService
    routers: RouterService
    status_updates: queue.Queue[tuple[str, bool]]
    sync: SyncRunner
    maintenance: MaintenanceScheduler
    listener: JournalListener | None = None
    heartbeat: ClaimHeartbeat | None = None
    nova: NovaNotifier | None = None
    app: Starlette | None = None
    startup_sync: dict[str, Any] | None = None
    journal_process: JournalProcess | None = None  # the "api" role's: the rest runs there
    _threads: tuple[threading.Thread, ...] = ()
    _stopping: threading.Event | None = None

    def start(self) -> None:
        """Connect to OVN in the background, sync, then start the workers; the API never waits."""
        self._stopping = threading.Event()
        if self.journal_process is not None:
            threading.Thread(target=self._connect, args=(self.sb,), name="sb-connect",
                             daemon=True).start()
            if self.nova is not None:
                self.nova.start()
            return
        self._threads = (
            threading.Thread(target=self._connect_then_work, name="nb-connect", daemon=True),
            threading.Thread(target=self._apply_port_status, name="port-status", daemon=True),
        )
        for thread in self._threads:
            thread.start()
        if self.nova is not None:
            self.nova.start()

    def _connect_then_work(self) -> None:
        threading.Thread(target=self._connect, args=(self.sb,), name="sb-connect",
                         daemon=True).start()
        if self._connect(self.nb):
            if self.db.is_sqlite:
                # One process owns a SQLite journal: whatever is "processing" now was left
                # by a previous process that died.
                jobs.reclaim_orphans(self.db)
            self._startup_sync()
            self._announce_global()
            if self._stopping is not None and self._stopping.is_set():
                return
            for worker in self.workers:
                worker.start()
            if self.heartbeat is not None:
                self.heartbeat.start()
            if self.listener is not None:
                self.listener.start()
            self.maintenance.start()

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self.journal_process is not None:
            self.journal_process.stop()
            if self.nova is not None:
                self.nova.stop()
            self.sb.close()
            return
        for thread in self._threads[:1]:  # the connector may be about to start workers
            thread.join(timeout=OVSDB_TIMEOUT + 5)
        self.maintenance.stop()
        if self.listener is not None:
            self.listener.stop()
        for worker in self.workers:
            worker.stop()
        if self.heartbeat is not None:  # after the workers: their last batch stays claimed
            self.heartbeat.stop()
        self.status_updates.put(("", False))
        if self.nova is not None:
            self.nova.stop()
        self.nb.close()
        self.sb.close()
        for client in self.reconciler.vtep.values():
            client.close()

    def _connect(self, client: NorthboundClient | SouthboundClient) -> bool:
        """Until connected (the initial dump is complete when this returns) or stopped."""
        delay = 0.5
        while self._stopping is not None and not self._stopping.is_set():
            try:
                client.connect()
                return True
            except errors.BackendUnavailable as exc:
                LOG.warning("%s not reachable yet (%s); retrying in %.1fs", client.schema, exc,
                            delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, 10.0)
        return False

    def _startup_sync(self) -> None:
        mode = self.settings.startup_sync
        if mode == "off":
            return
        try:
            report = self.sync.repair() if mode == "repair" else self.sync.compare()
        except errors.NeutrinoError as exc:
            LOG.error("start-up sync (%s) failed: %s", mode, exc)
            self.startup_sync = {"mode": mode, "error": str(exc)}
            return
        self.startup_sync = report.summary()
        for diff in report.differences:
            LOG.warning("start-up sync: %s %s %s: %s %s", diff.kind, diff.resource_type,
                        diff.resource_id, diff.row, diff.detail)
        LOG.info("start-up sync: %s", self.startup_sync)

    def _announce_global(self) -> None:
        """NB_Global's neutron:fip-distributed, as ML2/OVN sets it at start; sync repairs it
        afterwards (it waits for northd to create NB_Global)."""
        try:
            if not self.reconciler.apply_global():
                LOG.info("NB_Global not there yet: its neutron: keys wait for a sync")
        except errors.NeutrinoError as exc:
            LOG.warning("could not write NB_Global's neutron: keys: %s", exc)

    def _apply_port_status(self) -> None:
        """ovn-northd reports ports up/down in NB; Neutron shows that as ACTIVE/DOWN.
        Reports that arrived meanwhile are taken together: one read finds those that change
        something (few do: a new port is reported DOWN, which it is already)."""
        while self._stopping is not None and not self._stopping.is_set():
            reports = self._status_reports()
            try:
                self.ports.set_statuses([(port_id, up) for port_id, up in reports if port_id])
            except errors.NeutrinoError as exc:
                LOG.warning("could not record the status of %d ports: %s", len(reports), exc)

    def _status_reports(self) -> list[tuple[str, bool]]:
        """The next reports to read together: those waiting, and while all say "down",
        those that come within `STATUS_GATHER` of the first."""
        reports = [self.status_updates.get()]
        deadline = time.monotonic() + STATUS_GATHER
        gathering = bool(reports[0][0]) and not reports[0][1]  # not the stop signal
        while len(reports) < STATUS_BATCH:
            remaining = deadline - time.monotonic() if gathering else 0.0
            try:
                report = (self.status_updates.get(timeout=remaining) if remaining > 0
                          else self.status_updates.get_nowait())
            except queue.Empty:
                break
            reports.append(report)
            gathering = gathering and not report[1] and bool(report[0])
        return reports

    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"status": "ok"}
        try:
            stats = journal_stats(self.db, self.settings.journal.backoff_max)
            report["journal"] = stats.as_dict()
            if stats.pending.get("stuck"):
                report["status"] = "degraded"
            report["database"] = "ok"
            # what this OVN cannot steer: said, though not a degradation of the service
            report["unsteered_port_chains"] = unsteered(self.db)
        except errors.NeutrinoError as exc:
            report.update(status="degraded", database=str(exc))
        report["ovn_sb"] = "reachable" if reachable(self.settings.ovn_sb) else "unreachable"
        report["unscheduled_routers"] = self._unscheduled_routers()
        # VTEP databases: their connections wait while one is down; not a degradation
        report["vtep"] = {switch: "reachable" if reachable(client.remote) else "unreachable"
                          for switch, client in self.reconciler.vtep.items()}
        if self.journal_process is None:
            report.update(self.ovn_status())
        else:
            # unanswered (starting, or hung): what NB is like is unknown here; SB is known
            report.update(self.journal_process.status() or {
                **_UNANSWERED, "ovn_sb_cluster": self.sb.cluster_view().as_dict()})
            report["journal_process"] = self.journal_process.view()
            if not report["journal_process"]["running"]:
                report["status"] = "degraded"
        # a lost member is reported; only a cluster that lost its quorum degrades the service
        if report["ovn_nb"] != "connected" or report["ovn_sb"] != "reachable" or \
                any(report[key]["health"] == "no quorum"
                    for key in ("ovn_nb_cluster", "ovn_sb_cluster")):
            report["status"] = "degraded"
        return report

    def ovn_status(self) -> dict[str, Any]:
        """What the process holding the NB connection knows: part of /healthz."""
        return {
            "ovn_nb": "connected" if self.nb.connected else "disconnected",
            "startup_sync": self.startup_sync,
            # which node runs maintenance: the one whose holder is leading
            "maintenance": {"holder": self.maintenance.holder,
                            "leading": self.maintenance.leading},
            "ovn_nb_cluster": self.nb.cluster_view().as_dict(),
            "ovn_sb_cluster": self.sb.cluster_view().as_dict(),
        }


    def _unscheduled_routers(self) -> list[str]:
        return [r["router_id"] for r in self.routers.list_gateways() if not r["chassis"]]


YOUNG_OBJECTS = 20_000  # the collector's first threshold once started (Python's default: 700)

# /healthz's part from the journal process while it does not answer
_UNANSWERED: dict[str, Any] = {
    "ovn_nb": "disconnected", "startup_sync": None,
    "maintenance": {"holder": None, "leading": False},
    "ovn_nb_cluster": {"member": None, "health": "unknown", "members": {},
                       "leader_changes": 0},
}


def freeze_start_up_objects(collect: bool = True) -> None:
    """What start-up built (modules, the app, its statements: some 140,000 objects) lives as
    long as the process; the collector's full passes need not walk it again and again (a
    third of a 1,000-port GET's CPU went to them). No collection first: a full one walks
    every object (70-140 ms of a start's CPU) to free the little start-up left behind. A
    journal process forked right after this shares the frozen objects' pages, which no
    collection writes to.

    Then the collector's first pass waits for `YOUNG_OBJECTS` more containers than were
    freed, not 700: a request's objects (12-15 for a listed port) die with it, before any
    pass walks them, where a 1,000-port GET paid 35 young passes, 3 middle ones and a full
    one every third GET (15 ms a GET on average, pauses up to 45 ms).
    `collect`: whether the collector runs from now on (`neutrino serve` holds it from its
    start, see `cli._serve`)."""
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    if collect:
        gc.enable()


def vtep_interfaces(vtep: Mapping[str, VtepClient], switch: str) -> frozenset[str] | None:
    """A physical switch's ports as its VTEP database says now (None: it cannot say now)."""
    client = vtep.get(switch)
    if client is None or not (client.connected or reachable(client.remote)):
        return None
    try:
        client.connect()
        return client.interfaces()
    except errors.BackendUnavailable:
        return None


def build(settings: Settings, migrate: bool = True,
          ovsdb_timeout: float = OVSDB_TIMEOUT, role: str = "all",
          journal_process: JournalProcess | None = None,
          wakeup: Wakeup | None = None) -> Neutrino:
    """`role`: see ROLES; the "api" role needs the `journal_process` it hands work to.
    `wakeup`: how the workers learn of new entries (default: an in-process event)."""
    assert role in ROLES and (role == "api") == (journal_process is not None)
    engine = make_engine(settings.db_url)
    if migrate:
        upgrade(engine)
    db = Database(engine)
    if wakeup is None:
        wakeup = Wakeup() if journal_process is None else journal_process.wakeup
    metrics = Metrics()
    status_updates: queue.Queue[tuple[str, bool]] = queue.Queue()
    nb = NorthboundClient(
        settings.ovn_nb, timeout=ovsdb_timeout,
        on_port_up=lambda name, up: status_updates.put((name, up)),
        on_transaction=metrics.ovsdb_txn_seconds.observe,
    )
    sb = SouthboundClient(settings.ovn_sb, timeout=OVSDB_TIMEOUT)
    config = TranslateConfig(settings.dns_servers, settings.dhcp_lease_time,
                             settings.transit_cidr, settings.dns_domain, settings.l3_mode,
                             settings.fip_distributed)
    vtep = {switch: VtepClient(switch, remote, timeout=OVSDB_TIMEOUT)
            for switch, remote in settings.vtep_dbs.items()}
    reconciler = Reconciler(db, nb, config, vtep)
    workers = [JournalWorker(db, reconciler, settings.journal, wakeup, metrics,
                             backend_ready=lambda: nb.connected)
               for _ in range(max(settings.journal.workers, 1))]
    sync = SyncRunner(db, nb, reconciler, settings.sync_owed_after)
    nova = (NovaNotifier(settings.nova, keystone_post(settings.nova), metrics)
            if settings.nova is not None else None)
    routers = RouterService(db, settings, wakeup, sb.chassis)
    unresponsive = (jobs.UnresponsiveChassis(sb.view, settings.agent_down_time)
                    if settings.gateway_move_unresponsive else None)
    gateways = functools.partial(jobs.schedule_gateways, db, sb.chassis, settings,
                                 random.Random(), unresponsive)
    neutrino = Neutrino(
        settings=settings, db=db, nb=nb, sb=sb, wakeup=wakeup, metrics=metrics,
        reconciler=reconciler,
        workers=workers,
        networks=NetworkService(db, settings, wakeup, sb.chassis,
                                before_delete=floating_ips.delete_unassociated),
        subnets=SubnetService(db, settings, wakeup),
        ports=PortService(db, settings, wakeup, sb.chassis,
                          notify=nova.notify if nova is not None else None),
        routers=routers,
        status_updates=status_updates,
        sync=sync,
        maintenance=MaintenanceScheduler(db, nb, sync, settings.maintenance, wakeup.set,
                                         gateways, probe=functools.partial(jobs.probe_chassis,
                                                                           nb),
                                         vtep=functools.partial(jobs.vtep_catch_up, reconciler)
                                         if vtep else None,
                                         vtep_macs=vtep_macs.LearnedMacImporter(
                                             db, vtep, settings.vtep_macs_max,
                                             settings.maintenance.vtep_every)
                                         if vtep else None),
        listener=JournalListener(engine, wakeup.set) if not db.is_sqlite else None,
        heartbeat=ClaimHeartbeat(db, [w.name for w in workers], settings.journal.lease_seconds,
                                 wakeup.set),
        nova=nova,
        journal_process=journal_process,
    )
    sb.on_chassis_change = neutrino.maintenance.kick_gateways  # failover without waiting
    # each family once across the two processes: the journal's gauges come from the API's
    if role != "journal":
        metrics.registry.register(JournalCollector(db, settings.journal.backoff_max))
    if role != "api":
        metrics.registry.register(ClusterCollector(lambda: [nb.cluster_view(),
                                                            sb.cluster_view()]))
    if role == "journal":
        return neutrino
    scraped = metrics.registry
    if journal_process is not None:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(MergedCollector(metrics.registry, journal_process.metrics))
    neutrino.app = build_app(ApiDeps(
        services={"networks": neutrino.networks, "subnets": neutrino.subnets,
                  "ports": neutrino.ports,
                  "security_groups": SecurityGroupService(db, settings, wakeup),
                  "security_group_rules": RuleService(db, settings, wakeup),
                  "address_groups": AddressGroupService(db, settings, wakeup),
                  "default_security_group_rules": DefaultRuleService(db, settings, wakeup),
                  "routers": routers,
                  "floatingips": FloatingIpService(db, settings, wakeup),
                  "rbac_policies": RbacService(db, settings, wakeup),
                  "subnetpools": SubnetPoolService(db, settings, wakeup),
                  "address_scopes": AddressScopeService(db, settings, wakeup),
                  "port_pairs": PortPairService(db, settings, wakeup),
                  "port_pair_groups": PortPairGroupService(db, settings, wakeup),
                  "port_chains": PortChainService(db, settings, wakeup),
                  "flow_classifiers": FlowClassifierService(db, settings, wakeup),
                  "trunks": TrunkService(db, settings, wakeup),
                  "policies": QosPolicyService(db, settings, wakeup),
                  "l2_gateways": L2GatewayService(db, settings, wakeup),
                  "l2_gateway_connections": L2GatewayConnectionService(
                      db, settings, wakeup, functools.partial(vtep_interfaces, vtep)),
                  "port_forwardings": PortForwardingService(db, settings, wakeup)},
        tags=TagService(db, wakeup),
        quotas=QuotaService(db, settings),
        context_for=keystone_context if settings.auth == "keystone"
        else noauth_context(settings.default_project),
        health=neutrino.health,
        metrics_registry=scraped,
        limits=BodyLimits(settings.api.max_body_bytes, settings.api.max_bulk),
        agents=AgentService(sb, settings.agent_down_time),
        port_bindings=PortBindingService(neutrino.ports),
        ip_availability=IpAvailabilityService(db),
        qos_rules={name: QosRuleService(db, wakeup, kind) for name, kind in RULE_KINDS.items()},
    ))
    if settings.auth == "keystone":
        neutrino.app.add_middleware(KeystoneAuth, options=settings.keystone)
    return neutrino

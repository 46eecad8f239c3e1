"""Typed settings, parsed once from `NEUTRINO_*` environment variables at start-up.

A bad value fails at start-up with the variable named; nothing reads the environment later.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from neutrino import dns_names


class SettingsError(ValueError):
    """A setting has a value neutrino cannot use; the message names the variable."""


@dataclass(frozen=True)
class JournalSettings:
    batch_size: int = 200
    # ... but a batch that ends inside one request's entries (a bulk create's) takes the
    # rest of them, up to this many: a bulk of up to this many reaches OVN in one
    # transaction (set it to batch_size for batches of batch_size only)
    bulk_batch_size: int = 1000
    max_attempts: int = 5
    backoff_initial: float = 0.1
    backoff_max: float = 60.0
    poll_interval: float = 1.0
    lease_seconds: float = 6.0  # renewed every quarter of it while the worker lives
    workers: int = 1
    # A busy worker waits its turn for SQLite's write lock behind the API's writers, but
    # no longer than this (ms): then it goes first. -1: never (it only goes first when idle).
    urgent_after_ms: int = 20
    # `neutrino serve`: the workers, the NB connection and maintenance in a child process of
    # their own ("separate"), or in the API's process ("inline")
    process: str = "separate"


@dataclass(frozen=True)
class MaintenanceSettings:
    tick: float = 1.0
    cold_reboot_every: float = 5.0
    statistics_every: float = 5.0  # PostgreSQL: analyse the tables that grew fast
    reclaim_every: float = 10.0
    audit_every: float = 300.0
    purge_every: float = 300.0
    schedule_every: float = 2.0  # gateway (re)scheduling
    agent_probe_every: float = 25.0  # NB_Global.nb_cfg bump that chassis acknowledge
    vtep_every: float = 10.0  # VTEP databases: write what a pass missed (vtep_catch_up)
    vtep_macs_every: float = 2.0  # VTEP databases: import the MACs the switches learnt
    retention: float = 3600.0  # seconds a completed entry is kept


@dataclass(frozen=True)
class HttpSettings:
    """Limits of the HTTP server against slow or greedy clients (see `neutrino.server`)."""

    header_timeout: float = 10.0  # seconds for a request's headers to arrive
    body_timeout: float = 30.0  # seconds for its body, once the headers are in
    keepalive_timeout: int = 5  # seconds an idle keep-alive connection is kept
    max_connections: int = 512  # beyond this, requests are answered 503 at once


@dataclass(frozen=True)
class ApiSettings:
    """What one request may cost: its body's bytes, and the items of one bulk create."""

    max_body_bytes: int = 1024 * 1024
    max_bulk: int = 1000


@dataclass(frozen=True)
class NovaSettings:
    """Where and as whom port events are sent to Nova (see `neutrino.nova`)."""

    url: str  # Nova's compute endpoint including its version, e.g. http://nova:8774/v2.1
    auth_url: str  # Keystone v3
    username: str
    password: str
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    send_interval: float = 0.2  # seconds events wait to be sent together
    batch_size: int = 100  # ... unless this many are waiting
    max_attempts: int = 5  # for a batch Nova answers 5xx to, or cannot be reached for
    backoff_initial: float = 0.5  # doubled after each failed attempt
    timeout: float = 10.0  # seconds for one request
    max_queued: int = 10000  # events waiting beyond this are dropped


# Neutron's default quotas; -1 is unlimited.
DEFAULT_QUOTAS = {"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
                  "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
                  "subnetpool": -1,  # Neutron tracks subnet pools with no default limit
                  # networking-sfc's
                  "port_pair": 100, "port_pair_group": 10, "port_chain": 10,
                  "flow_classifier": 100}


L3_MODES = ("gateway-router", "distributed-gateway-port")


def _fip_distributed(env: Mapping[str, str]) -> bool:
    """Distributed floating IPs need a distributed gateway port (a gateway router holds
    its floating IPs on its own chassis)."""
    wanted = _choice(env, "NEUTRINO_FIP_DISTRIBUTED", ("true", "false"), "false") == "true"
    if wanted and env.get("NEUTRINO_L3_MODE", L3_MODES[0]) != L3_MODES[1]:
        raise SettingsError("NEUTRINO_FIP_DISTRIBUTED=true needs "
                            "NEUTRINO_L3_MODE=distributed-gateway-port")
    return wanted


@dataclass(frozen=True)
class Settings:
    state_dir: Path = Path(".neutrino")
    bind: str = "127.0.0.1:9696"
    db_url: str = ""
    ovn_nb: str = ""
    ovn_sb: str = ""
    auth: str = "noauth"
    default_project: str = "admin"
    mac_prefix: str = "fa:16:3e"
    geneve_vni_range: tuple[int, int] = (1, 65535)
    # ML2's network_vlan_ranges: physnet -> VLAN id ranges for networks that ask for none
    # (a physnet without ranges is known but gives none); empty: any physnet, no ranges.
    vlan_ranges: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    # L2 gateways: physical switch name -> its VTEP database (hardware_vtep) connection
    vtep_dbs: dict[str, str] = field(default_factory=dict)
    # at most this many learnt MACs (Ucast_Macs_Local) per VTEP logical switch go into OVN
    vtep_macs_max: int = 4096
    tenant_network_types: tuple[str, ...] = ("geneve",)  # ML2's, tried in order
    geneve_overhead: int = 58
    underlay_mtu: int = 1500
    dns_servers: tuple[str, ...] = ()
    dns_domain: str = "openstacklocal."  # Neutron's dns_domain (internal DNS)
    dhcp_lease_time: int = 43200
    startup_sync: str = "log"
    sync_owed_after: float = 300.0  # seconds the journal may owe a resource before sync says so
    gateway_scheduler: str = "least-loaded"
    agent_down_time: float = 75.0  # seconds since a chassis last acknowledged a probe
    # gateway-router mode: move a gateway router off a chassis whose controller has not
    # acknowledged a probe for agent_down_time (not only off one deleted from SB)
    gateway_move_unresponsive: bool = True
    transit_cidr: str = "169.254.128.0/30"
    # how a router's external gateway is realised: a gateway router per Neutron router on a
    # transit switch ("gateway-router", DESIGN 5), or ML2/OVN's distributed gateway port with
    # an HA_Chassis_Group ("distributed-gateway-port")
    l3_mode: str = "gateway-router"
    # ML2/OVN's enable_distributed_floating_ip (distributed-gateway-port mode only)
    fip_distributed: bool = False
    vhost_sock_dir: str = "/var/run/openvswitch"  # where OVS-DPDK hosts make vhost-user sockets
    # ML2/OVN's ovn_metadata_enabled: a metadata localport per network with DHCP subnets
    metadata_enabled: bool = False
    quotas: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    keystone: dict[str, str] = field(default_factory=dict)
    journal: JournalSettings = field(default_factory=JournalSettings)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    nova: NovaSettings | None = None  # no notifier without NEUTRINO_NOVA_URL

    @property
    def host(self) -> str:
        return self.bind.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])

    @property
    def ovn_dir(self) -> Path:
        return self.state_dir / "ovn"

    @property
    def geneve_mtu(self) -> int:
        return self.underlay_mtu - self.geneve_overhead


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    state_dir = Path(env.get("NEUTRINO_STATE_DIR", ".neutrino")).resolve()
    bind = env.get("NEUTRINO_BIND", "127.0.0.1:9696")
    _check_bind(bind)
    auth = _choice(env, "NEUTRINO_AUTH", ("noauth", "keystone"), "noauth")
    sock_dir = state_dir / "ovn"
    down_time = _int(env, "NEUTRINO_AGENT_DOWN_TIME", 75)
    probe_every = _int(env, "NEUTRINO_AGENT_PROBE_SECONDS", 25)
    if not 0 < probe_every < down_time:
        raise SettingsError("NEUTRINO_AGENT_PROBE_SECONDS must be positive and shorter than "
                            f"NEUTRINO_AGENT_DOWN_TIME ({down_time}), not {probe_every}")
    return Settings(
        state_dir=state_dir,
        bind=bind,
        db_url=env.get("NEUTRINO_DB_URL", f"sqlite:///{state_dir / 'neutrino.db'}"),
        ovn_nb=env.get("NEUTRINO_OVN_NB", f"unix:{sock_dir / 'ovnnb_db.sock'}"),
        ovn_sb=env.get("NEUTRINO_OVN_SB", f"unix:{sock_dir / 'ovnsb_db.sock'}"),
        auth=auth,
        default_project=env.get("NEUTRINO_DEFAULT_PROJECT", "admin"),
        mac_prefix=env.get("NEUTRINO_MAC_PREFIX", "fa:16:3e"),
        geneve_vni_range=_int_range(env, "NEUTRINO_GENEVE_VNI_RANGE", (1, 65535)),
        vlan_ranges=_vlan_ranges(env.get("NEUTRINO_VLAN_RANGES", "")),
        vtep_dbs=_vtep_dbs(env.get("NEUTRINO_VTEP_DBS", "")),
        vtep_macs_max=_positive(env, "NEUTRINO_VTEP_MACS_MAX", 4096),
        tenant_network_types=_tenant_types(env.get("NEUTRINO_TENANT_NETWORK_TYPES",
                                                   "geneve")),
        underlay_mtu=_int(env, "NEUTRINO_UNDERLAY_MTU", 1500),
        dns_servers=_addresses(env, "NEUTRINO_DNS_SERVERS"),
        dns_domain=_dns_domain(env),
        startup_sync=_choice(env, "NEUTRINO_STARTUP_SYNC", ("off", "log", "repair"), "log"),
        sync_owed_after=_int(env, "NEUTRINO_SYNC_OWED_SECONDS", 300),
        gateway_scheduler=_choice(env, "NEUTRINO_GATEWAY_SCHEDULER",
                                  ("least-loaded", "chance"), "least-loaded"),
        transit_cidr=_transit(env),
        l3_mode=_choice(env, "NEUTRINO_L3_MODE", L3_MODES, L3_MODES[0]),
        fip_distributed=_fip_distributed(env),
        vhost_sock_dir=env.get("NEUTRINO_VHOST_SOCK_DIR", "/var/run/openvswitch"),
        metadata_enabled=_choice(env, "NEUTRINO_OVN_METADATA", ("true", "false"),
                                 "false") == "true",
        agent_down_time=down_time,
        gateway_move_unresponsive=_choice(env, "NEUTRINO_GATEWAY_MOVE_UNRESPONSIVE",
                                          ("true", "false"), "true") == "true",
        quotas={name: _int(env, f"NEUTRINO_QUOTA_{name.upper()}", default)
                for name, default in DEFAULT_QUOTAS.items()},
        keystone=_keystone(env),
        nova=_nova(env),
        journal=JournalSettings(
            batch_size=_int(env, "NEUTRINO_JOURNAL_BATCH_SIZE", 200),
            bulk_batch_size=_int(env, "NEUTRINO_JOURNAL_BULK_BATCH_SIZE", 1000),
            max_attempts=_int(env, "NEUTRINO_JOURNAL_MAX_ATTEMPTS", 5),
            lease_seconds=_int(env, "NEUTRINO_JOURNAL_LEASE_SECONDS", 6),
            workers=_int(env, "NEUTRINO_JOURNAL_WORKERS", 1),
            urgent_after_ms=_int(env, "NEUTRINO_JOURNAL_URGENT_AFTER_MS", 20),
            process=_choice(env, "NEUTRINO_JOURNAL_PROCESS", ("separate", "inline"),
                            "separate"),
        ),
        http=HttpSettings(
            header_timeout=_int(env, "NEUTRINO_HTTP_HEADER_TIMEOUT", 10),
            body_timeout=_int(env, "NEUTRINO_HTTP_BODY_TIMEOUT", 30),
            keepalive_timeout=_int(env, "NEUTRINO_HTTP_KEEPALIVE_TIMEOUT", 5),
            max_connections=_int(env, "NEUTRINO_HTTP_MAX_CONNECTIONS", 512),
        ),
        maintenance=MaintenanceSettings(
            audit_every=_not_negative(env, "NEUTRINO_MAINTENANCE_AUDIT_SECONDS", 300),
            retention=_int(env, "NEUTRINO_JOURNAL_RETENTION_SECONDS", 3600),
            agent_probe_every=probe_every,
            vtep_every=_int(env, "NEUTRINO_MAINTENANCE_VTEP_SECONDS", 10),
            vtep_macs_every=_positive(env, "NEUTRINO_MAINTENANCE_VTEP_MACS_SECONDS", 2),
        ),
        api=ApiSettings(
            max_body_bytes=_positive(env, "NEUTRINO_API_MAX_BODY_BYTES", 1024 * 1024),
            max_bulk=_positive(env, "NEUTRINO_API_MAX_BULK", 1000),
        ),
    )


KEYSTONE_PREFIX = "NEUTRINO_KEYSTONE_"


def _keystone(env: Mapping[str, str]) -> dict[str, str]:
    """keystonemiddleware's [keystone_authtoken] options, from NEUTRINO_KEYSTONE_<OPTION>
    (for example NEUTRINO_KEYSTONE_AUTH_URL, NEUTRINO_KEYSTONE_USERNAME)."""
    options = {key[len(KEYSTONE_PREFIX):].lower(): value for key, value in env.items()
               if key.startswith(KEYSTONE_PREFIX)}
    if env.get("NEUTRINO_AUTH") == "keystone":
        missing = [o for o in ("auth_url", "username", "password") if o not in options]
        if missing:
            names = ", ".join(KEYSTONE_PREFIX + m.upper() for m in missing)
            raise SettingsError(f"NEUTRINO_AUTH=keystone needs {names}")
    return options


NOVA_REQUIRED = ("AUTH_URL", "USERNAME", "PASSWORD", "PROJECT_NAME")


def _nova(env: Mapping[str, str]) -> NovaSettings | None:
    url = env.get("NEUTRINO_NOVA_URL", "")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"NEUTRINO_NOVA_URL must be an http(s) URL, not {url!r}")
    missing = [f"NEUTRINO_NOVA_{name}" for name in NOVA_REQUIRED
               if not env.get(f"NEUTRINO_NOVA_{name}")]
    if missing:
        raise SettingsError(f"NEUTRINO_NOVA_URL needs {', '.join(missing)}")
    return NovaSettings(
        url=url.rstrip("/"),
        auth_url=env["NEUTRINO_NOVA_AUTH_URL"],
        username=env["NEUTRINO_NOVA_USERNAME"],
        password=env["NEUTRINO_NOVA_PASSWORD"],
        project_name=env["NEUTRINO_NOVA_PROJECT_NAME"],
        user_domain_name=env.get("NEUTRINO_NOVA_USER_DOMAIN_NAME", "Default"),
        project_domain_name=env.get("NEUTRINO_NOVA_PROJECT_DOMAIN_NAME", "Default"),
        max_attempts=_positive(env, "NEUTRINO_NOVA_MAX_ATTEMPTS", 5),
    )


def _transit(env: Mapping[str, str]) -> str:
    raw = env.get("NEUTRINO_TRANSIT_CIDR", "169.254.128.0/30")
    try:
        net = ipaddress.ip_network(raw)
    except ValueError:
        net = None
    if net is None or net.version != 4 or net.prefixlen != 30:
        raise SettingsError(f"NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not {raw!r}")
    return str(net)


def _choice(env: Mapping[str, str], key: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(key, default)
    if value not in choices:
        wanted = " or ".join(repr(c) for c in choices)
        raise SettingsError(f"{key} must be {wanted}, not {value!r}")
    return value


def _check_bind(bind: str) -> None:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise SettingsError(f"NEUTRINO_BIND must be HOST:PORT, not {bind!r}")


def _addresses(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    items = [item.strip() for item in env.get(key, "").split(",") if item.strip()]
    try:
        return tuple(str(ipaddress.ip_address(item)) for item in items)
    except ValueError:
        raise SettingsError(f"{key} must be a comma separated list of IP addresses, "
                            f"not {env[key]!r}") from None


def _dns_domain(env: Mapping[str, str]) -> str:
    """NEUTRINO_DNS_DOMAIN, completed with its final dot as Neutron does ('' is none)."""
    domain = dns_names.fqdn_domain(env.get("NEUTRINO_DNS_DOMAIN", "openstacklocal.").lower())
    try:
        dns_names.check_dns_domain(domain)
    except dns_names.InvalidDnsName as e:
        raise SettingsError(f"NEUTRINO_DNS_DOMAIN: {e}") from None
    if any(f"<{k}>" in domain for k in dns_names.KEYWORDS):
        raise SettingsError("NEUTRINO_DNS_DOMAIN may not hold domain keywords")
    return domain


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{key} must be an integer, not {raw!r}") from None


def _not_negative(env: Mapping[str, str], key: str, default: int) -> int:
    value = _int(env, key, default)
    if value < 0:
        raise SettingsError(f"{key} must be 0 or more, not {env[key]!r}")
    return value


def _positive(env: Mapping[str, str], key: str, default: int) -> int:
    value = _int(env, key, default)
    if value < 1:
        raise SettingsError(f"{key} must be a positive integer, not {env[key]!r}")
    return value


MAX_VLAN = 4094


def _vtep_dbs(raw: str) -> dict[str, str]:
    """`ps1=tcp:10.0.0.5:6640,ps2=unix:/run/vtep.sock`: physical switch → VTEP database."""
    found: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        switch, sep, remote = (part.strip() for part in item.partition("="))
        if not sep or not switch or not remote.startswith(("tcp:", "ssl:", "unix:")):
            raise SettingsError(f"NEUTRINO_VTEP_DBS: '{item}' is not "
                                "<physical switch>=<tcp:|ssl:|unix: OVSDB connection>")
        found[switch] = remote
    return found


def _vlan_ranges(raw: str) -> dict[str, tuple[tuple[int, int], ...]]:
    """`physnet1:100:200,physnet1:300:310,physnet2` (ML2 network_vlan_ranges)."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        physnet, *bounds = item.split(":")
        if not physnet or len(bounds) not in (0, 2) or not all(b.isdigit() for b in bounds):
            raise SettingsError("NEUTRINO_VLAN_RANGES must be PHYSNET[:LOW:HIGH],... not "
                                f"{raw!r}")
        found = ranges.setdefault(physnet, [])
        if bounds:
            low, high = int(bounds[0]), int(bounds[1])
            if not 1 <= low <= high <= MAX_VLAN:
                raise SettingsError(f"NEUTRINO_VLAN_RANGES: {item!r} is not a range of VLAN "
                                    f"ids within 1:{MAX_VLAN}")
            found.append((low, high))
    return {physnet: tuple(found) for physnet, found in ranges.items()}


def _tenant_types(raw: str) -> tuple[str, ...]:
    types = tuple(t.strip() for t in raw.split(",") if t.strip())
    if not types or any(t not in ("geneve", "vlan") for t in types):
        raise SettingsError("NEUTRINO_TENANT_NETWORK_TYPES must list geneve and/or vlan, "
                            f"not {raw!r}")
    return types


def _int_range(env: Mapping[str, str], key: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(key)
    if raw is None:
        return default
    low, sep, high = raw.partition(":")
    if not sep or not low.isdigit() or not high.isdigit() or int(low) > int(high):
        raise SettingsError(f"{key} must be LOW:HIGH, not {raw!r}")
    return int(low), int(high)

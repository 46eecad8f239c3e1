"""load_settings: defaults, overrides, and bad values that fail naming the variable."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from neutrino.settings import (
    JournalSettings,
    MaintenanceSettings,
    NovaSettings,
    Settings,
    SettingsError,
    load_settings,
)

STATE = Path("/var/lib/neutrino-test")
KEYSTONE_ENV = {"NEUTRINO_KEYSTONE_AUTH_URL": "http://ks:5000/v3",
                "NEUTRINO_KEYSTONE_USERNAME": "neutron", "NEUTRINO_KEYSTONE_PASSWORD": "pw"}


def expected(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "state_dir": STATE,
        "bind": "127.0.0.1:9696",
        "db_url": f"sqlite:///{STATE}/neutrino.db",
        "ovn_nb": f"unix:{STATE}/ovn/ovnnb_db.sock",
        "ovn_sb": f"unix:{STATE}/ovn/ovnsb_db.sock",
        "auth": "noauth",
        "default_project": "admin",
        "mac_prefix": "fa:16:3e",
        "geneve_vni_range": (1, 65535),
        "geneve_overhead": 58,
        "underlay_mtu": 1500,
        "dns_servers": (),
        "dhcp_lease_time": 43200,
        "startup_sync": "log",
        "gateway_scheduler": "least-loaded",
        "transit_cidr": "169.254.128.0/30",
        "journal": JournalSettings(),
        "maintenance": MaintenanceSettings(),
    }
    values.update(overrides)
    return Settings(**values)


def test_defaults_from_empty_environment() -> None:
    state = Path(".neutrino").resolve()
    assert load_settings({}) == expected(
        state_dir=state,
        db_url=f"sqlite:///{state / 'neutrino.db'}",
        ovn_nb=f"unix:{state / 'ovn' / 'ovnnb_db.sock'}",
        ovn_sb=f"unix:{state / 'ovn' / 'ovnsb_db.sock'}",
    )


@pytest.mark.parametrize(
    ("env", "settings"),
    [
        pytest.param({}, expected(), id="state-dir-only"),
        pytest.param({"NEUTRINO_BIND": "0.0.0.0:8080"}, expected(bind="0.0.0.0:8080"),
                     id="bind"),
        pytest.param({"NEUTRINO_BIND": "[::1]:9696"}, expected(bind="[::1]:9696"),
                     id="bind-ipv6"),
        pytest.param(
            {"NEUTRINO_AUTH": "keystone", **KEYSTONE_ENV},
            expected(auth="keystone", keystone={"auth_url": "http://ks:5000/v3",
                                                "username": "neutron", "password": "pw"}),
            id="keystone",
        ),
        pytest.param({"NEUTRINO_AUTH": "noauth"}, expected(), id="noauth"),
        pytest.param(
            {"NEUTRINO_DB_URL": "postgresql://u@db/neutrino"},
            expected(db_url="postgresql://u@db/neutrino"), id="db-url",
        ),
        pytest.param(
            {"NEUTRINO_OVN_NB": "tcp:10.0.0.1:6641", "NEUTRINO_OVN_SB": "ssl:10.0.0.1:6642"},
            expected(ovn_nb="tcp:10.0.0.1:6641", ovn_sb="ssl:10.0.0.1:6642"), id="ovn-remotes",
        ),
        pytest.param({"NEUTRINO_DEFAULT_PROJECT": "demo", "NEUTRINO_MAC_PREFIX": "fa:16:3f"},
                     expected(default_project="demo", mac_prefix="fa:16:3f"),
                     id="project-and-mac-prefix"),
        pytest.param({"NEUTRINO_GENEVE_VNI_RANGE": "100:200"},
                     expected(geneve_vni_range=(100, 200)), id="vni-range"),
        pytest.param({"NEUTRINO_GENEVE_VNI_RANGE": "7:7"}, expected(geneve_vni_range=(7, 7)),
                     id="vni-range-single"),
        pytest.param({"NEUTRINO_UNDERLAY_MTU": "9000"}, expected(underlay_mtu=9000),
                     id="underlay-mtu"),
        pytest.param({"NEUTRINO_DNS_SERVERS": "8.8.8.8,fd00::53"},
                     expected(dns_servers=("8.8.8.8", "fd00::53")), id="dns-servers"),
        pytest.param({"NEUTRINO_DNS_SERVERS": ",8.8.8.8,,"},
                     expected(dns_servers=("8.8.8.8",)), id="dns-servers-empty-items-dropped"),
        pytest.param({"NEUTRINO_DNS_SERVERS": ""}, expected(), id="dns-servers-empty"),
        pytest.param(
            {"NEUTRINO_JOURNAL_BATCH_SIZE": "10", "NEUTRINO_JOURNAL_MAX_ATTEMPTS": "2",
             "NEUTRINO_JOURNAL_BULK_BATCH_SIZE": "50"},
            expected(journal=JournalSettings(batch_size=10, max_attempts=2,
                                             bulk_batch_size=50)), id="journal",
        ),
        pytest.param(
            {"NEUTRINO_JOURNAL_WORKERS": "4", "NEUTRINO_JOURNAL_LEASE_SECONDS": "30",
             "NEUTRINO_JOURNAL_URGENT_AFTER_MS": "-1"},
            expected(journal=JournalSettings(workers=4, lease_seconds=30, urgent_after_ms=-1)),
            id="journal-workers-and-lease",
        ),
        pytest.param({"NEUTRINO_JOURNAL_PROCESS": "inline"},
                     expected(journal=JournalSettings(process="inline")), id="journal-inline"),
        pytest.param({"NEUTRINO_GATEWAY_SCHEDULER": "chance"},
                     expected(gateway_scheduler="chance"), id="scheduler-chance"),
        pytest.param({"NEUTRINO_GATEWAY_SCHEDULER": "least-loaded"}, expected(),
                     id="scheduler-least-loaded"),
        pytest.param({"NEUTRINO_TRANSIT_CIDR": "100.64.0.4/30"},
                     expected(transit_cidr="100.64.0.4/30"), id="transit-cidr"),
        pytest.param({"NEUTRINO_TRANSIT_CIDR": "169.254.128.0/30"}, expected(),
                     id="transit-cidr-default-given"),
        pytest.param({"NEUTRINO_L3_MODE": "distributed-gateway-port"},
                     expected(l3_mode="distributed-gateway-port"), id="l3-mode-dgp"),
        pytest.param({"NEUTRINO_L3_MODE": "gateway-router"}, expected(),
                     id="l3-mode-default-given"),
        pytest.param({"NEUTRINO_L3_MODE": "distributed-gateway-port",
                      "NEUTRINO_FIP_DISTRIBUTED": "true"},
                     expected(l3_mode="distributed-gateway-port", fip_distributed=True),
                     id="distributed-floating-ips"),
        pytest.param({"NEUTRINO_FIP_DISTRIBUTED": "false"}, expected(),
                     id="centralised-floating-ips-default-given"),
        pytest.param({"NEUTRINO_GATEWAY_MOVE_UNRESPONSIVE": "false"},
                     expected(gateway_move_unresponsive=False), id="gateway-stay-on-silence"),
        pytest.param({"NEUTRINO_GATEWAY_MOVE_UNRESPONSIVE": "true"}, expected(),
                     id="gateway-move-on-silence-default-given"),
        pytest.param({"NEUTRINO_VHOST_SOCK_DIR": "/run/ovs-dpdk"},
                     expected(vhost_sock_dir="/run/ovs-dpdk"), id="vhost-sock-dir"),
        pytest.param({"NEUTRINO_STARTUP_SYNC": "repair"}, expected(startup_sync="repair"),
                     id="startup-sync"),
        pytest.param(
            {"NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "60",
             "NEUTRINO_JOURNAL_RETENTION_SECONDS": "120"},
            expected(maintenance=MaintenanceSettings(audit_every=60, retention=120)),
            id="maintenance",
        ),
    ],
)
def test_overrides(env: dict[str, str], settings: Settings) -> None:
    assert load_settings({"NEUTRINO_STATE_DIR": str(STATE), **env}) == settings


def test_relative_state_dir_is_resolved() -> None:
    settings = load_settings({"NEUTRINO_STATE_DIR": "some/dir"})
    assert settings.state_dir == Path("some/dir").resolve()
    assert settings.state_dir.is_absolute()


@pytest.mark.parametrize(
    ("env", "host", "port", "ovn_dir", "geneve_mtu"),
    [
        ({}, "127.0.0.1", 9696, STATE / "ovn", 1442),
        ({"NEUTRINO_BIND": "0.0.0.0:80", "NEUTRINO_UNDERLAY_MTU": "9000"},
         "0.0.0.0", 80, STATE / "ovn", 8942),
        ({"NEUTRINO_BIND": "::1:9697"}, "::1", 9697, STATE / "ovn", 1442),
    ],
)
def test_derived_properties(env: dict[str, str], host: str, port: int, ovn_dir: Path,
                            geneve_mtu: int) -> None:
    settings = load_settings({"NEUTRINO_STATE_DIR": str(STATE), **env})
    assert (settings.host, settings.port, settings.ovn_dir, settings.geneve_mtu) == (
        host, port, ovn_dir, geneve_mtu,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NEUTRINO_BIND", "9696", "NEUTRINO_BIND must be HOST:PORT, not '9696'"),
        ("NEUTRINO_BIND", "localhost", "NEUTRINO_BIND must be HOST:PORT, not 'localhost'"),
        ("NEUTRINO_BIND", ":9696", "NEUTRINO_BIND must be HOST:PORT, not ':9696'"),
        ("NEUTRINO_BIND", "host:", "NEUTRINO_BIND must be HOST:PORT, not 'host:'"),
        ("NEUTRINO_BIND", "host:http", "NEUTRINO_BIND must be HOST:PORT, not 'host:http'"),
        ("NEUTRINO_BIND", "host:-1", "NEUTRINO_BIND must be HOST:PORT, not 'host:-1'"),
        ("NEUTRINO_BIND", "", "NEUTRINO_BIND must be HOST:PORT, not ''"),
        ("NEUTRINO_AUTH", "basic", "NEUTRINO_AUTH must be 'noauth' or 'keystone', not 'basic'"),
        ("NEUTRINO_AUTH", "", "NEUTRINO_AUTH must be 'noauth' or 'keystone', not ''"),
        ("NEUTRINO_AUTH", "Keystone",
         "NEUTRINO_AUTH must be 'noauth' or 'keystone', not 'Keystone'"),
        ("NEUTRINO_UNDERLAY_MTU", "big", "NEUTRINO_UNDERLAY_MTU must be an integer, not 'big'"),
        ("NEUTRINO_UNDERLAY_MTU", "", "NEUTRINO_UNDERLAY_MTU must be an integer, not ''"),
        ("NEUTRINO_UNDERLAY_MTU", "1500.0",
         "NEUTRINO_UNDERLAY_MTU must be an integer, not '1500.0'"),
        ("NEUTRINO_JOURNAL_BATCH_SIZE", "x",
         "NEUTRINO_JOURNAL_BATCH_SIZE must be an integer, not 'x'"),
        ("NEUTRINO_JOURNAL_MAX_ATTEMPTS", "5x",
         "NEUTRINO_JOURNAL_MAX_ATTEMPTS must be an integer, not '5x'"),
        ("NEUTRINO_GENEVE_VNI_RANGE", "100",
         "NEUTRINO_GENEVE_VNI_RANGE must be LOW:HIGH, not '100'"),
        ("NEUTRINO_GENEVE_VNI_RANGE", "200:100",
         "NEUTRINO_GENEVE_VNI_RANGE must be LOW:HIGH, not '200:100'"),
        ("NEUTRINO_GENEVE_VNI_RANGE", "a:b",
         "NEUTRINO_GENEVE_VNI_RANGE must be LOW:HIGH, not 'a:b'"),
        ("NEUTRINO_GENEVE_VNI_RANGE", "-1:5",
         "NEUTRINO_GENEVE_VNI_RANGE must be LOW:HIGH, not '-1:5'"),
        ("NEUTRINO_GENEVE_VNI_RANGE", "1:",
         "NEUTRINO_GENEVE_VNI_RANGE must be LOW:HIGH, not '1:'"),
        ("NEUTRINO_GATEWAY_SCHEDULER", "random",
         "NEUTRINO_GATEWAY_SCHEDULER must be 'least-loaded' or 'chance', not 'random'"),
        ("NEUTRINO_GATEWAY_SCHEDULER", "least_loaded",
         "NEUTRINO_GATEWAY_SCHEDULER must be 'least-loaded' or 'chance', not 'least_loaded'"),
        ("NEUTRINO_GATEWAY_SCHEDULER", "",
         "NEUTRINO_GATEWAY_SCHEDULER must be 'least-loaded' or 'chance', not ''"),
        ("NEUTRINO_TRANSIT_CIDR", "169.254.128.0/29",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not '169.254.128.0/29'"),
        ("NEUTRINO_TRANSIT_CIDR", "169.254.128.0/31",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not '169.254.128.0/31'"),
        ("NEUTRINO_TRANSIT_CIDR", "169.254.128.1/30",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not '169.254.128.1/30'"),
        ("NEUTRINO_TRANSIT_CIDR", "169.254.128.0",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not '169.254.128.0'"),
        ("NEUTRINO_TRANSIT_CIDR", "fd00::/126",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not 'fd00::/126'"),
        ("NEUTRINO_TRANSIT_CIDR", "transit",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not 'transit'"),
        ("NEUTRINO_TRANSIT_CIDR", "",
         "NEUTRINO_TRANSIT_CIDR must be an IPv4 /30 network, not ''"),
        ("NEUTRINO_L3_MODE", "dvr",
         "NEUTRINO_L3_MODE must be 'gateway-router' or 'distributed-gateway-port', not 'dvr'"),
        ("NEUTRINO_FIP_DISTRIBUTED", "yes",
         "NEUTRINO_FIP_DISTRIBUTED must be 'true' or 'false', not 'yes'"),
        ("NEUTRINO_FIP_DISTRIBUTED", "true",  # a gateway router holds its floating IPs
         "NEUTRINO_FIP_DISTRIBUTED=true needs NEUTRINO_L3_MODE=distributed-gateway-port"),
        ("NEUTRINO_STARTUP_SYNC", "fix",
         "NEUTRINO_STARTUP_SYNC must be 'off' or 'log' or 'repair', not 'fix'"),
        ("NEUTRINO_JOURNAL_PROCESS", "thread",
         "NEUTRINO_JOURNAL_PROCESS must be 'separate' or 'inline', not 'thread'"),
        ("NEUTRINO_JOURNAL_WORKERS", "two",
         "NEUTRINO_JOURNAL_WORKERS must be an integer, not 'two'"),
        ("NEUTRINO_JOURNAL_LEASE_SECONDS", "1.5",
         "NEUTRINO_JOURNAL_LEASE_SECONDS must be an integer, not '1.5'"),
        ("NEUTRINO_MAINTENANCE_AUDIT_SECONDS", "5m",
         "NEUTRINO_MAINTENANCE_AUDIT_SECONDS must be an integer, not '5m'"),
        ("NEUTRINO_MAINTENANCE_AUDIT_SECONDS", "-1",
         "NEUTRINO_MAINTENANCE_AUDIT_SECONDS must be 0 or more, not '-1'"),
        ("NEUTRINO_JOURNAL_RETENTION_SECONDS", "1h",
         "NEUTRINO_JOURNAL_RETENTION_SECONDS must be an integer, not '1h'"),
        ("NEUTRINO_AGENT_DOWN_TIME", "25",
         "NEUTRINO_AGENT_PROBE_SECONDS must be positive and shorter than "
         "NEUTRINO_AGENT_DOWN_TIME (25), not 25"),
        ("NEUTRINO_AGENT_PROBE_SECONDS", "0",
         "NEUTRINO_AGENT_PROBE_SECONDS must be positive and shorter than "
         "NEUTRINO_AGENT_DOWN_TIME (75), not 0"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"NEUTRINO_STATE_DIR": str(STATE), variable: value})
    assert str(exc.value) == message


@pytest.mark.parametrize("value", ["8.8.8.8, 8.8.4.4", "8.8.8.8,dns.example.org"])
def test_bad_dns_servers_fail_at_start_up(value: str) -> None:
    env = {"NEUTRINO_STATE_DIR": str(STATE), "NEUTRINO_DNS_SERVERS": value}
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        assert "NEUTRINO_DNS_SERVERS" in str(exc)
        return
    # Accepting the list is fine only if what was kept is a list of IP addresses.
    for server in settings.dns_servers:
        ipaddress.ip_address(server)


@pytest.mark.parametrize("bind", ["127.0.0.1:99999", "127.0.0.1:65536"])
def test_out_of_range_bind_port_is_rejected(bind: str) -> None:
    with pytest.raises(SettingsError, match="NEUTRINO_BIND"):
        load_settings({"NEUTRINO_STATE_DIR": str(STATE), "NEUTRINO_BIND": bind})


NOVA_ENV = {"NEUTRINO_NOVA_URL": "http://nova:8774/v2.1/",
            "NEUTRINO_NOVA_AUTH_URL": "http://ks:5000/v3", "NEUTRINO_NOVA_USERNAME": "nova",
            "NEUTRINO_NOVA_PASSWORD": "pw", "NEUTRINO_NOVA_PROJECT_NAME": "service"}


def test_nova_notifier_settings() -> None:
    settings = load_settings({"NEUTRINO_STATE_DIR": str(STATE), **NOVA_ENV,
                              "NEUTRINO_NOVA_USER_DOMAIN_NAME": "users",
                              "NEUTRINO_NOVA_MAX_ATTEMPTS": "3"})
    assert settings.nova == NovaSettings(
        url="http://nova:8774/v2.1", auth_url="http://ks:5000/v3", username="nova",
        password="pw", project_name="service", user_domain_name="users",
        project_domain_name="Default", max_attempts=3)
    assert load_settings({"NEUTRINO_STATE_DIR": str(STATE)}).nova is None


@pytest.mark.parametrize(("change", "message"), [
    ({"NEUTRINO_NOVA_URL": "nova:8774"},
     "NEUTRINO_NOVA_URL must be an http(s) URL, not 'nova:8774'"),
    ({"NEUTRINO_NOVA_PASSWORD": "", "NEUTRINO_NOVA_PROJECT_NAME": ""},
     "NEUTRINO_NOVA_URL needs NEUTRINO_NOVA_PASSWORD, NEUTRINO_NOVA_PROJECT_NAME"),
    ({"NEUTRINO_NOVA_MAX_ATTEMPTS": "0"},
     "NEUTRINO_NOVA_MAX_ATTEMPTS must be a positive integer, not '0'"),
])
def test_bad_nova_settings_name_the_variable(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"NEUTRINO_STATE_DIR": str(STATE), **NOVA_ENV, **change})
    assert str(exc.value) == message


def test_vtep_databases() -> None:
    settings = load_settings({"NEUTRINO_VTEP_DBS": "ps1=tcp:10.0.0.5:6640, ps2=unix:/run/v.sock"})
    assert settings.vtep_dbs == {"ps1": "tcp:10.0.0.5:6640", "ps2": "unix:/run/v.sock"}
    assert load_settings({}).vtep_dbs == {}


@pytest.mark.parametrize("value", ["ps1", "=tcp:1.2.3.4:6640", "ps1=", "ps1=http://x"])
def test_bad_vtep_databases(value: str) -> None:
    with pytest.raises(SettingsError, match="NEUTRINO_VTEP_DBS"):
        load_settings({"NEUTRINO_VTEP_DBS": value})


def test_vtep_learnt_mac_settings() -> None:
    assert (load_settings({}).vtep_macs_max, load_settings({}).maintenance.vtep_macs_every) \
        == (4096, 2)
    settings = load_settings({"NEUTRINO_VTEP_MACS_MAX": "10",
                              "NEUTRINO_MAINTENANCE_VTEP_MACS_SECONDS": "5"})
    assert (settings.vtep_macs_max, settings.maintenance.vtep_macs_every) == (10, 5)
    for variable in ("NEUTRINO_VTEP_MACS_MAX", "NEUTRINO_MAINTENANCE_VTEP_MACS_SECONDS"):
        with pytest.raises(SettingsError, match=variable):
            load_settings({variable: "0"})

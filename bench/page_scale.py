"""Page-cost benchmark: one page of ports at 1k, 10k and 100k ports, in-process, on SQLite
or PostgreSQL.

What `scale.py` measures through a real server and OVN takes hours at 100k ports on a
shared 2-core machine; a page's cost only needs the rows in the database. So: 1,000 ports
are created through the API (Starlette's TestClient, no journal worker), and the table is
then grown by SQL copies of one of them (new id, MAC, `device_id`, one address, its
security group), in one statement per level. On PostgreSQL an ANALYZE follows, as
autovacuum's would within a minute (`scale.py` grows in steps it keeps up with); with
`--no-analyze` the planner has what autovacuum made by then, perhaps nothing (a table
never analysed gets default guesses: `port_id = ANY(100 ids)` looks like half the table;
bench/README.md, "Session 7"). At each level (the fastest of `--repeat`; as `*_p50_ms`
the median; on PostgreSQL, as `*_database_ms` and `*_database_buffers`, the database's own
time and buffers for the call's statements, from EXPLAIN (ANALYZE, BUFFERS)):

- `GET /v2.0/ports?limit=100` (noauth: an admin, every project), and its next page through
  the marker;
- `GET /v2.0/ports?device_id=...` (one match);
- the same first page and filter for a project's member (the service with a non-admin
  context: `project_id = ?` scoped);
- the baseline, raw SQL: `SELECT * FROM ports ORDER BY id LIMIT 100`.

    /work/main/.venv/bin/python bench/page_scale.py [--levels 1000,10000,100000]
        [--repeat 20] [--database sqlite|postgresql] [--db-url URL] [--out FILE]

`--database postgresql` starts a throwaway cluster as `scale.py` does; `--db-url` names an
empty database to use instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from common import emit, machine, ms, ratio, sec, timed
from journal import throwaway_postgres
from listing import call, neutrino_api, populate
from sqlalchemy import text

from neutrino.db.engine import statements_and_parameters_run
from neutrino.db.models import Port
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery

PAGE = 100
DEVICE = "vm-one"
MEMBER = Context(project_id="bench", is_admin=False, roles=("member", "reader"))


def grow(app: Any, total: int, analyze: bool = True) -> float:
    """Copy the first port until the table holds `total` ports; the seconds it took."""
    if app.db.engine.dialect.name == "postgresql":
        return grow_postgresql(app, total, analyze)
    columns = [c.name for c in Port.__table__.c]
    replaced = {
        "id": "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
              "substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' "
              "|| hex(randomblob(6)))",
        "mac_address": "printf('fa:16:%02x:%02x:%02x:%02x', (n >> 24) & 255, (n >> 16) & 255, "
                       "(n >> 8) & 255, n & 255)",
        "device_id": "'copy-' || n",
        "name": "'copy-' || n",
    }
    select_list = ", ".join(replaced.get(c, f"t.{c}") for c in columns)
    with app.db.engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM ports")).scalar_one()
        if have >= total:
            return 0.0
        last = conn.execute(text("SELECT max(rowid) FROM ports")).scalar_one()
        _, took = timed(lambda: conn.execute(text(f"""
            WITH RECURSIVE seq(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM seq
                                      WHERE n < :last_n)
            INSERT INTO ports ({", ".join(columns)})
            SELECT {select_list} FROM seq, (SELECT * FROM ports ORDER BY rowid LIMIT 1) AS t
            """), {"first": have, "last_n": total - 1}))
        conn.execute(text("""
            INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id, position)
            SELECT a.subnet_id, '11.' || ((p.rowid >> 16) & 255) || '.' ||
                   ((p.rowid >> 8) & 255) || '.' || (p.rowid & 255), p.id, p.network_id, 0
            FROM ports AS p, (SELECT * FROM ip_allocations LIMIT 1) AS a
            WHERE p.rowid > :last"""), {"last": last})
        conn.execute(text("""
            INSERT INTO port_security_groups (port_id, security_group_id, position)
            SELECT p.id, g.security_group_id, 0
            FROM ports AS p, (SELECT * FROM port_security_groups LIMIT 1) AS g
            WHERE p.rowid > :last"""), {"last": last})
    return took


def grow_postgresql(app: Any, total: int, analyze: bool = True) -> float:
    """`grow` on PostgreSQL: the copies (numbered by `generate_series`) and their address
    and group in one statement, then (`analyze`) the tables' statistics."""
    columns = [c.name for c in Port.__table__.c]
    replaced = {
        "id": "gen_random_uuid()::text",
        "mac_address": "'fa:16:' || lpad(to_hex((n >> 24) & 255), 2, '0') || ':' || "
                       "lpad(to_hex((n >> 16) & 255), 2, '0') || ':' || "
                       "lpad(to_hex((n >> 8) & 255), 2, '0') || ':' || "
                       "lpad(to_hex(n & 255), 2, '0')",
        "device_id": "'copy-' || n",
        "name": "'copy-' || n",
    }
    select_list = ", ".join(replaced.get(c, f"t.{c}") for c in columns)
    with app.db.engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM ports")).scalar_one()
        took = 0.0 if have >= total else timed(lambda: conn.execute(text(f"""
            WITH copies AS (
                INSERT INTO ports ({", ".join(columns)})
                SELECT {select_list}
                FROM generate_series(CAST(:first AS int), CAST(:last_n AS int)) AS n,
                    (SELECT * FROM ports ORDER BY created_at, id LIMIT 1) AS t
                RETURNING id, network_id, split_part(name, '-', 2)::int AS n),
            addresses AS (
                INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id,
                                            position)
                SELECT a.subnet_id, '11.' || ((c.n >> 16) & 255) || '.' ||
                       ((c.n >> 8) & 255) || '.' || (c.n & 255), c.id, c.network_id, 0
                FROM copies AS c, (SELECT * FROM ip_allocations LIMIT 1) AS a)
            INSERT INTO port_security_groups (port_id, security_group_id, position)
            SELECT c.id, g.security_group_id, 0
            FROM copies AS c, (SELECT * FROM port_security_groups LIMIT 1) AS g
            """), {"first": have, "last_n": total - 1}))[1]
    if analyze:
        with app.db.engine.begin() as conn:
            conn.execute(text("ANALYZE ports, ip_allocations, port_security_groups"))
    return took


def min_ms(fn: Any, repeat: int) -> float:
    """The fastest of `repeat` calls after a warm-up: on a shared, loaded machine the
    median mostly measures the wait for a CPU, the minimum what the call costs."""
    return timings(fn, repeat)[0]


def timings(fn: Any, repeat: int) -> tuple[float, float]:
    """The fastest and the median (ms) of `repeat` calls after a warm-up."""
    fn()
    times = [timed(fn)[1] for _ in range(repeat)]
    return ms(min(times)), ms(statistics.median(times))


def database_cost(app: Any, fn: Any, repeat: int) -> dict[str, Any]:
    """PostgreSQL's own cost for the statements a call issues, from EXPLAIN (ANALYZE,
    BUFFERS): their time (planning plus execution, the median of `repeat`; on a loaded
    machine it includes waiting for a core) and the buffers they read (shared hits plus
    reads), which no load changes. Nothing on SQLite."""
    if app.db.engine.dialect.name != "postgresql":
        return {}
    with statements_and_parameters_run(app.db.engine) as issued:
        fn()
    totals, buffers = [], 0
    with app.db.engine.connect() as conn:
        for _ in range(repeat):
            total, buffers = 0.0, 0
            for statement, parameters in issued:
                (plan,) = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
                                               f"{statement}", parameters).scalar_one()
                total += plan["Planning Time"] + plan["Execution Time"]
                buffers += plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]
            totals.append(total)
    return {"database_ms": round(statistics.median(totals), 3), "database_buffers": buffers}


def measure(app: Any, client: Any, repeat: int, device: str) -> dict[str, Any]:
    first = call(client, "GET", f"/v2.0/ports?limit={PAGE}", 200)
    nxt = next(link["href"] for link in first["ports_links"] if link["rel"] == "next")
    found = call(client, "GET", f"/v2.0/ports?device_id={device}", 200)["ports"]
    mine = app.ports.list(MEMBER, ListQuery(filters={"device_id": (device,)}))
    if len(found) != 1 or len(mine) != 1 or len(first["ports"]) != PAGE:
        raise RuntimeError(f"device {device}: {len(found)}, {len(mine)}; page {len(first)}")

    def raw_page() -> None:
        with app.db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM ports ORDER BY id LIMIT :n"), {"n": PAGE}).all()

    calls = {
        "first_page": lambda: call(client, "GET", f"/v2.0/ports?limit={PAGE}", 200),
        "next_page_by_marker": lambda: call(client, "GET", nxt, 200),
        "device_id_filter": lambda: call(client, "GET", f"/v2.0/ports?device_id={device}",
                                         200),
        "member_first_page": lambda: app.ports.list(MEMBER, ListQuery(limit=PAGE)),
        "member_device_id_filter": lambda: app.ports.list(
            MEMBER, ListQuery(filters={"device_id": (device,)})),
        "baseline_raw_sql_page": raw_page,
    }
    figures = {}
    for name, fn in calls.items():
        figures[f"{name}_ms"], figures[f"{name}_p50_ms"] = timings(fn, repeat)
        figures.update({f"{name}_{k}": v for k, v in database_cost(app, fn, repeat).items()})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--db-url", help="an empty database to use (else a throwaway one)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="PostgreSQL: no ANALYZE after the copies")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    levels = sorted(int(x) for x in args.levels.split(","))
    results = []
    with contextlib.ExitStack() as stack:
        db_url = args.db_url or (stack.enter_context(throwaway_postgres())
                                 if args.database == "postgresql" else None)
        app, client = stack.enter_context(neutrino_api(db_url))
        populated = populate(client, min(levels[0], 1000))
        with app.db.engine.begin() as conn:  # the one port every level's filter finds
            conn.execute(text(f"UPDATE ports SET device_id = '{DEVICE}' WHERE id = "
                              "(SELECT id FROM ports ORDER BY created_at DESC, id DESC "
                              "LIMIT 1)"))
        for level in levels:
            grown = grow(app, level, analyze=not args.no_analyze)
            figures = measure(app, client, args.repeat, DEVICE)
            results.append({"ports": level, "copy_s": sec(grown), **figures,
                            "loadavg": [round(x, 2) for x in os.getloadavg()]})
        dialect = app.db.engine.dialect.name
    first = results[0]
    emit({"benchmark": "page_scale", "database": dialect, "page": PAGE,
          "analyze": dialect == "postgresql" and not args.no_analyze,
          "populate_s": populated["populate_s"], "levels": results,
          "ratios": {f"{r['ports']}_vs_{first['ports']}": {
              k: ratio(r[k], first[k]) for k in first if k.endswith("_ms")}
              for r in results[1:]},
          "machine": machine()}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Showing a sync report to an operator: a table, or JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from neutrino.sync.runner import SyncReport


def as_json(report: SyncReport) -> str:
    body = {**report.summary(), "items": [d.as_dict() for d in report.differences],
            "owed": [o.as_dict() for o in report.owed],
            "unsteered": report.unsteered}
    return json.dumps(body, indent=2)


DIFFERENCE_COLUMNS = ("kind", "resource", "id", "row", "detail")
OWED_COLUMNS = ("resource", "id", "journal seq", "state", "age (s)", "last error")


def print_table(report: SyncReport, console: Console) -> None:
    """A table on a terminal; elsewhere (a pipe, a file) tab-separated lines, so that ids are
    never cut to the terminal's width."""
    _print_rows(console, DIFFERENCE_COLUMNS,
                [(d.kind.value, d.resource_type, d.resource_id, d.row, d.detail)
                 for d in report.differences])
    if report.owed:
        console.print("owed by the journal for longer than the threshold:",
                      markup=False, highlight=False)
        _print_rows(console, OWED_COLUMNS,
                    [(o.resource_type, o.resource_id, str(o.seq), o.state,
                      str(o.age_seconds), o.last_error or "") for o in report.owed])
    if report.unsteered:
        console.print("port chains this OVN does not (fully) steer:", markup=False,
                      highlight=False)
        _print_rows(console, ("port chain", "reason"), sorted(report.unsteered.items()))
    for down in report.vtep_unavailable:
        console.print(f"not compared: {down}", markup=False, highlight=False)
    summary = report.summary()
    console.print(
        f"{report.mode}: checked {summary['checked']} resources, "
        f"{len(report.differences)} differences {summary['differences'] or ''}, "
        f"{summary['left_to_journal']} left to the journal "
        f"({summary['owed_by_journal']} owed too long), repaired {summary['repaired']} "
        f"in {summary['seconds']}s", markup=False, highlight=False,
    )


def _print_rows(console: Console, columns: tuple[str, ...],
                rows: list[tuple[str, ...]]) -> None:
    if not rows:
        return
    if not console.is_terminal:
        console.file.write("".join("\t".join(row) + "\n" for row in rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@contextmanager
def progress_bar(console: Console) -> Iterator[Callable[[int, int], None]]:
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("repairing", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance

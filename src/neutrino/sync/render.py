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
    body = {**report.summary(), "items": [d.as_dict() for d in report.differences]}
    return json.dumps(body, indent=2)


def print_table(report: SyncReport, console: Console) -> None:
    if report.differences:
        table = Table("kind", "resource", "id", "row", "detail")
        for diff in report.differences:
            table.add_row(diff.kind.value, diff.resource_type, diff.resource_id, diff.row,
                          diff.detail)
        console.print(table)
    summary = report.summary()
    console.print(
        f"{report.mode}: checked {summary['checked']} resources, "
        f"{len(report.differences)} differences {summary['differences'] or ''}, "
        f"{summary['left_to_journal']} left to the journal, repaired {summary['repaired']} "
        f"in {summary['seconds']}s"
    )


@contextmanager
def progress_bar(console: Console) -> Iterator[Callable[[int, int], None]]:
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("repairing", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance

"""The README's extension table says exactly what `GET /v2.0/extensions` lists."""

from __future__ import annotations

import re
from pathlib import Path

from neutrino.api.extensions import EXTENSIONS

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `([^`]+)` \| (yes|no) \|", re.MULTILINE)


def _table() -> dict[str, str]:
    text = README.read_text()
    section = text[text.index("### Extensions"):]
    section = section[:section.index("\n## ")]
    rows = ROW.findall(section)
    assert len(rows) == len({alias for alias, _ in rows}), "an alias appears twice"
    return dict(rows)


def test_every_listed_alias_is_in_the_readme_as_listed() -> None:
    table = _table()
    listed = {alias for alias, _, _ in EXTENSIONS}
    assert {a for a, mark in table.items() if mark == "yes"} == listed


def test_aliases_the_readme_calls_unlisted_are_not_listed() -> None:
    unlisted = {a for a, mark in _table().items() if mark == "no"}
    assert unlisted and not unlisted & {alias for alias, _, _ in EXTENSIONS}

"""Text every backend can hold, in one place for the API border, OVN rows and the journal.

OVSDB strings are UTF-8 without NUL (ovsdb-server drops a client that sends one), PostgreSQL
text cannot hold NUL, and a lone surrogate (U+D800..U+DFFF, which JSON's `\\ud800` escape
can produce) cannot be encoded as UTF-8 at all.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def problem(text: str) -> str | None:
    """Why no backend can store `text`, or None."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character"
    return "is not valid Unicode (a lone surrogate)"


def unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def escaped(text: str, pattern: re.Pattern[str] = UNSTORABLE) -> str:
    """`text` with what `pattern` matches written as `\\uXXXX`: storable and encodable."""
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

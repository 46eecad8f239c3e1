"""Text the backends can hold, and short safe previews of request values for error messages.

OVSDB strings are UTF-8 without NUL, PostgreSQL text cannot hold NUL, and a lone surrogate
(U+D800..U+DFFF, which JSON's `\\ud800` escape can produce) cannot be encoded as UTF-8 at all:
once stored, every response that includes it fails. The API refuses such text at the border.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

PREVIEW_CHARS = 64  # how much of a request value an error message may echo

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPED = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()  # keyword arguments need Python 3.12
    short.maxlevel, short.maxdict, short.maxlist = 2, 4, 4
    short.maxstring = short.maxother = short.maxlong = PREVIEW_CHARS
    return short


_REPR = _short_repr()


def unstorable(text: str) -> bool:
    """Whether `text` holds a character no backend can store (NUL or a lone surrogate)."""
    return _UNSTORABLE.search(text) is not None


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """`value` as a short, printable, encodable string: at most about `limit` characters,
    control characters and surrogates escaped (an error message must never fail to encode)."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "..."
    else:
        try:
            text = _REPR.repr(value)
        except ValueError:  # an integer beyond int()'s 4300 digits
            text = f"<{type(value).__name__}>"
    text = text if len(text) <= 2 * limit else text[:2 * limit] + "..."
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shorten(message: str, limit: int) -> str:
    """`message` cut to `limit` characters and made encodable, for the fault safety net."""
    if len(message) > limit:
        message = message[:limit - 3] + "..."
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", message)

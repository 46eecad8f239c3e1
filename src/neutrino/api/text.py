"""Short, safe previews of request values for error messages.

What text the backends can hold is `neutrino.text`; the API refuses the rest at the border,
since once stored, every response that includes it would fail.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

from neutrino.text import escaped

PREVIEW_CHARS = 64  # how much of a request value an error message may echo

_ESCAPED = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()  # keyword arguments need Python 3.12
    short.maxlevel, short.maxdict, short.maxlist = 2, 4, 4
    short.maxstring = short.maxother = short.maxlong = PREVIEW_CHARS
    return short


_REPR = _short_repr()


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
    return escaped(text, _ESCAPED)


def shorten(message: str, limit: int) -> str:
    """`message` cut to `limit` characters and made encodable, for the fault safety net."""
    if len(message) > limit:
        message = message[:limit - 3] + "..."
    return escaped(message)

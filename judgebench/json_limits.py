"""JSON from the network, read with bounded nesting.

``json.loads`` recurses once per level: a body of 40,000 ``[`` (80 kB, under any size limit)
exhausts the stack and surfaces as a 500. :func:`json_depth` measures the nesting on the raw
bytes first, without recursion, so servers can refuse such a body with a 400 before parsing.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """The deepest ``[``/``{`` nesting outside strings: strings are cut out (a C-speed regex),
    then only the brackets are walked."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def unpaired_surrogate(value: Any) -> str | None:
    """The first unpaired UTF-16 surrogate escape in parsed JSON (``"\\ud800"``: valid JSON, but
    no text; encoding it to send or store raises), as ``\\udXXX``, or None."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(exc.object[exc.start]):04x}"
    return None

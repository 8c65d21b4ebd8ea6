"""_balanced_end jumps between structural characters: it must end exactly where a scan of
every character ends, on any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from judges.parsing import _balanced_end, json_objects


def scan_every_character(text: str, start: int) -> int | None:
    """The character-by-character scan _balanced_end replaced (the reference)."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            if ch == "'" and i > 0 and text[i - 1].isalnum():
                continue
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


# replies built from the characters the scan acts on, escapes, apostrophes in prose and text
PIECES = [
    "{",
    "}",
    '"',
    "'",
    "\\",
    '\\"',
    "\\\\",
    "it's",
    "a",
    " ",
    "\n",
    '{"k": "v"}',
    "{'s': 'x'}",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30), st.data())
def test_ends_where_a_scan_of_every_character_ends(parts, data):
    text = "".join(parts)
    opens = [i for i, ch in enumerate(text) if ch == "{"]
    start = data.draw(st.sampled_from(opens)) if opens else 0
    assert _balanced_end(text, start) == scan_every_character(text, start)


def test_strings_escapes_and_apostrophes():
    reply = 'Sure, it\'s fine. {"note": "a } in \\" a string\\\\", "s": 7} then {"x": 1'
    start = reply.index("{")
    end = _balanced_end(reply, start)
    assert reply[start:end] == '{"note": "a } in \\" a string\\\\", "s": 7}'
    found, unclosed = json_objects(reply)
    assert [v for _, v in found] == [{"note": 'a } in " a string\\', "s": 7}]
    assert unclosed == reply.rindex("{")

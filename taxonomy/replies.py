"""Reading JSON objects out of LLM replies the way real models write them.

The reading itself is the judges' strict parser (``judgebench.judges.parsing``): ``<think>``
blocks dropped, prose and Markdown fences around the object ignored, trailing commas and an
all-single-quoted object repaired, nothing else guessed. Of several objects (a draft then a
correction) the last one carrying every required key is meant; a reply cut inside an object
after it, or one that ends inside a ``<think>`` block, is rejected rather than falling back to
the draft. Every failure raises ``ReplyError`` with the reason; nothing is filled in by default.
"""

from __future__ import annotations

from typing import Any

from judgebench.judges.parsing import THINK_CLOSED, THINK_OPEN, json_objects


class ReplyError(ValueError):
    """A reply that could not be turned into a valid decision; the message is the reason."""


def parse_json_object(reply: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The last JSON object in ``reply`` that has every key in ``required``."""
    if reply is None or not reply.strip():
        raise ReplyError("empty reply")
    text = THINK_CLOSED.sub(" ", reply)
    if THINK_OPEN.search(text):  # an unclosed think block: nothing after it is an answer
        raise ReplyError("reply ends inside a <think> block")
    objects, unclosed = json_objects(text)
    complete = [(start, value) for start, value in objects if all(k in value for k in required)]
    if unclosed is not None and (not complete or complete[-1][0] < unclosed):
        if complete:  # a cut-off correction: the draft before it is not promoted
            raise ReplyError("reply truncated inside a JSON object after the last complete one")
        raise ReplyError("no complete JSON object in the reply (truncated or malformed)")
    if complete:
        return complete[-1][1]
    if objects:
        last = objects[-1][1]
        raise ReplyError(
            f"JSON object lacks {', '.join(repr(k) for k in required if k not in last)}"
        )
    if "{" in text:
        raise ReplyError("no complete JSON object in the reply (truncated or malformed)")
    raise ReplyError("no JSON object in the reply")

"""Every regular expression that reads text we do not control (model replies read by judges
and the injection detector, prompts read by the simulated models behind the router and
sim-server, synthesized queries, router requests) runs in time linear in the text.

A pattern such as ``\\w+\\(\\)`` or ``^\\s*x`` (MULTILINE) retries from every position of a long
run of word characters or newlines: a 100 kB prompt of ``xxxx…`` took 13 s in the router
(its event loop blocked for everyone), a reply of newlines seconds per judgment. Each pattern
is timed on long runs of the characters such patterns stumble on, after each word it starts
with; a quadratic one takes seconds at this length, a linear one milliseconds."""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

# the card's folders by their package names: importing the bare folder ("judges", on sys.path
# as the cwd) would load a second copy of every judge and re-register it
PACKAGES = (
    "judgebench.judges",
    "judgebench.sim",
    "judgebench.synth",
    "judgebench.routing",
    "judgebench.taxonomy",
    "judgebench.llm",
)
LENGTH = 20_000
FILLERS = ("x", "1", " ", "\n", "\t", "a ", "a\n", " \n", "1.", "1,", "[[", "- ", "a(", "*", "=")
PREFIXES = ("", "hey", "give it", "verdict:", "def f", "1 +", "system")
BOUND_S = 0.25  # linear: ~1 ms; quadratic at this length: several seconds


def _patterns(value: Any, depth: int = 0) -> Iterator[re.Pattern[str]]:
    if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
        yield value
    elif depth < 3 and isinstance(value, list | tuple | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _patterns(item, depth + 1)


def _module_patterns() -> dict[str, re.Pattern[str]]:
    """Every compiled pattern at module level (or in a module-level table) of PACKAGES."""
    found: dict[str, re.Pattern[str]] = {}
    for package in PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
        for name in names:
            module = importlib.import_module(name)
            for attr, value in vars(module).items():
                for i, pattern in enumerate(_patterns(value)):
                    found.setdefault(f"{name}.{attr}[{i}]", pattern)
    return found


PATTERNS = _module_patterns()


def test_the_scan_finds_the_patterns_that_read_untrusted_text() -> None:
    names = " ".join(PATTERNS)
    for expected in ("judges.injection._PATTERNS", "judgebench.sim.domains._STRONG_CUES"):
        assert expected in names


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear_on_long_runs(name: str) -> None:
    pattern = PATTERNS[name]
    worst, slowest = 0.0, ""
    for filler in FILLERS:
        run = filler * (LENGTH // len(filler))
        for prefix in PREFIXES:
            start = time.perf_counter()
            pattern.search(prefix + run)
            elapsed = time.perf_counter() - start
            if elapsed > worst:
                worst, slowest = elapsed, f"{prefix!r} + {filler!r} * {LENGTH // len(filler)}"
    assert worst < BOUND_S, f"{pattern.pattern!r} took {worst:.2f}s on {slowest}"

"""Issue 15 item 7: every YAML file judgebench reads is bounded in size, depth and alias
expansion, so a "billion laughs" file is one line of error, quickly and in little memory."""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from judgebench.errors import UserError
from judgebench.safe_yaml import load_yaml_file, load_yaml_text
from tests.security.helpers import BOMB

REPO = Path(__file__).resolve().parents[2]


def _readers() -> dict[str, Callable[[Path], Any]]:
    """Every entry point that reads a user's YAML file."""
    from judgebench.cli.judges_cmd import _judge_config
    from judgebench.cli.synth_cmd import _settings
    from judgebench.config import load_settings
    from judgebench.jobs.config import load_job
    from judgebench.routing.config import load_config
    from judgebench.sim.profiles import load_profile_file
    from taxonomy.io import read_data

    return {
        "job": load_job,
        "registry": load_settings,
        "router": load_config,
        "sim profile": load_profile_file,
        "taxonomy": read_data,
        "synth config": lambda p: _settings(p, {}),
        "judge config": lambda p: _judge_config(str(p), "sim/judge"),
    }


def test_the_bomb_is_small() -> None:
    assert len(BOMB.encode()) < 320


READERS = ["job", "registry", "router", "sim profile", "taxonomy", "synth config", "judge config"]


@pytest.mark.parametrize("reader", READERS)
def test_billion_laughs_refused_fast_in_little_memory(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    read = _readers()[reader]  # imports happen before the clock and the memory trace start
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(UserError) as caught:
            read(path)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "expands to more than" in message and "\n" not in message
    assert elapsed < 2.0
    assert peak < 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("&a [*a]", "anchor at line 1 refers to itself"),
        ("x: &x {y: *x}", "refers to itself"),
        ("[" * 40_000 + "]" * 40_000, "nesting depth"),
        ("a: " + "[" * 70 + "]" * 70, "nested deeper than"),
        ("a: [1, 2", "not valid YAML"),
        ("!!python/object:os.system {}", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_one_line(text: str, reason: str) -> None:
    with pytest.raises(UserError, match=re.escape(reason)) as caught:
        load_yaml_text(text, "f.yaml")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("f.yaml: ")


def test_file_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" * 100, encoding="utf-8")
    with pytest.raises(UserError, match="exceeds the limit of 64"):
        load_yaml_file(big, max_bytes=64)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(UserError, match="not UTF-8"):
        load_yaml_file(latin)


def test_anchors_and_merges_still_work() -> None:
    text = "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n"
    data = load_yaml_text(text, "f.yaml")
    assert data["other"] == {"x": 1, "y": 3}
    assert data["list"] == [{"x": 1, "y": [1, 2]}] * 2


def test_no_other_yaml_loader_in_the_project() -> None:
    """One safe loader everywhere: a new ``yaml.safe_load`` would bypass the limits."""
    offenders = []
    for folder in ("judgebench", "taxonomy", "synth", "judges", "db", "dashboard", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name != "safe_yaml.py" and re.search(r"yaml\.(safe_)?(load|full_load)", text):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []

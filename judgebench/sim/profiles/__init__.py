"""Simulated-model profiles: skills per domain, judging skill, verbosity, prices, reply shapes.

A model ``sim/<name>`` resolves to ``<name>.yaml`` in a folder (or a file) named by the
``JUDGEBENCH_SIM_PROFILES`` environment variable (several joined with ``os.pathsep``; user
profiles win), then to the profiles bundled beside this module. ``sim/path/to/x.yaml`` loads
that file directly. Loaded profiles are cached (keyed by file and modification time).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from judgebench.config import validation_message
from judgebench.errors import ConfigError
from judgebench.safe_yaml import load_yaml_file
from judgebench.sim.domains import DOMAINS, domain_of, top_domain

BUNDLED_DIR = Path(__file__).resolve().parent
ENV_VAR = "JUDGEBENCH_SIM_PROFILES"

Rate = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Skills(_Strict):
    """Skill (0 = hopeless, 1 = expert) per top-level taxonomy domain."""

    writing: float = Field(default=0.5, ge=0, le=1)
    roleplay: float = Field(default=0.5, ge=0, le=1)
    knowledge: float = Field(default=0.5, ge=0, le=1)
    coding: float = Field(default=0.5, ge=0, le=1)
    mathematics: float = Field(default=0.5, ge=0, le=1)
    reasoning: float = Field(default=0.5, ge=0, le=1)


class Prices(_Strict):
    """USD per one million tokens."""

    input: float = Field(default=0.0, ge=0)
    output: float = Field(default=0.0, ge=0)


# The reply faults that replace the requested format (at most one per reply), and the
# wrappers that may surround it (independent of each other). See docs/simulator.md.
FAULTS: tuple[str, ...] = (
    "trailing_comma",
    "single_quotes",
    "two_verdicts",
    "out_of_range",
    "fraction",
    "word",
    "range",
    "refusal",
    "hedge",
    "truncation",
    "template_echo",
)
WRAPPERS: tuple[str, ...] = ("preamble", "think", "code_fence")
LIST_FAULTS: tuple[str, ...] = ("line_commentary", "numbering_gap")


class ShapeRates(_Strict):
    """Probability of each reply shape. Wrappers combine freely; faults are exclusive (one
    draw per reply), so their rates must sum to at most 1. A fault that cannot apply to the
    requested format (a trailing comma in ``[[8]]``) leaves the reply in the exact format."""

    # wrappers
    preamble: Rate = Field(default=0.0, ge=0, le=1, description="reasoning first, verdict last")
    think: Rate = Field(default=0.0, ge=0, le=1, description="a <think>…</think> block first")
    code_fence: Rate = Field(default=0.0, ge=0, le=1, description="JSON inside a ```json fence")
    # exclusive faults
    trailing_comma: Rate = Field(default=0.0, ge=0, le=1)
    single_quotes: Rate = Field(default=0.0, ge=0, le=1)
    two_verdicts: Rate = Field(default=0.0, ge=0, le=1, description="a draft, then a correction")
    out_of_range: Rate = Field(default=0.0, ge=0, le=1, description="11 on a 1-10 scale")
    fraction: Rate = Field(default=0.0, ge=0, le=1, description="8/10")
    word: Rate = Field(default=0.0, ge=0, le=1, description="eight")
    range: Rate = Field(default=0.0, ge=0, le=1, description="7-8")
    refusal: Rate = Field(default=0.0, ge=0, le=1, description="declines, no verdict")
    hedge: Rate = Field(default=0.0, ge=0, le=1, description="'it depends', no verdict")
    truncation: Rate = Field(
        default=0.0, ge=0, le=1, description="cut mid-reply, finish_reason length"
    )
    template_echo: Rate = Field(
        default=0.0, ge=0, le=1, description="repeats the prompt's example first"
    )
    # list faults, applied by the "lines" format (independent draws)
    line_commentary: Rate = Field(default=0.0, ge=0, le=1, description="a remark after a line")
    numbering_gap: Rate = Field(default=0.0, ge=0, le=1, description="a list numbered 1, 2, 4")
    # a content fault that handlers apply themselves (via TaskContext.chance)
    weights_off: Rate = Field(
        default=0.0, ge=0, le=1, description="criteria weights not summing to 100"
    )

    @model_validator(mode="after")
    def _exclusive_faults_fit(self) -> ShapeRates:
        total = sum(getattr(self, name) for name in FAULTS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"the exclusive fault rates sum to {total:.3f}; they must sum to ≤ 1")
        return self


class Profile(_Strict):
    name: str
    description: str = ""
    skills: Skills = Skills()  # frozen, so a shared default is safe
    judging: float = Field(
        default=0.5, ge=0, le=1, description="how well it judges others' answers"
    )
    verbosity: float = Field(default=1.0, gt=0, le=4, description="answer length multiplier")
    position_bias: float = Field(
        default=0.0, ge=-0.5, le=0.5, description="pull towards the first answer shown (pairwise)"
    )
    length_bias: float = Field(
        default=0.0, ge=-1, le=1, description="as a judge, pull towards longer answers"
    )
    prices: Prices = Prices()
    shapes: ShapeRates = ShapeRates()
    source: str = Field(default="", exclude=True, description="where it was loaded from")

    def skill_for(self, text_or_domain: str) -> float:
        """Skill on a domain name, a taxonomy path id, ``"judging"``, or the domain of a text."""
        if text_or_domain == "judging":
            return self.judging
        domain = top_domain(text_or_domain) if len(text_or_domain) < 200 else None
        return float(getattr(self.skills, domain or domain_of(text_or_domain)))

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prices.input + completion_tokens * self.prices.output) / 1e6

    @property
    def model(self) -> str:
        return f"sim/{self.name}"


def parse_profile(data: Any, path: Path) -> Profile:
    if not isinstance(data, dict):
        raise ConfigError("a profile must be a YAML mapping", where=str(path))
    data = dict(data)
    data.setdefault("name", path.stem)
    if data["name"] != path.stem:
        raise ConfigError(
            f"name: {data['name']!r} differs from the file name; the model is sim/{path.stem}",
            where=str(path),
        )
    try:
        return Profile.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise ConfigError(validation_message(exc), where=str(path)) from None


@lru_cache(maxsize=256)
def _load_file(path: str, mtime_ns: int) -> Profile:
    p = Path(path)
    return parse_profile(load_yaml_file(p), p)


def load_profile_file(path: str | Path) -> Profile:
    p = Path(path)
    if not p.is_file():
        raise ConfigError("profile file not found", where=str(p))
    return _load_file(str(p.resolve()), p.stat().st_mtime_ns)


def search_dirs() -> list[Path]:
    """Where profiles are looked up, user locations first."""
    extra = [Path(x.strip()) for x in os.environ.get(ENV_VAR, "").split(os.pathsep) if x.strip()]
    for location in extra:
        if not location.exists():
            raise ConfigError(f"{location} does not exist", where=ENV_VAR)
    return [*extra, BUNDLED_DIR]


def _candidates(location: Path, name: str) -> list[Path]:
    if location.is_file():
        return [location] if location.stem == name else []
    return [location / f"{name}.yaml", location / f"{name}.yml"]


_RESOLVED: dict[tuple[str, str], Path] = {}


def load_profile(model_or_name: str) -> Profile:
    """The profile for ``sim/<name>``, ``<name>`` or ``sim/<path to a .yaml>``."""
    # hot path: remember where a name resolved; a stat per call still notices edits
    key = (model_or_name, os.environ.get(ENV_VAR, ""))
    path = _RESOLVED.get(key)
    if path is not None:
        try:
            return _load_file(str(path), path.stat().st_mtime_ns)
        except FileNotFoundError:
            del _RESOLVED[key]
    profile = _resolve_and_load(model_or_name)
    _RESOLVED[key] = Path(profile.source)
    return profile


def _resolve_and_load(model_or_name: str) -> Profile:
    name = model_or_name.removeprefix("sim/")
    if name.endswith((".yaml", ".yml")):
        return load_profile_file(name)
    if not name or "/" in name or name.startswith("."):
        raise ConfigError(f"bad simulated model name {model_or_name!r}: use sim/<profile>")
    for location in search_dirs():
        for candidate in _candidates(location, name):
            if candidate.is_file():
                return load_profile_file(candidate)
    raise ConfigError(
        f"unknown simulated model {model_or_name!r}; available: "
        + ", ".join(f"sim/{n}" for n in list_profiles())
        + f" (add YAML profiles via {ENV_VAR})"
    )


def list_profiles() -> list[str]:
    names: set[str] = set()
    for location in search_dirs():
        if location.is_file():
            names.add(location.stem)
        elif location.is_dir():
            names.update(p.stem for p in location.glob("*.y*ml"))
    return sorted(names)


__all__ = [
    "DOMAINS",
    "FAULTS",
    "WRAPPERS",
    "Prices",
    "Profile",
    "ShapeRates",
    "Skills",
    "list_profiles",
    "load_profile",
    "load_profile_file",
    "parse_profile",
]

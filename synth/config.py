"""Synthesis settings: one pydantic model, validated once, hashed into the run key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from judgebench.records import content_key

# Cosine at or above which a candidate is a near-duplicate, per encoder family. MiniLM's 0.92 is
# the method's default; the lexical value was calibrated against MiniLM (see synth.calibrate and
# docs/synth.md) and is used whenever the lexical encoder stands in for MiniLM.
DEFAULT_DEDUP_THRESHOLDS = {"minilm": 0.92, "lexical": 0.80}

ReassignMode = Literal["none", "embedding", "llm"]


class SynthConfig(BaseModel):
    """Everything that decides what synthesis does. Fields in ``_NOT_IN_KEY`` may change between a
    run and its resumption (more queries per node, a larger budget, more concurrency); the rest
    define the run, so changing them starts a new one."""

    model_config = ConfigDict(extra="forbid")

    generators: list[str] = Field(
        default_factory=lambda: ["sim/large", "sim/generalist", "sim/small"], min_length=1
    )
    generator_weights: list[float] | None = None
    judge: str = "sim/judge"
    seeds_per_query: int = Field(
        4, ge=1, le=12, description="k: seed 1 gives the target, the rest details"
    )
    min_quality: int = Field(5, ge=0, le=7, description="checklist items (of 7) that must be 'yes'")
    min_length_ratio: float = Field(
        1.0, ge=0.0, description="candidate words ≥ ratio × reference words"
    )
    per_node: int = Field(5, ge=1, description="min_per_node: kept queries wanted per leaf")
    max_attempts_per_node: int | None = Field(None, ge=1, description="default: 4 × per_node")
    checklist_retries: int = Field(
        2, ge=0, le=5, description="re-asks after a malformed checklist reply"
    )
    generation_retries: int = Field(
        1, ge=0, le=5, description="re-asks after a reply with no query"
    )
    temperature: float = Field(0.9, ge=0.0, le=2.0)
    max_tokens: int = Field(600, ge=16)
    seed: int = 0
    encoder: Literal["auto", "minilm", "lexical"] = "auto"
    dedup_threshold: float | None = Field(None, gt=0.0, le=1.0, description="default per encoder")
    reassign: ReassignMode = "embedding"
    drop_off_target: bool = Field(
        False, description="drop kept queries re-assigned away from the target"
    )
    concurrency: int = Field(16, ge=1, description="LLM calls in flight at once, across nodes")
    templates: dict[str, str] = Field(
        default_factory=dict, description="template ref → user .j2 file"
    )
    checklist_items: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="domain → {item id: question}, replacing that domain's 3 items",
    )

    @field_validator("generators")
    @classmethod
    def _generators_named(cls, value: list[str]) -> list[str]:
        bad = [g for g in value if "/" not in g]
        if bad:
            raise ValueError(f"generator models need a provider prefix (e.g. sim/large): {bad}")
        return value

    @model_validator(mode="after")
    def _weights_match(self) -> SynthConfig:
        if self.generator_weights is not None:
            if len(self.generator_weights) != len(self.generators):
                raise ValueError("generator_weights needs one weight per generator")
            if any(w < 0 for w in self.generator_weights) or sum(self.generator_weights) <= 0:
                raise ValueError("generator_weights must be non-negative with a positive sum")
        for domain, items in self.checklist_items.items():
            if len(items) != 3:
                raise ValueError(
                    f"checklist_items[{domain!r}] needs exactly 3 items, got {len(items)}"
                )
        return self

    @property
    def attempt_budget(self) -> int:
        return self.max_attempts_per_node or 4 * self.per_node

    def threshold_for(self, encoder_name: str) -> float:
        if self.dedup_threshold is not None:
            return self.dedup_threshold
        family = "minilm" if encoder_name.startswith("minilm") else "lexical"
        return DEFAULT_DEDUP_THRESHOLDS[family]

    def run_key(self, *extra: object) -> str:
        """The identity of a synthesis run: what would change the queries it produces."""
        defining = self.model_dump(exclude=_NOT_IN_KEY)
        return content_key("synth-run", defining, *extra)


_NOT_IN_KEY = {"per_node", "max_attempts_per_node", "concurrency"}

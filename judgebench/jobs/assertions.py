"""Assertions for CI: thresholds a finished run must meet (the job's ``assert:`` block and
``judgebench run --assert``), each one a pass / fail / skip with a message, and JUnit XML.

Scores and win rates are the run summary's point estimates per judge (every judge of the
kind must meet the threshold); win rates are fractions (0.9 = 90 %). ``no_regression``
compares each model's pointwise scores with a baseline run, paired by query, through
:func:`judgebench.analysis.regression_report` (paired bootstrap): a significant drop of the
overall mean (p < ``alpha``) fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# NaN would fail every comparison; a win rate is a fraction, so 5 (meant as 5 %?) never holds
Number = Annotated[float, Field(allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PerModel = Number | dict[str, Number]
PerModelRate = Rate | dict[str, Rate]


class RegressionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    against: str  # a run id, an id prefix or a job name (its latest other run)
    alpha: float = Field(default=0.05, gt=0, lt=1)


class AssertSpec(BaseModel):
    """The ``assert:`` block. A number applies to every model; a mapping names models."""

    model_config = ConfigDict(extra="forbid")
    min_score: PerModel | None = None
    min_win_rate: PerModelRate | None = None
    max_invalid_rate: float | None = Field(default=None, ge=0, le=1)
    max_cost: float | None = Field(default=None, ge=0)
    no_regression: RegressionSpec | None = None

    def merged(self, other: AssertSpec | None) -> AssertSpec:
        """These assertions with ``other``'s set fields on top (the CLI over the job)."""
        if other is None:
            return self
        return self.model_copy(update=other.model_dump(exclude_unset=True))

    @property
    def empty(self) -> bool:
        return not self.model_dump(exclude_none=True)

    def check_models(self, names: list[str]) -> None:
        """Raise ValueError when a per-model threshold names a model the job does not run (a
        typo would otherwise fail only after the whole run)."""
        for kind in ("min_score", "min_win_rate"):
            value = getattr(self, kind)
            unknown = sorted(set(value) - set(names)) if isinstance(value, dict) else []
            if unknown:
                raise ValueError(
                    f"assert.{kind}: {unknown[0]!r} is not a model of this job ({', '.join(names)})"
                )


@dataclass(frozen=True)
class Outcome:
    name: str  # e.g. min_win_rate[sim/small]
    passed: bool | None  # None: skipped (nothing to compare)
    message: str

    @property
    def failed(self) -> bool:
        return self.passed is False


def parse_cli_assertions(texts: list[str]) -> AssertSpec | None:
    """``--assert 'min_win_rate: {sim/small: 0.9}'`` (YAML, as in the job's block), merged."""
    from judgebench.config import validation_message
    from judgebench.errors import ConfigError
    from judgebench.safe_yaml import load_yaml_text

    if not texts:
        return None
    merged: dict[str, Any] = {}
    for text in texts:
        try:
            data = load_yaml_text(text, "--assert")  # bounded like every YAML read
        except ConfigError:
            data = None
        if not isinstance(data, dict):
            raise ConfigError(f"expected 'name: value' (YAML), got {text!r}", where="--assert")
        merged.update(data)
    from pydantic import ValidationError

    try:
        return AssertSpec.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc), where="--assert") from None


def check(spec: AssertSpec, summary: dict[str, Any], store: Any, run_id: str) -> list[Outcome]:
    """Every assertion of ``spec`` on a finished run (its summary)."""
    models = [m["model"] for m in summary.get("models", [])]
    out: list[Outcome] = []
    for name in _targets(spec.min_score, models):
        out.append(_threshold(summary, "min_score", name, spec.min_score, "scores", "mean"))
    for name in _targets(spec.min_win_rate, models):
        out.append(
            _threshold(summary, "min_win_rate", name, spec.min_win_rate, "win_rates", "win_rate")
        )
    if spec.max_invalid_rate is not None:
        n, bad = int(summary.get("judgments", 0)), int(summary.get("invalid", 0))
        rate = bad / n if n else 0.0
        out.append(
            Outcome(
                "max_invalid_rate",
                rate <= spec.max_invalid_rate,
                f"invalid judgments {bad}/{n} = {rate:.3f} (max {spec.max_invalid_rate:g})",
            )
        )
    if spec.max_cost is not None:
        total = (summary.get("usage") or {}).get("total") or {}
        cost = float(total.get("cost") or 0)
        unpriced = int(total.get("calls_without_price") or 0)
        note = f"; {unpriced} calls without a price: unknown" if unpriced else ""
        out.append(
            Outcome(
                "max_cost",
                cost <= spec.max_cost and not unpriced,
                f"run cost ${cost:.4f} (max ${spec.max_cost:g}){note}",
            )
        )
    if spec.no_regression is not None:
        out += _no_regression(spec.no_regression, models, store, run_id)
    return out


def _targets(value: PerModel | None, models: list[str]) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, dict) else models


def _threshold(
    summary: dict[str, Any], kind: str, model: str, value: PerModel | None, field: str, key: str
) -> Outcome:
    """Each judge's point estimate for ``model`` against the threshold (all must meet it)."""
    limit = float(value[model] if isinstance(value, dict) else value or 0)
    name = f"{kind}[{model}]"
    entry = next((m for m in summary.get("models", []) if m["model"] == model), None)
    if entry is None:
        return Outcome(name, False, f"{model} is not a model of this run")
    found = {judge: v.get(key) for judge, v in (entry.get(field) or {}).items()}
    found = {j: v for j, v in found.items() if v is not None}
    if not found:
        return Outcome(name, False, f"no {field.replace('_', ' ')} for {model} in this run")
    scale = 100.0 if key == "win_rate" else 1.0  # the summary keeps win rates in percent
    shown = {j: v / scale for j, v in found.items()}
    worst = min(shown.values())
    detail = ", ".join(f"{j} {v:.3f}" for j, v in shown.items())
    return Outcome(name, worst >= limit, f"{detail} (min {limit:g})")


def _no_regression(
    spec: RegressionSpec, models: list[str], store: Any, run_id: str
) -> list[Outcome]:
    from judgebench.analysis import regression_report
    from judgebench.jobs.export import run_frames

    baseline = _baseline_run(store, spec.against, run_id)
    if baseline is None:
        return [Outcome("no_regression", None, f"no earlier run of {spec.against!r} to compare")]
    before, after = run_frames(store, baseline, light=True), run_frames(store, run_id, light=True)
    out = []
    for model in models:
        name = f"no_regression[{model}]"
        old = before["scores"][before["scores"]["model"] == model]
        new = after["scores"][after["scores"]["model"] == model]
        report = regression_report(old, new, after["membership"], alpha=spec.alpha)
        overall = report[report["node_id"] == "*"]
        if overall.empty:
            out.append(Outcome(name, None, f"no query scored in both runs ({baseline[:12]})"))
            continue
        row = overall.iloc[0]
        text = (
            f"vs run {baseline[:12]}: mean {row['mean_before']:.2f} → {row['mean_after']:.2f}, "
            f"Δ {row['delta']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}], "
            f"p {row['p_value']:.3f} (alpha {spec.alpha:g}), n {int(row['n'])}"
        )
        out.append(Outcome(name, row["change"] != "regression", text))
    return out


def _baseline_run(store: Any, against: str, run_id: str) -> str | None:
    """``against`` resolved to a run other than this one: a job name means its latest
    earlier run."""
    from sqlalchemy import select

    from judgebench.db.models import RunRow
    from judgebench.errors import UserError
    from judgebench.jobs.export import resolve_run

    try:
        found = resolve_run(store, against)
    except UserError:
        found = None
    if found is not None and found != run_id:
        return found
    with store.read_session() as s:
        return s.scalar(
            select(RunRow.id)
            .where(RunRow.job_name == against, RunRow.id != run_id)
            .order_by(RunRow.started_at.desc())
            .limit(1)
        )


def junit_xml(outcomes: list[Outcome], suite: str) -> str:
    """JUnit XML: one test case per assertion (failure / skipped elements as CI expects)."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites")
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(outcomes)),
        failures=str(sum(o.failed for o in outcomes)),
        skipped=str(sum(o.passed is None for o in outcomes)),
        errors="0",
    )
    for o in outcomes:
        case = ET.SubElement(node, "testcase", classname=suite, name=o.name)
        if o.failed:
            ET.SubElement(case, "failure", message=o.message).text = o.message
        elif o.passed is None:
            ET.SubElement(case, "skipped", message=o.message)
        else:
            ET.SubElement(case, "system-out").text = o.message
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"

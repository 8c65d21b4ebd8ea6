"""The job file: YAML → pydantic, ``${ENV}`` interpolation, one-line errors with the YAML path.

A job names its store, taxonomy, query sources, the models under test, the judges, concurrency
and budget caps. :meth:`JobConfig.identity` hashes what defines the results (not concurrency,
chunk size or budget), so the same job resumes the same run and a raised budget continues it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from judgebench.errors import ConfigError
from judgebench.jobs.assertions import AssertSpec
from judgebench.jobs.sampling import SamplingSpec
from judgebench.records import content_key

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    # inf / NaN do not survive the job's JSON round trip to its workers (a traceback mid-run)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TaxonomySpec(_Strict):
    """``source``: ``default``, a file path, or ``db`` (a stored version: ``version`` / latest)."""

    source: str = "default"
    version: int | None = None
    domains: list[str] | None = None
    max_depth: int | None = Field(None, ge=1)
    max_children: int | None = Field(None, ge=1)
    under: str | None = None


class SynthSpec(_Strict):
    """Synthesis settings: any :class:`judgebench.synth.SynthConfig` field, plus the seeds and
    which leaves to fill (``under``: node ids; default every leaf of the taxonomy)."""

    seeds: str | None = None
    under: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("settings")
    @classmethod
    def _synth_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Checked when the job is read, so a typo fails before any run row is written."""
        from judgebench.synth import SynthConfig

        try:
            SynthConfig.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "settings"
            msg = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
            raise ValueError(f"{field}: {msg}") from None
        return value


class QuerySpec(_Strict):
    synth: SynthSpec | None = None
    files: list[str] = Field(default_factory=list)
    # combined: calibrated confidence, queries under min_confidence stay unassigned (issue 19);
    # the default stays embedding (never abstains) so existing jobs keep their assignments
    assign: Literal["combined", "embedding", "none"] = "embedding"
    encoder: Literal["auto", "minilm", "lexical"] = "auto"
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)  # None: the assigner's default
    findings: Literal["confident", "all"] = "confident"  # "all": also unassigned best guesses
    limit: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _some_source(self) -> QuerySpec:
        if self.synth is None and not self.files:
            raise ValueError("needs synth settings or query files")
        return self


class ModelSpec(_Strict):
    name: str
    params: dict[str, Any] = Field(default_factory=lambda: {"temperature": 0.0, "max_tokens": 1024})

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if "/" not in value:
            raise ValueError(f"needs a provider prefix (e.g. sim/large), got {value!r}")
        return value

    @field_validator("params")
    @classmethod
    def _sendable(cls, value: dict[str, Any]) -> dict[str, Any]:
        """``temperature: hot`` or ``max_tokens: -5`` would fail every call of the run (or
        crash it): refused up front, by the same rules the router applies to requests."""
        from judgebench.routing.request_schema import BadRequest, check_sampling_params

        try:
            check_sampling_params(value)
        except BadRequest as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def simulated(self) -> bool:
        return self.name.startswith("sim/")


class JudgeSpec(_Strict):
    """One judge: ``kind`` is any registered judge name (built-in or plug-in); every other
    field is that judge's own settings, validated by its ``Settings`` model (docs/judges.md).
    ``baseline`` (pairwise judges): compare every model with this one instead of every pair.
    Written back (``model_dump``) in the same flat form."""

    kind: str
    baseline: str | None = None
    settings: Any  # the judge's JudgeSettings instance

    @model_validator(mode="before")
    @classmethod
    def _by_judge(cls, data: Any) -> Any:
        from judgebench.judges.base import JudgeSettings

        if not isinstance(data, dict) or isinstance(data.get("settings"), JudgeSettings):
            return data
        data = dict(data)
        kind, baseline = data.pop("kind", None), data.pop("baseline", None)
        if not isinstance(kind, str):
            raise ValueError("kind: field required (a registered judge name)")
        from judgebench.judges.registry import JUDGES

        try:
            judge = JUDGES.get(kind)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        try:
            settings = judge.Settings.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or kind
            msg = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
            msg = "field required" if first["type"] == "missing" else msg
            raise ValueError(f"{field}: {msg.removeprefix('Value error, ')}") from None
        return {"kind": kind, "baseline": baseline, "settings": settings}

    @model_serializer(mode="plain")
    def _flat(self) -> dict[str, Any]:
        out = {"kind": self.kind, **self.settings.model_dump(mode="json")}
        if self.baseline is not None:
            out["baseline"] = self.baseline
        return out

    @property
    def model(self) -> str:
        """The judging model (or scorer): with ``kind`` it names the judge in summaries."""
        return str(self.settings.judge_model)

    @property
    def shape(self) -> str:
        from judgebench.judges.registry import JUDGES

        return str(JUDGES.get(self.kind).shape)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.model}"


class BudgetSpec(_Strict):
    max_cost: float | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, gt=0)
    max_calls: int | None = Field(None, gt=0)


class JobConfig(_Strict):
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)
    # strings of the job file that named ${VAR}s, by path: stored and shown instead of values
    _env_templates: dict[Any, str] = PrivateAttr(default_factory=dict)

    name: str
    store: str = "sqlite:///judgebench.db"
    taxonomy: TaxonomySpec = Field(default_factory=TaxonomySpec)
    queries: QuerySpec
    models: list[ModelSpec] = Field(min_length=1)
    judges: list[JudgeSpec] = Field(min_length=1)
    concurrency: int = Field(32, ge=1)
    chunk_size: int = Field(200, ge=1)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    # What a rerun of this job at another time re-asks: "never" reuses every stored response;
    # "each_run" asks the models under test again for each scheduled execution (criteria,
    # queries and auxiliary answers are still reused). See docs/jobs.md.
    reask: Literal["never", "each_run"] = "never"
    # pipelined: a chunk's judgments start as soon as the responses they need exist (one pass,
    # judgebench.jobs.pipeline); staged: every response of the run, then every judgment
    engine: Literal["pipelined", "staged"] = "pipelined"
    # the share of a stage's items that may be invalid, failed or skipped before the run is
    # "partial" rather than "ok" (judgebench.jobs.outcome)
    max_error_rate: float = Field(0.0, ge=0, le=1)
    # thresholds for CI, checked by `judgebench run` (judgebench.jobs.assertions); YAML: assert
    assert_: AssertSpec | None = Field(None, alias="assert")
    # full: every query × model (× pair) is judged; adaptive: judged in rounds until the
    # target is met (judgebench.jobs.sampling, docs/jobs.md "Adaptive sampling")
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)

    @field_validator("taxonomy", mode="before")
    @classmethod
    def _taxonomy_shorthand(cls, value: Any) -> Any:
        return {"source": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _unique_models(self) -> JobConfig:
        names = [m.name for m in self.models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"model {dup[0]!r} is listed twice")
        labels = [j.label for j in self.judges]
        for i, judge in enumerate(self.judges):
            if judge.label in labels[:i]:  # its rows, counts and summary would merge with theirs
                raise ValueError(
                    f"judges[{i}]: a second {judge.kind} judge with model {judge.model} "
                    f"(judges[{labels.index(judge.label)}]): their judgments could not be told "
                    "apart in the counts and the summary; use another judge model"
                )
            # a comparison needs two responses per query: with one model every call is wasted
            if judge.shape in ("pairwise", "listwise") and len(names) < 2:
                raise ValueError(
                    f"judges[{i}]: {judge.kind} compares models, so it needs at least two "
                    f"models, got {len(names)}"
                )
            if judge.baseline is not None and judge.shape != "pairwise":
                raise ValueError(f"baseline: {judge.kind} is not a pairwise judge")
            if judge.baseline is not None and judge.baseline not in names:
                raise ValueError(f"pairwise baseline {judge.baseline!r} is not a model under test")
        if self.assert_ is not None:
            self.assert_.check_models(names)
        return self

    @property
    def simulated(self) -> bool:
        return any(m.simulated for m in self.models)

    def identity(self) -> str:
        """What defines this job's results (a rerun with more budget or concurrency continues)."""
        defining = self.model_dump(mode="json", exclude=_NOT_DEFINING)
        if self.sampling.mode == "full":  # runs made before adaptive sampling keep their ids
            defining.pop("sampling")
        return content_key("job", defining)

    def public_dump(self) -> dict[str, Any]:
        """The config as stored with a run: ``${VAR}`` templates instead of the values they
        had, no store password, registered secrets masked."""
        from judgebench.jobs.credentials import with_templates

        data = with_templates(self.model_dump(mode="json"), self._env_templates)
        data["store"] = _hide_password(data["store"])
        return _redact_tree(data)


# settings that change how a job runs or is judged, not its results (new ones must be listed
# here, or every stored run would get a new identity)
_NOT_DEFINING = {
    "concurrency",
    "chunk_size",
    "budget",
    "store",
    "max_error_rate",
    "assert_",
    "engine",
}


def _redact_tree(value: Any) -> Any:
    from judgebench.llm.secrets import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_tree(v) for v in value]
    return value


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def interpolate(value: Any, where: str = "") -> Any:
    """Replace ``${VAR}`` (or ``${VAR:-default}``) in every string; an unset variable is an error."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = os.environ.get(name)
            if found is None:
                if default is None:
                    raise ConfigError(f"{where or 'job'}: environment variable {name} is not set")
                return default
            from judgebench.jobs.credentials import is_credential_name

            if is_credential_name(name):  # DB_PASSWORD, HF_TOKEN, MY_API_KEY: masked in logs
                from judgebench.llm.secrets import register_secret

                register_secret(found)
            return found

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: interpolate(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "job"


def parse_job(data: Any, where: str = "job") -> JobConfig:
    """A validated job from parsed YAML; errors name the file and the field's YAML path."""
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of job settings", where=where)
    from judgebench.jobs.credentials import env_templates, refuse_credentials

    try:
        refuse_credentials(data)  # before interpolation: a key never reaches a row or a hash
        job = JobConfig.model_validate(interpolate(data))
    except ConfigError as exc:
        raise ConfigError(str(exc), where=where) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not str(p).startswith("function-"))
        msg = first["msg"]
        if first["type"] == "missing":
            msg = "field required"
        elif first["type"] == "extra_forbidden":
            msg = "unknown field"
        msg = msg.removeprefix("Value error, ")
        raise ConfigError(f"{_path(loc)}: {msg}", where=where) from None
    job._env_templates = env_templates(data)
    return job


def without_unavailable_judges(job: JobConfig) -> tuple[JobConfig, list[str]]:
    """The job without judges whose install extra is missing (a local model on the core
    install), and a one-line note for each: such a judge is skipped, not an error."""
    import logging

    notes = []
    keep = []
    for spec in job.judges:
        extra = spec.settings.missing_extra()
        if extra is None:
            keep.append(spec)
            continue
        notes.append(
            f"skipped judge {spec.label}: needs the {extra} extra (pip install 'judgebench[{extra}]')"
        )
        logging.getLogger("judgebench.jobs").warning("%s", notes[-1])
    if not notes:
        return job, []
    if not keep:
        raise ConfigError(f"every judge needs an extra that is not installed: {notes[0]}")
    return job.model_copy(update={"judges": keep}), notes


def load_job(path: str | Path) -> JobConfig:
    from judgebench.safe_yaml import load_yaml_file

    path = Path(path)
    if not path.is_file():
        raise ConfigError("job file not found", where=str(path))
    data = load_yaml_file(path, where=path.name)  # bounded size/aliases; non-UTF-8 is one line
    job = parse_job(data, where=path.name)
    return _resolve_paths(job, path.parent)


def _resolve_paths(job: JobConfig, base: Path) -> JobConfig:
    """Relative query and taxonomy files are relative to the job file (the store URL, like
    every ``--db``, is relative to the working directory)."""

    def fix(p: str) -> str:
        return p if Path(p).is_absolute() else str((base / p).resolve())

    tax = job.taxonomy
    if tax.source not in ("default", "db"):
        tax.source = fix(tax.source)
    job.queries.files = [fix(f) for f in job.queries.files]
    for judge in job.judges:
        judge.settings.resolve_paths(fix)
    if job.queries.synth is not None and job.queries.synth.seeds:
        job.queries.synth.seeds = fix(job.queries.synth.seeds)
    return job

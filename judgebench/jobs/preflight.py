"""Pre-flight checks of a job, before a single row is written (``judgebench check``, and the
start of ``judgebench run``).

Every model the job names (models under test, judge and auxiliary models, synthesis models)
must resolve to a backend; the API key variables its backend needs must be set (named in the
problem, never printed); and, unless ``probe=False``, one tiny call per distinct endpoint must
come back. Probe calls go through a gateway with the store's call cache (when the store
exists), so an endpoint that answered once is not asked again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from judgebench.config import Settings
from judgebench.jobs.config import JobConfig
from judgebench.llm.secrets import redact

# litellm lists these as "missing" although the provider has a working default
_HAS_DEFAULT = {"OLLAMA_API_BASE"}
PROBE_MESSAGES = [{"role": "user", "content": "Reply with OK."}]


@dataclass(frozen=True)
class Problem:
    where: str  # the job's YAML path, e.g. models[0].name
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Endpoint:
    """Where a model's calls go: ``sim``, ``litellm:<provider>`` or an ``api_base`` URL."""

    label: str
    models: list[str] = field(default_factory=list)


@dataclass
class PreflightReport:
    settings_file: str  # the registry file read, or "<defaults>"
    backends: dict[str, str] = field(default_factory=dict)  # model -> endpoint label
    problems: list[Problem] = field(default_factory=list)
    probed: dict[str, str] = field(default_factory=dict)  # endpoint -> "ok" | "cached" | error

    @property
    def ok(self) -> bool:
        return not self.problems


def named_models(job: JobConfig) -> list[tuple[str, str]]:
    """(YAML path, model name) for every model the job calls."""
    out = [(f"models[{i}].name", m.name) for i, m in enumerate(job.models)]
    for i, j in enumerate(job.judges):
        out += _judge_models(f"judges[{i}]", j.settings)
    if job.queries.synth is not None:
        from judgebench.synth import SynthConfig

        cfg = SynthConfig.model_validate(job.queries.synth.settings)
        where = "queries.synth.settings"
        out += [(f"{where}.generators[{k}]", g) for k, g in enumerate(cfg.generators)]
        out.append((f"{where}.judge", cfg.judge))
    return out


def _judge_models(where: str, settings: Any) -> list[tuple[str, str]]:
    """The gateway models a judge's settings name: ``model`` of prompted judges and PC²'s
    ``aux_models`` (local scorers load their own weights and are not checked here)."""
    out = []
    model = getattr(settings, "model", None)
    if isinstance(model, str):
        out.append((f"{where}.model", model))
    aux = getattr(settings, "aux_models", None) or []
    out += [(f"{where}.aux_models[{k}]", a) for k, a in enumerate(aux) if isinstance(a, str)]
    return out


def preflight(
    job: JobConfig, *, settings: Settings | None = None, probe: bool = True
) -> PreflightReport:
    """Check ``job``; the report lists every problem (empty: ready to run)."""
    from judgebench.config import load_settings

    settings = settings if settings is not None else load_settings()
    report = PreflightReport(settings.source)
    endpoints: dict[str, Endpoint] = {}
    seen: set[str] = set()
    for where, name in named_models(job):
        if name in seen:
            continue
        seen.add(name)
        label, problems = _resolve(name, settings)
        report.problems += [Problem(where, p) for p in problems]
        if label is not None and not problems:
            report.backends[name] = label
            endpoints.setdefault(label, Endpoint(label)).models.append(name)
    if probe and report.ok:
        _probe(job, settings, endpoints, report)
    return report


def _resolve(name: str, settings: Settings) -> tuple[str | None, list[str]]:
    """(endpoint label, problems) of one model, as the gateway would route it."""
    from judgebench.errors import UserError
    from judgebench.llm.gateway import backend_kind

    try:
        cfg = settings.model(name)
    except UserError as exc:
        return None, [str(exc)]
    kind = backend_kind(name, cfg)
    if kind == "direct":
        return redact(cfg.api_base), _key_problems(name, cfg.api_key_env, cfg.api_key is not None)
    if kind == "sim":
        from judgebench.sim.profiles import load_profile

        try:
            load_profile(name)
        except UserError as exc:
            return None, [f"{name}: {exc}"]
        return "sim", []
    return _litellm(name, cfg, settings.source)


def _key_problems(name: str, env: str | None, inline: bool) -> list[str]:
    if env and not os.environ.get(env) and not inline:
        return [f"{name}: API key variable {env} is not set"]
    return []


def _litellm(name: str, cfg: Any, registry: str) -> tuple[str | None, list[str]]:
    """A model litellm routes: its provider must be known and its key variables set."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # no provider list printed on a bad name
    wire = cfg.wire_model or name
    try:
        provider = litellm.get_llm_provider(wire, api_base=cfg.api_base)[1]
    except Exception:  # litellm raises its BadRequestError subclasses here
        return None, [
            f"{name}: no backend for this model (not a sim/ profile, no api_base in {registry}, "
            "unknown to litellm)"
        ]
    label = redact(cfg.api_base) if cfg.api_base else f"litellm:{provider}"
    if cfg.api_key_env or cfg.api_key is not None:
        return label, _key_problems(name, cfg.api_key_env, cfg.api_key is not None)
    missing = litellm.validate_environment(model=wire).get("missing_keys") or []
    missing = [m for m in missing if m not in _HAS_DEFAULT and not (cfg.api_base and "BASE" in m)]
    return label, [f"{name}: environment variable {m} is not set" for m in missing]


def _probe(
    job: JobConfig, settings: Settings, endpoints: dict[str, Endpoint], report: PreflightReport
) -> None:
    """One tiny call per endpoint, without retries (a dead endpoint fails in seconds)."""
    from judgebench.llm import Gateway, LLMError, run_sync

    gateway = Gateway(settings=_no_retries(settings), cache=_probe_cache(job.store))

    async def one(endpoint: Endpoint) -> None:
        model = endpoint.models[0]
        before = gateway.stats.cache_hits
        try:
            await gateway.complete(model, PROBE_MESSAGES, max_tokens=1, temperature=0.0)
        except LLMError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            report.probed[endpoint.label] = first
            where = next(w for w, n in named_models(job) if n == model)
            report.problems.append(Problem(where, f"{model}: probe call failed: {first}"))
            return
        report.probed[endpoint.label] = "cached" if gateway.stats.cache_hits > before else "ok"

    async def all_endpoints() -> None:
        import asyncio

        await asyncio.gather(*(one(e) for e in endpoints.values()))

    run_sync(all_endpoints)
    gateway.flush()


def _no_retries(settings: Settings) -> Settings:
    fast = {"max_retries": 0, "timeout_s": 30.0}
    return settings.model_copy(
        update={
            "defaults": {**settings.defaults, **fast},
            "models": {k: {**v, **fast} for k, v in settings.models.items()},
        }
    )


def _probe_cache(store_url: str) -> Any:
    """The store's call cache when the store exists; a new store is not created for a probe
    (a failed pre-flight writes nothing)."""
    from judgebench.db.engine import existing_store
    from judgebench.errors import UserError
    from judgebench.llm import MemoryCallCache

    try:
        existing_store(store_url)
    except UserError:
        return MemoryCallCache()
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache

    return SQLCallCache(Store(store_url))


def report_lines(report: PreflightReport) -> list[str]:
    """What was checked, for the console (problems are printed separately)."""
    lines = [f"settings: {report.settings_file}"]
    lines += [f"  {model} → {label}" for model, label in report.backends.items()]
    lines += [f"  probe {label}: {outcome}" for label, outcome in report.probed.items()]
    return lines

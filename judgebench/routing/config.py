"""``router.yaml``: which router, its models and judge, where decisions go, and the server.

```yaml
name: support-router
kind: cascade                 # or: selection
store: judgebench.db          # routed requests are recorded here (omit: memory only)
timeout_s: 60                 # per model call
cascade:
  models: [sim/small, sim/generalist, sim/large]   # ordered by price unless order_by_cost: false
  thresholds: [0.25, 0.0]     # one per stage but the last (null: skip the stage; omit: the judge's tau)
  judge: {model: sim/generalist, n_references: 4}
  references: refs.jsonl      # {query, response, correct} or GSM8K's {question, solution, is_correct}
server: {port: 8100, api_key_env: JUDGEBENCH_ROUTER_KEYS, rate_limit_per_s: 20, burst: 40}
```
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from judgebench.errors import ConfigError, DataError
from judgebench.safe_yaml import load_yaml_file


class JudgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    n_references: int = Field(5, ge=1)
    lam: float = 0.25
    seed: int = 0
    soft: bool = False


class CascadeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    models: list[str] = Field(min_length=2)
    thresholds: list[float | None] | None = None
    judge: JudgeSettings
    references: Path
    order_by_cost: bool = True


class SelectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_file: Path
    strategy: Literal["top1", "topk-judge", "topk-fuse"] = "top1"
    k: int = Field(2, ge=1)
    judge_model: str | None = None  # topk-judge: a RubricJudge on this model
    fuser: str | None = None  # topk-fuse: the fusion model


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(8100, ge=0, le=65535)
    model_name: str = "judgebench-router"  # what /v1/models lists and responses carry
    api_key_env: str | None = "JUDGEBENCH_ROUTER_KEYS"  # comma-separated keys in this variable
    allow_no_auth: bool = False  # explicit opt-out of keys (loopback experiments only)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    rate_limit_per_s: float | None = Field(None, gt=0)  # per key, token bucket
    burst: int | None = Field(None, ge=1)
    max_in_flight: int = Field(256, ge=1)  # more concurrent requests than this → 429
    body_timeout_s: float = Field(30.0, gt=0)  # the whole body within this → else 408
    flush_interval_s: float = Field(0.5, gt=0)

    def api_keys(self) -> set[str]:
        if self.allow_no_auth:
            if self.host not in ("127.0.0.1", "localhost", "::1"):
                raise ConfigError(
                    f"server.allow_no_auth: refusing to serve without API keys on {self.host} "
                    "(only on loopback); set server.api_key_env"
                )
            return set()
        if not self.api_key_env:
            raise ConfigError(
                "server.api_key_env: set it, or allow_no_auth: true to serve without keys"
            )
        raw = os.environ.get(self.api_key_env, "")
        keys = {k.strip() for k in raw.split(",") if k.strip()}
        if not keys:
            raise ConfigError(
                f"server.api_key_env: environment variable {self.api_key_env} holds no API key "
                "(comma-separated keys), or set allow_no_auth: true"
            )
        return keys


class RouterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "router"
    kind: Literal["cascade", "selection"]
    store: str | None = None
    timeout_s: float | None = Field(60.0, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)
    cascade: CascadeSettings | None = None
    selection: SelectionSettings | None = None
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="after")
    def _section(self) -> RouterConfig:
        if getattr(self, self.kind) is None:
            raise ValueError(f"kind {self.kind} needs a '{self.kind}:' section")
        if (
            self.selection
            and self.selection.strategy == "topk-judge"
            and not self.selection.judge_model
        ):
            raise ValueError("selection.judge_model is needed for strategy topk-judge")
        if self.selection and self.selection.strategy == "topk-fuse" and not self.selection.fuser:
            raise ValueError("selection.fuser is needed for strategy topk-fuse")
        return self


def load_config(path: str | Path) -> RouterConfig:
    """Read and check ``router.yaml``; relative paths are relative to the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such router config")
    data = load_yaml_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        cfg = RouterConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {err['msg']}") from None
    base = path.resolve().parent
    if cfg.cascade and not cfg.cascade.references.is_absolute():
        cfg.cascade.references = base / cfg.cascade.references
    if cfg.selection and not cfg.selection.model_file.is_absolute():
        cfg.selection.model_file = base / cfg.selection.model_file
    if cfg.store and "://" not in cfg.store and not Path(cfg.store).is_absolute():
        cfg.store = str(base / cfg.store)
    return cfg


def load_references(path: Path):
    """Labelled references (JSONL): ``{query, response, correct}`` or GSM8K's flat file
    (``question``, ``solution``, ``is_correct``)."""
    from judgebench.importers.base import read_text
    from judgebench.judges import ReferenceStore

    refs = ReferenceStore()
    if not path.is_file():
        raise DataError(f"{path}: no such reference file")
    text = read_text(path)  # non-UTF-8 bytes: a one-line DataError
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query = row.get("query", row.get("question"))
            response = row.get("response", row.get("solution"))
            correct = row.get("correct", row.get("is_correct"))
        except (ValueError, AttributeError, RecursionError):  # also an int of over 4,300 digits
            raise DataError(f"{path}:{n}: not a JSON object") from None
        if (
            not isinstance(query, str)
            or not isinstance(response, str)
            or not isinstance(correct, bool)
        ):
            raise DataError(
                f"{path}:{n}: need query (str), response (str) and correct (true/false)"
            )
        refs.add_example(query, response, correct)
    if len(refs) < 2:
        raise DataError(f"{path}: need labelled references of both kinds, found {len(refs)}")
    return refs


def build_router(cfg: RouterConfig, log: Any = None):
    """The router a config describes (``log``: where decisions go; default: the config's store)."""
    if log is None and cfg.store:
        from judgebench.db import Store
        from judgebench.db.routing import SqlRoutingLog

        log = SqlRoutingLog(Store(cfg.store))
    if cfg.kind == "cascade":
        from judgebench.judges import MetaRankingJudge
        from judgebench.routing.cascade import CascadeRouter

        c = cfg.cascade
        assert c is not None
        judge = MetaRankingJudge(
            c.judge.model,
            load_references(c.references),
            n_references=c.judge.n_references,
            lam=c.judge.lam,
            seed=c.judge.seed,
            soft=c.judge.soft,
        )
        try:
            return CascadeRouter(
                c.models,
                judge,
                c.thresholds,
                name=cfg.name,
                order_by_cost=c.order_by_cost,
                timeout_s=cfg.timeout_s,
                params=cfg.params,
                log=log,
            )
        except ValueError as exc:
            raise ConfigError(f"cascade.thresholds: {exc}") from None
    from judgebench.routing.selection import SelectionModel, SelectionRouter

    s = cfg.selection
    assert s is not None
    judge = None
    if s.judge_model:
        from judgebench.judges import RubricJudge

        judge = RubricJudge(s.judge_model)
    return SelectionRouter(
        SelectionModel.load(s.model_file),
        strategy=s.strategy,
        k=s.k,
        judge=judge,
        fuser=s.fuser,
        name=cfg.name,
        timeout_s=cfg.timeout_s,
        params=cfg.params,
        log=log,
    )

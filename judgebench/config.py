"""Settings: the model registry (endpoints, keys, prices, limits) and gateway defaults.

Loaded from a YAML file (``$JUDGEBENCH_CONFIG``, else ``./judgebench.yaml`` when present) and
the environment. A bad file gives one :class:`~judgebench.errors.ConfigError` line naming the
file and the field. Example::

    defaults:
      max_concurrency: 32
      timeout_s: 60
    budget: {max_cost: 5.0}
    models:
      local/llama:                      # the name judgebench code uses
        api_base: http://127.0.0.1:8000/v1
        api_key_env: LOCAL_LLM_KEY      # the key is read from this variable, never stored
        wire_model: llama-3-8b          # the name sent to the server (default: the name)
        input_cost_per_mtok: 0.2        # USD per million tokens; unknown -> cost null
        output_cost_per_mtok: 0.6
      "sim/*": {max_concurrency: 256}   # glob patterns match too (exact names win)

API keys may also be given inline as ``api_key`` (discouraged); either way they are registered
for redaction and never written anywhere.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from judgebench.errors import ConfigError

CONFIG_ENV = "JUDGEBENCH_CONFIG"
DEFAULT_CONFIG_FILE = "judgebench.yaml"


class ModelSettings(BaseModel):
    """How the gateway reaches and limits one model (or a glob pattern of models)."""

    model_config = ConfigDict(extra="forbid")

    api_base: str | None = None
    api_key_env: str | None = None
    api_key: SecretStr | None = None
    wire_model: str | None = None
    # auto: direct OpenAI-compatible client when api_base is set, else litellm
    backend: Literal["auto", "direct", "litellm"] = "auto"
    input_cost_per_mtok: float | None = Field(default=None, ge=0)
    output_cost_per_mtok: float | None = Field(default=None, ge=0)
    max_concurrency: int = Field(default=32, ge=1)
    min_concurrency: int = Field(default=1, ge=1)
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=6, ge=0)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    max_retry_after_s: float = Field(default=120.0, ge=0)
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _direct_needs_base(self) -> ModelSettings:
        if self.backend == "direct" and not self.api_base:
            raise ValueError("backend 'direct' needs an api_base")
        return self

    @model_validator(mode="after")
    def _register_param_secrets(self) -> ModelSettings:
        """Credentials passed as provider params (``aws_secret_access_key``, an
        ``Authorization`` header, ...) are masked wherever they would be logged."""
        from judgebench.llm.secrets import is_credential_name, register_secret, url_secrets

        def walk(value: Any, name: str = "") -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, str(k))
            elif isinstance(value, str) and is_credential_name(name):
                register_secret(value)

        walk(self.params)
        for secret in url_secrets(self.api_base):  # https://user:pw@host, ?key=…
            register_secret(secret)
        return self

    def resolved_api_key(self) -> str | None:
        """The key from ``api_key_env`` (or inline ``api_key``), registered for redaction."""
        from judgebench.llm.secrets import register_secret

        key = None
        if self.api_key_env:
            key = os.environ.get(self.api_key_env) or None
        if key is None and self.api_key is not None:
            key = self.api_key.get_secret_value()
        register_secret(key)
        return key

    @property
    def prices(self) -> tuple[float, float] | None:
        """(input, output) USD per token, or None when either is unknown."""
        if self.input_cost_per_mtok is None or self.output_cost_per_mtok is None:
            return None
        return self.input_cost_per_mtok / 1e6, self.output_cost_per_mtok / 1e6


class BudgetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_cost: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    max_calls: int | None = Field(default=None, ge=0)


class Settings(BaseModel):
    """Everything in the config file. ``models`` keys are names or glob patterns."""

    model_config = ConfigDict(extra="forbid")

    defaults: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    cache: bool = True
    source: str = "<defaults>"

    def model(self, name: str, overrides: dict[str, Any] | None = None) -> ModelSettings:
        """Settings for ``name``: defaults, then the best matching entry, then ``overrides``."""
        merged: dict[str, Any] = dict(self.defaults)
        entry = self.models.get(name)
        if entry is None:
            patterns = [
                p
                for p in self.models
                if any(c in p for c in "*?[") and fnmatch.fnmatchcase(name, p)
            ]
            if patterns:
                entry = self.models[max(patterns, key=len)]  # the most specific pattern
        if entry:
            merged.update(entry)
        if overrides:
            merged.update(overrides)
        return _validate(ModelSettings, merged, self.source, f"models.{name}")


def _validate(cls: type[Any], data: dict[str, Any], source: str, where: str) -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, where), where=source) from None


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """A pydantic error as one line: the first failing field (under ``prefix``), why, and the
    value it got (never for an ``api_key``), plus how many more errors there were."""
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    field = ".".join(p for p in (prefix, loc) if p)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    value = first.get("input")
    shown = "" if isinstance(value, dict | list) or "api_key" in field else f", got {value!r}"
    return f"{field or 'config'}: {first.get('msg', 'invalid')}{shown}{more}"


def discover_config(
    explicit: str | Path | None = None, job_file: str | Path | None = None
) -> Path | None:
    """The settings file a command uses: ``explicit`` (``--config``), else
    ``$JUDGEBENCH_CONFIG``, else ``judgebench.yaml`` next to the job file, else in the current
    directory; None when there is none (built-in defaults). A named file that does not exist
    is a ConfigError (a typo must not silently fall back to the defaults)."""
    for named, where in ((explicit, "--config"), (os.environ.get(CONFIG_ENV), CONFIG_ENV)):
        if named:
            file = Path(named).expanduser()
            if not file.is_file():
                raise ConfigError("config file not found", where=f"{where}: {file}")
            return file.resolve()
    folders = [Path(job_file).resolve().parent] if job_file is not None else []
    for folder in [*folders, Path.cwd()]:
        candidate = folder / DEFAULT_CONFIG_FILE
        if candidate.is_file():
            return candidate.resolve()
    return None


def use_config(path: Path | None) -> None:
    """Make ``path`` the settings every gateway of this process (and of the workers it
    starts) reads: it becomes ``$JUDGEBENCH_CONFIG`` and the default gateway is dropped."""
    from judgebench.llm import set_gateway

    if path is None:
        os.environ.pop(CONFIG_ENV, None)
    else:
        os.environ[CONFIG_ENV] = str(path)
    set_gateway(None)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the settings file (explicit path, ``$JUDGEBENCH_CONFIG``, or ``./judgebench.yaml``)."""
    from judgebench.safe_yaml import load_yaml_file

    explicit = path if path is not None else os.environ.get(CONFIG_ENV)
    if explicit is None:
        candidate = Path(DEFAULT_CONFIG_FILE)
        if not candidate.is_file():
            return Settings()
        explicit = candidate
    file = Path(explicit).expanduser()
    if not file.is_file():
        raise ConfigError("config file not found", where=str(file))
    data = load_yaml_file(file) or {}  # bounded size and alias expansion, one-line errors
    return settings_from_dict(data, source=str(file))


def settings_from_dict(data: Any, source: str = "<dict>") -> Settings:
    """Validate settings given as a dict (the YAML document), checking every model entry."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping at the top level, got {type(data).__name__}", where=source
        )
    settings: Settings = _validate(Settings, {**data, "source": source}, source, "")
    for name in settings.models:
        if not isinstance(settings.models[name], dict):
            raise ConfigError(f"models.{name}: expected a mapping", where=source)
        settings.model(name)  # validates the merged entry now, not at the first call
    _validate(ModelSettings, settings.defaults, source, "defaults")
    return settings

"""Credentials stay out of job files; values from the environment stay out of what is shown.

A job's model ``params`` and judge settings are stored with every response and judgment,
exported and shown by the dashboard, and (params) define the run's identity. So a job that
carries a credential is refused, in one line pointing to the model registry (provider
settings: ``judgebench.yaml`` ``models.<name>.api_key_env``), before anything is written:

- a key named like a credential (``api_key``, ``apiKey``, ``x-api-key``, ``access_token``,
  ``Authorization``, ``password``, ``aws_secret_access_key``, ...) under ``models`` or ``judges``;
- a value shaped like a key (``sk-…``, ``Bearer …``) or a URL with a password (``://u:p@``);
- ``${VAR}`` inside model ``params``: they are stored verbatim with every response, so a
  setting that depends on the environment belongs in the registry's ``params`` instead; and
  ``${VAR}`` in the job's ``name``, stored and listed with every run as it is.

Every other ``${VAR}`` keeps its *template* in the stored and shown job config
(:func:`env_templates`, :func:`with_templates`): the run row says ``${JUDGEBENCH_DB}``, not the
value it had in the shell that started the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from judgebench.errors import ConfigError
from judgebench.jobs.config import _ENV as _ENV_REF  # the one ${VAR} syntax the loader expands
from judgebench.llm.secrets import is_credential_name

_URL_PASSWORD = re.compile(r"://[^/\s:@]*:[^/\s@]+@")
HINT = (
    "credentials belong in the model registry, not in a job: set "
    "models.<name>.api_key_env in judgebench.yaml (see docs/security.md)"
)

Path = tuple[str | int, ...]


def refuse_credentials(job: Any) -> None:
    """Raise :class:`ConfigError` naming the first credential in the (un-interpolated) job
    document's ``models`` and ``judges``."""
    from judgebench.llm.secrets import looks_like_key

    if not isinstance(job, dict):
        return
    if isinstance(job.get("name"), str) and _ENV_REF.search(job["name"]):
        raise ConfigError(
            "name: ${VAR} is not allowed in the job name (it is stored and shown with every "
            "run as it is); name the job in the file"
        )
    for section in ("models", "judges"):
        for path, key, value in _walk(job.get(section), (section,)):
            where = _show(path)
            if key is not None and is_credential_name(key):
                raise ConfigError(f"{where}: {HINT}")
            if isinstance(value, str):
                if _URL_PASSWORD.search(value):
                    raise ConfigError(f"{where}: a URL with a password; {HINT}")
                if looks_like_key(_ENV_REF.sub("", value)):
                    raise ConfigError(f"{where}: looks like an API key; {HINT}")
                if section == "models" and "params" in path and _ENV_REF.search(value):
                    raise ConfigError(
                        f"{where}: ${{VAR}} is not allowed in model params (they are stored "
                        "with every response); put environment-dependent settings in the "
                        "model registry: models.<name>.params in judgebench.yaml"
                    )


def env_templates(job: Any) -> dict[Path, str]:
    """Every string of the job document that names an environment variable, by path."""
    return {
        path: value
        for path, _, value in _walk(job, ())
        if isinstance(value, str) and _ENV_REF.search(value)
    }


def with_templates(data: Any, templates: dict[Path, str], path: Path = ()) -> Any:
    """``data`` (a dumped job) with each interpolated string put back as its ``${VAR}``
    template, so a value from the environment is never stored or shown."""
    if path in templates:
        return templates[path]
    if isinstance(data, dict):
        return {k: with_templates(v, templates, (*path, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [with_templates(v, templates, (*path, i)) for i, v in enumerate(data)]
    return data


def _walk(value: Any, path: Path, key: str | None = None) -> Iterator[tuple[Path, str | None, Any]]:
    """(path, key, value) of every node below ``value``, depth first."""
    yield path, key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, (*path, str(k)), str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, i), key)


def _show(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out

"""Prompt templates (jinja2 files) and fencing of untrusted text.

Every prompt judgebench sends lives in a ``.j2`` file inside the package that uses it
(``judges/templates``, ``taxonomy/templates``, ...). A template is addressed by
``"<package>:<name>"`` (e.g. ``"judges:pairwise"``) or by a filesystem path, which is how users
override any of them. The template hash (of its source) is recorded with every judgment so a
result can be traced to the exact prompt that produced it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

# Short package names to the importable package holding a ``templates/`` folder.
TEMPLATE_PACKAGES = {
    "core": "judgebench",
    "judges": "judgebench.judges",
    "taxonomy": "judgebench.taxonomy",
    "synth": "judgebench.synth",
    "router": "judgebench.routing",
    "analysis": "judgebench.analysis",
}

# sandboxed: a template file is code a user may have been handed (a path in a shared job), and
# the sandbox refuses what a template needs no reason to reach (``__globals__``, ``os``, ...)
_ENV = jinja2.sandbox.SandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


MAX_TEMPLATE_BYTES = 1 << 20  # a prompt is kilobytes; a 2 GB file is a mistake, not read


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    source: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()[:16]

    def render(self, **values: Any) -> str:
        try:
            return _compile(self.source).render(**values).strip() + "\n"
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"template {self.name}: {exc.message}") from None
        except jinja2.sandbox.SecurityError as exc:
            raise TemplateError(f"template {self.name}: unsafe: {exc}") from None


@lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def load_template(
    ref: str | Path, overrides: dict[str, str | Path] | None = None
) -> PromptTemplate:
    """Load ``"package:name"`` or a path. ``overrides`` maps refs to user files."""
    if overrides and str(ref) in overrides:
        ref = Path(overrides[str(ref)])
    if isinstance(ref, Path) or "/" in str(ref) or str(ref).endswith(".j2") and ":" not in str(ref):
        return _load_file(Path(ref))
    package_key, _, name = str(ref).partition(":")
    if not name or package_key not in TEMPLATE_PACKAGES:
        raise TemplateError(
            f"bad template reference {ref!r}: use 'package:name' with package one of "
            f"{sorted(TEMPLATE_PACKAGES)}, or a path to a .j2 file"
        )
    return _load_packaged(package_key, name)


def _load_file(path: Path) -> PromptTemplate:
    """A user's template file, read and compiled now: a missing file, one that is not UTF-8 or
    not valid jinja2 is a one-line TemplateError naming it, not a traceback at its first use."""
    if not path.is_file():
        raise TemplateError(f"template file not found: {path}")
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"{path}: larger than {MAX_TEMPLATE_BYTES:,} bytes; not a prompt")
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{path}: not UTF-8 (byte {exc.start})") from None
    try:
        _compile(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{path}: line {exc.lineno}: {exc.message}") from None
    return PromptTemplate(name=path.stem, source=source)


@lru_cache(maxsize=256)
def _load_packaged(package_key: str, name: str) -> PromptTemplate:
    package = TEMPLATE_PACKAGES[package_key]
    try:
        source = (resources.files(package) / "templates" / f"{name}.j2").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        raise TemplateError(f"no template {name!r} in {package}/templates") from None
    return PromptTemplate(name=f"{package_key}:{name}", source=source)


# --- fencing untrusted text -------------------------------------------------------------------

_FENCE_RE = re.compile(
    r"<<<(?P<label>[A-Z][A-Z0-9_]*)-(?P<nonce>[0-9a-f]{8})>>>\n(?P<body>.*?)\n<<<END-(?P=label)-(?P=nonce)>>>",
    re.DOTALL,
)


_NONCE_SEED: ContextVar[list[Any] | None] = ContextVar("judgebench_nonce_seed", default=None)


def new_nonce(*texts: str | None) -> str:
    """The delimiter nonce for one prompt.

    Given the untrusted texts it fences, the nonce derives from them: the same prompt on a rerun
    is byte-identical whatever order concurrent calls run in (so the call cache hits), and a
    text still cannot close its fence since it would have to contain a hash of itself.
    """
    if texts:
        return hashlib.sha256("\x1f".join(t or "" for t in texts).encode("utf-8")).hexdigest()[:8]
    seeded = _NONCE_SEED.get()
    if seeded is not None:  # inside seeded_nonces(): reproducible, so resumed jobs hit the cache
        seeded[1] += 1
        return hashlib.sha256(f"{seeded[0]}#{seeded[1]}".encode()).hexdigest()[:8]
    return secrets.token_hex(4)


@contextmanager
def seeded_nonces(seed: str) -> Iterator[None]:
    """Nonces drawn in this context (and tasks started in it) derive from ``seed``.

    Jobs use it so that a rerun sends byte-identical prompts (cache hits, identical simulated
    replies). Safe for fencing: text inside a fence has its fence syntax defused, so knowing a
    nonce does not let it close the fence.
    """
    token = _NONCE_SEED.set([seed, 0])
    try:
        yield
    finally:
        _NONCE_SEED.reset(token)


def fence(text: str, label: str, nonce: str) -> str:
    """Wrap untrusted text between delimiters that carry a per-call random nonce.

    The text cannot close the fence early because it cannot know the nonce; any occurrence of
    the fence syntax inside it is defused first.
    """
    label = label.upper()
    safe = text.replace("<<<", "< < <").replace(">>>", "> > >")
    return f"<<<{label}-{nonce}>>>\n{safe}\n<<<END-{label}-{nonce}>>>"


def unfence(prompt: str) -> dict[str, list[str]]:
    """All fenced blocks in a prompt by label, in order (what a reader of the prompt sees)."""
    blocks: dict[str, list[str]] = {}
    for match in _FENCE_RE.finditer(prompt):
        blocks.setdefault(match.group("label"), []).append(match.group("body"))
    return blocks

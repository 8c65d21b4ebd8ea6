"""Parallel corpora for the Language Ranker: English sentences and their translations, line-aligned.

Two layouts are read:

* an N-way parallel folder (NTREX-128 style): one ``<prefix>.<code>.txt`` file per language,
  line i the same sentence in every file, English in the file whose code is ``eng``
  (``newstest2019-src.eng.txt``). Sub-folders are searched too. When a folder holds a
  ``LANGUAGES.tsv`` (code, name; also looked for in the parent folder), codes outside it are rejected and names come from it.
  A second reference for a language (``newstest2019-ref-2.spa.txt`` beside
  ``newstest2019-ref.spa.txt``) is scored as its own entry, ``spa-ref2``.
* a pair file: TSV (``english<TAB>translation``, optionally a third ``language`` column) or
  JSONL (``{"english": ..., "translation" | "text": ..., "language": ...}``). Without a
  language column the language code comes from the file name (``pairs.deu.tsv`` → ``deu``).

Every problem is a :class:`~judgebench.errors.DataError` whose message names the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from judgebench.errors import DataError

ENGLISH = "eng"
# A language code: ISO 639 (2-3 letters), optionally a script/region/variant part (aze-Latn, zho-CN).
_CODE = r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*"
_PARALLEL_FILE = re.compile(rf"^(?P<prefix>.+)\.(?P<code>{_CODE})\.txt$")
_CODE_ONLY = re.compile(rf"^{_CODE}$")


@dataclass
class ParallelCorpus:
    """English sentences and, per language code, the line-aligned translations."""

    name: str
    english: list[str]
    translations: dict[str, list[str]]
    language_names: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return sorted(self.translations)

    def fingerprint(self) -> str:
        """A hash of the English side: results are comparable only over the same sentences."""
        digest = hashlib.sha256("\n".join(self.english).encode("utf-8"))
        return digest.hexdigest()[:16]

    def select(
        self, languages: list[str] | None = None, max_pairs: int | None = None
    ) -> ParallelCorpus:
        """The subset of languages (each must exist) and the first ``max_pairs`` lines."""
        if languages:
            unknown = [code for code in languages if code not in self.translations]
            if unknown:
                known = ", ".join(self.languages[:12]) + (" …" if len(self.languages) > 12 else "")
                raise DataError(
                    f"unknown language code(s) {', '.join(unknown)} (corpus has {len(self.translations)}: {known})",
                    where=self.name,
                )
            wanted = list(dict.fromkeys(languages))
        else:
            wanted = self.languages
        cut = slice(0, max_pairs) if max_pairs else slice(None)
        return ParallelCorpus(
            name=self.name,
            english=self.english[cut],
            translations={code: self.translations[code][cut] for code in wanted},
            language_names={c: n for c, n in self.language_names.items() if c in wanted},
            sources={c: p for c, p in self.sources.items() if c in wanted or c == ENGLISH},
        )


def load_corpus(path: str | Path, *, english: str = ENGLISH) -> ParallelCorpus:
    """Read a parallel folder or a pair file (``.tsv``/``.jsonl``)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError("corpus not found", where=str(path))
    if path.is_dir():
        return read_parallel_folder(path, english=english)
    if path.suffix.lower() in (".tsv", ".txt", ".jsonl", ".json"):
        return read_pair_file(path)
    raise DataError(
        "unsupported corpus file (use a parallel folder, .tsv or .jsonl)", where=str(path)
    )


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(path)
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    if not any(line.strip() for line in lines):
        raise DataError("empty file", where=str(path))
    return lines


def _no_blank_lines(lines: list[str], path: Path) -> list[str]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise DataError(
                f"line {number} is blank (a missing sentence breaks the alignment)", where=str(path)
            )
    return lines


def _language_names(folder: Path) -> dict[str, str] | None:
    """Code → name from a LANGUAGES.tsv in the folder (or its parent, as NTREX-128 keeps it)."""
    for table in [*sorted(folder.rglob("LANGUAGES.tsv")), folder.parent / "LANGUAGES.tsv"]:
        if not table.is_file():
            continue
        names: dict[str, str] = {}
        for number, line in enumerate(table.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split(None, 1)
            if not _CODE_ONLY.match(parts[0]):
                raise DataError(
                    f"line {number}: not a language code: {parts[0]!r}", where=str(table)
                )
            names[parts[0]] = parts[1].strip() if len(parts) > 1 else parts[0]
        return names
    return None


def read_parallel_folder(folder: str | Path, *, english: str = ENGLISH) -> ParallelCorpus:
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file() and _PARALLEL_FILE.match(p.name))
    by_code: dict[str, list[Path]] = {}
    for path in files:
        match = _PARALLEL_FILE.match(path.name)
        assert match is not None
        by_code.setdefault(match["code"], []).append(path)
    if english not in by_code:
        raise DataError(
            f"no English file (*.{english}.txt) among {len(files)} language files",
            where=str(folder),
        )
    if len(by_code[english]) > 1:
        raise DataError(
            f"several English files: {', '.join(p.name for p in by_code[english])}",
            where=str(folder),
        )
    if len(by_code) < 2:
        raise DataError(
            "no translation files (<prefix>.<code>.txt) beside the English one", where=str(folder)
        )
    names = _language_names(folder)

    # The common prefix of translation files marks the primary reference; others are alternates.
    prefixes = Counter(
        _PARALLEL_FILE.match(p.name)["prefix"]  # type: ignore[index]
        for c, ps in by_code.items()
        if c != english
        for p in ps
    )
    primary_prefix = prefixes.most_common(1)[0][0]

    english_path = by_code.pop(english)[0]
    english_lines = _no_blank_lines(_read_lines(english_path), english_path)
    corpus = ParallelCorpus(
        name=str(folder), english=english_lines, translations={}, sources={english: english_path}
    )
    for code, paths in sorted(by_code.items()):
        if names is not None and code not in names:
            raise DataError(
                f"unknown language code {code!r} (not in LANGUAGES.tsv)", where=str(paths[0])
            )
        primary = (
            [
                p
                for p in paths
                if _PARALLEL_FILE.match(p.name)["prefix"] == primary_prefix  # type: ignore[index]
            ]
            or paths[:1]
        )
        ordered = primary[:1] + [p for p in paths if p != primary[0]]
        for number, path in enumerate(ordered, 1):
            # A second reference is scored as its own entry (spa-ref2): two references of one
            # language should land close together, a free check of the method's noise.
            key = code if number == 1 else f"{code}-ref{number}"
            lines = _read_lines(path)
            if len(lines) != len(english_lines):
                raise DataError(
                    f"{len(lines)} lines but the English file {english_path.name} has {len(english_lines)} (not line-aligned)",
                    where=str(path),
                )
            corpus.translations[key] = _no_blank_lines(lines, path)
            corpus.sources[key] = path
            name = (names or {}).get(code, code)
            corpus.language_names[key] = name if number == 1 else f"{name} (reference {number})"
    return corpus


def _code_from_name(path: Path) -> str | None:
    parts = path.name.split(".")
    if len(parts) >= 3 and _CODE_ONLY.match(parts[-2]):
        return parts[-2]
    return None


def read_pair_file(path: str | Path) -> ParallelCorpus:
    """Pairs of (English, X). Several languages may share a file if a language column is there."""
    path = Path(path)
    default_code = _code_from_name(path)
    rows: list[tuple[str, str, str | None]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, line in enumerate(_read_lines(path), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"line {number}: invalid JSON ({exc.msg})", where=str(path)
                ) from None
            except RecursionError:
                raise DataError(f"line {number}: JSON nested too deeply", where=str(path)) from None
            if not isinstance(item, dict):
                raise DataError(f"line {number}: expected an object", where=str(path))
            eng = item.get("english", item.get("eng", item.get("source")))
            other = item.get("translation", item.get("text", item.get("target")))
            if not isinstance(eng, str) or not isinstance(other, str):
                raise DataError(
                    f"line {number}: needs string fields 'english' and 'translation'",
                    where=str(path),
                )
            rows.append((eng, other, item.get("language", item.get("lang"))))
    else:
        for number, fields in enumerate(
            csv.reader(_read_lines(path), delimiter="\t", quoting=csv.QUOTE_NONE), 1
        ):
            if not fields or not any(f.strip() for f in fields):
                continue
            if number == 1 and [f.strip().lower() for f in fields[:2]] in (
                ["english", "translation"],
                ["eng", "text"],
            ):
                continue
            if len(fields) not in (2, 3):
                raise DataError(
                    f"line {number}: expected 2 or 3 tab-separated fields, got {len(fields)}",
                    where=str(path),
                )
            rows.append((fields[0], fields[1], fields[2].strip() if len(fields) == 3 else None))
    if not rows:
        raise DataError("empty file", where=str(path))

    by_language: dict[str, tuple[list[str], list[str]]] = {}
    for number, (eng, other, code) in enumerate(rows, 1):
        code = code or default_code
        if not eng.strip() or not other.strip():
            raise DataError(f"row {number}: blank sentence", where=str(path))
        if code is None:
            raise DataError(
                f"row {number}: no language (add a language column or name the file <name>.<code>.tsv)",
                where=str(path),
            )
        if not _CODE_ONLY.match(code):
            raise DataError(f"row {number}: unknown language code {code!r}", where=str(path))
        eng_side, other_side = by_language.setdefault(code, ([], []))
        eng_side.append(eng)
        other_side.append(other)
    english_sets = {tuple(e) for e, _ in by_language.values()}
    if len(english_sets) != 1:
        # Pairs per language with different English sides: keep each language's own English by
        # requiring one language per file; the score compares against the English it is paired with.
        raise DataError(
            "languages in one pair file must share the same English sentences in the same order "
            "(or use one file per language)",
            where=str(path),
        )
    english = list(next(iter(english_sets)))
    return ParallelCorpus(
        name=str(path),
        english=english,
        translations={code: other for code, (_, other) in sorted(by_language.items())},
        language_names={code: code for code in by_language},
        sources={code: path for code in by_language},
    )

"""``judgebench taxonomy``: import, export, show, validate, build, assign and decisions.

Module level imports typer only; the taxonomy package, the store and encoders load inside
the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from judgebench.cli import checks

if TYPE_CHECKING:  # annotations only: the modules load when a command runs
    from collections.abc import Iterator, Sequence

    from judgebench.db import Store
    from judgebench.taxonomy.assign import Assignment
    from judgebench.taxonomy.builder import Candidate
    from judgebench.taxonomy.tree import Taxonomy

taxonomy_app = typer.Typer(
    help="Taxonomies of query categories: files, versions in the store, LLM building, assignment.",
    no_args_is_help=True,
)

_DB_HELP = "Store URL or SQLite file (taxonomy versions, queries)."
_SOURCE_HELP = (
    "'default', a taxonomy file (JSON/YAML: nested, flat or Feedbacker), or 'db' (latest in --db)."
)


def _store(db: str | None) -> Store | None:
    from judgebench.db import Store

    return Store(db) if db else None


def _load(
    source: str | None, db: str | None, version: int | None, name: str | None, fmt: str = "auto"
) -> Taxonomy:
    """A taxonomy from 'default', a file, or the store (by version or name; latest otherwise)."""
    from judgebench.errors import UserError
    from judgebench.taxonomy import load_default_taxonomy, load_taxonomy

    if source in (None, "db") and (db or version is not None):
        if not db:
            raise UserError("--version needs --db")
        from judgebench.db.taxonomy import load_taxonomy_version

        return load_taxonomy_version(_store(db), version, name)
    if source in (None, "default"):
        return load_default_taxonomy()
    return load_taxonomy(Path(source), fmt=fmt, name=name)


def _lines_or_objects(path: Path) -> Iterator[tuple[int, str | dict[str, Any]]]:
    """(line number, plain text or JSON object) of each non-blank line: a line that starts
    with ``{`` is JSON (one bad line is a one-line DataError), any other is plain text. Split
    on "\\n" only, as JSONL (texts may hold U+2028)."""
    from judgebench.errors import DataError
    from judgebench.importers.base import read_text

    for number, line in enumerate(read_text(path).split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            yield number, line
            continue
        try:
            item = json.loads(line)  # starts with "{": an object when it parses
        except (ValueError, RecursionError):  # ValueError: also an int of over 4,300 digits
            raise DataError(f"line {number} is not JSON", where=str(path)) from None
        yield number, item


def _read_candidates(path: Path, domain: str | None) -> list[Candidate]:
    """Candidate categories: plain lines (under ``domain``) or JSONL name/description/domain."""
    from judgebench.errors import DataError
    from judgebench.taxonomy.builder import Candidate

    items = []
    for number, item in _lines_or_objects(path):
        if isinstance(item, str):
            items.append(Candidate(name=item, domain=domain))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DataError(f"line {number} has no 'name'", where=str(path))
        description, item_domain = item.get("description"), item.get("domain")
        for field, value in (("description", description), ("domain", item_domain)):
            if value is not None and not isinstance(value, str):
                raise DataError(f"line {number}: {field!r} must be text", where=str(path))
        items.append(Candidate(name=name, description=description, domain=item_domain))
    return items


@taxonomy_app.command("validate")
def validate_cmd(
    path: Path = typer.Argument(..., help="Taxonomy file to check."),
    fmt: str = typer.Option("auto", "--format", help="auto, nested, flat or feedbacker."),
) -> None:
    """Check a taxonomy file; prints its size, or one line saying what is wrong and where."""
    from judgebench.taxonomy import load_taxonomy, validate

    taxonomy = validate(load_taxonomy(path, fmt=fmt))
    stats = taxonomy.stats()
    typer.echo(
        f"ok: {path} — {stats['nodes']} nodes, {stats['leaves']} leaves, depth {stats['depth']}, "
        f"{stats['domains']} domains"
    )


@taxonomy_app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="Taxonomy file (JSON/YAML: nested, flat or Feedbacker)."),
    fmt: str = typer.Option("auto", "--format", help="auto, nested, flat or feedbacker."),
    name: str | None = typer.Option(
        None, "--name", help="Name to store it under (default: its own)."
    ),
    note: str | None = typer.Option(None, "--note", help="A note stored with the version."),
    db: str | None = typer.Option(None, "--db", envvar="JUDGEBENCH_DB", help=_DB_HELP),
    out: Path | None = typer.Option(
        None,
        "--out",
        callback=checks.output_file,
        help="Also write it in judgebench's format (.yaml/.json).",
    ),
) -> None:
    """Import a taxonomy: validate it and store it as a new version (when its content changed)."""
    from judgebench.errors import UserError
    from judgebench.taxonomy import load_taxonomy, save_taxonomy, validate

    if not db and not out:
        raise UserError("taxonomy import needs --db (store a version) and/or --out (write a file)")
    taxonomy = validate(load_taxonomy(path, fmt=fmt, name=name))
    if out:
        save_taxonomy(taxonomy, out)
        typer.echo(f"wrote {out}")
    if db:
        from judgebench.db.taxonomy import save_taxonomy_version

        version, created = save_taxonomy_version(_store(db), taxonomy, name=name, note=note)
        state = "new version" if created else "unchanged, existing version"
        typer.echo(f"{taxonomy.name}: {state} {version} ({len(taxonomy)} nodes)")


@taxonomy_app.command("export")
def export_cmd(
    out: Path = typer.Argument(
        ..., callback=checks.output_file, help="Output file (.yaml, .yml or .json)."
    ),
    source: str | None = typer.Option(None, "--from", help=_SOURCE_HELP),
    fmt: str = typer.Option("nested", "--format", help="nested, flat or feedbacker."),
    db: str | None = typer.Option(None, "--db", envvar="JUDGEBENCH_DB", help=_DB_HELP),
    version: int | None = typer.Option(None, "--version", help="Stored version (default: latest)."),
    name: str | None = typer.Option(
        None, "--name", help="Stored taxonomy name (latest version of it)."
    ),
) -> None:
    """Write a taxonomy (default, a file or a stored version) as nested, flat or Feedbacker JSON/YAML."""
    from judgebench.taxonomy import save_taxonomy

    taxonomy = _load(source, db, version, name)
    save_taxonomy(taxonomy, out, fmt=fmt)
    typer.echo(f"wrote {out} ({len(taxonomy)} nodes, {fmt})")


@taxonomy_app.command("show")
def show_cmd(
    source: str | None = typer.Argument(None, help=_SOURCE_HELP),
    db: str | None = typer.Option(None, "--db", envvar="JUDGEBENCH_DB", help=_DB_HELP),
    version: int | None = typer.Option(None, "--version", help="Stored version (default: latest)."),
    name: str | None = typer.Option(None, "--name", help="Stored taxonomy name."),
    depth: int | None = typer.Option(None, "--depth", min=1, help="Show this many levels."),
    under: str | None = typer.Option(None, "--under", help="Only the subtree under this node id."),
    descriptions: bool = typer.Option(False, "--descriptions", help="Show node descriptions."),
    versions: bool = typer.Option(False, "--versions", help="List the stored versions instead."),
    min_confidence: float | None = typer.Option(
        None,
        "--min-confidence",
        help="With --db: how many of a node's queries are at least this sure "
        "(default: the combined assigner's default min_confidence).",
    ),
) -> None:
    """Print the tree with rich; with --db, the number of queries per node (descendants included)
    and how many of them are confidently assigned."""
    from rich.console import Console
    from rich.table import Table
    from rich.tree import Tree

    console = Console()
    store = _store(db)
    if versions:
        from judgebench.db.taxonomy import list_taxonomy_versions

        if store is None:
            from judgebench.errors import UserError

            raise UserError("--versions needs --db")
        table = Table(
            "version", "name", "nodes", "parent", "created", "note", title="taxonomy versions"
        )
        for v in list_taxonomy_versions(store, name):
            table.add_row(
                str(v.id),
                v.name,
                str(v.nodes),
                str(v.parent_version or ""),
                v.created_at.strftime("%Y-%m-%d %H:%M"),
                v.note or "",
            )
        console.print(table)
        return
    from_db = store is not None and source in (None, "db")
    taxonomy = _load(source, db, version, name)
    counts: dict[str, int] = {}
    sure: dict[str, int] = {}
    if store is not None:
        from judgebench.db.taxonomy import find_version, node_query_counts, resolve_version

        # a file or the default counts the queries assigned under its stored twin, if any
        shown_version = (
            resolve_version(store, version, name) if from_db else find_version(store, taxonomy)
        )
        from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

        counts = node_query_counts(store, taxonomy, shown_version)
        threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
        sure = node_query_counts(store, taxonomy, shown_version, threshold)
    stats = taxonomy.stats()
    title = f"[bold]{taxonomy.name}[/bold] — {stats['nodes']} nodes, {stats['leaves']} leaves, depth {stats['depth']}"
    root = Tree(title)
    branches: dict[str, Any] = {"": root}
    start = under or ""
    for node_id in taxonomy.descendants(start) if start else taxonomy.ids():
        level = taxonomy.depth_of(node_id) - taxonomy.depth_of(start)
        if depth is not None and level > depth:
            continue
        label = f"{taxonomy.name_of(node_id)} [dim]{node_id}[/dim]"
        if store is not None:
            label += f"  [cyan]{counts.get(node_id, 0)} queries[/cyan]"
            if sure.get(node_id, 0) != counts.get(node_id, 0):
                label += f" [yellow]({sure.get(node_id, 0)} confident)[/yellow]"
        if descriptions and taxonomy.description_of(node_id):
            label += f"\n[italic]{taxonomy.description_of(node_id)}[/italic]"
        parent = node_id.rsplit("/", 1)[0] if "/" in node_id else ""
        branches[node_id] = branches.get(parent if parent != start else "", root).add(label)
    console.print(root)


@taxonomy_app.command("build")
def build_cmd(
    model: str = typer.Option(..., "--model", help="Model deciding (e.g. sim/large, gpt-4o-mini)."),
    base: str = typer.Option(
        "none", "--base", help="Start from 'none' (empty), 'default' or a taxonomy file."
    ),
    candidates: Path | None = typer.Option(
        None,
        "--candidates",
        help="Candidate categories: one per line, or JSONL with name/description/domain.",
    ),
    queries: Path | None = typer.Option(
        None, "--queries", help="Real queries to tag into candidates (lines or JSONL 'text')."
    ),
    brainstorm: str | None = typer.Option(
        None, "--brainstorm", help="A domain description to brainstorm candidates for."
    ),
    domain: str | None = typer.Option(
        None, "--domain", help="Domain (top-level id) the brainstormed candidates go under."
    ),
    count: int = typer.Option(20, "--count", help="Candidates to brainstorm."),
    min_count: int = typer.Option(
        1, "--min-count", help="Tags seen fewer times than this are dropped."
    ),
    refine: bool = typer.Option(True, "--refine/--no-refine", help="Run the LLM refinement pass."),
    max_depth: int = typer.Option(6, "--max-depth", help="Depth cap (insertion and pruning)."),
    min_children: int | None = typer.Option(
        None,
        "--min-children",
        help="Below depth 3, keep children only if there are at least this many (Feedbacker: 5).",
    ),
    log: Path = typer.Option(
        Path("taxonomy-build.jsonl"),
        "--log",
        callback=checks.output_file,
        help="Decision log: audit trail, and resume without repeated calls.",
    ),
    out: Path = typer.Option(
        Path("taxonomy.yaml"),
        "--out",
        callback=checks.output_file,
        help="Where to write the built taxonomy.",
    ),
    name: str = typer.Option("built", "--name", help="Name of the built taxonomy."),
    db: str | None = typer.Option(None, "--db", envvar="JUDGEBENCH_DB", help=_DB_HELP),
) -> None:
    """Build a taxonomy with an LLM: insert candidates top-down, refine, prune; every decision logged."""
    from judgebench.errors import UserError
    from judgebench.llm import run_sync
    from judgebench.taxonomy import Taxonomy, save_taxonomy
    from judgebench.taxonomy.builder import TaxonomyBuilder

    if base == "none":
        start = Taxonomy(name)
        for domain_name in (
            "writing",
            "roleplay",
            "knowledge",
            "coding",
            "mathematics",
            "reasoning",
        ):
            start.add("", domain_name.title())
    else:
        start = _load(base, None, None, None)
        start.name = name
    builder = TaxonomyBuilder(model, start, log=log, max_depth=max_depth)
    items: list[Candidate] = []
    if candidates:
        items += _read_candidates(candidates, domain)
    if queries:
        texts = [_item_text(item) for item in _read_query_items(queries)]
        tagged = run_sync(lambda: builder.candidates_from_queries(texts, min_count=min_count))
        typer.echo(f"tagged {len(texts)} queries into {len(tagged)} candidates")
        items += tagged
    if brainstorm:
        ideas = run_sync(lambda: builder.brainstorm(brainstorm, domain=domain, count=count))
        typer.echo(f"brainstormed {len(ideas)} candidates")
        items += ideas
    if not items:
        raise UserError("no candidates: give --candidates, --queries and/or --brainstorm")
    report = builder.build_sync(
        items, refine=refine, prune_rules={"min_children": min_children, "max_depth": max_depth}
    )
    save_taxonomy(builder.taxonomy, out)
    summary = ", ".join(f"{k} {v}" for k, v in report.summary().items())
    typer.echo(
        f"{summary}\nwrote {out} ({builder.taxonomy.stats()['nodes']} nodes); decisions in {log}"
    )
    for cand, reason in report.skipped[:10]:
        typer.echo(f"  skipped {cand!r}: {reason}")
    if db:
        from judgebench.db.taxonomy import save_taxonomy_version

        version, created = save_taxonomy_version(
            _store(db), builder.taxonomy, note=f"built by {model}"
        )
        typer.echo(f"stored as version {version}" + ("" if created else " (unchanged)"))


def _read_query_items(path: Path) -> list[dict[str, Any]]:
    """Query lines as dicts: JSONL lines keep all their fields, plain lines become ``text``."""
    from judgebench.errors import DataError

    items: list[dict[str, Any]] = []
    for number, item in _lines_or_objects(path):
        if isinstance(item, str):
            items.append({"text": item})
            continue
        value = item.get("text") or item.get("prompt") or item.get("name")
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"line {number} has no 'text'", where=str(path))
        items.append({**item, "text": value} if "text" in item else item)
    return items


def _item_text(item: dict[str, Any]) -> str:
    return str(item.get("text") or item.get("prompt") or item.get("name"))


def _read_examples(path: Path, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """Labelled examples: JSONL ``text`` + ``node_id`` (or ``label``: a node id or a unique name)."""
    from judgebench.importers.base import bad, iter_jsonl

    pairs = []
    for number, item in iter_jsonl(path):
        label = item.get("node_id", item.get("label")) if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise bad(path, number, "needs 'text' and 'node_id'")
        if not isinstance(label, str):
            raise bad(path, number, "needs 'text' and 'node_id'")
        if label not in taxonomy:
            found = taxonomy.find(label)
            if len(found) != 1:
                raise bad(path, number, f"label {label!r} is not one node of the taxonomy")
            label = found[0]
        pairs.append((item["text"], label))
    return pairs


@taxonomy_app.command("assign")
def assign_cmd(
    source: str | None = typer.Option(None, "--taxonomy", help=_SOURCE_HELP),
    queries: Path | None = typer.Option(
        None,
        "--queries",
        help="Queries to assign (lines, or JSONL 'text' whose other fields are kept in --out); default: the store's queries.",
    ),
    query_source: str | None = typer.Option(
        None, "--source", help="Only store queries from this source."
    ),
    method: str = typer.Option(
        "combined",
        "--method",
        help="combined (calibrated, abstains), embedding (previous), llm, or hybrid (combined first, LLM for the unsure).",
    ),
    model: str | None = typer.Option(None, "--model", help="Model for llm/hybrid."),
    batch_size: int = typer.Option(
        10, "--batch-size", min=1, help="Queries per LLM prompt (llm/hybrid; 1: one per prompt)."
    ),
    encoder: str = typer.Option(
        "auto", "--encoder", help="auto (MiniLM and lexical when installed), minilm or lexical."
    ),
    examples: Path | None = typer.Option(
        None,
        "--examples",
        help="Labelled example queries (JSONL text + node_id or label): a flat label set works too.",
    ),
    min_confidence: float | None = typer.Option(
        None,
        "--min-confidence",
        help="Below this probability a query is left unassigned (combined/hybrid; default 0.6).",
    ),
    log: Path | None = typer.Option(
        None,
        "--log",
        callback=checks.output_file,
        help="Decision log for LLM assignment, to resume without repeated calls (default taxonomy-assign.jsonl).",
    ),
    out: Path | None = typer.Option(
        None, "--out", callback=checks.output_file, help="Write assignments as JSONL."
    ),
    db: str | None = typer.Option(None, "--db", envvar="JUDGEBENCH_DB", help=_DB_HELP),
    version: int | None = typer.Option(None, "--version", help="Stored taxonomy version."),
    redo: bool = typer.Option(
        False, "--redo", help="Also reassign store queries already assigned under this version."
    ),
) -> None:
    """Assign queries to nodes with a confidence; with --db, store them under the taxonomy's
    version (unassigned ones are recorded as errors with the reason)."""
    from judgebench.errors import UserError
    from judgebench.records import Query

    if method not in ("combined", "embedding", "llm", "hybrid"):
        raise UserError(f"unknown --method {method!r}: use combined, embedding, llm or hybrid")
    if method in ("llm", "hybrid") and not model:
        raise UserError(f"--method {method} needs --model")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise UserError(f"--min-confidence must lie in [0, 1], got {min_confidence}")
    store = _store(db)
    taxonomy = _load(source, db, version, None)
    pairs = _read_examples(examples, taxonomy) if examples else []
    tax_version: int | None = None
    if store is not None:
        from judgebench.db.taxonomy import save_taxonomy_version

        tax_version, _ = save_taxonomy_version(store, taxonomy)
    origin = query_source or "taxonomy-assign"
    if queries:
        items = _read_query_items(queries)
        ids = [item.get("id") or Query.natural_key(_item_text(item), origin) for item in items]
    elif store is not None:
        stored = store.get_queries(source=query_source)
        done = [q for q in stored if q.node_ids and q.taxonomy_version == tax_version]
        if done and not redo:  # idempotent: a rerun only does what is not done yet
            typer.echo(
                f"{len(done)} queries already assigned under version {tax_version} (--redo to redo)"
            )
            stored = [q for q in stored if q not in done]
        items, ids = [{"text": q.text} for q in stored], [q.id for q in stored]
    else:
        raise UserError("give --queries or --db")
    texts = [_item_text(item) for item in items]
    results = _run_assigner(
        taxonomy, texts, method, model, encoder, pairs, min_confidence, log, batch_size
    )
    assigned = sum(r.assigned for r in results)
    typer.echo(
        f"assigned {assigned} of {len(results)} queries ({method}); unassigned {len(results) - assigned}"
    )
    if out:
        _write_assignments(out, items, ids, results)
    if store is not None:
        _store_assignments(store, tax_version, texts, ids if not queries else None, results, origin)


def _run_assigner(
    taxonomy, texts, method, model, encoder, pairs, min_confidence, log, batch_size=10
):
    """Assign with the chosen method; the LLM-only method never loads an encoder (or torch)."""
    import sys

    from judgebench.llm import run_sync
    from judgebench.taxonomy.assign import EmbeddingAssigner, HybridAssigner, LLMAssigner
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE, CombinedAssigner

    if method == "embedding":
        return EmbeddingAssigner(taxonomy, encoder=encoder, examples=pairs).assign(texts)
    first = None
    if method in ("combined", "hybrid"):
        first = CombinedAssigner(
            taxonomy,
            encoders=encoder,
            examples=pairs,
            min_confidence=DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence,
        )
        if first.warning:
            typer.echo(first.warning, err=True)
            sys.stderr.flush()
        if method == "combined":
            return first.assign(texts)
    llm = LLMAssigner(
        model or "", taxonomy, log=log or Path("taxonomy-assign.jsonl"), batch_size=batch_size
    )
    runner = HybridAssigner(first, llm) if first is not None else llm
    return run_sync(lambda: runner.assign(texts))


def _write_assignments(
    out: Path, items: Sequence[dict[str, Any]], ids: Sequence[str], results: Sequence[Assignment]
) -> None:
    """One line per query: the input line's own fields, then the assignment's."""
    with out.open("w", encoding="utf-8") as handle:
        for item, query_id, r in zip(items, ids, results, strict=True):
            row = {
                **item,
                "id": query_id,
                "text": r.text,
                "node_ids": r.node_ids,
                "confidence": r.confidence,
                "node_confidence": r.node_confidence,
                "method": r.method,
                "status": r.status,
                "reason": r.reason,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    typer.echo(f"wrote {out}")


def _store_assignments(
    store: Store,
    tax_version: int | None,
    texts: Sequence[str],
    ids: Sequence[str] | None,
    results: Sequence[Assignment],
    origin: str,
) -> None:
    from judgebench.records import ErrorRecord, Query

    if ids is None:  # queries from a file enter the store first (insert-or-ignore by text)
        fresh = [Query(text=t, source=origin) for t in texts]
        store.put_queries(fresh)
        ids = [q.id for q in fresh]
    for query_id, r in zip(ids, results, strict=True):
        # an unassigned query keeps no nodes, but its best guess and probability (for reports)
        store.set_query_nodes(query_id, r.node_ids, tax_version, r.node_confidence)
        if not r.assigned:
            store.record_error(
                ErrorRecord(
                    stage="taxonomy.assign", subject=query_id, message=r.reason or "unassigned"
                )
            )
    typer.echo(f"stored under taxonomy version {tax_version}")


@taxonomy_app.command("decisions")
def decisions_cmd(
    log: Path = typer.Argument(..., help="A decision log written by build or assign."),
    show_invalid: int = typer.Option(10, "--invalid", help="How many rejected questions to list."),
) -> None:
    """Audit a decision log: settled questions by step and status, tokens, and why replies failed."""
    from rich.console import Console
    from rich.table import Table

    from judgebench.errors import DataError
    from judgebench.taxonomy.decisions import DecisionLog

    if not log.is_file():
        raise DataError("decision log not found", where=str(log))
    decisions = DecisionLog(log)
    table = Table("step", "ok", "invalid", "attempts", "tokens", title=f"decisions in {log}")
    for step, by_status in sorted(decisions.summary().items()):
        attempts = [e for e in decisions.entries if e.get("step") == step and "attempt" in e]
        tokens = sum(sum((e.get("usage") or {}).values()) for e in attempts)
        table.add_row(
            step,
            str(by_status.get("ok", 0)),
            str(by_status.get("invalid", 0)),
            str(len(attempts)),
            str(tokens),
        )
    console = Console()
    console.print(table)
    if decisions.torn_lines:
        console.print(
            f"{decisions.torn_lines} line(s) cut short by an interrupted run (asked again on resume)"
        )
    for entry in [e for e in decisions.finals() if e["status"] != "ok"][:show_invalid]:
        console.print(f"[red]{entry['step']}[/red] {entry['key'][:10]}: {entry.get('reason')}")


def register(app: typer.Typer) -> None:
    app.add_typer(taxonomy_app, name="taxonomy")

"""Building a taxonomy with an LLM: candidates → top-down insertion → refinement → pruning.

Follows Feedbacker (arXiv 2505.06698) with judgebench's guarantees: nodes keyed by path ids,
every decision recorded in a :class:`DecisionLog` (a rerun with the same log makes no calls),
replies outside the allowed options retried then recorded as skipped, refinement replies
validated and falling back to keep, and nodes a refinement does not mention kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from judgebench.llm import gather_limited, run_sync
from judgebench.prompts import load_template
from judgebench.records import normalize_text
from judgebench.taxonomy.asking import Asker
from judgebench.taxonomy.decisions import DecisionLog
from judgebench.taxonomy.io import validate
from judgebench.taxonomy.prune import PruneReport, prune
from judgebench.taxonomy.replies import ReplyError, parse_json_object
from judgebench.taxonomy.tree import ROOT, Taxonomy

TEMPLATES = ("insert", "refine", "tag", "brainstorm", "assign")


@dataclass
class Candidate:
    """A category to insert, optionally starting below a domain (a top-level id)."""

    name: str
    description: str | None = None
    domain: str | None = None
    count: int = 1
    sources: list[str] = field(default_factory=list)


@dataclass
class BuildReport:
    inserted: list[str] = field(default_factory=list)
    existing: list[tuple[str, str]] = field(default_factory=list)  # (candidate, duplicate of id)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (candidate, reason)
    refined: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(
        default_factory=list
    )  # (node, reason refinement was not applied)
    pruned: PruneReport | None = None
    calls: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "inserted": len(self.inserted),
            "existing": len(self.existing),
            "skipped": len(self.skipped),
            "refined_nodes": len(self.refined),
            "refine_fallbacks": len(self.kept),
            "pruned": self.pruned.removed if self.pruned else 0,
            "llm_calls": self.calls,
        }


def _match_child(taxonomy: Taxonomy, parent: str, ref: Any) -> str | None:
    """A child of ``parent`` named by full id, last id segment or display name."""
    if not isinstance(ref, str) or not ref.strip():
        return None
    ref = ref.strip().strip("`\"'")
    kids = taxonomy.children(parent)
    for kid in kids:
        if ref == kid or ref == kid.rsplit("/", 1)[-1]:
            return kid
    wanted = ref.casefold()
    for kid in kids:
        if taxonomy.name_of(kid).casefold() == wanted:
            return kid
    return None


class TaxonomyBuilder:
    """Grows ``taxonomy`` (a copy of the default when None) with ``model``'s decisions.

    ``log`` (a path or :class:`DecisionLog`) makes the build auditable and resumable;
    ``fixed_domains`` keeps the top level as it is (candidates descend into a domain);
    ``refine_dimensions`` lets refinement edit a domain's children, the classification-dimension
    layer, which Feedbacker's refinement prompt says "absolutely must not be modified" (off by
    default: that layer is never sent to refinement);
    ``templates`` maps template names (``insert``, ``refine``, ...) to user ``.j2`` files.
    """

    def __init__(
        self,
        model: str,
        taxonomy: Taxonomy | None = None,
        *,
        log: DecisionLog | str | Path | None = None,
        attempts: int = 3,
        max_depth: int = 6,
        concurrency: int = 16,
        templates: dict[str, str | Path] | None = None,
        params: dict[str, Any] | None = None,
        fixed_domains: bool = True,
        refine_dimensions: bool = False,
    ) -> None:
        self.fixed_domains = fixed_domains
        self.refine_dimensions = refine_dimensions
        self.taxonomy = taxonomy if taxonomy is not None else Taxonomy("built")
        self.log = log if isinstance(log, DecisionLog) else DecisionLog(log)
        self.asker = Asker(model, self.log, attempts=attempts, params=params)
        self.max_depth = max_depth
        self.concurrency = concurrency
        overrides = {f"taxonomy:{k}": v for k, v in (templates or {}).items()}
        self.templates = {name: load_template(f"taxonomy:{name}", overrides) for name in TEMPLATES}

    @property
    def model(self) -> str:
        return self.asker.model

    # --- step 1: insertion ----------------------------------------------------------------
    async def insert(
        self, candidates: Iterable[Candidate | str], report: BuildReport | None = None
    ) -> BuildReport:
        report = report or BuildReport()
        items = [c if isinstance(c, Candidate) else Candidate(name=str(c)) for c in candidates]
        groups: dict[str | None, list[Candidate]] = {}
        for cand in items:
            # group by the resolved domain id, so "Coding" and "coding" never run side by side
            resolved = _match_child(self.taxonomy, ROOT, cand.domain) if cand.domain else None
            groups.setdefault(resolved or cand.domain, []).append(cand)
        start_calls = self.asker.calls

        async def run_group(group: list[Candidate]) -> None:
            for cand in group:
                await self._insert_one(cand, report)

        if None in groups:  # candidates that start at the root may enter any domain: one at a time
            for group in groups.values():
                await run_group(group)
        else:  # each domain is its own subtree, so domains proceed concurrently
            await asyncio.gather(*(run_group(g) for g in groups.values()))
        report.calls += self.asker.calls - start_calls
        return report

    async def _insert_one(self, cand: Candidate, report: BuildReport) -> None:
        tax = self.taxonomy
        name = cand.name.strip()
        if not name:
            report.skipped.append((cand.name, "empty candidate name"))
            return
        current = ROOT
        if cand.domain:
            domain = cand.domain if cand.domain in tax else _match_child(tax, ROOT, cand.domain)
            if domain is None:
                report.skipped.append((name, f"unknown domain {cand.domain!r}"))
                return
            current = domain
        while True:
            kids = tax.children(current)
            level = tax.depth_of(current) if current else 0
            same = [k for k in kids if normalize_text(tax.name_of(k)) == normalize_text(name)]
            if same:  # an exact name match needs no LLM to be a duplicate
                report.existing.append((name, same[0]))
                return
            if not kids:
                if level + 1 > self.max_depth:
                    report.skipped.append(
                        (name, f"depth cap {self.max_depth} reached at {current!r}")
                    )
                    return
                report.inserted.append(tax.add(current, name, cand.description))
                return
            can_descend = level + 1 < self.max_depth
            decision = await self._ask_insert(cand, current, kids, can_descend)
            if not decision.ok:
                report.skipped.append((name, decision.reason or decision.status))
                return
            choice = decision.value
            if choice["decision"] == "EXISTS":
                report.existing.append((name, choice.get("into") or current or "<root>"))
                return
            if choice["decision"] == "ADD":
                if level + 1 > self.max_depth:
                    report.skipped.append(
                        (name, f"depth cap {self.max_depth} reached at {current!r}")
                    )
                    return
                report.inserted.append(
                    tax.add(current, name, choice.get("description") or cand.description)
                )
                return
            target = choice["into"]
            if (
                target not in tax
            ):  # the tree changed since the logged decision: ask afresh next time
                report.skipped.append((name, f"logged target {target!r} no longer exists"))
                return
            current = target

    async def _ask_insert(self, cand: Candidate, current: str, kids: list[str], can_descend: bool):
        tax = self.taxonomy
        fixed_top = self.fixed_domains and current == ROOT  # new domains only when allowed
        position = " > ".join(tax.path_names(current)) if current else "(top level)"
        siblings = [(k, tax.name_of(k), tax.description_of(k)) for k in kids]
        listing = "\n".join(f"- {n}" + (f": {d}" if d else "") for _, n, d in siblings)
        candidate_text = cand.name + (f"\n{cand.description}" if cand.description else "")

        def values(fence):
            return {
                "position": position,
                "siblings": fence(listing, "CATEGORIES"),
                "candidate": fence(candidate_text, "CANDIDATE"),
                "can_descend": can_descend,
                "fixed_top": fixed_top,
            }

        def parse(reply: str) -> dict[str, Any]:
            data = parse_json_object(reply, required=("decision",))
            choice = str(data.get("decision", "")).strip().upper()
            allowed = ("EXISTS", "ADD", "DESCEND") if can_descend else ("EXISTS", "ADD")
            if fixed_top:
                allowed = ("EXISTS", "DESCEND")
            if choice not in allowed:
                raise ReplyError(
                    f"decision {data.get('decision')!r} is not one of {', '.join(allowed)}"
                )
            out: dict[str, Any] = {"decision": choice}
            if choice == "DESCEND":
                into = _match_child(tax, current, data.get("into"))
                if into is None:
                    raise ReplyError(
                        f"'into' {data.get('into')!r} is not one of the listed categories"
                    )
                out["into"] = into
            elif choice == "EXISTS" and data.get("into"):
                out["into"] = _match_child(tax, current, data.get("into"))
            if (
                choice == "ADD"
                and isinstance(data.get("description"), str)
                and data["description"].strip()
            ):
                out["description"] = data["description"].strip()[:300]
            return out

        subject = {
            "candidate": candidate_text,
            "at": current,
            "siblings": siblings,
            "can_descend": can_descend,
            "fixed_top": fixed_top,
        }
        return await self.asker.ask("insert", self.templates["insert"], subject, values, parse)

    # --- step 2: refinement ---------------------------------------------------------------
    async def refine(self, under: str = ROOT, report: BuildReport | None = None) -> BuildReport:
        """One top-down pass: every internal node with ≥ 2 children is reviewed once, from the
        classification dimensions down (from the domains with ``refine_dimensions``)."""
        report = report or BuildReport()
        start_calls = self.asker.calls
        tax = self.taxonomy
        # the domains are the fixed top level, and their children the classification dimensions
        # (Feedbacker: a layer of classification criteria must not be modified)
        depth = max(tax.depth_of(under) if under else 1, 1 if self.refine_dimensions else 2)
        while depth <= self.max_depth:
            scope = ([under] if under else []) + tax.descendants(under)
            level = [
                n for n in scope if n and tax.depth_of(n) == depth and len(tax.children(n)) >= 2
            ]
            if level:
                decisions = await gather_limited(
                    [partial(self._ask_refine, n) for n in level], limit=self.concurrency
                )
                for node_id, decision in zip(level, decisions, strict=True):
                    if not decision.ok:
                        report.kept.append((node_id, decision.reason or decision.status))
                        continue
                    ops = decision.value["operations"]
                    if any(op["op"] != "keep" for op in ops):
                        self._apply(node_id, ops)
                        report.refined.append((node_id, ops))
            depth += 1
            if not any(tax.depth_of(n) >= depth for n in tax.descendants(under)):
                break
        report.calls += self.asker.calls - start_calls
        return report

    async def _ask_refine(self, node_id: str):
        tax = self.taxonomy
        kids = tax.children(node_id)
        position = " > ".join(tax.path_names(node_id)) if node_id else "(top level)"
        rows = []
        for kid in kids:
            line = f"- {kid.rsplit('/', 1)[-1]}: {tax.name_of(kid)}"
            if tax.description_of(kid):
                line += f" — {tax.description_of(kid)}"
            if not tax.is_leaf(kid):
                line += " (has children)"
            rows.append(line)

        def values(fence):
            return {"position": position, "children": fence("\n".join(rows), "SUBCATEGORIES")}

        def parse(reply: str) -> dict[str, Any]:
            data = parse_json_object(reply, required=("operations",))
            return {"operations": self._validate_ops(node_id, data["operations"])}

        subject = {
            "node": node_id,
            "children": [(k, tax.name_of(k), tax.description_of(k), tax.is_leaf(k)) for k in kids],
        }
        return await self.asker.ask("refine", self.templates["refine"], subject, values, parse)

    def _validate_ops(self, node_id: str, raw_ops: Any) -> list[dict[str, Any]]:
        tax = self.taxonomy
        if not isinstance(raw_ops, list):
            raise ReplyError("'operations' must be a list")
        used: set[str] = set()
        ops: list[dict[str, Any]] = []

        def child(ref: Any, what: str) -> str:
            found = _match_child(tax, node_id, ref)
            if found is None:
                raise ReplyError(f"{what} {ref!r} is not one of the listed sub-categories")
            if found in used:
                raise ReplyError(f"sub-category {ref!r} appears in two operations")
            used.add(found)
            return found

        def names(value: Any, what: str) -> list[str]:
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise ReplyError(f"{what} must be a list of names")
            return [v.strip() for v in value]

        for raw in raw_ops:
            if not isinstance(raw, dict) or "op" not in raw:
                raise ReplyError("every operation must be an object with 'op'")
            op = str(raw["op"]).strip().lower()
            if op == "keep":
                ops.append({"op": "keep"})
            elif op == "delete":
                ops.append({"op": "delete", "node": child(raw.get("node"), "delete node")})
            elif op == "split":
                target = child(raw.get("node"), "split node")
                if not tax.is_leaf(target):
                    raise ReplyError(
                        f"split only applies to leaves; {raw.get('node')!r} has children"
                    )
                into = names(raw.get("into"), "split 'into'")
                if len({normalize_text(n) for n in into}) < 2:
                    raise ReplyError("split needs at least two distinct names")
                ops.append({"op": "split", "node": target, "into": into})
            elif op == "merge":
                refs = raw.get("nodes")
                if not isinstance(refs, list) or len(refs) < 2:
                    raise ReplyError("merge needs at least two nodes")
                merged = [child(r, "merge node") for r in refs]
                merged_name = raw.get("into")
                ops.append(
                    {
                        "op": "merge",
                        "nodes": merged,
                        "into": merged_name.strip()
                        if isinstance(merged_name, str) and merged_name.strip()
                        else None,
                    }
                )
            elif op == "reparent":
                refs = raw.get("nodes")
                if not isinstance(refs, list) or not refs:
                    raise ReplyError("reparent needs a non-empty 'nodes' list")
                moved = [child(r, "reparent node") for r in refs]
                parent_ref = raw.get("parent")
                if not isinstance(parent_ref, str) or not parent_ref.strip():
                    raise ReplyError("reparent needs a 'parent'")
                existing = _match_child(tax, node_id, parent_ref)
                if existing in moved:
                    raise ReplyError(f"cannot reparent {parent_ref!r} under itself")
                if existing is not None and existing in used:
                    raise ReplyError(
                        f"reparent target {parent_ref!r} is changed by another operation"
                    )
                if existing is None and len(moved) == len(tax.children(node_id)):
                    raise ReplyError(
                        "reparenting every sub-category under one new parent adds a needless level"
                    )
                ops.append(
                    {
                        "op": "reparent",
                        "nodes": moved,
                        "parent": existing,
                        "new_parent": None if existing else parent_ref.strip(),
                    }
                )
            else:
                raise ReplyError(
                    f"unknown operation {raw['op']!r} (use split, reparent, delete, merge, keep)"
                )
        if not ops:
            raise ReplyError('no operations (use [{"op": "keep"}] to keep everything)')
        targets = {op["parent"] for op in ops if op["op"] == "reparent" and op["parent"]}
        if targets & used:
            raise ReplyError("a reparent target is also changed by another operation")
        return ops

    def _apply(self, node_id: str, ops: Sequence[dict[str, Any]]) -> None:
        """Apply validated operations: deletes and merges first, then splits, then moves."""
        tax = self.taxonomy
        order = {"delete": 0, "merge": 1, "split": 2, "reparent": 3, "keep": 4}
        for op in sorted(ops, key=lambda o: order[o["op"]]):
            kind = op["op"]
            if kind == "delete":
                tax.remove(op["node"])
            elif kind == "merge":
                first, *rest = op["nodes"]
                for other in rest:
                    tax.merge(other, first)
                if op.get("into"):
                    tax.rename(first, op["into"])
            elif kind == "split":
                tax.remove(op["node"])
                for new_name in op["into"]:
                    if not _match_child(tax, node_id, new_name):
                        tax.add(node_id, new_name)
            elif kind == "reparent":
                parent = (
                    op["parent"]
                    or _match_child(tax, node_id, op["new_parent"])
                    or tax.add(node_id, op["new_parent"])
                )
                for moved in op["nodes"]:
                    if moved in tax:
                        tax.move(moved, parent)

    # --- step 3: pruning --------------------------------------------------------------------
    def prune(self, **rules: Any) -> PruneReport:
        rules.setdefault("max_depth", self.max_depth)
        return prune(self.taxonomy, **rules)

    # --- candidates ---------------------------------------------------------------------------
    async def candidates_from_queries(
        self,
        queries: Sequence[str],
        *,
        domains: Sequence[str] | None = None,
        min_count: int = 1,
        max_tags: int = 4,
    ) -> list[Candidate]:
        """Tag each query with categories (and a domain), then count tags across queries."""
        domain_ids = list(domains) if domains is not None else self.taxonomy.domains()

        async def tag(text: str):
            def values(fence):
                return {"query": fence(text, "QUERY"), "domains": domain_ids}

            def parse(reply: str) -> dict[str, Any]:
                data = parse_json_object(reply, required=("tags",))
                tags = data.get("tags")
                if not isinstance(tags, list) or not tags:
                    raise ReplyError("'tags' must be a non-empty list of names")
                clean = [
                    t.strip() for t in tags if isinstance(t, str) and 0 < len(t.strip()) <= 80
                ][:max_tags]
                if not clean:
                    raise ReplyError("'tags' has no usable names")
                domain = data.get("domain")
                if domain_ids:
                    match = next(
                        (
                            d
                            for d in domain_ids
                            if isinstance(domain, str) and d.casefold() == domain.strip().casefold()
                        ),
                        None,
                    )
                    if match is None:
                        raise ReplyError(f"domain {domain!r} is not one of {', '.join(domain_ids)}")
                    domain = match
                return {"domain": domain, "tags": clean}

            return await self.asker.ask(
                "tag", self.templates["tag"], {"query": text, "domains": domain_ids}, values, parse
            )

        decisions = await gather_limited([partial(tag, q) for q in queries], limit=self.concurrency)
        found: dict[tuple[str | None, str], Candidate] = {}
        for text, decision in zip(queries, decisions, strict=True):
            if not decision.ok:
                continue
            for name in decision.value["tags"]:
                key = (decision.value["domain"], normalize_text(name))
                if key in found:
                    found[key].count += 1
                    found[key].sources.append(text[:200])
                else:
                    found[key] = Candidate(
                        name=name, domain=decision.value["domain"], sources=[text[:200]]
                    )
        ranked = sorted(found.values(), key=lambda c: (-c.count, c.domain or "", c.name.casefold()))
        return [c for c in ranked if c.count >= min_count]

    async def brainstorm(
        self, domain_description: str, *, domain: str | None = None, count: int = 20
    ) -> list[Candidate]:
        """Ask for up to ``count`` categories for a described domain."""

        def values(fence):
            return {"domain": fence(domain_description, "DOMAIN"), "count": count}

        def parse(reply: str) -> list[dict[str, Any]]:
            data = parse_json_object(reply, required=("categories",))
            items = data["categories"]
            if not isinstance(items, list) or not items:
                raise ReplyError("'categories' must be a non-empty list")
            out = []
            for item in items[:count]:
                if isinstance(item, str) and item.strip():
                    out.append({"name": item.strip(), "description": None})
                elif (
                    isinstance(item, dict)
                    and isinstance(item.get("name"), str)
                    and item["name"].strip()
                ):
                    desc = item.get("description")
                    out.append(
                        {
                            "name": item["name"].strip(),
                            "description": desc.strip()
                            if isinstance(desc, str) and desc.strip()
                            else None,
                        }
                    )
            if not out:
                raise ReplyError("no category has a name")
            return out

        decision = await self.asker.ask(
            "brainstorm",
            self.templates["brainstorm"],
            {"domain": domain_description, "count": count},
            values,
            parse,
        )
        if not decision.ok:
            return []
        return [
            Candidate(name=c["name"], description=c["description"], domain=domain)
            for c in decision.value
        ]

    # --- everything -------------------------------------------------------------------------
    async def build(
        self,
        candidates: Iterable[Candidate | str],
        *,
        refine: bool = True,
        prune_rules: dict[str, Any] | None = None,
    ) -> BuildReport:
        report = await self.insert(candidates)
        if refine:
            await self.refine(report=report)
        report.pruned = self.prune(**(prune_rules or {}))
        validate(self.taxonomy)
        return report

    def build_sync(self, candidates: Iterable[Candidate | str], **kwargs: Any) -> BuildReport:
        items = list(candidates)
        return run_sync(lambda: self.build(items, **kwargs))

"""Reading, writing and validating taxonomy files.

Three formats, detected from content (JSON or YAML alike):

- **nested** (judgebench's own; what ``save`` writes)::

    name: my-taxonomy
    children:
      - name: Coding
        id: coding            # optional: the slug; defaults to the slugified name
        description: Writing, reading and fixing code
        children: [...]

- **flat**: ``{"name": ..., "nodes": [{"id", "name", "description", "parent"}, ...]}`` — any
  unique ids and parent references (``parent`` null for a domain); checked for cycles, unknown
  parents and duplicates. Path ids keep the last ``/``-segment of an ``id`` that is a slug and
  are slugified from the name otherwise. A ``.csv`` file with those columns reads as flat
  (Feedbacker's ``cata_tree_flat.csv`` included).
- **feedbacker**: Feedbacker's nested dict, ``{"writing": {"Creative Stages": {...}}}``, where
  a leaf is ``{}``.

Every problem is a ``DataError`` with one line naming the file and the node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

from judgebench.errors import DataError
from judgebench.taxonomy.tree import ROOT, Taxonomy, join_id, parent_of, slugify

FORMAT_TAG = "judgebench-taxonomy/1"
FORMATS = ("auto", "nested", "flat", "feedbacker")


# --- reading -----------------------------------------------------------------------------------


def read_data(path: str | Path) -> Any:
    from judgebench.importers.base import read_text

    path = Path(path)
    if not path.is_file():
        raise DataError("taxonomy file not found", where=str(path))
    text = read_text(path)  # non-UTF-8 bytes: a one-line DataError
    if path.suffix.lower() == ".csv":
        return _csv_to_flat(text, path)
    if path.suffix.lower() != ".json":
        from judgebench.safe_yaml import MAX_BYTES, load_yaml_text

        if len(text) > MAX_BYTES:
            raise DataError(f"YAML file over the limit of {MAX_BYTES} bytes", where=str(path))
        return load_yaml_text(text, str(path), error=DataError)  # bounded alias expansion
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", where=str(path)
        ) from None
    except RecursionError:
        raise DataError("JSON nested too deeply", where=str(path)) from None
    except ValueError as exc:  # int() refuses numbers of over 4,300 digits
        raise DataError(f"not valid JSON: {str(exc).split(':')[0]}", where=str(path)) from None


def _csv_to_flat(text: str, path: Path) -> dict[str, Any]:
    """A CSV of nodes (``id``/``path_id``/``path``, ``name``, ``parent``/``parent_id``/
    ``parent_path``, optional ``description``) as the flat format; Feedbacker's
    ``cata_tree_flat.csv`` reads as is."""
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or [])
    id_field = next((f for f in ("id", "path_id", "path") if f in fields), None)
    parent_field = next((f for f in ("parent", "parent_id", "parent_path") if f in fields), None)
    if id_field is None or parent_field is None or "name" not in fields:
        raise DataError(
            "CSV needs columns id (or path_id / path), name and parent (or parent_id / parent_path)",
            where=str(path),
        )
    nodes = [
        {
            "id": row[id_field],
            "name": row["name"],
            "description": row.get("description") or None,
            "parent": row[parent_field] or None,
        }
        for row in reader
    ]
    return {"name": path.stem, "nodes": nodes}


def detect_format(data: Any) -> str:
    if isinstance(data, dict):
        if isinstance(data.get("children"), list):
            return "nested"
        if isinstance(data.get("nodes"), list):
            return "flat"
        if data and all(isinstance(v, dict) for v in data.values()):
            return "feedbacker"
    if isinstance(data, list):
        return "nested"
    raise DataError(
        "not a taxonomy: expected a mapping with 'children' (nested), 'nodes' (flat) "
        "or a Feedbacker nested dict of names"
    )


def from_data(data: Any, fmt: str = "auto", name: str | None = None) -> Taxonomy:
    if fmt not in FORMATS:
        raise DataError(f"unknown taxonomy format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(data)
    if fmt == "nested":
        return from_nested(data, name=name)
    if fmt == "flat":
        return from_flat(data, name=name)
    return from_feedbacker(data, name=name or "feedbacker")


def load_taxonomy(path: str | Path, fmt: str = "auto", name: str | None = None) -> Taxonomy:
    """Load a taxonomy file (JSON or YAML, any of the three formats); errors name file and node."""
    path = Path(path)
    data = read_data(path)
    try:
        taxonomy = from_data(data, fmt, name=name or _default_name(data, path))
    except DataError as exc:
        if exc.where and exc.where.startswith(str(path)):
            raise
        raise DataError(str(exc), where=str(path)) from None
    if len(taxonomy) == 0:  # e.g. `[]` or `{"nodes": []}`: nothing to assign queries to
        raise DataError("the taxonomy has no nodes", where=str(path))
    return taxonomy


def _default_name(data: Any, path: Path) -> str:
    if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"].strip():
        return data["name"].strip()
    return path.stem


def _label(parent_id: str, index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    if isinstance(name, str) and name.strip():
        return f"node {join_id(parent_id, slugify(name))!r}"
    return f"child {index + 1} of {parent_id or '<root>'!r}"


def from_nested(data: Any, name: str | None = None) -> Taxonomy:
    if isinstance(data, list):
        data = {"children": data}
    taxonomy = Taxonomy(name or str(data.get("name") or "taxonomy"), data.get("description"))
    on_path: set[int] = set()

    def walk(parent_id: str, children: Any) -> None:
        if children is None:
            return
        if not isinstance(children, list):
            raise DataError(
                f"'children' of {parent_id or '<root>'!r} must be a list, got {type(children).__name__}"
            )
        for index, raw in enumerate(children):
            label = _label(parent_id, index, raw)
            if not isinstance(raw, dict):
                raise DataError(
                    f"{label}: expected a mapping with 'name', got {type(raw).__name__}"
                )
            if id(raw) in on_path:
                raise DataError(f"{label}: cycle (the node contains itself)")
            unknown = set(raw) - {"name", "id", "description", "children"}
            if unknown:
                raise DataError(f"{label}: unknown field {sorted(unknown)[0]!r}")
            node_name = raw.get("name")
            if not isinstance(node_name, str) or not node_name.strip():
                raise DataError(f"{label}: empty name")
            slug = raw.get("id")
            if slug is not None:
                slug = str(slug).rsplit("/", 1)[-1]
                if slugify(slug) != slug:
                    raise DataError(
                        f"{label}: id {slug!r} is not a slug (lowercase letters, digits, '-')"
                    )
                if join_id(parent_id, slug) in taxonomy:
                    raise DataError(f"{label}: duplicate id {join_id(parent_id, slug)!r}")
            description = raw.get("description")
            if description is not None and not isinstance(description, str):
                raise DataError(f"{label}: description must be text")
            node_id = taxonomy.add(parent_id, node_name, description, slug=slug)
            on_path.add(id(raw))
            walk(node_id, raw.get("children"))
            on_path.discard(id(raw))

    walk(ROOT, data.get("children"))
    return taxonomy


def from_flat(data: dict[str, Any], name: str | None = None) -> Taxonomy:
    records = data["nodes"]
    graph = nx.DiGraph()
    info: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(records):
        if not isinstance(raw, dict) or raw.get("id") in (None, ""):
            raise DataError(f"nodes[{index}]: needs an 'id'")
        node_id = str(raw["id"])
        if node_id in info:
            raise DataError(f"node {node_id!r}: duplicate id")
        node_name = raw.get("name")
        if not isinstance(node_name, str) or not node_name.strip():
            raise DataError(f"node {node_id!r}: empty name")
        info[node_id] = raw
        graph.add_node(node_id)
    for node_id, raw in info.items():
        parent = raw.get("parent")
        if parent in (None, ""):
            continue
        parent = str(parent)
        if parent not in info:
            raise DataError(f"node {node_id!r}: parent {parent!r} does not exist")
        graph.add_edge(parent, node_id)
    try:
        cycle = nx.find_cycle(graph)
        raise DataError(
            f"node {cycle[0][0]!r}: cycle {' -> '.join(str(e[0]) for e in cycle)} -> {cycle[0][0]}"
        )
    except nx.NetworkXNoCycle:
        pass
    taxonomy = Taxonomy(name or str(data.get("name") or "taxonomy"), data.get("description"))

    def walk(src: str | None, dst: str) -> None:
        kids = (
            [n for n in info if not info[n].get("parent")]
            if src is None
            else list(graph.successors(src))
        )
        for kid in kids:
            raw = info[kid]
            last = kid.rsplit("/", 1)[-1]
            if slugify(last) == last:  # a path id (or slug) keeps its segment
                if join_id(dst, last) in taxonomy:
                    raise DataError(f"node {kid!r}: duplicate id {join_id(dst, last)!r}")
                new_id = taxonomy.add(dst, raw["name"], raw.get("description"), slug=last)
            else:  # an arbitrary id (a number, "a > b"): the slug comes from the name
                new_id = taxonomy.add(dst, raw["name"], raw.get("description"))
            walk(kid, new_id)

    walk(None, ROOT)
    return taxonomy


def from_feedbacker(data: dict[str, Any], name: str = "feedbacker") -> Taxonomy:
    """Feedbacker's nested dict (names → sub-dicts, ``{}`` for a leaf)."""
    taxonomy = Taxonomy(name)
    on_path: set[int] = set()

    def walk(parent_id: str, mapping: dict[str, Any]) -> None:
        for node_name, sub in mapping.items():
            label = f"node {join_id(parent_id, slugify(str(node_name)))!r}"
            if not str(node_name).strip():
                raise DataError(f"empty name under {parent_id or '<root>'!r}")
            if sub is not None and not isinstance(sub, dict):
                raise DataError(
                    f"{label}: expected a mapping of children, got {type(sub).__name__}"
                )
            if sub is not None and id(sub) in on_path:
                raise DataError(f"{label}: cycle (the node contains itself)")
            node_id = taxonomy.add(parent_id, str(node_name))
            if sub:
                on_path.add(id(sub))
                walk(node_id, sub)
                on_path.discard(id(sub))

    walk(ROOT, data)
    return taxonomy


# --- writing -----------------------------------------------------------------------------------


def to_nested(taxonomy: Taxonomy) -> dict[str, Any]:
    def node(node_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": taxonomy.name_of(node_id), "id": node_id.rsplit("/", 1)[-1]}
        if taxonomy.description_of(node_id):
            out["description"] = taxonomy.description_of(node_id)
        kids = taxonomy.children(node_id)
        if kids:
            out["children"] = [node(k) for k in kids]
        return out

    data: dict[str, Any] = {"format": FORMAT_TAG, "name": taxonomy.name}
    if taxonomy.description:
        data["description"] = taxonomy.description
    data["children"] = [node(d) for d in taxonomy.domains()]
    return data


def to_flat(taxonomy: Taxonomy) -> dict[str, Any]:
    return {
        "format": FORMAT_TAG,
        "name": taxonomy.name,
        "nodes": [
            {
                "id": n,
                "name": taxonomy.name_of(n),
                "description": taxonomy.description_of(n),
                "parent": parent_of(n) or None,
            }
            for n in taxonomy.ids()
        ],
    }


def to_feedbacker(taxonomy: Taxonomy) -> dict[str, Any]:
    """Feedbacker's nested dict. Siblings with the same name cannot be expressed: an error."""

    def node(node_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kid in taxonomy.children(node_id):
            kid_name = taxonomy.name_of(kid)
            if kid_name in out:
                raise DataError(
                    f"node {kid!r}: sibling name {kid_name!r} repeats under {node_id or '<root>'!r}, "
                    "which Feedbacker's format cannot hold"
                )
            out[kid_name] = node(kid)
        return out

    return node(ROOT)


def save_taxonomy(taxonomy: Taxonomy, path: str | Path, fmt: str = "nested") -> Path:
    """Write JSON or YAML by suffix (``.json`` / ``.yaml`` / ``.yml``) in ``fmt``."""
    path = Path(path)
    if fmt in ("auto", "nested"):
        data = to_nested(taxonomy)
    elif fmt == "flat":
        data = to_flat(taxonomy)
    elif fmt == "feedbacker":
        data = to_feedbacker(taxonomy)
    else:
        raise DataError(f"unknown taxonomy format {fmt!r}: use one of nested, flat, feedbacker")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    elif path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        raise DataError("unknown file type: use .json, .yaml or .yml", where=str(path))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


# --- validation of a built tree ------------------------------------------------------------------


def problems(taxonomy: Taxonomy) -> list[str]:
    """Every structural problem of an in-memory tree, one line each (empty list: valid)."""
    found: list[str] = []
    graph = taxonomy.graph
    if ROOT not in graph:
        return ["the tree has no root"]
    for node_id in graph.nodes:
        if node_id == ROOT:
            continue
        preds = list(graph.predecessors(node_id))
        if len(preds) != 1:
            found.append(f"node {node_id!r}: has {len(preds)} parents (not a tree)")
            continue
        if preds[0] != parent_of(node_id):
            found.append(f"node {node_id!r}: its id does not extend its parent's id {preds[0]!r}")
        name = graph.nodes[node_id].get("name")
        if not isinstance(name, str) or not name.strip():
            found.append(f"node {node_id!r}: empty name")
    try:
        cycle = nx.find_cycle(graph)
        found.append(f"node {cycle[0][0]!r}: cycle")
    except nx.NetworkXNoCycle:
        pass
    reachable = set(nx.descendants(graph, ROOT)) | {ROOT}
    for node_id in graph.nodes:
        if node_id not in reachable:
            found.append(f"node {node_id!r}: not reachable from the root (not a tree)")
            break
    return found


def validate(taxonomy: Taxonomy) -> Taxonomy:
    issues = problems(taxonomy)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise DataError(issues[0] + more, where=f"taxonomy {taxonomy.name}")
    return taxonomy

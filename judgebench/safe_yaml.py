"""The one YAML reader of the project: safe types only, bounded size, depth and alias expansion.

``yaml.safe_load`` shares the object an alias points to, so a 282-byte "billion laughs" file
loads quickly and then explodes in whatever walks it next (``${VAR}`` interpolation, pydantic,
hashing): 38 s and a gigabyte before failing. Here the node graph is composed first and its
*expanded* size (every alias counted as a full copy) and nesting depth are measured before
anything is built; a file over the limits is one :class:`~judgebench.errors.UserError` line.
Every YAML file judgebench reads (jobs, the registry, router configs, simulator profiles,
taxonomies, synthesis and judge configs) goes through :func:`load_yaml_file` or
:func:`load_yaml_text`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judgebench.errors import ConfigError, UserError

MAX_BYTES = 16 * 1024 * 1024
# nodes after expanding every alias: far above any real config or taxonomy (the largest shipped
# taxonomy has a few thousand nodes), far below what hurts (a billion-laughs file expands to 10^9)
MAX_NODES = 1_000_000
MAX_DEPTH = 64


def load_yaml_text(
    text: str,
    where: str,
    *,
    error: type[UserError] = ConfigError,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse one YAML document (safe types only) within the limits; ``None`` for an empty one."""
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, where, error, max_nodes, max_depth)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {_yaml_problem(exc)}", where=where) from None
    except RecursionError:
        raise error(f"YAML nested deeper than {max_depth} levels", where=where) from None
    except ValueError as exc:  # an int of over 4,300 digits: int() refuses to convert it
        raise error(f"not valid YAML: {str(exc).split(':')[0]}", where=where) from None
    finally:
        loader.dispose()


def load_yaml_file(
    path: str | Path,
    *,
    where: str | None = None,
    error: type[UserError] = ConfigError,
    max_bytes: int = MAX_BYTES,
) -> Any:
    """Read ``path`` (UTF-8, at most ``max_bytes``) and parse it with :func:`load_yaml_text`.
    A missing, unreadable, oversized or non-UTF-8 file is one ``error`` line naming it."""
    path = Path(path)
    label = where or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"file of {size} bytes exceeds the limit of {max_bytes}", where=label)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", where=label) from None
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise error(f"cannot read: {exc.strerror or exc}", where=label) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte {exc.start})", where=label) from None
    return load_yaml_text(text, label, error=error)


def _check_expansion(
    root: Any, where: str, error: type[UserError], max_nodes: int, max_depth: int
) -> None:
    """Refuse a node graph whose alias-expanded size or depth is over the limits, or that is
    recursive (an alias inside its own anchor). Sizes are memoised per node, so the check is
    linear in the file, not in the expansion."""
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if depth > max_depth:
            raise error(f"YAML nested deeper than {max_depth} levels", where=where)
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            line = node.start_mark.line + 1
            raise error(f"YAML anchor at line {line} refers to itself (a cycle)", where=where)
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        open_nodes.discard(key)
        if total > max_nodes:
            raise error(
                f"YAML expands to more than {max_nodes} nodes (aliases of aliases?)", where=where
            )
        sizes[key] = total
        return total

    size(root, 0)


def _yaml_problem(exc: Exception) -> str:
    """A YAML error as one line: the problem and the line it is on."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    line = f" at line {mark.line + 1}" if mark is not None else ""
    return f"{problem}{line}"

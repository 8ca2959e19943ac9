"""Load YAML with the line of every mapping, so errors can name file:line.

octoDNS's ContextLoader already wraps each mapping in a ContextDict whose
``context`` reads ``"FILE, line L, column C"``; dnsops reuses it for its own
files (dnsops.yaml, policies, drills) so every message has one shape.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from octodns.yaml import ContextLoader

from dnsops.errors import ConfigError

_CONTEXT = re.compile(r"^(?P<file>.*), line (?P<line>\d+), column \d+$")


def load_yaml(path: Path, *, what: str = "config") -> Any:
    """Parse ``path``; YAML syntax errors become ConfigError naming file:line."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_KeyLineLoader)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a {what} file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} file: {exc.strerror}") from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(describe_yaml_error(path, exc)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None


class _KeyLineLoader(ContextLoader):  # type: ignore[misc]
    """octoDNS's ContextLoader, plus the line of every key (``key_lines``)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        mapping = super().construct_mapping(node, deep)
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                lines[key_node.value] = key_node.start_mark.line + 1
        mapping.key_lines = lines
        return mapping


_KeyLineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _KeyLineLoader.construct_mapping
)


def describe_yaml_error(path: Path | str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return f"{where}: invalid YAML: {problem}{context}"


def line_of(node: Any) -> int | None:
    """The 1-based line of a mapping loaded by load_yaml, or None."""
    ctx = getattr(node, "context", None)
    if not isinstance(ctx, str):
        return None
    m = _CONTEXT.match(ctx)
    return int(m.group("line")) if m else None


def locate(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """Line of the innermost mapping on the path ``loc`` (a pydantic error loc)."""
    line = line_of(data)
    node = data
    for key in loc:
        key_line = getattr(node, "key_lines", {}).get(key)
        if key_line is not None:
            line = key_line
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        found = line_of(node)
        if found is not None:
            line = found
    return line


def pydantic_problems(path: Path, data: Any, exc: Any) -> list[str]:
    """Render a pydantic ValidationError as 'file:line: key: message' lines."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = locate(data, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {key}: {msg}")
    return problems

"""Read YAML safely and remember where every key came from, so errors can say file:line.

Only the safe loader is used. Duplicate keys are an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import InvalidInput, Issue

_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
Loc = tuple  # a key path such as ("steps", 2, "with", "folds")


def format_loc(loc: Loc) -> str:
    """("steps", 2, "with", "folds") -> "steps[2].with.folds"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class SourceMap:
    """Line numbers (1-based) of every key path in one YAML document."""

    file: str
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_for(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def issue(self, loc: Loc, message: str, hint: str | None = None) -> Issue:
        return Issue(message, file=self.file, line=self.line_for(loc), path=format_loc(loc) or None, hint=hint)


def _construct(node: yaml.Node, loc: Loc, smap: SourceMap, issues: list[Issue], ctor) -> Any:
    smap.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        issues.append(Issue(f"YAML tag {node.tag} is not allowed", smap.file, node.start_mark.line + 1,
                            format_loc(loc) or None, "write plain values, lists and mappings only"))
        return None
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out: dict = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                issues.append(smap.issue(loc, f"key on line {key_node.start_mark.line + 1} must be a plain value"))
                continue
            child = loc + (key,)
            if key in out:
                issues.append(Issue(f"duplicate key '{key}'", smap.file, key_node.start_mark.line + 1,
                                    format_loc(child), f"first given on line {smap.lines[child]}; keep only one"))
                continue
            smap.lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, smap, issues, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), smap, issues, ctor) for i, item in enumerate(node.value)]
    return ctor.construct_object(node, deep=True)


def loads(text: str, file: str = "<text>") -> tuple[Any, SourceMap]:
    """Parse YAML text; raise InvalidInput with file:line on syntax errors or duplicate keys."""
    smap = SourceMap(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, smap
        issues: list[Issue] = []
        data = _construct(node, (), smap, issues, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise InvalidInput(Issue(f"YAML syntax error: {problem}", file, line,
                                 hint="check indentation, colons and quotes on this line")) from None
    finally:
        loader.dispose()
    if issues:
        raise InvalidInput(issues)
    return data, smap


def load_file(path: str | Path) -> tuple[Any, SourceMap]:
    """Read a YAML file (UTF-8, with or without BOM)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(Issue(f"file not found: {path}", hint="check the path"))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Issue(f"not UTF-8 text (byte {exc.start})", str(path),
                                 hint="save the YAML file as UTF-8")) from None
    return loads(text, str(path))


def dump(data: Any) -> str:
    """YAML text for a plain data structure, keeping key order and Chinese characters readable."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

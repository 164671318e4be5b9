"""Read YAML safely and remember where every key came from, so errors can say file:line.

Only the safe loader is used. Duplicate keys are an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg

# a Msg (engine/core/i18n.py) is written as its English text, like any str
yaml.SafeDumper.add_representer(Msg, lambda dumper, value: dumper.represent_str(str(value)))
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
        issues.append(Issue(Msg(f"YAML tag {node.tag} is not allowed", f"不允许使用 YAML 标签 {node.tag}"), smap.file,
                            node.start_mark.line + 1, format_loc(loc) or None,
                            Msg("write plain values, lists and mappings only", "只写普通的值、列表和映射")))
        return None
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out: dict = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line = key_node.start_mark.line + 1
                issues.append(smap.issue(loc, Msg(f"key on line {line} must be a plain value", f"第 {line} 行的键必须是普通值")))
                continue
            child = loc + (key,)
            if key in out:
                first = smap.lines[child]
                issues.append(Issue(Msg(f"duplicate key '{key}'", f"重复的键 '{key}'"), smap.file, key_node.start_mark.line + 1,
                                    format_loc(child), Msg(f"first given on line {first}; keep only one",
                                                           f"第 {first} 行已给出；只保留一个")))
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
        raise InvalidInput(Issue(Msg(f"YAML syntax error: {problem}", f"YAML 语法错误：{_problem_zh(problem)}"), file, line,
                                 hint=Msg("check indentation, colons and quotes on this line",
                                          "请检查这一行的缩进、冒号和引号"))) from None
    finally:
        loader.dispose()
    if issues:
        raise InvalidInput(issues)
    return data, smap


_PROBLEMS_ZH = [  # PyYAML's usual complaints, in the words a reader of the file needs
    (re.compile(r"^mapping values are not allowed here$"), "这里不能再出现 '键: 值'（冒号后面的值里有冒号？请给值加引号）"),
    (re.compile(r"^found character '\\t' that cannot start any token$"), "出现了 Tab 字符：YAML 只能用空格缩进"),
    (re.compile(r"^expected (.+), but (?:got|found) (.+)$"), r"这里应是 \1，实际是 \2"),
    (re.compile(r"^found unexpected end of stream$"), "文件意外结束（引号或括号没有闭合？）"),
    (re.compile(r"^found undefined alias '(.+)'$"), r"引用了未定义的别名 '\1'"),
    (re.compile(r"^could not find expected ':'$"), "找不到应有的 ':'"),
]


def _problem_zh(problem: str) -> str:
    for pattern, zh_text in _PROBLEMS_ZH:
        if pattern.match(problem):
            text = pattern.sub(zh_text, problem).replace("' or '", "' 或 '")
            return text.replace("'<stream end>'", "文件结尾").replace("<block end>", "块结束（缩进回退）")
    return problem


def load_file(path: str | Path) -> tuple[Any, SourceMap]:
    """Read a YAML file (UTF-8, with or without BOM)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(Issue(Msg(f"file not found: {path}", f"找不到文件：{path}"),
                                 hint=Msg("check the path", "请检查路径")))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Issue(Msg(f"not UTF-8 text (byte {exc.start})", f"不是 UTF-8 文本（第 {exc.start} 字节）"),
                                 str(path), hint=Msg("save the YAML file as UTF-8", "请把 YAML 文件保存为 UTF-8"))) from None
    return loads(text, str(path))


def dump(data: Any) -> str:
    """YAML text for a plain data structure, keeping key order and Chinese characters readable."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

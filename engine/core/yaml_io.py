"""Read YAML safely and remember where every key came from, so errors can say file:line.

Only the safe loader is used. Duplicate keys are an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.core import limits
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


class _TooBig(Exception):
    """A YAML text past one of the limits in engine/core/limits.py (carries the Issue to report)."""

    def __init__(self, issue: Issue):
        super().__init__(str(issue))
        self.issue = issue


def _too_big(smap: SourceMap, node_or_mark, limit: limits.Limit, what: Msg) -> _TooBig:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return _TooBig(Issue(Msg(f"{what} (limit on {limit.en}: {limit.value():g})",
                             f"{what.zh}（{limit.zh}上限：{limit.value():g}）"),
                         smap.file, mark.line + 1 if mark is not None else None,
                         hint=Msg("write the values out plainly, without deep nesting or aliases that repeat "
                                  f"big parts; {limit.raise_hint()}",
                                  f"请直接写出各个值，不要深层嵌套，也不要用别名重复大段内容；{limit.raise_hint().zh}")))


class _Loader(yaml.SafeLoader):
    """The safe loader, counting nesting depth and aliases while it composes (PyYAML's composer recurses)."""

    def __init__(self, text: str, smap: SourceMap):
        super().__init__(text)
        self.smap, self.depth, self.aliases = smap, 0, 0
        self.max_depth, self.max_aliases = int(limits.YAML_DEPTH.value()), int(limits.YAML_ALIASES.value())

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise _too_big(self.smap, self.peek_event(), limits.YAML_ALIASES,
                               Msg(f"more than {self.max_aliases} aliases (*name)", f"别名（*name）超过 {self.max_aliases} 个"))
        self.depth += 1
        if self.depth > self.max_depth:
            raise _too_big(self.smap, self.peek_event(), limits.YAML_DEPTH,
                           Msg(f"nested more than {self.max_depth} levels deep", f"嵌套超过 {self.max_depth} 层"))
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


@dataclass
class _Budget:
    """Values built so far (aliases count every time they are used) and the current depth."""

    nodes: int = 0
    max_nodes: int = 0
    max_depth: int = 0
    merged: dict = field(default_factory=dict)


def _merged_size(node: yaml.MappingNode, budget: _Budget, depth: int = 0) -> int:
    """Entries a mapping has once its merge keys (<<) are expanded, counted without expanding them."""
    key = id(node)
    if key in budget.merged:
        return budget.merged[key]
    if depth > budget.max_depth:
        return budget.max_nodes + 1
    budget.merged[key] = 0  # a mapping merging itself counts nothing more
    total = 0
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            total += sum(_merged_size(s, budget, depth + 1) for s in sources if isinstance(s, yaml.MappingNode))
        else:
            total += 1
        if total > budget.max_nodes:
            break
    budget.merged[key] = total
    return total


def _check_expansion(root: yaml.Node, smap: SourceMap, budget: _Budget) -> None:
    """Count the values the document expands to, each shared (aliased) node once: a billion-laughs text is refused
    in milliseconds, before anything is built. A node that contains itself (&a [*a]) is refused too."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _too_big(smap, node, limits.YAML_DEPTH, Msg("an alias refers to the list or mapping it is in",
                                                              "别名引用了它所在的列表或映射"))
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            sizes[key] = 1
            return 1
        open_nodes.add(key)
        total = 1
        for child in children:
            total += size(child)
            if total > budget.max_nodes:
                raise _too_big(smap, node, limits.YAML_NODES,
                               Msg(f"more than {budget.max_nodes:,} values once aliases are expanded",
                                   f"展开别名后超过 {budget.max_nodes:,} 个值"))
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def _construct(node: yaml.Node, loc: Loc, smap: SourceMap, issues: list[Issue], ctor, budget: _Budget) -> Any:
    budget.nodes += 1
    if budget.nodes > budget.max_nodes:
        raise _too_big(smap, node, limits.YAML_NODES,
                       Msg(f"more than {budget.max_nodes:,} values once aliases are expanded",
                           f"展开别名后超过 {budget.max_nodes:,} 个值"))
    if len(loc) > budget.max_depth:  # a recursive alias (&a [*a]) never ends
        raise _too_big(smap, node, limits.YAML_DEPTH,
                       Msg(f"nested more than {budget.max_depth} levels deep (a recursive alias?)",
                           f"嵌套超过 {budget.max_depth} 层（别名引用了自己？）"))
    smap.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        issues.append(Issue(Msg(f"YAML tag {node.tag} is not allowed", f"不允许使用 YAML 标签 {node.tag}"), smap.file,
                            node.start_mark.line + 1, format_loc(loc) or None,
                            Msg("write plain values, lists and mappings only", "只写普通的值、列表和映射")))
        return None
    if isinstance(node, yaml.MappingNode):
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value) and \
                _merged_size(node, budget) > budget.max_nodes:
            raise _too_big(smap, node, limits.YAML_NODES,
                           Msg(f"merge keys (<<) expand to more than {budget.max_nodes:,} values",
                               f"合并键（<<）展开后超过 {budget.max_nodes:,} 个值"))
        ctor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out: dict = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line = key_node.start_mark.line + 1
                issues.append(smap.issue(loc, Msg(f"key on line {line} must be a plain value", f"第 {line} 行的键必须是普通值"),
                                         Msg("write the key as a name (text or a number), not a list or mapping",
                                             "键请写成名称（文字或数字），不要写成列表或映射")))
                continue
            child = loc + (key,)
            if key in out:
                first = smap.lines[child]
                issues.append(Issue(Msg(f"duplicate key '{key}'", f"重复的键 '{key}'"), smap.file, key_node.start_mark.line + 1,
                                    format_loc(child), Msg(f"first given on line {first}; keep only one",
                                                           f"第 {first} 行已给出；只保留一个")))
                continue
            smap.lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, smap, issues, ctor, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), smap, issues, ctor, budget) for i, item in enumerate(node.value)]
    return ctor.construct_object(node, deep=True)


def loads(text: str, file: str = "<text>") -> tuple[Any, SourceMap]:
    """Parse YAML text; raise InvalidInput with file:line on syntax errors or duplicate keys."""
    smap = SourceMap(file)
    _check_size(text, file)
    budget = _Budget(max_nodes=int(limits.YAML_NODES.value()), max_depth=int(limits.YAML_DEPTH.value()))
    loader = None
    try:
        loader = _Loader(text, smap)  # the reader refuses NUL and control characters right here
        node = loader.get_single_node()
        if node is None:
            return None, smap
        issues: list[Issue] = []
        _check_expansion(node, smap, budget)
        data = _construct(node, (), smap, issues, loader, budget)
    except _TooBig as exc:
        raise InvalidInput(exc.issue) from None
    except RecursionError:  # a limit set far above what Python's stack allows
        raise InvalidInput(_too_big(smap, None, limits.YAML_DEPTH, Msg("nested too deeply", "嵌套太深")).issue) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise InvalidInput(Issue(Msg(f"YAML syntax error: {_problem_en(problem)}", f"YAML 语法错误：{_problem_zh(problem)}"),
                                 file, line, hint=Msg("check indentation, colons and quotes on this line",
                                                      "请检查这一行的缩进、冒号和引号"))) from None
    except yaml.YAMLError as exc:  # the reader's complaints (NUL and other control characters) carry no problem_mark
        line = text.count("\n", 0, getattr(exc, "position", 0) or 0) + 1
        raise InvalidInput(Issue(Msg("the text holds a character YAML does not allow (a NUL or another control "
                                     "character): is this a binary file?",
                                     "文本中有 YAML 不允许的字符（NUL 或其他控制字符）：这是二进制文件吗？"), file, line,
                                 hint=Msg("save the template or recipe as plain UTF-8 text",
                                          "请把模板或配方保存为纯 UTF-8 文本"))) from None
    finally:
        if loader is not None:
            loader.dispose()
    if issues:
        raise InvalidInput(issues)
    return data, smap


def _check_size(text: str, file: str) -> None:
    limit = limits.YAML_KB.value() * 1024
    size = len(text.encode("utf-8", errors="replace")) if len(text) * 4 > limit else len(text)
    if size > limit:
        raise InvalidInput(Issue(Msg(f"the YAML text is {size / 1024:,.0f} KB, above the limit of {limit / 1024:,.0f} KB",
                                     f"YAML 文本有 {size / 1024:,.0f} KB，超过上限 {limit / 1024:,.0f} KB"), file,
                                 hint=Msg("a template or recipe is a few KB: keep data in tables, not in YAML; "
                                          + str(limits.YAML_KB.raise_hint()),
                                          "模板或配方只有几 KB：数据请放在表里，不要写进 YAML；" + limits.YAML_KB.raise_hint().zh)))


_PROBLEMS_ZH = [  # PyYAML's usual complaints, in the words a reader of the file needs
    (re.compile(r"^mapping values are not allowed here$"), "这里不能再出现 '键: 值'（冒号后面的值里有冒号？请给值加引号）"),
    (re.compile(r"^found character '\\t' that cannot start any token$"), "出现了 Tab 字符：YAML 只能用空格缩进"),
    (re.compile(r"^expected (.+), but (?:got|found) (.+)$"), r"这里应是 \1，实际是 \2"),
    (re.compile(r"^found unexpected end of stream$"), "文件意外结束（引号或括号没有闭合？）"),
    (re.compile(r"^found undefined alias '(.+)'$"), r"引用了未定义的别名 '\1'"),
    (re.compile(r"^could not find expected ':'$"), "找不到应有的 ':'"),
]


def _problem_en(problem: str) -> str:
    """PyYAML's words where a reader of the file needs plainer ones."""
    if problem.startswith("found character '\\t'"):
        return "a Tab character where YAML expects indentation: YAML indents with spaces only"
    return problem


def _problem_zh(problem: str) -> str:
    for pattern, zh_text in _PROBLEMS_ZH:
        if pattern.match(problem):
            text = pattern.sub(zh_text, problem).replace("' or '", "' 或 '")
            return text.replace("'<stream end>'", "文件结尾").replace("<block end>", "块结束（缩进回退）")
    return problem


def load_file(path: str | Path) -> tuple[Any, SourceMap]:
    """Read a YAML file (UTF-8, with or without BOM)."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(Issue(Msg(f"file not found: {path}", f"找不到文件：{path}"),
                                 hint=Msg("check the path", "请检查路径")))
    if not path.is_file():
        what = Msg("a folder", "文件夹") if path.is_dir() else Msg("not a regular file (a pipe or a device?)",
                                                                   "不是普通文件（管道或设备？）")
        raise InvalidInput(Issue(Msg(f"this is {what}", f"这是{what.zh}"), str(path),
                                 hint=Msg("give the path of a .yaml file", "请给出一个 .yaml 文件的路径")))
    limit = limits.YAML_KB.value() * 1024
    if path.stat().st_size > limit:
        raise InvalidInput(Issue(Msg(f"the file is {path.stat().st_size / 1024:,.0f} KB, above the YAML limit of "
                                     f"{limit / 1024:,.0f} KB", f"文件有 {path.stat().st_size / 1024:,.0f} KB，超过 YAML 上限 "
                                     f"{limit / 1024:,.0f} KB"), str(path),
                                 hint=Msg("is this really a template or recipe? " + str(limits.YAML_KB.raise_hint()),
                                          "这真的是模板或配方吗？" + limits.YAML_KB.raise_hint().zh)))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Issue(Msg(f"not UTF-8 text (byte {exc.start})", f"不是 UTF-8 文本（第 {exc.start} 字节）"),
                                 str(path), hint=Msg("save the YAML file as UTF-8", "请把 YAML 文件保存为 UTF-8"))) from None
    return loads(text, str(path))


def dump(data: Any) -> str:
    """YAML text for a plain data structure, keeping key order and Chinese characters readable."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
